"""Quiz questions generated from the knowledge base, for Telegram quiz polls and the terminal.

Every question is built from the facts in ``knowledge/*.yaml`` and worded by the ``quiz_*``
templates in ``knowledge/messages.yaml``; no text a user reads is written here. Each question
has a stable key (``summit_city:5``, ``partner_yes:kh``, ``asef_where``) so that a chat can be
asked every question once before any repeats::

    maker = QuizMaker(load_knowledge())
    question, new_round = maker.pick(seen, random.Random())
    if new_round:  # every key was in `seen`: start counting again
        seen.clear()
    seen.add(question.key)

The distractors and the order of the options depend on the ``random.Random`` passed in; the
fact asked about and the right answer never do. Every :class:`QuizQuestion` checks Telegram's
quiz-poll limits when it is built, so one that breaks them cannot exist.

In the terminal: :func:`format_for_terminal` shows a question with numbered options,
:func:`parse_choice` reads the reply, :func:`check_answer` says whether it was right and why.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from bot.answers.base import Context
from bot.declare import msg
from bot.domain.kinds import meeting_code
from bot.knowledge import KnowledgeBase, MeetingRef
from bot.limits import (
    DEEP_LINK_PAYLOAD,
    MAX_POLL_EXPLANATION,
    MAX_POLL_EXPLANATION_LINE_FEEDS,
    MAX_POLL_OPTION,
    MAX_POLL_OPTIONS,
    MAX_POLL_QUESTION,
    MIN_POLL_OPTIONS,
    telegram_length,
)

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge import models as m

logger = logging.getLogger(__name__)

OPTION_COUNT = 4

# Countries people take for ASEM partners: neighbours of its two regions and large economies.
# Left out on purpose: places whose status is disputed or that belong to a partner (Taiwan,
# Hong Kong, Macao, Palestine, Kosovo), where "not a partner" would read as a political
# statement, and Timor-Leste, whose ASEAN membership is newer than the sources checked.
PLAUSIBLE_NON_PARTNERS: tuple[str, ...] = (
    "tr", "us", "ca", "br", "mx", "za", "ua", "by", "rs", "al", "is", "ge", "am",
    "az", "uz", "kg", "lk", "np", "bt", "mv", "af", "ir", "kp", "sa", "ae", "eg",
)  # fmt: skip

# The question kinds, in the order keys() lists them. A key is "kind" or "kind:argument".
KINDS: tuple[str, ...] = (
    "summit_city",
    "fmm_city",
    "summit_year",
    "fmm_year",
    "partner_yes",
    "partner_no",
    "partner_joined",
    "partner_first_summit",
    "partner_count",
    "asef_what",
    "asef_where",
    "asef_founded",
    "area",
    "founders",
    "asem_day",
    "pillar_count",
    "pillar",
)

# The messages the quiz words its questions with (knowledge/messages.yaml).
AND = msg("and_separator")
QUIZ_PARTNER_YES = msg("quiz_partner_yes")
QUIZ_PARTNER_NO = msg("quiz_partner_no")
QUIZ_PARTNER_JOINED = msg("quiz_partner_joined")
QUIZ_PARTNER_FIRST_SUMMIT = msg("quiz_partner_first_summit")
QUIZ_PARTNER_COUNT = msg("quiz_partner_count")
QUIZ_ASEF_WHAT = msg("quiz_asef_what")
QUIZ_ASEF_WHERE = msg("quiz_asef_where")
QUIZ_ASEF_FOUNDED = msg("quiz_asef_founded")
QUIZ_AREA = msg("quiz_area")
QUIZ_FOUNDERS = msg("quiz_founders")
QUIZ_ASEM_DAY = msg("quiz_asem_day")
QUIZ_PILLAR_COUNT = msg("quiz_pillar_count")
QUIZ_PILLAR = msg("quiz_pillar")
QUIZ_MEETING_OPTION = msg("quiz_meeting_option")
QUIZ_DAY_MONTH = msg("quiz_day_month")
QUIZ_ASEF_WHAT_ANSWER = msg("quiz_asef_what_answer")
QUIZ_ASEF_WHAT_DISTRACTORS = msg("quiz_asef_what_distractors")
QUIZ_AREA_DISTRACTORS = msg("quiz_area_distractors")
QUIZ_PILLAR_DISTRACTORS = msg("quiz_pillar_distractors")
QUIZ_RIGHT = msg("quiz_right")
QUIZ_WRONG = msg("quiz_wrong")
QUIZ_EXPL_THEME = msg("quiz_expl_theme")
QUIZ_EXPL_PARTNER_YES = msg("quiz_expl_partner_yes")
QUIZ_EXPL_NOT_PARTNERS = msg("quiz_expl_not_partners")
QUIZ_EXPL_PARTNER_NO = msg("quiz_expl_partner_no")
QUIZ_EXPL_PARTNER_JOINED_FOUNDING = msg("quiz_expl_partner_joined_founding")
QUIZ_EXPL_PARTNER_JOINED = msg("quiz_expl_partner_joined")
QUIZ_EXPL_PARTNER_JOINED_DATE = msg("quiz_expl_partner_joined_date")
QUIZ_EXPL_PARTNER_FIRST_SUMMIT = msg("quiz_expl_partner_first_summit")
QUIZ_EXPL_PARTNER_WELCOMED = msg("quiz_expl_partner_welcomed")
QUIZ_EXPL_PARTNER_COUNT = msg("quiz_expl_partner_count")
QUIZ_EXPL_PARTNER_COUNT_START = msg("quiz_expl_partner_count_start")
QUIZ_EXPL_ASEF_WHAT = msg("quiz_expl_asef_what")
QUIZ_EXPL_ASEF_WHERE = msg("quiz_expl_asef_where")
QUIZ_EXPL_ASEF_FOUNDED = msg("quiz_expl_asef_founded")
QUIZ_EXPL_WEBSITE = msg("quiz_expl_website")
QUIZ_EXPL_AREA = msg("quiz_expl_area")
QUIZ_EXPL_AREA_UNVERIFIED = msg("quiz_expl_area_unverified")
QUIZ_EXPL_AREA_TITLE = msg("quiz_expl_area_title")
QUIZ_EXPL_FOUNDERS = msg("quiz_expl_founders")
QUIZ_EXPL_ASEM_DAY = msg("quiz_expl_asem_day")
QUIZ_EXPL_ASEM_DAY_CAMBODIA = msg("quiz_expl_asem_day_cambodia")
QUIZ_EXPL_PILLARS = msg("quiz_expl_pillars")
CITY_QUESTION = {"summit": msg("quiz_summit_city"), "fmm": msg("quiz_fmm_city")}
VIRTUAL_CITY_QUESTION = {"summit": msg("quiz_summit_city_virtual")}
YEAR_QUESTION = {"summit": msg("quiz_summit_year"), "fmm": msg("quiz_fmm_year")}
MEETING_FACT_IN_PERSON = msg("quiz_expl_meeting_in_person")
MEETING_FACT_VIRTUAL = msg("quiz_expl_meeting_virtual")


def poll_problems(
    question: str,
    options: Sequence[str],
    correct: int,
    explanation: str,
    deep_link: str | None = None,
) -> list[str]:
    """Why Telegram would refuse this quiz poll (an empty list: it would not)."""
    problems = []
    if not 1 <= telegram_length(question) <= MAX_POLL_QUESTION:
        problems.append(
            f"question length {telegram_length(question)} is outside 1..{MAX_POLL_QUESTION}"
        )
    if not MIN_POLL_OPTIONS <= len(options) <= MAX_POLL_OPTIONS:
        problems.append(
            f"{len(options)} options; a poll needs {MIN_POLL_OPTIONS}..{MAX_POLL_OPTIONS}"
        )
    for option in options:
        if not 1 <= telegram_length(option) <= MAX_POLL_OPTION or not option.strip():
            problems.append(f"option {option!r} is empty or longer than {MAX_POLL_OPTION}")
    if len({o.strip().casefold() for o in options}) != len(options):
        problems.append(f"options repeat: {list(options)}")
    if not 0 <= correct < len(options):
        problems.append(f"correct option {correct} is not one of the {len(options)} options")
    if telegram_length(explanation) > MAX_POLL_EXPLANATION:
        problems.append(
            f"explanation length {telegram_length(explanation)} is over {MAX_POLL_EXPLANATION}"
        )
    if explanation.count("\n") > MAX_POLL_EXPLANATION_LINE_FEEDS:
        problems.append("explanation has more than 2 line feeds")
    if deep_link is not None and not DEEP_LINK_PAYLOAD.match(deep_link):
        problems.append(f"deep link {deep_link!r} is not 1-64 characters of A-Za-z0-9_-")
    return problems


@dataclass(frozen=True)
class QuizQuestion:
    """One quiz question, ready for ``sendPoll(type="quiz")`` or the terminal.

    All texts are plain (no HTML). ``right_text`` and ``wrong_text`` are the verdicts the
    terminal shows before the explanation.
    """

    key: str
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    deep_link: str | None = None
    right_text: str = ""
    wrong_text: str = ""

    def __post_init__(self) -> None:
        problems = poll_problems(
            self.question, self.options, self.correct, self.explanation, self.deep_link
        )
        if problems:
            raise ValueError(f"quiz question {self.key}: " + "; ".join(problems))

    @property
    def answer(self) -> str:
        return self.options[self.correct]


# -- the terminal -------------------------------------------------------------------------------


def format_for_terminal(q: QuizQuestion) -> str:
    """The question and its options numbered from 1."""
    lines = [q.question, *(f"  {i}. {option}" for i, option in enumerate(q.options, start=1))]
    return "\n".join(lines)


def parse_choice(q: QuizQuestion, text: str) -> int | None:
    """The option index (from 0) a reply means: its exact text, else its number (from 1).

    The text first: "3" to "On how many pillars...?" (options 2, 3, 4, 5) is the option 3,
    and "2004" to "In which year...?" is the option 2004; any other number is a position
    ("2", "2." or "2)", in Khmer digits too). An option's text may end in ")" or be typed
    with a full stop."""
    reply = text.strip()
    number = reply.rstrip(".)").strip()
    typed = {reply.casefold(), reply.rstrip(".").strip().casefold()}
    if number.isdigit():
        typed.add(str(int(number)))  # Khmer digits as the options write them
    by_text = next((i for i, o in enumerate(q.options) if o.casefold() in typed), None)
    if by_text is not None or not number.isdigit():
        return by_text
    return int(number) - 1 if 1 <= int(number) <= len(q.options) else None


def check_answer(q: QuizQuestion, choice_index: int) -> tuple[bool, str]:
    """Whether option ``choice_index`` (from 0) is right, and the feedback with the fact."""
    if not 0 <= choice_index < len(q.options):
        raise ValueError(f"choice {choice_index} is not one of 0..{len(q.options) - 1}")
    right = choice_index == q.correct
    verdict = q.right_text if right else q.wrong_text
    return right, " ".join(part for part in (verdict, q.explanation) if part)


# -- text helpers -------------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` UTF-16 units at a word boundary, marking the cut with '…'."""
    if telegram_length(text) <= limit:
        return text
    kept = ""
    for char in text:
        if telegram_length(kept + char) > limit - 1:
            break
        kept += char
    word_end = kept.rfind(" ")
    if word_end > limit // 2:
        kept = kept[:word_end]
    return kept.rstrip(" ,;:") + "…"


def _fit(required: str, *optional: str, limit: int = MAX_POLL_EXPLANATION) -> str:
    """``required``, then each ``optional`` sentence that still fits within ``limit``."""
    text = required
    for sentence in optional:
        if sentence and telegram_length(f"{text} {sentence}") <= limit:
            text = f"{text} {sentence}"
    return _clip(text, limit)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _kind_of(key: str) -> str:
    return key.partition(":")[0]


class QuizMaker:
    """Builds quiz questions about ASEM from a knowledge base, in one language."""

    def __init__(self, kb: KnowledgeBase, lang: str = "en") -> None:
        self.kb = kb
        self.lang = lang
        # Only the formatting helpers of Context are used; they do not depend on the date.
        self._ctx = Context(kb, lang, dt.date.today())
        self._summits = tuple(s for s in kb.summits if s.held)
        self._fmms = tuple(f for f in kb.fmms if f.held)
        hosts: dict[str, None] = {}
        for meeting in (*self._summits, *self._fmms):
            if meeting.record.city:
                hosts.setdefault(meeting.record.city, None)
        self._host_cities = tuple(hosts)
        self._countries = tuple(p for p in kb.partners.values() if self._is_country(p))
        self._non_partners = tuple(
            kb.non_partners[c]
            for c in PLAUSIBLE_NON_PARTNERS
            if c in kb.non_partners and c not in kb.partners
        )
        self._builders: dict[str, Callable[[str, random.Random], QuizQuestion]] = {
            "summit_city": partial(self._meeting_city, "summit"),
            "fmm_city": partial(self._meeting_city, "fmm"),
            "summit_year": partial(self._meeting_year, "summit"),
            "fmm_year": partial(self._meeting_year, "fmm"),
            "partner_yes": self._partner_yes,
            "partner_no": self._partner_no,
            "partner_joined": self._partner_joined,
            "partner_first_summit": self._partner_first_summit,
            "partner_count": self._partner_count,
            "asef_what": self._asef_what,
            "asef_where": self._asef_where,
            "asef_founded": self._asef_founded,
            "area": self._area,
            "founders": self._founders,
            "asem_day": self._asem_day,
            "pillar_count": self._pillar_count,
            "pillar": self._pillar,
        }
        self._keys = self._buildable(self._candidate_keys())

    # -- the pool -------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """Every question key, in a fixed order (the same for the same knowledge base)."""
        return list(self._keys)

    def make(self, key: str, rng: random.Random) -> QuizQuestion:
        """The question ``key``. Raises KeyError for a key this maker cannot build."""
        kind, _, argument = key.partition(":")
        builder = self._builders.get(kind)
        if builder is None:
            raise KeyError(f"unknown quiz key {key!r}")
        try:
            return builder(argument, rng)
        except (LookupError, ValueError) as exc:
            raise KeyError(f"cannot make quiz question {key!r}: {exc}") from exc

    def pick(self, seen: Collection[str], rng: random.Random) -> tuple[QuizQuestion, bool]:
        """A question whose key is not in ``seen``, and whether a new round had to begin.

        The second value is False while unseen keys remain. Once every key of the pool is in
        ``seen`` it is True and the question comes from the whole pool again: the caller
        should then reset ``seen`` to just this question's key. Keys in ``seen`` that are not
        in the pool (from an older knowledge base) are ignored.

        The kind is drawn first, then a key of that kind: partner questions are more than
        half of the pool, and drawing keys alone would ask about little else.
        """
        unseen = [key for key in self._keys if key not in seen]
        new_round = not unseen
        by_kind: dict[str, list[str]] = {}
        for key in unseen or self._keys:
            by_kind.setdefault(_kind_of(key), []).append(key)
        kind = rng.choice(list(by_kind))
        return self.make(rng.choice(by_kind[kind]), rng), new_round

    def _candidate_keys(self) -> list[str]:
        kb = self.kb
        keys = [f"summit_city:{s.number}" for s in self._summits]
        keys += [f"fmm_city:{f.number}" for f in self._fmms]
        keys += [f"summit_year:{s.number}" for s in self._summits]
        keys += [f"fmm_year:{f.number}" for f in self._fmms]
        keys += [f"partner_yes:{p.id}" for p in self._countries]
        keys += [f"partner_no:{c.id}" for c in self._non_partners]
        for partner in kb.partners.values():
            kind = "partner_first_summit" if self._joining_unclear(partner) else "partner_joined"
            keys.append(f"{kind}:{partner.id}")
        keys += ["partner_count", "asef_what", "asef_where", "asef_founded"]
        keys += [f"area:{a.number}" for a in kb.areas]
        keys += ["founders", "asem_day", "pillar_count"]
        keys += [f"pillar:{p.id}" for p in kb.asem.pillars.items]
        return keys

    def _buildable(self, keys: list[str]) -> tuple[str, ...]:
        """The keys whose question can be built: a knowledge base too small for three
        distractors of some kind loses those questions instead of failing at quiz time."""
        rng = random.Random(0)
        kept = []
        for key in keys:
            try:
                self.make(key, rng)
            except KeyError as exc:
                logger.warning("quiz question left out: %s", exc)
            else:
                kept.append(key)
        return tuple(kept)

    # -- text -----------------------------------------------------------------------------------

    def _t(self, key: str, **values: object) -> str:
        # Templates are written as Telegram HTML (validate checks them so), while polls are
        # plain: unescape the fixed text and insert values as they are.
        template = html.unescape(self.kb.message(key, self.lang))
        return template.format_map({name: str(value) for name, value in values.items()})

    def _join(self, items: Sequence[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        last = self.kb.message(AND, self.lang)
        return ", ".join(items[:-1]) + f" {last} {items[-1]}"

    def _list(self, key: str) -> list[str]:
        """The items of a list message: "A | B | C"."""
        return [part.strip() for part in self._t(key).split("|") if part.strip()]

    def _code(self, meeting: MeetingRef) -> str:
        return meeting_code(self.kb, meeting, self.lang)

    def _city(self, city_id: str | None) -> str:
        """The city alone, with its note ('Gödöllő (near Budapest)'): country names would
        give the answer away, and keep options short. (Summits and FMMs all have a city.)"""
        if city_id is None:
            return ""
        city = self.kb.cities[city_id]
        name = city.name.get(self.lang)
        return f"{name} ({city.note.get(self.lang)})" if city.note else name

    def _day_month(self, month: int, day: int) -> str:
        return self._t(QUIZ_DAY_MONTH, day=day, month=self._ctx.month(month))

    def _meeting_fact(self, meeting: MeetingRef) -> str:
        record = meeting.record
        main = self._t(
            MEETING_FACT_VIRTUAL if record.format == "virtual" else MEETING_FACT_IN_PERSON,
            meeting=self._code(meeting),
            place=self._ctx.where(meeting) or "",
            dates=self._ctx.meeting_dates(meeting),
        )
        theme = self._t(QUIZ_EXPL_THEME, theme=record.theme.get(self.lang)) if record.theme else ""
        notes = record.notes.get(self.lang) if record.notes else ""
        return _fit(main, theme, notes)

    # -- assembling -----------------------------------------------------------------------------

    def _question(
        self,
        key: str,
        question: str,
        answer: str,
        wrong: Sequence[str],
        explanation: str,
        deep_link: str | None,
        rng: random.Random,
        *,
        order: Callable[[str], int | tuple[int, int]] | None = None,
    ) -> QuizQuestion:
        """Put the answer among the wrong options: shuffled, or sorted by ``order`` (years and
        dates read best in order)."""
        if len(wrong) != OPTION_COUNT - 1:
            raise ValueError(f"{len(wrong)} wrong answers instead of {OPTION_COUNT - 1}")
        options = [answer, *wrong]
        if order is None:
            rng.shuffle(options)
        else:
            options.sort(key=order)
        correct = options.index(answer)
        return QuizQuestion(
            key=key,
            question=_clip(question, MAX_POLL_QUESTION),
            options=tuple(_clip(option, MAX_POLL_OPTION) for option in options),
            correct=correct,
            explanation=_fit(explanation),
            deep_link=deep_link,
            right_text=self._t(QUIZ_RIGHT),
            wrong_text=self._t(QUIZ_WRONG, text=answer),
        )

    @staticmethod
    def _sample(
        pool: Sequence[str], rng: random.Random, exclude: Collection[str] = ()
    ) -> list[str]:
        """Three different wrong answers from ``pool``, none equal to one in ``exclude``."""
        taken = {e.casefold() for e in exclude}
        candidates = []
        for item in pool:
            if item.casefold() not in taken:
                taken.add(item.casefold())
                candidates.append(item)
        return rng.sample(candidates, OPTION_COUNT - 1)

    @staticmethod
    def _near_years(
        year: int, rng: random.Random, meeting_years: Collection[int] = ()
    ) -> list[str]:
        """Three years within three of ``year``, at least one of them not in
        ``meeting_years``: if every wrong year were the year of another meeting of the kind,
        knowing the rhythm (summits every two years) would be enough to answer."""
        near = [year + d for d in (-3, -2, -1, 1, 2, 3)]
        free = [y for y in near if y not in meeting_years]
        chosen = [rng.choice(free)] if free else []
        rest = [y for y in near if y not in chosen]
        chosen += rng.sample(rest, OPTION_COUNT - 1 - len(chosen))
        return [str(y) for y in chosen]

    # -- meetings -------------------------------------------------------------------------------

    def _held(self, kind: str, argument: str) -> MeetingRef:
        meetings = self._summits if kind == "summit" else self._fmms
        meeting = next((x for x in meetings if str(x.number) == argument), None)
        if meeting is None:
            raise LookupError(f"no held {kind} numbered {argument!r}")
        return meeting

    def _meeting_city(self, kind: str, argument: str, rng: random.Random) -> QuizQuestion:
        meeting = self._held(kind, argument)
        record = meeting.record
        template = CITY_QUESTION[kind]
        if record.format == "virtual" and kind in VIRTUAL_CITY_QUESTION:
            template = VIRTUAL_CITY_QUESTION[kind]
        question = self._t(template, meeting=self._code(meeting), year=record.start.year)
        answer = self._city(record.city)
        others = [self._city(c) for c in self._host_cities if c != record.city]
        return self._question(
            f"{kind}_city:{argument}",
            question,
            answer,
            self._sample(others, rng, exclude=[answer]),
            self._meeting_fact(meeting),
            meeting.key,
            rng,
        )

    def _meeting_year(self, kind: str, argument: str, rng: random.Random) -> QuizQuestion:
        meeting = self._held(kind, argument)
        meetings = self._summits if kind == "summit" else self._fmms
        year = meeting.start.year
        return self._question(
            f"{kind}_year:{argument}",
            self._t(YEAR_QUESTION[kind], meeting=self._code(meeting)),
            str(year),
            self._near_years(year, rng, {x.start.year for x in meetings}),
            self._meeting_fact(meeting),
            meeting.key,
            rng,
            order=int,
        )

    # -- partners -------------------------------------------------------------------------------

    def _is_country(self, partner: m.Partner) -> bool:
        # Institutional partners (EU, ASEAN Secretariat) belong to a group outside both regions.
        return self.kb.groups[partner.group].region is not None

    @staticmethod
    def _joining_unclear(partner: m.Partner) -> bool:
        """Admission decided at one summit, first summit attended at a later one (the
        2006-2008 enlargement): sources disagree on the year it joined, so ask for the
        first summit it took part in instead."""
        decided = partner.joined.decided_at_summit
        return decided is not None and decided != partner.joined.summit

    def _partner(self, partner_id: str) -> m.Partner:
        partner = self.kb.partners.get(partner_id)
        if partner is None:
            raise LookupError(f"no partner {partner_id!r}")
        return partner

    def _name(self, record: m.Partner | m.NonPartner) -> str:
        return record.name.get(self.lang)

    def _partner_yes(self, argument: str, rng: random.Random) -> QuizQuestion:
        partner = self._partner(argument)
        if not self._is_country(partner):
            raise LookupError(f"{argument!r} is not a country")
        answer = self._name(partner)
        wrong = self._sample([self._name(c) for c in self._non_partners], rng, exclude=[answer])
        group = self.kb.groups[partner.group].name.get(self.lang)
        explanation = _fit(
            self._t(QUIZ_EXPL_PARTNER_YES, name=answer, group=group),
            self._t(QUIZ_EXPL_NOT_PARTNERS, names=self._join(wrong)),
        )
        return self._question(
            f"partner_yes:{argument}",
            self._t(QUIZ_PARTNER_YES),
            answer,
            wrong,
            explanation,
            f"partner_{partner.id}",
            rng,
        )

    def _partner_no(self, argument: str, rng: random.Random) -> QuizQuestion:
        country = next((c for c in self._non_partners if c.id == argument), None)
        if country is None:
            raise LookupError(f"{argument!r} is not among the non-partners the quiz asks about")
        answer = self._name(country)
        wrong = self._sample([self._name(p) for p in self._countries], rng, exclude=[answer])
        explanation = _fit(
            self._t(QUIZ_EXPL_PARTNER_NO, name=answer, names=self._join(wrong)),
            country.note.get(self.lang) if country.note else "",
        )
        return self._question(
            f"partner_no:{argument}",
            self._t(QUIZ_PARTNER_NO),
            answer,
            wrong,
            explanation,
            f"partner_{country.id}",
            rng,
        )

    def _joining_fact(self, partner: m.Partner) -> str:
        kb = self.kb
        name = self._name(partner)
        summit = kb.summits[partner.joined.summit - 1]
        values = {
            "name": name,
            "meeting": self._code(summit),
            "place": self._ctx.where(summit) or "",
            "year": kb.joined_year(partner),
        }
        if partner.joined.summit == kb.asem.founding.first_summit:
            main = self._t(QUIZ_EXPL_PARTNER_JOINED_FOUNDING, **values)
        elif partner.joined.date is not None:
            main = self._t(
                QUIZ_EXPL_PARTNER_JOINED_DATE,
                date=self._ctx.date(partner.joined.date),
                dates=self._ctx.dates(summit.start, summit.end),
                **values,
            )
        else:
            main = self._t(QUIZ_EXPL_PARTNER_JOINED, **values)
        return _fit(main, partner.joined.note.get(self.lang) if partner.joined.note else "")

    def _partner_joined(self, argument: str, rng: random.Random) -> QuizQuestion:
        partner = self._partner(argument)
        if self._joining_unclear(partner):
            raise LookupError(f"the year {argument!r} joined is disputed")
        year = self.kb.joined_year(partner)
        # The other years partners joined in are the plausible wrong answers.
        years = sorted({self.kb.joined_year(p) for p in self.kb.partners.values()} - {year})
        wrong = self._sample([str(y) for y in years], rng)
        return self._question(
            f"partner_joined:{argument}",
            self._t(QUIZ_PARTNER_JOINED, name=self._name(partner)),
            str(year),
            wrong,
            self._joining_fact(partner),
            f"partner_{partner.id}",
            rng,
            order=int,
        )

    def _summit_option(self, summit: MeetingRef) -> str:
        return self._t(
            QUIZ_MEETING_OPTION,
            meeting=self._code(summit),
            place=self._city(summit.record.city),
            year=summit.start.year,
        )

    def _partner_first_summit(self, argument: str, rng: random.Random) -> QuizQuestion:
        partner = self._partner(argument)
        if not self._joining_unclear(partner):
            raise LookupError(f"{argument!r} has a clear joining year; ask for it instead")
        joined = partner.joined
        first = self.kb.summits[joined.summit - 1]
        decided = self.kb.summits[joined.decided_at_summit - 1]  # type: ignore[operator]
        # The summit that decided the admission is left out: "took part at ASEM6" is what
        # people who read "admitted at ASEM6" would pick, and some sources say just that.
        others = [s for s in self._summits if s.number not in (first.number, decided.number)]
        nearest = sorted(
            others, key=lambda s: (abs((s.number or 0) - (first.number or 0)), s.start)
        )[:4]
        wrong = [self._summit_option(s) for s in nearest]
        parts = [
            self._t(
                QUIZ_EXPL_PARTNER_FIRST_SUMMIT,
                name=self._name(partner),
                meeting=self._code(first),
                place=self._city(first.record.city),
                year=first.start.year,
                decided=self._code(decided),
                decided_year=decided.start.year,
            )
        ]
        if joined.welcomed_at_fmm is not None:
            fmm = self.kb.fmms[joined.welcomed_at_fmm - 1]
            parts.append(
                self._t(QUIZ_EXPL_PARTNER_WELCOMED, meeting=self._code(fmm), year=fmm.start.year)
            )
        numbers = {self._summit_option(s): s.number or 0 for s in self._summits}
        return self._question(
            f"partner_first_summit:{argument}",
            self._t(QUIZ_PARTNER_FIRST_SUMMIT, name=self._name(partner)),
            self._summit_option(first),
            self._sample(wrong, rng),
            _fit(*parts),
            f"partner_{partner.id}",
            rng,
            order=numbers.__getitem__,
        )

    def _partner_count(self, argument: str, rng: random.Random) -> QuizQuestion:
        kb = self.kb
        total = len(kb.partners)
        # ASEM's earlier sizes, after each enlargement, are the plausible wrong answers.
        by_summit: dict[int, int] = {}
        for partner in kb.partners.values():
            by_summit[partner.joined.summit] = by_summit.get(partner.joined.summit, 0) + 1
        sizes, running = [], 0
        for number in sorted(by_summit):
            running += by_summit[number]
            sizes.append(running)
        earlier = [str(size) for size in sizes if size != total]
        institutions = [self._name(p) for p in kb.partners.values() if not self._is_country(p)]
        first = kb.summits[kb.asem.founding.first_summit - 1]
        explanation = _fit(
            self._t(
                QUIZ_EXPL_PARTNER_COUNT,
                total=total,
                countries=len(self._countries),
                institutions=len(institutions),
                names=self._join(institutions),
            ),
            self._t(
                QUIZ_EXPL_PARTNER_COUNT_START,
                first=by_summit.get(first.number or 0, 0),
                year=first.start.year,
            ),
        )
        return self._question(
            "partner_count",
            self._t(QUIZ_PARTNER_COUNT),
            str(total),
            self._sample(earlier, rng),
            explanation,
            "partner-count",
            rng,
            order=int,
        )

    # -- ASEF -----------------------------------------------------------------------------------

    def _asef_what(self, argument: str, rng: random.Random) -> QuizQuestion:
        asef = self.kb.asef
        answer = self._t(QUIZ_ASEF_WHAT_ANSWER)
        wrong = self._sample(self._list(QUIZ_ASEF_WHAT_DISTRACTORS), rng, exclude=[answer])
        explanation = self._t(
            QUIZ_EXPL_ASEF_WHAT,
            date=self._ctx.date(asef.founded),
            place=self._ctx.place(asef.headquarters),
        )
        return self._question(
            "asef_what", self._t(QUIZ_ASEF_WHAT), answer, wrong, explanation, "asef", rng
        )

    def _asef_launch(self) -> tuple[MeetingRef, dict[str, object]]:
        asef = self.kb.asef
        fmm = self.kb.fmms[asef.founded_at_fmm - 1]
        return fmm, {
            "place": self._ctx.place(asef.headquarters),
            "date": self._ctx.date(asef.founded),
            "meeting": self._code(fmm),
        }

    def _asef_where(self, argument: str, rng: random.Random) -> QuizQuestion:
        asef = self.kb.asef
        answer = self._city(asef.headquarters)
        others = [self._city(c) for c in self._host_cities if c != asef.headquarters]
        _, values = self._asef_launch()
        explanation = _fit(
            self._t(QUIZ_EXPL_ASEF_WHERE, **values),
            self._t(QUIZ_EXPL_WEBSITE, url=asef.website),
        )
        return self._question(
            "asef_where",
            self._t(QUIZ_ASEF_WHERE),
            answer,
            self._sample(others, rng, exclude=[answer]),
            explanation,
            "asef-location",
            rng,
        )

    def _asef_founded(self, argument: str, rng: random.Random) -> QuizQuestion:
        asef = self.kb.asef
        decided = self.kb.summits[asef.agreed_at_summit - 1]
        _, values = self._asef_launch()
        explanation = self._t(
            QUIZ_EXPL_ASEF_FOUNDED,
            decided=self._code(decided),
            decided_year=decided.start.year,
            **values,
        )
        return self._question(
            "asef_founded",
            self._t(QUIZ_ASEF_FOUNDED),
            str(asef.founded.year),
            self._near_years(asef.founded.year, rng),
            explanation,
            "asef-founded",
            rng,
            order=int,
        )

    # -- ASEM -----------------------------------------------------------------------------------

    def _area(self, argument: str, rng: random.Random) -> QuizQuestion:
        area = self.kb.area(int(argument)) if argument.isdigit() else None
        if area is None:
            raise LookupError(f"no area numbered {argument!r}")
        answer = area.short.get(self.lang)
        real = [a.short.get(self.lang) for a in self.kb.areas]
        wrong = self._sample(self._list(QUIZ_AREA_DISTRACTORS), rng, exclude=real)
        main = self._t(QUIZ_EXPL_AREA, name=answer, count=len(self.kb.areas), number=area.number)
        if not self.kb.areas_verified:  # the caveat is part of the fact, never left out
            main += " " + self._t(QUIZ_EXPL_AREA_UNVERIFIED)
        title = area.title.get(self.lang)
        # A title that only repeats the short name ("SME Cooperation") adds nothing.
        same = title.casefold() == answer.casefold()
        explanation = _fit(main, "" if same else self._t(QUIZ_EXPL_AREA_TITLE, title=title))
        return self._question(
            f"area:{argument}",
            self._t(QUIZ_AREA),
            answer,
            wrong,
            explanation,
            f"area_{area.number}",
            rng,
        )

    def _founders(self, argument: str, rng: random.Random) -> QuizQuestion:
        kb = self.kb
        founding = kb.asem.founding
        proposers = [self._partner(p) for p in founding.proposers]
        first = kb.summits[founding.first_summit - 1]
        founders = [
            p
            for p in self._countries
            if p.joined.summit == founding.first_summit and p.id not in founding.proposers
        ]
        # Wrong pairs keep the shape of the right one: each proposer is replaced by another
        # founding partner from its own region (an Asian and a European country).
        used: set[str] = set()
        columns = []
        for proposer in proposers:
            region = kb.partner_region(proposer.id)
            pool = [
                p.id for p in founders if kb.partner_region(p.id) == region and p.id not in used
            ]
            column = rng.sample(pool, OPTION_COUNT - 1)
            used.update(column)
            columns.append(column)
        wrong = [
            self._join([self._name(kb.partners[c[i]]) for c in columns])
            for i in range(OPTION_COUNT - 1)
        ]
        answer = self._join([self._name(p) for p in proposers])
        explanation = self._t(
            QUIZ_EXPL_FOUNDERS,
            proposers=answer,
            month=self._ctx.month(founding.proposed.month),
            year=founding.proposed.year,
            meeting=self._code(first),
            place=self._ctx.where(first) or "",
            dates=self._ctx.dates(first.start, first.end),
        )
        return self._question(
            "founders",
            self._t(QUIZ_FOUNDERS, year=founding.proposed.year),
            answer,
            wrong,
            explanation,
            "asem-founding",
            rng,
        )

    def _asem_day(self, argument: str, rng: random.Random) -> QuizQuestion:
        kb = self.kb
        day = kb.asem.asem_day
        celebration = kb.cambodia.asem_day_celebration

        def allowed(date: dt.date) -> bool:
            # ASEM Day may be kept on any day of its first week, so no such day is "wrong".
            return not (date.month == day.month and 0 <= date.day - day.day <= 6)

        # Dates from ASEM's own history make plausible wrong answers; Cambodia's 2020
        # celebration is always one, as the seed document gives it as the date.
        history = [
            kb.asef.founded,
            *(p.joined.date for p in kb.partners.values() if p.joined.date),
            *(x.start for x in (*self._summits, *self._fmms)),
        ]
        dates: dict[tuple[int, int], None] = {}
        for date in (celebration.start, *sorted(history, key=lambda d: (d.month, d.day))):
            if allowed(date):
                dates.setdefault((date.month, date.day), None)
        ordered = list(dates)
        fixed = ordered[:1] if allowed(celebration.start) else []
        rest = ordered[len(fixed) :]
        chosen = fixed + rng.sample(rest, OPTION_COUNT - 1 - len(fixed))
        wrong = [self._day_month(month, d) for month, d in chosen]
        answer = self._day_month(day.month, day.day)
        positions = {
            self._day_month(mm, dd): (mm, dd) for mm, dd in [*chosen, (day.month, day.day)]
        }
        decided = kb.summits[day.decided_at_summit - 1]
        month_name = self._ctx.month(day.month)
        explanation = _fit(
            self._t(
                QUIZ_EXPL_ASEM_DAY,
                day=day.day,
                month=month_name,
                decided=self._code(decided),
                decided_year=decided.start.year,
                year=day.first_celebrated.year,
            ),
            self._t(
                QUIZ_EXPL_ASEM_DAY_CAMBODIA,
                date=self._ctx.date(celebration.start),
                place=self._city(celebration.city),
            ),
        )
        return self._question(
            "asem_day",
            self._t(QUIZ_ASEM_DAY),
            answer,
            wrong,
            explanation,
            "asem-day",
            rng,
            order=positions.__getitem__,
        )

    def _pillars_fact(self) -> str:
        # Semicolons, because pillar names contain commas ("social, cultural & educational").
        names = [p.name.get(self.lang) for p in self.kb.asem.pillars.items]
        return self._t(QUIZ_EXPL_PILLARS, count=len(names), pillars="; ".join(names))

    def _pillar_count(self, argument: str, rng: random.Random) -> QuizQuestion:
        count = len(self.kb.asem.pillars.items)
        wrong = [str(n) for n in (count - 1, count + 1, count + 2) if n > 0]
        if len(wrong) < OPTION_COUNT - 1:
            wrong.append(str(count + 3))
        return self._question(
            "pillar_count",
            self._t(QUIZ_PILLAR_COUNT),
            str(count),
            wrong,
            self._pillars_fact(),
            "asem-pillars",
            rng,
            order=int,
        )

    def _pillar(self, argument: str, rng: random.Random) -> QuizQuestion:
        items = self.kb.asem.pillars.items
        pillar = next((p for p in items if p.id == argument), None)
        if pillar is None:
            raise LookupError(f"no pillar {argument!r}")
        answer = _capitalised(pillar.name.get(self.lang))
        real = [p.name.get(self.lang) for p in items]
        fake = [_capitalised(d) for d in self._list(QUIZ_PILLAR_DISTRACTORS)]
        return self._question(
            f"pillar:{argument}",
            self._t(QUIZ_PILLAR, count=len(items)),
            answer,
            self._sample(fake, rng, exclude=real),
            self._pillars_fact(),
            "asem-pillars",
            rng,
        )
