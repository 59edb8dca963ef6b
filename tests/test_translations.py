"""The translations round trip, run as campaign staff run it: ``asem-bot translations export``
to a CSV file, the Khmer edited as a spreadsheet would save it, ``asem-bot translations
import`` back into a copy of ``knowledge/``; and ``asem-bot validate`` on texts without Khmer.

Everything real: the command in a subprocess, the files on disk, the bot's reply afterwards.
"""

from __future__ import annotations

import csv
import difflib
import shutil
from pathlib import Path

import pytest
from cli_helpers import clean_env
from cli_helpers import run_cli as bot

from bot.knowledge import default_knowledge_dir
from bot.knowledge.problems import Problem
from bot.knowledge.texts import Entry
from bot.knowledge.translations import Change, EditError, Row, double_quoted, edit_files

KNOWLEDGE = default_knowledge_dir()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
def env(tmp_path: Path, copy: Path) -> dict[str, str]:
    return clean_env(tmp_path / "cache") | {"ASEM_KNOWLEDGE_DIR": str(copy)}


def line_of(path: Path, text: str) -> int:
    content = path.read_text(encoding="utf-8")
    return content[: content.index(text)].count("\n") + 1


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    """As Excel and LibreOffice save 'CSV UTF-8': a byte order mark and CRLF line ends."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)


def row_of(rows: list[list[str]], file: str, key: str) -> list[str]:
    return next(r for r in rows if r[0] == file and r[2] == key)


# -- export ---------------------------------------------------------------------------------------


def test_export_writes_every_text_side_by_side_as_utf8_with_a_bom(
    copy: Path, env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "texts.csv"
    result = bot(env, "translations", "export", str(target), str(copy))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"\xef\xbb\xbffile,line,key,English,Khmer,reviewed\r\n")
    rows = read_rows(target)
    assert rows[0] == ["file", "line", "key", "English", "Khmer", "reviewed"]
    assert f"{len(rows) - 1} texts written" in result.stderr
    assert len(rows) > 900 and all(len(r) == 6 for r in rows)
    assert len({(r[0], r[2]) for r in rows[1:]}) == len(rows) - 1  # each text once
    files = {r[0] for r in rows[1:]}
    assert {"messages.yaml", "partners.yaml", "facts.yaml", "meetings.yaml"} <= files
    assert "language.yaml" not in files and "sources.yaml" not in files

    cambodia = row_of(rows, "partners.yaml", "partners[kh].name")
    assert cambodia[3:] == ["Cambodia", "កម្ពុជា", "yes"]  # a Khmer name from a source
    assert int(cambodia[1]) == line_of(copy / "partners.yaml", "{en: Cambodia, km: កម្ពុជា}")
    decline = row_of(rows, "messages.yaml", "decline")  # a folded block: one line of English
    assert decline[3].startswith("Sorry, I don't know that. I only answer questions about ASEM")
    assert decline[4].startswith("សូមអភ័យទោស") and decline[5] == "no"  # km_unreviewed: true
    assert int(decline[1]) == line_of(copy / "messages.yaml", "  decline:\n") + 1
    theme = row_of(rows, "meetings.yaml", "series[summit].meetings[13].theme")
    assert theme[3].startswith("Strengthening Multilateralism")
    assert row_of(rows, "cambodia.yaml", "cambodia.benefits[#1].text")[3]
    assert row_of(rows, "meetings.yaml", "questions[meeting.place].label")[3]

    todo = tmp_path / "todo.csv"
    assert bot(env, "translations", "export", "--todo", str(todo), str(copy)).returncode == 0
    assert all(r[5] == "no" for r in read_rows(todo)[1:])
    assert len(read_rows(todo)) == 1 + sum(r[5] == "no" for r in rows[1:])


# -- import ---------------------------------------------------------------------------------------

NEW_DID_YOU_MEAN = "ខ្ញុំមិនច្បាស់ទេ។ តើលោកអ្នកចង់សួរថា៖"
NEW_PLACE = (
    "កិច្ចប្រជុំ \"<b>{meeting}</b>\": បានប្រព្រឹត្តទៅនៅ <b>{place}</b> {when} (ហៅថា 'ASEM' # ផងដែរ)។"
)
NEW_DECLINE = "សូមអភ័យទោស៖ ខ្ញុំឆ្លើយតែសំណួរអំពី ASEM ប៉ុណ្ណោះ។"


def test_import_writes_the_khmer_back_with_a_minimal_diff(
    copy: Path, env: dict[str, str], tmp_path: Path
) -> None:
    exported = tmp_path / "texts.csv"
    assert bot(env, "translations", "export", str(exported), str(copy)).returncode == 0
    rows = read_rows(exported)
    row_of(rows, "messages.yaml", "did_you_mean")[4] = NEW_DID_YOU_MEAN  # flow, plain
    row_of(rows, "messages.yaml", "menu_about")[5] = "yes"  # reviewed: the mark goes
    place = row_of(rows, "messages.yaml", "meeting_place_in_person")  # quotes, colon, {...}
    place[4] = NEW_PLACE
    decline = row_of(rows, "messages.yaml", "decline")  # a block mapping
    decline[4], decline[5] = NEW_DECLINE, "yes"
    changed_english = row_of(rows, "messages.yaml", "menu_summits")
    changed_english[3], changed_english[4] = "Summit meetings", "កិច្ចប្រជុំ"
    edited = tmp_path / "edited.csv"
    write_rows(edited, rows)

    before = {p.name: p.read_text(encoding="utf-8") for p in copy.glob("*.yaml")}
    result = bot(env, "translations", "import", str(edited), str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    messages = copy / "messages.yaml"
    shown = str(messages)
    out = result.stdout.splitlines()
    assert f"{shown}:57: did_you_mean: Khmer changed" in out
    assert f"{shown}:40: menu_about: marked reviewed" in out
    assert f"{shown}:67: meeting_place_in_person: Khmer changed" in out
    assert f"{shown}:50: decline: Khmer changed, marked reviewed" in out
    skipped = [line for line in out if "menu_summits" in line]
    assert len(skipped) == 1 and "English is no longer the same" in skipped[0]
    assert skipped[0].startswith(f"{edited}:")  # the CSV row, by its line
    assert "4 text(s) changed in 1 file(s)" in result.stderr

    after = {p.name: p.read_text(encoding="utf-8") for p in copy.glob("*.yaml")}
    assert {n for n in after if after[n] != before[n]} == {"messages.yaml"}
    old_lines = before["messages.yaml"].splitlines()
    new_lines = after["messages.yaml"].splitlines()
    diff = [
        line
        for line in difflib.unified_diff(old_lines, new_lines, n=0, lineterm="")
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    km_place = (
        '  meeting_place_in_person: {en: "<b>{meeting}</b> was held in <b>{place}</b>, {when}.",'
        ' km: "កិច្ចប្រជុំ \\"<b>{meeting}</b>\\": បានប្រព្រឹត្តទៅនៅ <b>{place}</b> {when}'
        " (ហៅថា 'ASEM' # ផងដែរ)។\", km_unreviewed: true}"
    )
    assert diff == [
        "-  menu_about: {en: About ASEM, km: អំពី ASEM, km_unreviewed: true}",
        "+  menu_about: {en: About ASEM, km: អំពី ASEM}",
        "-" + old_lines[54],  # decline's km and mark (lines 55, 56), and did_you_mean (57)
        "-    km_unreviewed: true",
        "-" + old_lines[56],
        f'+    km: "{NEW_DECLINE}"',
        '+  did_you_mean: {en: "I\'m not sure I understood. Did you mean:", '
        f"km: {NEW_DID_YOU_MEAN}, km_unreviewed: true}}",
        "-" + old_lines[66],
        "+" + km_place,
    ], "\n".join(diff)
    comments = [line for line in old_lines if line.lstrip().startswith("#")]
    assert comments == [line for line in new_lines if line.lstrip().startswith("#")]

    assert bot(env, "validate", str(copy)).returncode == 0
    # the bot says it now (its cache is keyed by the files, so the edit is seen at once)
    reply = bot(env, "ask", "--lang", "km", "where was asem 5 held")
    assert 'កិច្ចប្រជុំ "ASEM5": បានប្រព្រឹត្តទៅនៅ' in reply.stdout, reply.stdout
    assert "(ហៅថា 'ASEM' # ផងដែរ)" in reply.stdout
    assert NEW_DECLINE in bot(env, "ask", "--lang", "km", "capital of mongolia").stdout

    # the same spreadsheet again changes nothing more
    again = bot(env, "translations", "import", str(edited), str(copy))
    assert again.returncode == 0 and "0 text(s) changed" in again.stderr
    assert (copy / "messages.yaml").read_text(encoding="utf-8") == after["messages.yaml"]


def test_import_adds_a_missing_khmer_text_marked_unreviewed(
    copy: Path, env: dict[str, str], tmp_path: Path
) -> None:
    partners = copy / "partners.yaml"
    text = partners.read_text(encoding="utf-8")
    partners.write_text(
        text.replace("name: {en: Cambodia, km: កម្ពុជា}", "name: {en: Cambodia}"), "utf-8"
    )
    assert bot(env, "validate", str(copy)).returncode == 1
    exported = tmp_path / "todo.csv"
    assert bot(env, "translations", "export", "--todo", str(exported), str(copy)).returncode == 0
    rows = read_rows(exported)
    row_of(rows, "partners.yaml", "partners[kh].name")[4] = "កម្ពុជា"
    write_rows(exported, rows)
    result = bot(env, "translations", "import", str(exported), str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "partners[kh].name: Khmer added, marked unreviewed" in result.stdout
    new = partners.read_text(encoding="utf-8")
    assert new == text.replace(
        "name: {en: Cambodia, km: កម្ពុជា}", "name: {en: Cambodia, km: កម្ពុជា, km_unreviewed: true}"
    )
    assert bot(env, "validate", str(copy)).returncode == 0


@pytest.mark.parametrize(
    ("key", "khmer", "problem"),
    [
        ("meeting_place_in_person", "<b>{meeting}</b> នៅ <b>{place} {when}", "never closed"),
        ("meeting_place_in_person", "{meting} នៅ {place} {when}", "unknown placeholder {meting}"),
        ("meeting_place_in_person", "<b>{meeting}</b> នៅ <b>{place}</b>", "leaves out {when}"),
    ],
)
def test_import_refuses_a_result_that_does_not_validate_and_changes_nothing(
    copy: Path, env: dict[str, str], tmp_path: Path, key: str, khmer: str, problem: str
) -> None:
    exported = tmp_path / "texts.csv"
    assert bot(env, "translations", "export", str(exported), str(copy)).returncode == 0
    rows = read_rows(exported)
    row_of(rows, "messages.yaml", "did_you_mean")[4] = NEW_DID_YOU_MEAN  # fine on its own
    row_of(rows, "messages.yaml", key)[4] = khmer
    write_rows(exported, rows)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    result = bot(env, "translations", "import", str(exported), str(copy))
    assert result.returncode == 1
    line = line_of(copy / "messages.yaml", f"  {key}:")
    assert any(
        out.startswith(f"{copy / 'messages.yaml'}:{line}: {key}: ") and problem in out
        for out in result.stdout.splitlines()
    ), result.stdout
    assert "Nothing was changed" in result.stderr
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def test_import_reports_rows_it_cannot_use(
    copy: Path, env: dict[str, str], tmp_path: Path
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "file;line;key;English;Khmer;reviewed\n"  # a semicolon, as some locales save it
        "messages.yaml;1;no_such_key;x;y;no\n"
        "messages.yaml;40;menu_about;About ASEM;អំពី ASEM;maybe\n"
        "messages.yaml;40;menu_about;About ASEM;;no\n",
        encoding="utf-8",
    )
    before = (copy / "messages.yaml").read_bytes()
    result = bot(env, "translations", "import", str(sheet), str(copy))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.splitlines()
    assert f"{sheet}:2: messages.yaml no_such_key: no such text (row skipped)" in out
    assert f"{sheet}:3: reviewed must be yes or no, not 'maybe'" in out
    assert any(line.startswith(f"{sheet}:4: ") and "cell is empty" in line for line in out)
    assert (copy / "messages.yaml").read_bytes() == before

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("file,line,key,English,Khmer,reviewed\nx,1,y,café,z,no\n".encode("cp1252"))
    result = bot(env, "translations", "import", str(latin1), str(copy))
    assert result.returncode == 1 and "not UTF-8" in result.stdout
    missing = bot(env, "translations", "import", str(tmp_path / "nope.csv"), str(copy))
    assert missing.returncode == 2 and "Cannot read" in missing.stderr


def test_import_dry_run_writes_nothing(copy: Path, env: dict[str, str], tmp_path: Path) -> None:
    exported = tmp_path / "texts.csv"
    assert bot(env, "translations", "export", str(exported), str(copy)).returncode == 0
    rows = read_rows(exported)
    row_of(rows, "messages.yaml", "did_you_mean")[4] = NEW_DID_YOU_MEAN
    write_rows(exported, rows)
    before = (copy / "messages.yaml").read_bytes()
    result = bot(env, "translations", "import", "--dry-run", str(exported), str(copy))
    assert result.returncode == 0
    assert "did_you_mean: Khmer changed" in result.stdout
    assert "1 text(s) would change" in result.stderr and "nothing was written" in result.stderr
    assert (copy / "messages.yaml").read_bytes() == before


# -- the in-place edit, on every way a text is written -----------------------------------------


def _edit(tmp_path: Path, yaml_text: str, path: tuple[str | int, ...], **change: object) -> str:
    (tmp_path / "t.yaml").write_bytes(yaml_text.encode("utf-8"))
    import yaml

    data = yaml.safe_load(yaml_text)
    text = data
    for step in path:
        text = text[step]
    flag = text.get("km_unreviewed", False)
    entry = Entry("t.yaml", "t.yaml", "k", path, 1, text["en"], text.get("km"), flag)
    km = change.get("km", entry.km)
    unreviewed = bool(change.get("unreviewed", entry.unreviewed))
    row = Row(2, "t.yaml", "k", entry.en, str(km), None)
    planned = [Change(entry, km if isinstance(km, str) else None, unreviewed, row)]
    return edit_files(tmp_path, planned)["t.yaml"]


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        (  # a folded block becomes one quoted line; the blank line and comment stay
            "t:\n  en: x\n  km: >-\n    old\n    text\n\n  # note\nu: 1\n",
            {"km": "ថ្មី: {when}"},
            't:\n  en: x\n  km: "ថ្មី: {when}"\n\n  # note\nu: 1\n',
        ),
        (  # single quotes stay single quotes
            "t: {en: x, km: 'it''s'}\n",
            {"km": "it's new"},
            "t: {en: x, km: 'it''s new'}\n",
        ),
        (  # the mark is added on a line of its own, after a comment on the km line
            "t:\n  en: x\n  km: y  # why\nu: 1\n",
            {"unreviewed": True},
            "t:\n  en: x\n  km: y  # why\n  km_unreviewed: true\nu: 1\n",
        ),
        (  # the mark's line goes, its neighbours stay
            "t:\n  en: x\n  km_unreviewed: true\n  km: y\nu: 1\n",
            {"unreviewed": False},
            "t:\n  en: x\n  km: y\nu: 1\n",
        ),
        (  # first in a flow mapping
            "t: {km_unreviewed: true, en: x, km: y}\n",
            {"unreviewed": False},
            "t: {en: x, km: y}\n",
        ),
        (  # a new Khmer text after a multi-line English, in a file with CRLF line ends
            "t:\r\n  en: >-\r\n    a\r\n    b\r\nu: 1\r\n",
            {"km": 'say "hi"\nthen', "unreviewed": True},
            't:\r\n  en: >-\r\n    a\r\n    b\r\n  km: "say \\"hi\\"\\nthen"\r\n'
            "  km_unreviewed: true\r\nu: 1\r\n",
        ),
        (  # text YAML would read as something else is quoted
            "t: {en: x, km: y}\n",
            {"km": "yes"},
            't: {en: x, km: "yes"}\n',
        ),
        (  # control characters are escaped, never written raw
            "t: {en: x, km: y}\n",
            {"km": "a\x1b[31mb\u2028c"},
            't: {en: x, km: "a\\x1b[31mb\\u2028c"}\n',
        ),
    ],
)
def test_the_edit_changes_only_the_khmer_and_its_mark(
    tmp_path: Path, before: str, change: dict[str, object], after: str
) -> None:
    assert _edit(tmp_path, before, ("t",), **change) == after


def test_an_aliased_text_is_not_edited(tmp_path: Path) -> None:
    with pytest.raises(EditError) as caught:
        _edit_twice(tmp_path)
    assert isinstance(caught.value.problem, Problem)
    assert "cannot edit" in caught.value.problem.message


def _edit_twice(tmp_path: Path) -> None:
    text = "a: &x {en: x, km: y}\nb: *x\n"
    (tmp_path / "t.yaml").write_text(text, encoding="utf-8")
    changes = []
    for key in ("a", "b"):
        entry = Entry("t.yaml", "t.yaml", key, (key,), 1, "x", "y", False)
        changes.append(Change(entry, "z", False, Row(2, "t.yaml", key, "x", "z", None)))
    edit_files(tmp_path, changes)


def test_double_quoted_reads_back_as_the_same_text() -> None:
    import yaml

    for value in ['a "b" \\ c', "ក\u200bខ", "tab\there", "\x00\x85\ufeff", "line\nbreak"]:
        assert yaml.safe_load(f"k: {double_quoted(value)}") == {"k": value}
