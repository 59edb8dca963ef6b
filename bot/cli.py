"""The ``asem-bot`` command: one entry point for every way to use the bot.

    asem-bot                  the Telegram bot if TELEGRAM_BOT_TOKEN is set, else the chat
    asem-bot chat             chat with the bot in the terminal
    asem-bot ask "question"   one answer as plain text; --jsonl: questions on stdin, JSON out
    asem-bot eval FILE        accuracy on a labelled question file
    asem-bot validate [DIR]   check the knowledge base
    asem-bot translations export|import FILE [DIR]   texts as CSV for translators, and back
    asem-bot run              the Telegram bot (see asem-bot run --help)
    asem-bot health           exit 0 while the running bot is alive and getting on

Subcommands import what they need when they run, so ``ask`` starts fast.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # imported when a command runs, so `ask` starts fast
    from bot.brain import Brain

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
MAX_DAYS = 36_500  # as ASEM_LOG_RETENTION_DAYS: nothing older is kept


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (and exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.strip().isascii() or not raw.strip().isdigit() or not low <= int(raw) <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number {low}-{high}, not {raw!r}")
        return int(raw)

    return parse


def _brain(knowledge: str | None = None) -> Brain:
    from bot.brain import load_brain
    from bot.knowledge import KnowledgeError

    try:
        return load_brain(knowledge)
    except KnowledgeError as exc:
        print("The knowledge base has problems (run 'asem-bot validate'):", file=sys.stderr)
        for problem in exc.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(EXIT_PROBLEMS) from None


def _checked_brain(command: str) -> Brain:
    """The brain of a knowledge folder checked as ``asem-bot validate`` and ``/reload`` check
    it (every message the code declares, its HTML...), never from the cache: a bot must not
    start on a base that Telegram would refuse (an unclosed tag in the welcome). Exit 1."""
    from bot.brain import Brain
    from bot.knowledge import KnowledgeError
    from bot.validation import checked_knowledge

    try:
        return Brain(checked_knowledge())
    except KnowledgeError as exc:
        print(
            f"asem-bot {command}: the knowledge base has {len(exc.problems)} problem(s); "
            "fix them first ('asem-bot validate' lists the same):",
            file=sys.stderr,
        )
        for problem in exc.problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(EXIT_PROBLEMS) from None


def _language(brain: Brain, lang: str | None, command: str) -> str | None:
    """``--lang`` checked against the languages the bot speaks: one line and exit 2 if not."""
    from bot.language import languages

    known = languages(brain)
    if lang is not None and lang not in known:
        print(
            f"asem-bot {command}: unknown language {lang!r} (languages: {', '.join(known)})",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_USAGE)
    return lang


def _reply_language(brain: Brain, lang: str | None, question: str) -> str:
    """``--lang`` if given, else the language the question is written in."""
    from bot.language import choose_language

    return lang or choose_language(brain, question)


# -- validate -------------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.knowledge import KnowledgeError
    from bot.validation import checked_knowledge

    try:  # as `run` and /reload check it: also every message a module declares
        kb = checked_knowledge(args.directory)
    except KnowledgeError as exc:
        return _report(exc.problems)
    print(f"OK: {kb.summary()}.")
    return EXIT_OK


def _report(problems: Sequence[object]) -> int:
    """Every problem as ``file:line: problem`` on stdout, and a count on stderr."""
    for problem in problems:
        print(problem)
    sys.stdout.flush()
    print(f"{len(problems)} problem(s) found.", file=sys.stderr)
    return EXIT_PROBLEMS


# -- translations ---------------------------------------------------------------------------------


def _knowledge_root(directory: str | None) -> Path:
    from bot.knowledge import default_knowledge_dir

    return Path(directory) if directory else default_knowledge_dir()


def cmd_translations(args: argparse.Namespace) -> int:
    if args.action == "export":
        return _translations_export(args)
    return _translations_import(args)


def _translations_export(args: argparse.Namespace) -> int:
    from bot.knowledge import KnowledgeError
    from bot.knowledge.translations import export_rows, read_entries, write_csv

    try:
        found = read_entries(_knowledge_root(args.directory))
    except KnowledgeError as exc:
        print("The knowledge base has problems (fix them first):", file=sys.stderr)
        return _report(exc.problems)
    rows = export_rows(found, todo=args.todo)
    if args.file == "-":
        with open(
            sys.stdout.fileno(), "w", encoding="utf-8-sig", newline="", closefd=False
        ) as out:
            write_csv(rows, out)
    else:
        try:
            with open(args.file, "w", encoding="utf-8-sig", newline="") as out:
                write_csv(rows, out)
        except OSError as exc:
            print(f"Cannot write {args.file}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    missing = sum(1 for entry in found if entry.km is None)
    unreviewed = sum(1 for entry in found if entry.km is not None and not entry.reviewed)
    print(
        f"{len(rows) - 1} texts written to {args.file}: {missing} without Khmer, "
        f"{unreviewed} with Khmer not yet reviewed.",
        file=sys.stderr,
    )
    return EXIT_OK


def _translations_import(args: argparse.Namespace) -> int:
    from bot.channels.screen import printable
    from bot.knowledge.translations import plan_import, write_files

    root = _knowledge_root(args.directory)
    try:
        raw = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    from bot.validation import check_folder

    plan = plan_import(root, raw, args.file, check_folder)
    for problem in plan.skipped:
        print(printable(str(problem)))
    if plan.refused:
        for problem in plan.refused:
            print(printable(str(problem)))
        sys.stdout.flush()
        print(
            f"Nothing was changed: {len(plan.refused)} problem(s) found.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    for change in plan.changes:
        print(printable(str(change.entry.problem(change.describe()))))
    if not args.dry_run:
        try:
            write_files(root, plan.files)
        except OSError as exc:
            print(f"Cannot write the knowledge files: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_PROBLEMS
    sys.stdout.flush()
    done = "would change" if args.dry_run else "changed"
    print(
        f"{len(plan.changes)} text(s) {done} in {len(plan.files)} file(s); "
        f"{len(plan.skipped)} row(s) skipped or noted.",
        file=sys.stderr,
    )
    if plan.untranslated:
        print(
            f"{len(plan.untranslated)} text(s) still have no Khmer text "
            "('asem-bot validate' lists them).",
            file=sys.stderr,
        )
    if args.dry_run:
        print("Dry run: nothing was written.", file=sys.stderr)
    return EXIT_OK


# -- ask ------------------------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace) -> int:
    brain = _brain()
    lang = _language(brain, args.lang, "ask")
    if args.jsonl:
        return _ask_jsonl(brain, lang)
    question = " ".join(args.question).strip()
    if not question:
        print('Give a question, e.g. asem-bot ask "Where was ASEM5 held?"', file=sys.stderr)
        return EXIT_USAGE
    from bot.channels.screen import printable

    reply = brain.answer(question, _reply_language(brain, lang, question))
    print(printable(reply.plain))
    for i, choice in enumerate((*reply.suggestions, *reply.buttons), start=1):
        if i == 1:
            print()
        print(printable(f"  {i}. {choice.label}"))
    return EXIT_OK


JSONL_KEYS = frozenset({"text", "conversation", "lang"})
CONVERSATIONS_KEPT = 10_000
"""The conversations ``ask --jsonl`` remembers at once; the one quiet longest is forgotten."""
_REQUEST = re.compile(r'^\s*\{\s*"text"\s*:')


class _BadLine(ValueError):
    """A line meant as a JSON request that cannot be one."""


def _request(line: str, known: tuple[str, ...]) -> tuple[str, object, str | None] | None:
    """``(text, conversation, lang)`` when ``line`` is a JSON object with "text"; None when it
    is a plain question. Raises :class:`_BadLine` for a broken request."""
    if not line.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError as exc:
        if _REQUEST.match(line):  # meant as a request: say what is wrong with it
            raise _BadLine(f"not valid JSON: {exc}") from None
        return None
    if not isinstance(value, dict) or "text" not in value:
        return None  # "{...}" that is no request is a question like any other
    unknown = sorted(set(value) - JSONL_KEYS)
    if unknown:
        raise _BadLine(f"unknown key {unknown[0]!r} (keys: text, conversation, lang)")
    text, conversation, lang = value["text"], value.get("conversation"), value.get("lang")
    if not isinstance(text, str):
        raise _BadLine('"text" must be a string')
    if conversation is not None and (
        isinstance(conversation, bool) or not isinstance(conversation, str | int)
    ):
        raise _BadLine('"conversation" must be a string or a whole number')
    if lang is not None and lang not in known:
        raise _BadLine(f'"lang" must be one of {", ".join(known)}, not {lang!r}')
    return text, conversation, lang


def _ask_jsonl(brain: Brain, lang: str | None) -> int:
    """One JSON object per input line, flushed at once. Bad input never stops the stream.

    A line is a question, or a JSON object ``{"text": ..., "conversation": ..., "lang": ...}``:
    the lines of one conversation share its context, as one chat does (the topics of its last
    replies, and its language for a question that does not tell). The reply language is the
    line's "lang", else ``lang`` (--lang), else the question's. A broken request gets
    ``{"line", "error"}`` and the stream goes on; the exit status is then 1."""
    from bot.dialogue import TOPIC_TURNS, Topic
    from bot.language import choose_language, languages

    known = languages(brain)
    conversations: OrderedDict[str, tuple[list[Topic], str | None]] = OrderedDict()
    stdin = sys.stdin.buffer
    out = sys.stdout
    failed = False
    for number, raw in enumerate(stdin, start=1):
        question = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        conversation: object = None
        line_lang: str | None = None
        try:
            request = _request(question, known)
        except _BadLine as exc:
            failed = True
            record: dict[str, object] = {"line": number, "error": str(exc)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            continue
        if request is not None:
            question, conversation, line_lang = request
        key = json.dumps(conversation) if conversation is not None else None
        context, stored = conversations.pop(key, ([], None)) if key else ([], None)
        reply_lang = line_lang or lang or "en"
        try:
            reply_lang = line_lang or lang or choose_language(brain, question, stored=stored)
            reply = brain.answer(question, reply_lang, context[-TOPIC_TURNS:])
            record = {
                "question": question,
                "answered": reply.answered,
                "intent": reply.intent,
                "confidence": reply.confidence,
                "reply": reply.text,
            }
            if isinstance(reply.topic, Topic):
                context = [*context, reply.topic][-TOPIC_TURNS:]
        except Exception:  # pragma: no cover - the brain is tested never to raise
            record = {
                "question": question,
                "answered": False,
                "intent": None,
                "confidence": 0.0,
                "reply": brain.decline(reply_lang).text,
            }
        if key is not None:
            record["conversation"] = conversation
            conversations[key] = (context, reply_lang)
            if len(conversations) > CONVERSATIONS_KEPT:
                conversations.popitem(last=False)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    return EXIT_PROBLEMS if failed else EXIT_OK


# -- chat -----------------------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.channels.terminal import TerminalChat

    brain = _brain()
    lang = _language(brain, getattr(args, "lang", None), "chat")
    return TerminalChat(brain, lang=lang, hint=getattr(args, "hint", False)).run()


# -- eval -----------------------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluate import Report, evaluate, load_cases

    sets = []
    for name in args.files:
        try:
            sets.append((name, load_cases(Path(name))))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            print(f"Cannot read {name}: {reason}", file=sys.stderr)
            return EXIT_USAGE
    brain = _brain()
    lang = _language(brain, args.lang, "eval")
    reports = []
    for name, cases in sets:
        report = evaluate(brain, cases, lang)
        reports.append(report)
        if len(sets) > 1:
            print(f"== {name}")
        print(report.as_text(show_failures=not args.no_failures))
        if len(sets) > 1:
            print()
    if len(sets) > 1:
        print("== all sets")
        print("\n".join(Report([o for r in reports for o in r.outcomes]).summary()))
    return EXIT_OK


# -- run, health: the Telegram bot ----------------------------------------------------------------


def _stop_now(signum: int, frame: object) -> None:
    """SIGTERM or SIGINT before the bot serves: nothing is in hand, so stop at once, exit 0.
    (As PID 1 in a container, a signal without a handler would be ignored.)"""
    raise SystemExit(EXIT_OK)


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    signal.signal(signal.SIGTERM, _stop_now)  # from the first moment; serving installs its own
    signal.signal(signal.SIGINT, _stop_now)
    from bot.config import ConfigError, Settings

    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"asem-bot run: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from bot.channels.telegram.logs import TokenFilter, configure_logging

    webhook_secret = (settings.webhook_secret,) if settings.webhook_url else ()
    configure_logging(settings.log_level, settings.token, secrets=webhook_secret)
    from telegram.error import Conflict, InvalidToken, NetworkError

    from bot.channels.telegram.app import check_token, run

    def telegram_refused(exc: Exception) -> int:
        """One clear line for what Telegram answered, without the token; the exit code."""
        if isinstance(exc, InvalidToken):
            print(
                "asem-bot run: Telegram refused the bot token (check TELEGRAM_BOT_TOKEN; "
                "@BotFather shows the current one)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        reason = TokenFilter(settings.token).mask(getattr(exc, "message", str(exc)))
        print(
            f"asem-bot run: cannot reach the Bot API at {settings.api_base_url}: {reason}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS

    try:
        check_token(settings)  # first, so that a wrong token is all the user reads
    except (InvalidToken, NetworkError) as exc:
        return telegram_refused(exc)
    brain = _checked_brain("run")
    from bot.storage import Storage, StorageError

    try:
        storage = Storage.open(settings.data_dir, retention_days=settings.log_retention_days)
    except StorageError as exc:
        print(f"asem-bot run: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    try:
        run(settings, brain, storage)
    except (InvalidToken, NetworkError) as exc:  # e.g. the token revoked in the meantime
        return telegram_refused(exc)
    except Conflict:
        print(
            "asem-bot run: another instance is polling Telegram with this bot token (409 "
            "Conflict): stop it first; only one may run (or use a webhook)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except OSError as exc:
        if not settings.webhook_url or exc.errno not in _CANNOT_LISTEN:
            raise
        print(
            f"asem-bot run: cannot listen on {settings.webhook_listen}:{settings.webhook_port} "
            f"(ASEM_WEBHOOK_LISTEN, ASEM_WEBHOOK_PORT): {exc.strerror or exc}",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    finally:
        storage.close()
    return EXIT_OK


_CANNOT_LISTEN = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)


def cmd_health(args: argparse.Namespace) -> int:
    from bot.channels.telegram.heartbeat import check
    from bot.config import data_dir_from_env

    healthy, line = check(data_dir_from_env(os.environ))
    print(line)
    return EXIT_OK if healthy else EXIT_PROBLEMS


# -- link and stats -------------------------------------------------------------------------------


def cmd_link(args: argparse.Namespace) -> int:
    from bot.campaign.links import LinkError, deep_link, resolve, topics, write_qr

    brain = _brain()
    if args.list:
        for topic in topics(brain):
            print(f"{topic.payload:<32} {topic.title}")
        return EXIT_OK
    if not args.topic:
        print("Give a topic (see 'asem-bot link --list').", file=sys.stderr)
        return EXIT_USAGE
    if not args.bot:
        print("Give the bot's username with --bot or ASEM_BOT_USERNAME.", file=sys.stderr)
        return EXIT_USAGE
    try:
        url = deep_link(args.bot, resolve(brain, args.topic))
    except LinkError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    print(url)
    if args.qr:
        try:
            path = write_qr(url, Path(args.qr))
        except OSError as exc:
            print(f"Cannot write {args.qr}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_PROBLEMS
        print(f"QR code written to {path}", file=sys.stderr)
    return EXIT_OK


def _accept(found: list, number: int) -> int:
    """``stats --accept N``: question N of the "to learn" table, added as an example."""
    from bot.campaign.learning import NotAccepted, accept
    from bot.channels.screen import printable
    from bot.knowledge import default_knowledge_dir

    if not 1 <= number <= len(found):
        print(f"asem-bot stats: there is no question {number} to accept", file=sys.stderr)
        return EXIT_USAGE
    item = found[number - 1]
    try:
        path = accept(default_knowledge_dir(), item.intent, item.phrasing)
    except NotAccepted as exc:
        print(printable(f"asem-bot stats: not added: {exc}"), file=sys.stderr)
        return EXIT_PROBLEMS
    # the phrasing is what someone typed: shown printable, as every logged text is
    print(printable(f"Added '{item.phrasing}' to {path} as an example of {item.intent}."))
    print("A running bot takes it in with /reload.")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from bot.config import data_dir_from_env
    from bot.storage import Storage, StorageError

    data_dir = data_dir_from_env(os.environ)
    if not (data_dir / "asem-bot.sqlite3").exists():
        print(f"No question log yet in {data_dir} (the bot creates it when it runs).")
        return EXIT_OK
    try:
        with Storage.open(data_dir) as storage:
            stats = storage.stats(days=args.days, top=args.top)
            votes = storage.feedback_counts(days=args.days)
            groups = storage.to_learn(days=args.days, top=args.top)
    except StorageError as exc:
        print(f"asem-bot stats: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    from bot.brain import load_brain
    from bot.campaign import learning
    from bot.channels.screen import json_printable, printable

    found = learning.suggestions(load_brain(), groups)
    if args.accept is not None:
        return _accept(found, args.accept)
    if args.json:  # valid JSON still: what could steer a terminal is written as \uXXXX
        report = asdict(stats) | {
            "feedback": {"up": votes[0], "down": votes[1]},
            "to_learn": [asdict(item) | {"key": item.key} for item in found],
        }
        print(json_printable(json.dumps(report, ensure_ascii=False, indent=2)))
        return EXIT_OK
    from bot.campaign.report import format_stats

    print(printable(format_stats(stats)))
    print(f"\nFeedback: {votes[0]} 👍, {votes[1]} 👎")
    if found:
        print(printable(learning.format_suggestions(found)))
        print("\n(asem-bot stats --accept N adds question N as an example of its intent)")
    return EXIT_OK


# -- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asem-bot",
        description="A fact bot about ASEM, the Asia-Europe Meeting: in Telegram or the terminal.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    validate = commands.add_parser(
        "validate", help="check the knowledge base", description="Check the knowledge base."
    )
    validate.add_argument(
        "directory", nargs="?", help="knowledge folder (default: $ASEM_KNOWLEDGE_DIR or built-in)"
    )
    validate.set_defaults(func=cmd_validate)

    translations = commands.add_parser(
        "translations",
        help="export every text to a spreadsheet for translators, import the Khmer back",
        description="Every text the bot shows, side by side in English and Khmer, as CSV "
        "(UTF-8, for Excel and LibreOffice): export it, fill in or correct the Khmer and the "
        "reviewed column, import it. The import edits only those lines of the YAML files, "
        "keeps comments and layout, and changes nothing if the result would not validate.",
    )
    steps = translations.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = steps.add_parser(
        "export",
        help="write every text as CSV: file, line, key, English, Khmer, reviewed",
        description="Write every text as CSV: file, line, key, English, Khmer, reviewed.",
    )
    export.add_argument("file", metavar="FILE", help="the CSV file to write ('-': stdout)")
    export.add_argument(
        "directory", nargs="?", help="knowledge folder (default: $ASEM_KNOWLEDGE_DIR or built-in)"
    )
    export.add_argument(
        "--todo", action="store_true", help="only texts without a reviewed Khmer text"
    )
    importing = steps.add_parser(
        "import",
        help="write the Khmer and reviewed columns of a CSV back into the YAML files",
        description="Write the Khmer and reviewed columns of an exported CSV back into the "
        "YAML files. Rows whose English changed since the export are skipped. Exit 0: "
        "imported; 1: refused, nothing changed; 2: the CSV cannot be read.",
    )
    importing.add_argument("file", metavar="FILE", help="the CSV file (as exported, edited)")
    importing.add_argument(
        "directory", nargs="?", help="knowledge folder (default: $ASEM_KNOWLEDGE_DIR or built-in)"
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="check and show the changes, write nothing"
    )
    translations.set_defaults(func=cmd_translations)

    ask = commands.add_parser(
        "ask",
        help="answer one question as plain text, or --jsonl",
        description="Answer one question, or with --jsonl one JSON line per stdin line. "
        "Exit status: 0; 1 when a --jsonl request was broken (the others are answered).",
    )
    ask.add_argument("question", nargs="*", help="the question")
    ask.add_argument(
        "--jsonl",
        action="store_true",
        help='read questions from stdin, one per line, or as {"text": ..., "conversation": '
        '..., "lang": ...} (the lines of a conversation share its context); write '
        '{"question", "answered", "intent", "confidence", "reply"} per line, and '
        '"conversation" when given; a broken request gets {"line", "error"} and the exit '
        "status 1",
    )
    ask.add_argument(
        "--lang", help="reply language (en, km); default: the language each question is written in"
    )
    ask.set_defaults(func=cmd_ask)

    chat = commands.add_parser("chat", help="chat with the bot in the terminal")
    chat.add_argument(
        "--lang", help="reply language (en, km); default: the language each question is written in"
    )
    chat.set_defaults(func=cmd_chat)

    ev = commands.add_parser(
        "eval",
        help="measure accuracy on labelled question files",
        description=(
            "Accuracy, the share of in-scope questions answered wrongly, out-of-scope "
            "questions declined, figures per kind of question and coverage per section of the "
            "fact sheet, and the failures. See bot/evaluate.py for the file format."
        ),
    )
    ev.add_argument("files", nargs="+", metavar="FILE", help="YAML list of {q, kind, expect}")
    ev.add_argument(
        "--lang", help="reply language (en, km); default: the language each question is written in"
    )
    ev.add_argument("--no-failures", action="store_true", help="do not list each failure")
    ev.set_defaults(func=cmd_eval)

    from bot.config import variables_help

    run = commands.add_parser(
        "run",
        help="run the Telegram bot",
        description="Run the Telegram bot: long polling, or a webhook server when "
        "ASEM_WEBHOOK_URL is set. Configured by environment variables only.",
        epilog=variables_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.set_defaults(func=cmd_run)

    health = commands.add_parser(
        "health",
        help="exit 0 if the running bot's heartbeat is fresh (Docker HEALTHCHECK)",
        description="Exit 0 if the bot wrote $ASEM_DATA_DIR/heartbeat in the last 90 s and is "
        "getting on (polling succeeds, updates in hand get finished), else 1.",
    )
    health.set_defaults(func=cmd_health)

    link = commands.add_parser(
        "link",
        help="print the deep link of a topic (and a QR code for posters)",
        description="Print t.me/<bot>?start=<topic>, the link that opens the bot on a fact.",
    )
    link.add_argument("topic", nargs="?", help="e.g. summit_13, partner_kh, asef, areas")
    link.add_argument("--list", action="store_true", help="list every topic with its title")
    link.add_argument("--qr", metavar="FILE", help="also write a QR code PNG to FILE")
    link.add_argument(
        "--bot",
        default=os.environ.get("ASEM_BOT_USERNAME", ""),
        help="the bot's username (default: $ASEM_BOT_USERNAME)",
    )
    link.set_defaults(func=cmd_link)

    stats = commands.add_parser(
        "stats",
        help="what people asked: totals, answer rate, top intents, unanswered questions",
        description="Read the question log in $ASEM_DATA_DIR and print a summary.",
    )
    stats.add_argument(
        "--days", type=_whole_number(1, MAX_DAYS), help=f"only the last N days (1-{MAX_DAYS})"
    )
    stats.add_argument(
        "--top",
        type=_whole_number(0, 1000),
        default=10,
        help="rows per table (default: 10)",
    )
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument(
        "--accept",
        type=int,
        metavar="N",
        help="add question N of the 'to learn' table to the knowledge files as an example",
    )
    stats.set_defaults(func=cmd_stats)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if os.environ.get("TELEGRAM_BOT_TOKEN") or os.environ.get("TELEGRAM_BOT_TOKEN_FILE"):
            args = parser.parse_args(["run"])
        else:
            args = parser.parse_args(["chat"])
            args.hint = True
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:  # a file or folder that cannot be read or written: one line
        where = f" {exc.filename}:" if exc.filename else ""
        print(f"asem-bot {args.command}:{where} {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
