"""Translations round trip: every user-facing text to a spreadsheet and the Khmer back.

``asem-bot translations export FILE`` writes one CSV row per text (:mod:`bot.knowledge.texts`):
file, line, key, English, Khmer, reviewed (yes when there is a Khmer text not marked
``km_unreviewed``), UTF-8 with a byte order mark so that Excel and LibreOffice show Khmer.

``asem-bot translations import FILE`` writes the Khmer column (and the reviewed column) back
into the YAML files. The edit is made in the text of the files, not by writing the YAML out
again (PyYAML would lose every comment and the layout): for each changed text only its ``km``
value and its ``km_unreviewed`` line are replaced, inserted or removed, at the places the
parser reports. The edited files are parsed again and must hold exactly the old data with the
new Khmer; the caller then checks them as ``asem-bot validate`` does before anything is
written (:func:`plan_import` writes nothing).

A row is skipped, and said why, when its English is no longer the file's (the text changed
since the export), when its key is unknown, or when its reviewed cell is not yes or no.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.problems import KnowledgeError, Problem
from bot.knowledge.texts import Entry, entries
from bot.knowledge.yamlfile import Path_, parse_yaml, read_yaml

COLUMNS = ("file", "line", "key", "English", "Khmer", "reviewed")
YES = frozenset({"yes", "y", "true", "1", "x", "✓", "បាទ", "ចាស"})
NO = frozenset({"no", "n", "false", "0", "ទេ"})


# -- export ---------------------------------------------------------------------------------


def read_entries(root: Path) -> list[Entry]:
    """Every text of the knowledge folder ``root``. Raises :class:`KnowledgeError` when the
    folder has problems that stop it from loading."""
    from bot.knowledge.loader import read_files

    parsed, documents = read_files(root)
    return entries(parsed, documents)


def export_rows(found: Iterable[Entry], *, todo: bool = False) -> list[list[str]]:
    """The CSV rows, header first; ``todo``: only texts without a reviewed Khmer text."""
    rows = [list(COLUMNS)]
    for entry in found:
        if todo and entry.reviewed:
            continue
        rows.append(
            [
                entry.file,
                str(entry.line),
                entry.key,
                entry.en,
                entry.km or "",
                "yes" if entry.reviewed else "no",
            ]
        )
    return rows


def write_csv(rows: list[list[str]], target: io.TextIOBase | Any) -> None:
    """``rows`` as CSV on ``target`` (opened with ``newline=""``), as spreadsheets write it."""
    csv.writer(target).writerows(rows)


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    write_csv(rows, out)
    return out.getvalue()


# -- reading the spreadsheet back ---------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of the spreadsheet, with the line of the CSV file it starts on."""

    line: int
    file: str
    key: str
    en: str
    km: str
    reviewed: bool | None  # None: the cell is empty


class CsvError(Exception):
    """The spreadsheet cannot be read at all (not UTF-8, no header...)."""


def _delimiter(header: str) -> str:
    """The separator the spreadsheet used: a comma, or a semicolon or tab in some locales."""
    wanted = {c.casefold() for c in COLUMNS}
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([header], delimiter=delimiter), [])
        if wanted <= {c.strip().casefold() for c in cells}:
            return delimiter
    raise CsvError(
        "the first line must name the columns " + ", ".join(COLUMNS) + " (as the export does)"
    )


def read_csv(raw: bytes, name: str) -> tuple[list[Row], list[Problem]]:
    """The rows of an exported (and edited) spreadsheet, and the problems of single rows."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(f"line {line} is not UTF-8 text (save the file as 'CSV UTF-8')") from None
    header = text.split("\n", 1)[0].rstrip("\r")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(header))
    columns = [c.strip().casefold() for c in next(reader)]
    at = {column.casefold(): columns.index(column.casefold()) for column in COLUMNS}
    rows: list[Row] = []
    problems: list[Problem] = []
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        cells += [""] * (len(columns) - len(cells))

        def cell(column: str, cells: list[str] = cells) -> str:
            return cells[at[column.casefold()]]

        mark = cell("reviewed").strip().casefold()
        if mark and mark not in YES | NO:
            problems.append(
                Problem(name, line, f"reviewed must be yes or no, not {cell('reviewed')!r}")
            )
            continue
        rows.append(
            Row(
                line=line,
                file=cell("file").strip(),
                key=cell("key").strip(),
                en=cell("English"),
                km=cell("Khmer").replace("\r\n", "\n").strip(),
                reviewed=(mark in YES) if mark else None,
            )
        )
    return rows, problems


# -- what changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A text's new Khmer and review mark (both as they will be in the file)."""

    entry: Entry
    km: str | None
    unreviewed: bool
    row: Row

    def describe(self) -> str:
        said = []
        if self.km != self.entry.km:
            said.append("Khmer added" if self.entry.km is None else "Khmer changed")
        if self.unreviewed != self.entry.unreviewed:
            said.append("marked unreviewed" if self.unreviewed else "marked reviewed")
        return ", ".join(said)


def _same_words(a: str, b: str) -> bool:
    """Equal but for spacing and line breaks (a spreadsheet may change those)."""
    return a.split() == b.split()


def changes(
    found: list[Entry], rows: list[Row], csv_name: str
) -> tuple[list[Change], list[Problem]]:
    """What the rows change in the files, and why the rows that change nothing are skipped."""
    by_key = {(entry.file, entry.key): entry for entry in found}
    planned: dict[tuple[str, str], Change] = {}
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Row] = {}
    for row in rows:
        where = f"{row.file} {row.key}"
        entry = by_key.get((row.file, row.key))
        if entry is None:
            problems.append(Problem(csv_name, row.line, f"{where}: no such text (row skipped)"))
            continue
        earlier = seen.get((row.file, row.key))
        if earlier is not None:
            if (earlier.km, earlier.reviewed) != (row.km, row.reviewed):
                problems.append(
                    Problem(
                        csv_name,
                        row.line,
                        f"{where}: also on line {earlier.line} with another Khmer text or "
                        "review mark (both rows skipped)",
                    )
                )
                planned.pop((row.file, row.key), None)
            continue
        seen[(row.file, row.key)] = row
        if not _same_words(row.en, entry.en):
            problems.append(
                Problem(
                    csv_name,
                    row.line,
                    f"{where}: the English is no longer the same in the file "
                    f"({entry.shown}:{entry.line}); export again (row skipped)",
                )
            )
            continue
        km = row.km or entry.km
        if not row.km and entry.km is not None:
            problems.append(
                Problem(
                    csv_name,
                    row.line,
                    f"{where}: the Khmer cell is empty; the file's Khmer text is kept",
                )
            )
        if km is None:
            if row.reviewed:
                problems.append(
                    Problem(csv_name, row.line, f"{where}: reviewed, but there is no Khmer text")
                )
            continue
        if row.reviewed is None:  # an empty cell: a new text is unreviewed, else as it was
            unreviewed = entry.unreviewed or km != entry.km
        else:
            unreviewed = not row.reviewed
        if (km, unreviewed) != (entry.km, entry.unreviewed):
            planned[(row.file, row.key)] = Change(entry, km, unreviewed, row)
    return list(planned.values()), problems


# -- editing the YAML text ----------------------------------------------------------------------


class EditError(Exception):
    """A text that cannot be edited in place (said with its file and line)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


_PRINTABLE_CHARS = "\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff"
# what PyYAML's reader accepts in a file (NEL and the Unicode line separators aside)
_PRINTABLE = re.compile(f"[{_PRINTABLE_CHARS}]")
_PRINTABLE_TEXT = re.compile(f"[{_PRINTABLE_CHARS}]*")
_BREAKS = "\x85\u2028\u2029"


def double_quoted(value: str) -> str:
    """``value`` as a YAML double-quoted scalar on one line."""
    out = ['"']
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char in _BREAKS or not _PRINTABLE.fullmatch(char):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _reads_back(written: str, value: str, flow: bool) -> bool:
    document = f"{{k: {written}}}" if flow else f"k: {written}"
    try:
        return yaml.safe_load(document) == {"k": value}
    except yaml.YAMLError:
        return False


def scalar(value: str, *, flow: bool, style: str | None) -> str:
    """``value`` written as a YAML scalar in the given context, in ``style`` when it can be
    (None: plain; ``'``: single quotes) and else in double quotes."""
    candidates = []
    if style is None and "\n" not in value:
        candidates.append(value)
    if style == "'" and "\n" not in value and _PRINTABLE_TEXT.fullmatch(value):
        candidates.append("'" + value.replace("'", "''") + "'")
    candidates.append(double_quoted(value))
    for written in candidates:
        if _reads_back(written, value, flow):
            return written
    raise ValueError(f"cannot write {value!r} as YAML")  # pragma: no cover - double quotes can


@dataclass
class _Splice:
    start: int
    end: int
    text: str


@dataclass
class _FileEdit:
    text: str
    newline: str
    root: yaml.Node
    splices: list[_Splice] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)


def _node_at(root: yaml.Node, path: Path_) -> yaml.Node | None:
    node = root
    for step in path:
        if isinstance(step, int) and isinstance(node, yaml.SequenceNode):
            node = node.value[step]
        elif isinstance(step, str) and isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == step]
            if not found:
                return None
            node = found[0]
        else:
            return None
    return node


def _content_end(text: str, node: yaml.Node) -> int:
    """Where a value's content ends (a block scalar's span runs on over blank lines)."""
    span = text[node.start_mark.index : node.end_mark.index]
    return node.start_mark.index + len(span.rstrip())


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


def _plan_text_edit(edit: _FileEdit, change: Change) -> None:
    entry = change.entry
    node = _node_at(edit.root, entry.path)
    if (
        not isinstance(node, yaml.MappingNode)
        or id(node) in edit.seen
        or "en" not in {k.value for k, _ in node.value}
    ):
        raise EditError(entry.problem("written in a way this tool cannot edit (a YAML alias?)"))
    edit.seen.add(id(node))
    pairs = {k.value: (k, v) for k, v in node.value}
    flow = bool(node.flow_style)
    text = edit.text
    km_pair = pairs.get("km")
    flag_pair = pairs.get("km_unreviewed")
    en_key, en_value = pairs["en"]
    indent = " " * (km_pair[0] if km_pair else en_key).start_mark.column

    def after(value_node: yaml.Node) -> int:
        """Where a new pair goes after ``value_node``: in a flow mapping right after it, in a
        block mapping at the end of its line (after a comment there)."""
        end = _content_end(text, value_node)
        return end if flow else _line_end(text, end)

    def pair(key: str, value: str) -> str:
        return f", {key}: {value}" if flow else f"{edit.newline}{indent}{key}: {value}"

    assert change.km is not None
    if km_pair is None:  # a new Khmer text, and its mark, right after the English
        style = en_value.style if en_value.style in (None, "'") else '"'
        added = pair("km", scalar(change.km, flow=flow, style=style))
        if change.unreviewed:
            added += pair("km_unreviewed", "true")
        at = after(en_value)
        edit.splices.append(_Splice(at, at, added))
        return
    km_node = km_pair[1]
    if change.km != entry.km:
        style = km_node.style if km_node.style in (None, "'") else '"'
        written = scalar(change.km, flow=flow, style=style)
        start = km_node.start_mark.index
        edit.splices.append(_Splice(start, _content_end(text, km_node), written))
    if change.unreviewed == entry.unreviewed:
        return
    if change.unreviewed and flag_pair is None:
        at = after(km_node)
        edit.splices.append(_Splice(at, at, pair("km_unreviewed", "true")))
    elif change.unreviewed:
        assert flag_pair is not None
        value = flag_pair[1]
        edit.splices.append(_Splice(value.start_mark.index, _content_end(text, value), "true"))
    else:
        assert flag_pair is not None
        edit.splices.append(_removal(text, node, flag_pair, flow))


def _removal(
    text: str, mapping: yaml.MappingNode, flag: tuple[yaml.Node, yaml.Node], flow: bool
) -> _Splice:
    """The splice that takes the pair ``flag`` out of ``mapping``."""
    key, value = flag
    keys = [k for k, _ in mapping.value]
    at = keys.index(key)
    if flow:
        if at > 0:  # from the end of the value before it: ", km_unreviewed: true"
            before = mapping.value[at - 1][1]
            return _Splice(_content_end(text, before), _content_end(text, value), "")
        following = mapping.value[at + 1][0]
        return _Splice(key.start_mark.index, following.start_mark.index, "")
    start = _line_start(text, key.start_mark.index)
    end = _line_end(text, _content_end(text, value))
    rest = text[_content_end(text, value) : end].strip()
    if text[start : key.start_mark.index].strip() or (rest and not rest.startswith("#")):
        raise EditError(Problem("", key.start_mark.line + 1, "km_unreviewed shares its line"))
    stop = text.find("\n", end)
    return _Splice(start, len(text) if stop < 0 else stop + 1, "")


def _apply(edit: _FileEdit) -> str:
    text = edit.text
    last = len(text) + 1
    for splice in sorted(edit.splices, key=lambda s: (s.start, s.end), reverse=True):
        if splice.end > last:  # pragma: no cover - one text's splices never overlap
            raise AssertionError("overlapping edits")
        text = text[: splice.start] + splice.text + text[splice.end :]
        last = splice.start
    return text


def _expected(data: Any, change: Change) -> None:
    """Put ``change`` into the plain data of a file, as the edited file must read."""
    target = data
    for step in change.entry.path:
        target = target[step]
    if change.km is not None:
        target["km"] = change.km
    if change.unreviewed:
        target["km_unreviewed"] = True
    elif target.get("km_unreviewed") is True:
        del target["km_unreviewed"]


def edit_files(root: Path, planned: list[Change]) -> dict[str, str]:
    """The new text of every file ``planned`` changes (name -> text), checked to hold the old
    data with exactly those changes. Raises :class:`EditError`."""
    by_file: dict[str, list[Change]] = {}
    for change in planned:
        by_file.setdefault(change.entry.file, []).append(change)
    edited: dict[str, str] = {}
    for name, file_changes in by_file.items():
        path = root / name
        text = path.read_bytes().decode("utf-8")
        newline = "\r\n" if "\r\n" in text else "\n"
        root_node = yaml.compose(text, Loader=yaml.SafeLoader)
        if root_node is None:
            raise EditError(Problem(file_changes[0].entry.shown, 1, "file is empty"))
        edit = _FileEdit(text, newline, root_node)
        for change in file_changes:
            try:
                _plan_text_edit(edit, change)
            except EditError as exc:
                line = exc.problem.line or change.entry.line
                raise EditError(Problem(change.entry.shown, line, exc.problem.message)) from None
        new_text = _apply(edit)
        before, _ = read_yaml(path, display_name=file_changes[0].entry.shown)
        assert before is not None
        expected = copy.deepcopy(before.data)
        for change in file_changes:
            _expected(expected, change)
        after = _read_text(new_text, name)
        if after != expected:  # pragma: no cover - a bug in the editing above
            raise EditError(
                Problem(
                    file_changes[0].entry.shown,
                    0,
                    "the edited file would not read back as intended; nothing was written",
                )
            )
        edited[name] = new_text
    return edited


def _read_text(text: str, name: str) -> Any:
    doc, problems = parse_yaml(text, name)
    return None if doc is None or problems else doc.data


# -- the whole import ---------------------------------------------------------------------------


@dataclass
class ImportPlan:
    """What an import would do: the changes, the new file texts, and every problem (the
    import is refused when ``refused`` holds any; ``skipped`` are rows left out)."""

    changes: list[Change] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    skipped: list[Problem] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    untranslated: list[Problem] = field(default_factory=list)


Checker = Callable[[Path], tuple[list[Problem], list[Problem]]]
"""Checks a knowledge folder as ``asem-bot validate`` does: (problems, texts without Khmer).
Raises :class:`KnowledgeError` when it does not load."""


def plan_import(root: Path, raw: bytes, csv_name: str, check: Checker) -> ImportPlan:
    """Read the spreadsheet ``raw``, edit the files of ``root`` in memory and check the result
    in a copy of the folder. Writes nothing; :func:`write_files` does."""
    plan = ImportPlan()
    try:
        found = read_entries(root)
    except KnowledgeError as exc:
        plan.refused = exc.problems
        return plan
    try:
        rows, plan.skipped = read_csv(raw, csv_name)
    except CsvError as exc:
        plan.refused = [Problem(csv_name, 1, str(exc))]
        return plan
    plan.changes, more = changes(found, rows, csv_name)
    plan.skipped += more
    try:
        plan.files = edit_files(root, plan.changes)
    except EditError as exc:
        plan.refused = [exc.problem]
        return plan
    with tempfile.TemporaryDirectory() as folder:
        trial = Path(folder) / root.name
        _copy_folder(root, trial, plan.files)
        try:
            problems, plan.untranslated = check(trial)
        except KnowledgeError as exc:
            problems = exc.problems
        plan.refused = [_as_real(p, trial, root) for p in problems]
        plan.untranslated = [_as_real(p, trial, root) for p in plan.untranslated]
    return plan


def _copy_folder(root: Path, target: Path, replaced: dict[str, str]) -> None:
    target.mkdir(parents=True)
    for path in root.iterdir():
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            content = replaced.get(path.name)
            data = content.encode("utf-8") if content is not None else path.read_bytes()
            (target / path.name).write_bytes(data)


def _as_real(problem: Problem, trial: Path, root: Path) -> Problem:
    """A problem found in the trial copy, named by the real file."""
    file = Path(problem.file)
    if file.is_absolute() and file.parent == trial:
        shown = _shown(root / file.name)
        return Problem(shown, problem.line, problem.message)
    return problem


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_files(root: Path, files: dict[str, str]) -> None:
    """Replace each file at once (a new file renamed over the old), keeping its mode."""
    for name, text in files.items():
        path = root / name
        mode = path.stat().st_mode & 0o7777
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=root)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(text.encode("utf-8"))
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
