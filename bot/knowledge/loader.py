"""Load ``knowledge/*.yaml`` into a validated :class:`KnowledgeBase`, or list every problem.

Loading is all-or-nothing: either every file parses, matches its schema and passes the
cross-file checks, or :class:`KnowledgeError` carries the full list of problems (file, line,
reason) so an editor can fix them in one go.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from rapidfuzz import process

from bot.knowledge import models as m
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.checks import check_knowledge
from bot.knowledge.paths import default_knowledge_dir
from bot.knowledge.problems import KnowledgeError
from bot.knowledge.texts import entries, missing_khmer
from bot.knowledge.yamlfile import Problem, YamlDocument, read_yaml

# One schema per file; the order is the order problems are reported in.
FILES: dict[str, type[BaseModel]] = {
    "sources.yaml": m.SourcesFile,
    "cities.yaml": m.CitiesFile,
    "meetings.yaml": m.MeetingsFile,
    "partners.yaml": m.PartnersFile,
    "areas.yaml": m.AreasFile,
    "asem.yaml": m.AsemFile,
    "asef.yaml": m.AsefFile,
    "cambodia.yaml": m.CambodiaFile,
    "smalltalk.yaml": m.SmalltalkFile,
    "facts.yaml": m.FactsFile,
    "messages.yaml": m.MessagesFile,
    "language.yaml": m.LanguageFile,
}


def _problem_order(problem: Problem) -> tuple[int, str, int]:
    """Problems in the order of FILES, then by file and line."""
    names = list(FILES)
    base = Path(problem.file).name
    return (names.index(base) if base in names else len(names), problem.file, problem.line)


def _error(problems: list[Problem]) -> KnowledgeError:
    return KnowledgeError(sorted(set(problems), key=_problem_order))


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """Read, validate and index the knowledge base. Raises :class:`KnowledgeError`.

    A text without Khmer does not stop loading (the bot shows the English): it is kept in
    ``untranslated``, which ``asem-bot validate`` reports (:mod:`bot.validation`)."""
    root = Path(directory) if directory is not None else default_knowledge_dir()
    parsed, documents = read_files(root)
    untranslated = missing_khmer(entries(parsed, documents))
    return KnowledgeBase.from_files(parsed, root, documents, untranslated=untranslated)


def read_files(root: Path) -> tuple[dict[str, BaseModel], dict[str, YamlDocument]]:
    """Every file of the folder parsed, checked against its schema and across files, with
    the line of every value. Raises :class:`KnowledgeError`."""
    if not root.is_dir():
        raise _error([Problem(str(root), 0, "knowledge folder not found")])
    problems: list[Problem] = []
    parsed: dict[str, BaseModel] = {}
    documents: dict[str, YamlDocument] = {}
    for name, schema in FILES.items():
        doc, found = read_yaml(root / name, display_name=_display(root, name))
        problems += found
        if doc is None:
            continue
        documents[name] = doc
        try:
            parsed[name] = schema.model_validate(doc.data)
        except ValidationError as exc:
            problems += [_explain(doc, schema, error) for error in exc.errors()]
    if problems:
        raise _error(problems)
    problems = check_knowledge(parsed, documents)
    if problems:
        raise _error(problems)
    return parsed, documents


def _display(root: Path, name: str) -> str:
    path = root / name
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------------
# Turning pydantic's errors into sentences for people who do not read Python


def _explain(doc: YamlDocument, schema: type[BaseModel], error: Any) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    field = _field_name(loc)
    value = error.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(schema, loc[:-1])
        hint = ""
        if allowed:
            best = process.extractOne(str(loc[-1]), allowed, score_cutoff=70)
            hint = f" (did you mean '{best[0]}'?)" if best else f" (allowed: {', '.join(allowed)})"
        return doc.problem(loc, f"unknown key '{loc[-1]}'{hint}", key=True)
    if kind == "missing":
        where = loc[:-1]
        return doc.problem(where, f"missing required key '{loc[-1]}'")
    messages = {
        "date_type": "expected a date like 1996-03-01",
        "date_parsing": "expected a date like 1996-03-01",
        "date_from_datetime_inexact": "expected a date like 1996-03-01, without a time",
        "int_type": "expected a whole number",
        "int_parsing": "expected a whole number",
        "int_from_float": "expected a whole number",
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "bool_type": "expected true or false",
        "bool_parsing": "expected true or false",
        "string_type": "expected text (put it in quotes if it looks like a number or date)",
        "tuple_type": "expected a list",
        "list_type": "expected a list",
        "dict_type": "expected a group of 'key: value' lines",
        "model_type": "expected a group of 'key: value' lines",
        "model_attributes_type": "expected a group of 'key: value' lines",
        "url_parsing": "expected a web address starting with http:// or https://",
    }
    if kind in messages:
        text = messages[kind]
    elif kind == "string_pattern_mismatch":
        text = _pattern_hint(field)
    elif kind in ("too_short", "string_too_short"):
        text = "must not be empty" if kind == "string_too_short" else error["msg"].lower()
    elif kind == "value_error":
        text = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
    else:
        text = error["msg"]
    shown = f" (got {_short(value)})" if _worth_showing(kind, value) else ""
    prefix = f"{field}: " if field else ""
    return doc.problem(loc, f"{prefix}{text}{shown}")


def _field_name(loc: tuple[Any, ...]) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and not part.startswith(("function-", "tuple[")):
            return part
    return ""


def _pattern_hint(field: str) -> str:
    if field in ("url", "website"):
        return "expected a web address starting with http:// or https://"
    if field == "intent" or field == "related":
        return "expected an intent name of lowercase words joined by dots, e.g. asef.funding"
    if field == "sources":
        return "expected a source key such as S2 or seed (see sources.yaml)"
    return "expected an id of lowercase letters, digits and single underscores, e.g. phnom_penh"


def _worth_showing(kind: str, value: Any) -> bool:
    return kind not in ("missing",) and isinstance(value, str | int | float | bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _allowed_keys(schema: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed at ``loc`` in ``schema``, by walking the model's annotations."""
    current: Any = schema
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            current = info.annotation if info else None
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``X | None`` -> X; ``Annotated[X, ...]`` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation
