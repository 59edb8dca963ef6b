"""`asem-bot validate` on broken copies of the knowledge base: file, line, reason; no traceback.

Each case copies ``knowledge/`` to a temporary folder, breaks one thing, and runs the real
command in a subprocess, as an editor would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.knowledge import KnowledgeError, default_knowledge_dir, load_knowledge

KNOWLEDGE = default_knowledge_dir()


def run_validate(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ASEM_CACHE_DIR": str(directory.parent / "cache")},
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def replace_in(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` (which must be there) and return the line number it was on."""
    text = path.read_text(encoding="utf-8")
    index = text.index(old)
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return text[:index].count("\n") + 1


def test_the_real_knowledge_base_passes(copy: Path) -> None:
    result = run_validate(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.match(
        r"OK: 13 summits, 14 foreign ministers' meetings, \d+ other ministerial meetings, "
        r"53 partners",
        result.stdout,
    )
    assert len(result.stdout.strip().splitlines()) == 1


def _malformed(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "  - number: 3\n", "  - number: [3\n")
    return "meetings.yaml", line, "malformed YAML"


def _missing(copy: Path) -> tuple[str, int, str]:
    (copy / "areas.yaml").unlink()
    return "areas.yaml", 0, "file is missing"


def _not_utf8(copy: Path) -> tuple[str, int, str]:
    path = copy / "asef.yaml"
    raw = path.read_bytes()
    index = raw.index(b"  founded:")
    path.write_bytes(raw[:index] + b"  \xff\xfe" + raw[index:])
    return "asef.yaml", raw[:index].count(b"\n") + 1, "is not UTF-8"


def _unknown_key(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "    city: bangkok\n", "    citty: bangkok\n")
    return "meetings.yaml", line, "unknown key 'citty' (did you mean 'city'?)"


def _wrong_type(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "  - number: 4\n", "  - number: four\n")
    return "meetings.yaml", line, "number: expected a whole number"


def _duplicate_id(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "partners.yaml", "  - id: la\n", "  - id: kh\n")
    return "partners.yaml", line, "duplicate partner id 'kh'"


def _duplicate_key(copy: Path) -> tuple[str, int, str]:
    line = replace_in(
        copy / "meetings.yaml",
        "        city: seoul\n",
        "        city: seoul\n        city: busan\n",
    )
    return "meetings.yaml", line + 1, "key 'city' appears twice"


def _impossible_date(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "start: 1996-03-01", "start: 1996-02-30")
    return "meetings.yaml", line, "'1996-02-30' is not valid"


def _end_before_start(copy: Path) -> tuple[str, int, str]:
    replace_in(copy / "meetings.yaml", "end: 1996-03-02", "end: 1996-02-28")
    text = (copy / "meetings.yaml").read_text(encoding="utf-8")
    line = text[: text.index("      - number: 1\n        city: bangkok")].count("\n") + 1
    return "meetings.yaml", line, "end 1996-02-28 is before start 1996-03-01"


def _gap_in_numbers(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "  - number: 7\n", "  - number: 8\n")
    return "meetings.yaml", line, "expected 7 here, found 8"


def _counts_disagree(copy: Path) -> tuple[str, int, str]:
    path = copy / "partners.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: hr\n")
    end = text.index("\n  - id: ", start + 1)
    path.write_text(text[:start] + text[end + 1 :], encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("counts:") + 2
    return "partners.yaml", line, "the partner list has 52 partners but counts.total says 53"


def _alias_clash(copy: Path) -> tuple[str, int, str]:
    path = copy / "cities.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: london\n")
    index = text.index("    aliases: [", start)
    path.write_text(text[:index] + "    aliases: [Laos, " + text[index + 14 :], encoding="utf-8")
    return (
        "cities.yaml",
        text[:index].count("\n") + 1,
        "the name 'Laos' is already used by partner 'la'",
    )


def _unresolved_reference(copy: Path) -> tuple[str, int, str]:
    path = copy / "partners.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: kz\n")
    index = text.index("      summit: 10\n", start)
    path.write_text(text[:index] + "      summit: 99\n" + text[index + 17 :], encoding="utf-8")
    return "partners.yaml", text[:index].count("\n") + 1, "unknown summit '99'"


def _unknown_source(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "meetings.yaml", "sources: [S2, S3, M3]", "sources: [S2, S99]")
    return "meetings.yaml", line, "unknown source 'S99'"


def _bad_placeholder(copy: Path) -> tuple[str, int, str]:
    line = replace_in(
        copy / "messages.yaml",
        'meeting_place_in_person: {en: "<b>{meeting}</b> was held',
        'meeting_place_in_person: {en: "<b>{meting}</b> was held',
    )
    return "messages.yaml", line, "unknown placeholder {meting}"


def _bad_html(copy: Path) -> tuple[str, int, str]:
    line = replace_in(
        copy / "messages.yaml", 'note: {en: "<i>{text}</i>"', 'note: {en: "<i>{text}"'
    )
    return "messages.yaml", line, "<i> is never closed"


def _shared_phrasing(copy: Path) -> tuple[str, int, str]:
    added = "      - what is asef\n      - when is asem day\n"
    line = replace_in(copy / "asef.yaml", "      - what is asef\n", added)
    return "asef.yaml", line + 1, "'when is asem day' is also a phrasing of asem.day (asem.yaml:"


def _unquoted_norway(copy: Path) -> tuple[str, int, str]:
    line = replace_in(copy / "cities.yaml", 'country: "no"', "country: no")
    return "cities.yaml", line, "expected text (put it in quotes"


BROKEN: dict[str, Callable[[Path], tuple[str, int, str]]] = {
    "malformed yaml": _malformed,
    "missing file": _missing,
    "not utf-8": _not_utf8,
    "unknown key": _unknown_key,
    "wrong type": _wrong_type,
    "duplicate id": _duplicate_id,
    "duplicate yaml key": _duplicate_key,
    "impossible date": _impossible_date,
    "end before start": _end_before_start,
    "gap in numbering": _gap_in_numbers,
    "counts disagree": _counts_disagree,
    "alias clash": _alias_clash,
    "unresolved reference": _unresolved_reference,
    "unknown source": _unknown_source,
    "bad placeholder": _bad_placeholder,
    "bad html": _bad_html,
    "phrasing under two questions": _shared_phrasing,
    "yes/no word where text is expected": _unquoted_norway,
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_copy_is_rejected_with_file_line_and_reason(copy: Path, case: str) -> None:
    file, line, reason = BROKEN[case](copy)
    result = run_validate(copy)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    expected = f"{copy / file}:{line}: "
    matching = [row for row in result.stdout.splitlines() if row.startswith(expected)]
    assert any(reason in row for row in matching), result.stdout


def test_unreadable_file(copy: Path) -> None:
    path = copy / "asef.yaml"
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reading")
        result = run_validate(copy)
    finally:
        path.chmod(0o644)
    assert result.returncode == 1
    assert f"{path}:0: cannot be read" in result.stdout


def test_every_problem_is_listed_not_just_the_first(copy: Path) -> None:
    _unknown_key(copy)
    _wrong_type(copy)
    # a meeting's status left out (the first after FMM1's)
    text = (copy / "meetings.yaml").read_text(encoding="utf-8")
    at = text.index("        status: held\n", text.index("  - id: fmm\n"))
    (copy / "meetings.yaml").write_text(text[:at] + text[at + 21 :], encoding="utf-8")
    result = run_validate(copy)
    assert result.returncode == 1
    assert "unknown key 'citty'" in result.stdout
    assert "missing required key 'status'" in result.stdout
    assert "expected a whole number" in result.stdout
    assert "3 problem(s) found." in result.stderr


def test_load_knowledge_raises_with_problems(copy: Path) -> None:
    _duplicate_id(copy)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(copy)
    assert any("duplicate partner id" in str(p) for p in caught.value.problems)


def test_missing_folder(tmp_path: Path) -> None:
    result = run_validate(tmp_path / "nowhere")
    assert result.returncode == 1
    assert "knowledge folder not found" in result.stdout


def line_of(path: Path, text: str) -> int:
    content = path.read_text(encoding="utf-8")
    return content[: content.index(text)].count("\n") + 1


# -- validate: every text has Khmer ---------------------------------------------------------------


def test_validate_reports_every_text_without_khmer_with_file_line_and_key(copy: Path) -> None:
    messages = copy / "messages.yaml"
    flow = "  and_separator: {en: and, km: និង, km_unreviewed: true}"
    flow_line = line_of(messages, flow)
    messages.write_text(
        messages.read_text(encoding="utf-8").replace(flow, "  and_separator: {en: and}"), "utf-8"
    )
    partners = copy / "partners.yaml"
    name = "    name: {en: Cambodia, km: កម្ពុជា}"
    name_line = line_of(partners, name)
    partners.write_text(
        partners.read_text(encoding="utf-8").replace(name, "    name: {en: Cambodia}"), "utf-8"
    )
    result = run_validate(copy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{messages}:{flow_line}: and_separator: no Khmer text" in lines, result.stdout
    assert f"{partners}:{name_line}: partners[kh].name: no Khmer text" in lines, result.stdout
    assert len(lines) == 2, result.stdout
    # the bot itself still loads it, and says the English where the Khmer is missing
    reply = Brain(load_knowledge(copy)).answer("when did cambodia join asem", "km")
    assert reply.answered and "Cambodia" in reply.text


def test_validate_reports_a_khmer_template_that_leaves_out_a_placeholder(copy: Path) -> None:
    messages = copy / "messages.yaml"
    old = 'km: "<b>{meeting}</b> បានប្រព្រឹត្តទៅនៅ <b>{place}</b> {when}។"'
    line = line_of(messages, old)
    text = messages.read_text(encoding="utf-8")
    messages.write_text(text.replace(old, old.replace(" {when}", "")), "utf-8")
    result = run_validate(copy)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{messages}:{line}: meeting_place_in_person: the Khmer text leaves out {{when}} "
        "(keep every {placeholder})"
    ]
