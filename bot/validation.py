"""Checks that tie the knowledge base to the code: ``asem-bot validate``, ``run``, ``/reload``.

``asem-bot validate``, ``asem-bot run`` (which refuses to start on a base that validate refuses)
and the admins' ``/reload`` all call :func:`checked_knowledge`, so the three never disagree.

The YAML files are checked against their schemas when they are loaded
(:func:`bot.knowledge.load_knowledge`). What only the code knows is checked here, without
importing python-telegram-bot: every message key some module declares (read from the source by
:func:`scan`), every intent's composer and every composer's intent, the entity kinds
an intent needs, the placeholders of question labels and message templates, and the Telegram
HTML of every template and prose answer. Each problem is ``file:line: message``.
"""

from __future__ import annotations

import ast
import functools
import string
from dataclasses import dataclass, field
from pathlib import Path

from bot.answers import COMPOSERS
from bot.declare import PACKAGE, CommandSpec
from bot.domain import kinds
from bot.domain.topics import TOPICS
from bot.followups import BROWSE
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, default_knowledge_dir
from bot.knowledge import models as m
from bot.knowledge.base import FACT
from bot.reply import html_problems

TEMPLATE_FIELDS = frozenset(
    {
        "text", "region", "meeting", "place", "dates", "when", "theme", "plans", "first",
        "last", "next", "kind", "title", "filters", "count", "meetings", "year", "nearest",
        "name", "attendees", "frequency", "role", "country", "total", "group", "date",
        "decided", "decided_place", "decided_year", "names", "description", "what", "number",
        "amount", "since", "url", "partners", "pillars", "proposers", "month", "percent",
        "label", "day", "countries", "asia", "europe", "institutions", "area", "kinds", "time",
        "zone", "question", "event", "first_date", "second", "second_date", "years",
        "months", "difference", "today", "earlier", "until", "original", "intent",
    }
)  # fmt: skip
"""Every value the code fills into a message template: a misspelt ``{meting}`` is reported."""

_FORMATTER = string.Formatter()


# -- the declarations in the source (bot.declare), read without importing ---------------------


@dataclass
class Declarations:
    """What the source of the bot declares, with where each declaration is written."""

    messages: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    commands: list[tuple[CommandSpec, str, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def where(self, key: str) -> tuple[str, int]:
        return self.messages[key][0]


def _literal(node: ast.expr) -> object:
    """The value of a literal argument; a ``msg("key")`` call counts as the string key."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "msg"
        and len(node.args) == 1
    ):
        return _literal(node.args[0])
    return ast.literal_eval(node)


def scan(package: Path = PACKAGE) -> Declarations:
    """Read every ``msg()`` and ``command()`` declaration in the package's source."""
    found = Declarations()
    for path in sorted(package.rglob("*.py")):
        if path.name == "declare.py" and path.parent == package:
            continue
        file = str(path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=file)
        except (OSError, SyntaxError, UnicodeDecodeError) as exc:
            found.problems.append(Problem(file, getattr(exc, "lineno", 0) or 0, str(exc)))
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id == "msg":
                _read_msg(found, node, file)
            elif node.func.id == "command":
                _read_command(found, node, file)
    return found


def _read_msg(found: Declarations, node: ast.Call, file: str) -> None:
    try:
        key = _literal(node.args[0]) if len(node.args) == 1 and not node.keywords else None
    except ValueError:
        key = None
    if not isinstance(key, str):
        found.problems.append(Problem(file, node.lineno, "msg() takes one literal message key"))
        return
    found.messages.setdefault(key, []).append((file, node.lineno))


def _read_command(found: Declarations, node: ast.Call, file: str) -> None:
    try:
        name = _literal(node.args[0]) if len(node.args) == 1 else None
        options = {kw.arg: _literal(kw.value) for kw in node.keywords if kw.arg}
    except ValueError:
        name, options = None, {}
    if not isinstance(name, str) or not isinstance(options.get("description"), str):
        found.problems.append(
            Problem(file, node.lineno, "command() takes a literal name and description=")
        )
        return
    scopes = options.get("scopes", ("private", "groups"))
    spec = CommandSpec(
        name,
        str(options["description"]),
        tuple(scopes) if isinstance(scopes, (tuple, list)) else (),
        bool(options.get("menu", True)),
    )
    found.commands.append((spec, file, node.lineno))
    found.messages.setdefault(spec.description, []).append((file, node.lineno))


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}


def _dropped(text: m.Text) -> str | None:
    """What is wrong when the Khmer of a template leaves out a ``{placeholder}`` of the
    English (the reply would lack the meeting, the place...); None when it keeps them all.
    (The Khmer may add one: ``{original}``, a theme's English wording.)"""
    try:
        missing = _fields(text.en) - _fields(text.km or "")
    except ValueError:
        return None  # reported as a broken placeholder
    if not missing or text.km is None:
        return None
    return f"the Khmer text leaves out {{{sorted(missing)[0]}}} (keep every {{placeholder}})"


def check_brain(
    kb: KnowledgeBase, *, declarations: Declarations | None = None, translations: bool = True
) -> list[Problem]:
    """Problems between the knowledge base and the code (empty: they agree).

    With ``translations`` (the default), every text without Khmer is one too: the bot speaks
    both languages, and this keeps it so (``asem-bot translations`` helps fill them in)."""
    problems: list[Problem] = list(kb.untranslated) if translations else []
    _check_questions(kb, problems)
    _check_messages(kb, problems)
    if declarations is None:
        declarations = scan()
    problems += declarations.problems
    for key in sorted(set(declarations.messages) - set(kb.messages)):
        file, line = declarations.where(key)
        problems.append(
            kb.message_problem(None, f"message '{key}' is missing (used at {file}:{line})")
        )
    return problems


def _check_questions(kb: KnowledgeBase, problems: list[Problem]) -> None:
    known_intents = {q.intent for q in kb.questions}
    for question in kb.questions:
        is_fact = question.intent.removeprefix(FACT) in kb.facts
        if question.answer is None and question.intent not in COMPOSERS and not is_fact:
            problems.append(
                kb.problem(
                    question,
                    f"intent '{question.intent}' has no answer: give it an 'answer' "
                    "or ask a developer to write its composer",
                )
            )
        if question.answer is not None:
            for lang_text in filter(None, (question.answer.en, question.answer.km)):
                for problem in html_problems(lang_text):
                    problems.append(kb.problem(question, f"answer: {problem}"))
        for need in question.needs:
            kind = need.partition("=")[0]
            if kind not in kinds.SLOT:
                known = ", ".join(sorted(kinds.SLOT))
                problems.append(
                    kb.problem(question, f"unknown entity type '{kind}' (one of: {known})")
                )
        for lang_text in filter(None, (question.label.en, question.label.km)):
            try:
                unknown = _fields(lang_text) - kinds.PLACEHOLDERS
            except ValueError as exc:
                problems.append(kb.problem(question, f"label: broken {{placeholder}}: {exc}"))
                continue
            dropped = _dropped(question.label) if lang_text == question.label.km else None
            if dropped:
                problems.append(kb.problem(question, f"label: {dropped}"))
            if unknown:
                known = ", ".join("{" + p + "}" for p in sorted(kinds.PLACEHOLDERS))
                problems.append(
                    kb.problem(
                        question,
                        f"label: unknown placeholder {{{sorted(unknown)[0]}}} "
                        f"(check its spelling; known: {known})",
                    )
                )
    # what the code opens by name: the menu topics and the cards of the entity kinds
    opened = [(f"topic '{t.name}'", t.action.intent) for t in TOPICS]
    opened += [(f"the card of a {k.name}", k.card) for k in kinds.KINDS if k.card]
    for what, intent in opened:
        if intent not in known_intents and intent not in BROWSE:  # BROWSE: screens, no question
            problems.append(
                Problem(str(kb.root / "*.yaml"), 0, f"{what} opens intent '{intent}', unknown")
            )
    for intent in COMPOSERS:
        if intent not in known_intents:
            problems.append(
                Problem(
                    str(kb.root / "*.yaml"),
                    0,
                    f"no question in the knowledge base declares intent '{intent}'",
                )
            )


def _check_messages(kb: KnowledgeBase, problems: list[Problem]) -> None:
    for key, text in kb.messages.items():
        for lang_text in filter(None, (text.en, text.km)):
            try:
                fields = _fields(lang_text)
            except ValueError as exc:
                problems.append(kb.message_problem(key, f"broken {{placeholder}}: {exc}"))
                continue
            unknown = fields - TEMPLATE_FIELDS
            if unknown:
                problems.append(
                    kb.message_problem(
                        key, f"unknown placeholder {{{sorted(unknown)[0]}}} (check its spelling)"
                    )
                )
                continue
            dropped = _dropped(text) if lang_text == text.km else None
            if dropped:
                problems.append(kb.message_problem(key, dropped))
            sample = lang_text.format_map(dict.fromkeys(fields, "x"))
            for problem in html_problems(sample):
                problems.append(kb.message_problem(key, problem))


@functools.cache
def _declared() -> Declarations:
    """The declarations in the source (which does not change while the process runs)."""
    return scan()


def checked_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """Load the knowledge folder (``directory``, else ASEM_KNOWLEDGE_DIR or the installed one;
    never the brain cache) and check it against the code. Raises :class:`KnowledgeError` with
    every problem. Slow (a few hundred milliseconds): call it from a worker thread."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(Path(directory) if directory is not None else default_knowledge_dir())
    found = check_brain(kb, declarations=_declared())
    if found:
        raise KnowledgeError(found)
    return kb


def check_folder(directory: Path) -> tuple[list[Problem], list[Problem]]:
    """The problems ``asem-bot validate`` finds in a folder, as two lists: the texts without
    Khmer apart (an import of translations may leave some), every other problem first.
    Raises :class:`KnowledgeError` when the folder does not load."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(directory)
    return check_brain(kb, declarations=_declared(), translations=False), list(kb.untranslated)
