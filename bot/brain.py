"""The brain: text in, reply out. The one door every channel goes through.

``answer(text, lang)`` understands a question and composes the reply from the facts;
``run(action, lang, page)`` answers a button press or a deep link without any text. The brain
is pure and synchronous and knows nothing of Telegram: the terminal chat, ``ask --jsonl``,
inline mode, quizzes and the Telegram chat all share its behaviour.

Three outcomes, as in Rasa's fallback policy: the best interpretation scores above
``ANSWER_AT`` and beats the best *different* answer by ``MARGIN`` -> answer; it scores above
``SUGGEST_AT`` -> "did you mean" with up to three suggestions; otherwise a polite decline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import html
import logging
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from bot.actions import Action, parse_action
from bot.answers import COMPOSERS, Answer, Context, facts, family, prose
from bot.answers.base import Html, arabic_digits
from bot.declare import msg
from bot.dialogue import (
    TOPIC_TURNS,
    Cues,
    Slots,
    Topic,
    about,
    filled,
    listed_item,
    refers_back,
    relative_meeting,
    same_year,
    substituted,
    topic_meeting,
)
from bot.domain import kinds
from bot.domain.links import from_deep_link
from bot.domain.topics import MENU
from bot.followups import BROWSE, KINDS, MORE, SHOWN, Related, kinds_screen, more_screen
from bot.knowledge import KnowledgeBase, default_knowledge_dir
from bot.knowledge.base import FACT
from bot.limits import MAX_CALLBACK_DATA_BYTES
from bot.navigation import HOME, opened
from bot.nlu.segment import Segmenter, Segments
from bot.nlu.understand import Candidate, Parse, Understanding
from bot.reply import Button, Reply, truncate_html

log = logging.getLogger(__name__)

ANSWER_AT = 60.0
CARD_FLOOR = 25.0
AREA_CHECK_RANGE = 20.0
SUGGEST_AT = 48.0
MARGIN = 4.0
MAX_SUGGESTIONS = 3
SURE = 1.0
"""The confidence of a clear answer (capped at 1.0)."""
CARD_CONFIDENCE = 0.8
CARD_OVERRIDE = 95.0
"""A question naming one thing with only common words around it gets the thing's card, unless
it is asked almost word for word as another answer."""
"""The confidence of a thing's card shown for a question that names only that thing
("ASEM7"): sure of what, not of which fact."""
SURE_AT = CARD_CONFIDENCE
"""Replies at or above this confidence are sure: clear matches score up to 1.0 and a question
that only names a thing gets its card at exactly this; channels may speak up uninvited (a
group's auto-answer) only when a reply is this sure."""
FALLBACK_CONFIDENCE = 0.6
"""A plainly-ASEM question worded unlike any example, answered with the card of what it
names: good enough to answer when asked, not to speak up unasked."""

EMPTY = msg("empty")
DECLINE = msg("decline")
DID_YOU_MEAN = msg("did_you_mean")
WELCOME = msg("welcome")
TITLE_ALL = msg("meetings_title_all")
VERDICT = {"yes": msg("verdict_yes"), "no": msg("verdict_no"), "online": msg("verdict_online")}
CLAIMABLE = frozenset(
    {"city", "country", "region", "year", "month", "day", "group", "meeting", "meeting_kind",
     "date", "event"}
)  # fmt: skip
"""Kinds a yes/no question may claim of what it asks about ("was ASEM3 in Seoul?")."""
CLAIMABLE_FLAGS = frozenset({"founding", "newest"})
FORMATS = frozenset({"virtual", "in_person"})  # flags that claim how a meeting met


SUBSTITUTING = frozenset({"same", "one", "ones"})  # "same for FMMs", "and the 2008 one"
ORDINAL_WORDS = frozenset({"nth", "first"})  # how an ordinal reads among the words
COMPOSED_MEMO = 2048  # replies remembered by action
SURE_READING = 0.95  # a reading this sure is not weighed against the others
CONTEXT_MARGIN = 0.15
"""How much better a reading in the context must be than the question alone, when the question
does not refer back: a self-contained question is not bent by the context."""
PART_SHOWN = 80
MAX_PART_BUTTONS = 6
PART_UNKNOWN = msg("part_unknown")
SMALLTALK = "smalltalk."
ADDRESS_BYTES = MAX_CALLBACK_DATA_BYTES - 2
"""A button's address (its action and the trail back, bot.navigation) leaves a channel room
for a two-byte prefix of its own within Telegram's 64 bytes (``a:``)."""
"""Greetings, thanks, questions about the bot: never the answer when a message asks more, and
never said unasked in a group."""


def _bodies_as_groups(kb: KnowledgeBase, slots: Slots) -> Slots:
    """A partner that is a body of members, beside a country, is that body's group ("is it in
    the EU?" after Norway: Norway, and the EU member states)."""
    bodies = set(kb.partners) & set(kb.groups)
    countries = [v for k, v in slots if k == "country"]
    if len(countries) < 2 or not set(countries) & bodies or set(countries) <= bodies:
        return slots
    return tuple(("group", v) if k == "country" and v in bodies else (k, v) for k, v in slots)


def _cues(nlu: Understanding, lexicon: object) -> Cues:
    basic = nlu.normalise.basic

    def words(name: str) -> frozenset[str]:
        # one-word cues only: the small words of a phrase ("one" in "last one before") say
        # nothing alone
        return frozenset(
            tokens[0] for w in getattr(lexicon, name, ()) if len(tokens := basic(w)) == 1
        )

    substitutes = tuple(tuple(basic(s)) for s in getattr(lexicon, "substitutes", ()))
    that_year = frozenset(
        (tokens[0], tokens[1])
        for w in getattr(lexicon, "that_year", ())
        if len(tokens := basic(w)) == 2
    )
    return Cues(
        words("refers"), substitutes, words("next_words"), words("previous_words"), that_year
    )


class Brain:
    def __init__(self, kb: KnowledgeBase, *, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.kb = kb
        self._bodies = frozenset(kb.partners) & frozenset(kb.groups)  # the EU, ASEAN
        self._composed: dict[tuple[str, str, int, dt.date], Reply] = {}
        self.today = today
        self.related = Related(kb)
        self._raw: dict[tuple[str, str, int, dt.date], Answer] = {}
        # One understanding serves every language: Khmer is read into the same canonical
        # (English) words (bot.nlu.khmer), so a question is understood whatever the reply
        # language, and the cues of the English lexicon find its questions and follow-ups;
        # ``lang`` chooses the language of the reply.
        understanding = Understanding(kb)
        segment = Segmenter(understanding.normalise, kb.lexicons["en"])
        cues = _cues(understanding, kb.lexicons["en"])
        self.nlu = dict.fromkeys(kb.lexicons, understanding)
        self.segment = dict.fromkeys(kb.lexicons, segment)
        self.cues = dict.fromkeys(kb.lexicons, cues)

    # -- the doors in --------------------------------------------------------------------------

    def answer(self, text: str, lang: str = "en", context: Sequence[Topic] = ()) -> Reply:
        """Understand ``text`` and answer it, suggest, or decline. Never raises on input.

        ``context``: what the conversation was about, the latest last (the ``topic`` of
        earlier replies), for follow-ups such as "and the one after that?". A message with
        several questions gets each answered (up to three), in one reply; greetings and
        background around a question are set aside (their things may fill a short question).
        """
        lang = lang if lang in self.nlu else "en"
        if not isinstance(text, str) or not text.strip():
            return Reply(self.kb.message(EMPTY, lang), buttons=self.menu_buttons(lang))
        segments = self.segment[lang](text)
        topics = list(context)
        if segments.background:
            background = self._background(segments.background, lang)
            if background is not None:
                topics.append(background)
        replies: list[Reply] = []
        for i in range(len(segments.questions)):
            if replies and not replies[-1].answered and self._leans_back(segments, i, lang):
                # "what is the G20, and which countries are in it?": "it" is not ASEM's
                replies.append(self.decline(lang))
                continue
            readings: list[Reply] = []
            for reading in segments.readings(i):
                readings.append(self._answer_one(reading, lang, topics))
                last = readings[-1]
                chatter = (last.intent or "").startswith(SMALLTALK)
                if last.answered and not chatter and last.confidence >= SURE_READING:
                    break  # answered surely as it is: the other readings cannot do better
            reply = max(readings, key=self._reading_rank)
            replies.append(reply)
            if isinstance(reply.topic, Topic):
                topics.append(reply.topic)
        if len(replies) == 1:
            return replies[0]
        if len([r for r in replies if r.answered]) == 1 and not replies[0].answered:
            return next(r for r in replies if r.answered)  # one question among chatter-parts
        return self._combine(replies, segments.questions, lang)

    @staticmethod
    def _reading_rank(reply: Reply) -> tuple[bool, bool, float]:
        """The best of several readings: answered, about ASEM rather than small talk, sure."""
        chatter = (reply.intent or "").startswith(SMALLTALK)
        return (reply.answered, not chatter, reply.confidence)

    def _leans_back(self, segments: Segments, i: int, lang: str) -> bool:
        """Question ``i`` refers back to the one before it ("and which countries are in it")."""
        return refers_back(self.nlu[lang].parse(segments.questions[i]), self.cues[lang])

    def _background(self, text: str, lang: str) -> Topic | None:
        """What the chatter around a question names, as a topic a short question may lean
        on ("I'm writing about the Siem Reap training. What were its dates?")."""
        entities = self.nlu[lang].entities_of(text)
        slots = tuple(
            (e.type, v) for e in entities if kinds.KIND[e.type].in_slots for v in e.values
        )
        return Topic("", slots) if slots else None

    def _answer_one(self, text: str, lang: str, topics: Sequence[Topic]) -> Reply:
        """One question, read on its own and, after a reply, in its context: the context
        wins only when the question cannot stand alone or plainly refers back."""
        parse = self.nlu[lang].parse(text)
        chosen = self._choose(parse, lang)
        recent = list(topics[-TOPIC_TURNS:])
        sure_alone = not isinstance(chosen, Reply) and chosen[1] + CONTEXT_MARGIN > SURE
        yes_no = parse.yes_no
        if recent and not (sure_alone and not refers_back(parse, self.cues[lang])):
            # (a question answered surely on its own is not bent by the context: see
            # _context_wins; it is not read in the context either)
            alternative = self._follow_up(parse, lang, recent)
            if alternative is not None and self._context_wins(parse, lang, chosen, alternative):
                chosen = alternative
                # "is Türkiye in ASEM? and Switzerland?": the same question, asked the same way
                same = alternative[0].intent == recent[-1].intent and not parse.words
                yes_no = yes_no or (same and recent[-1].yes_no)
        if isinstance(chosen, Reply):
            return chosen
        action, confidence = chosen
        reply = self._compose(action, lang, 0, confidence)
        if isinstance(reply.topic, Topic):  # what it was asked with, for a bare follow-up
            words = tuple(w for w in parse.words if w not in self.nlu[lang].question_words)
            topic = dataclasses.replace(reply.topic, words=words, yes_no=yes_no)
            reply = dataclasses.replace(reply, topic=topic)
        return self._answer_yes_or_no(parse, reply, action, lang) if yes_no else reply

    def _context_wins(
        self,
        parse: Parse,
        lang: str,
        alone: tuple[Action, float] | Reply,
        in_context: tuple[Action, float],
    ) -> bool:
        if isinstance(alone, Reply):
            return True  # declined or unsure on its own
        if refers_back(parse, self.cues[lang]):
            return in_context[1] >= SUGGEST_AT / 100
        if not self._names_anything(parse):
            # "when founded", "dates?", "how many coordinators then": a question that names
            # nothing leans on what was just talked of, unless that reading is clearly worse
            return in_context[1] >= max(SUGGEST_AT / 100, alone[1] - CONTEXT_MARGIN)
        return in_context[1] >= alone[1] + CONTEXT_MARGIN

    @staticmethod
    def _names_anything(parse: Parse) -> bool:
        """It names a thing, or says "ASEM" (then ASEM itself is what it is about)."""
        named = [e for e in parse.entities if e.type not in kinds.UNMATCHED]
        return bool(named) or "asem" in parse.tokens

    def _follow_up(
        self, parse: Parse, lang: str, topics: Sequence[Topic]
    ) -> tuple[Action, float] | None:
        """The question read in the context of the latest topics (the last one first): an
        item of the list shown ("the second one"), the meeting after or before the one talked
        of, in the series named ("what summit came right after it"), the same year ("and the
        summit that year"), the same question about something else ("and Laos?"), or what it
        needs filled from the topics ("who hosted it?")."""
        nlu = self.nlu[lang]
        cues = self.cues[lang]
        topic = topics[-1]
        referred = None
        # the latest list shown is the one meant, or the one the last answer was picked from
        # ("FMMs in Asia" - "the third one?" - "and the fifth?": the fifth of that list)
        picked_from = next(
            (t for t in reversed(topics[:-1]) if set(topic.slots) & set(t.listed)), None
        )
        for earlier in [picked_from] if picked_from else reversed(topics):
            referred = listed_item(parse, earlier)
            if referred is not None or earlier.listed:
                break
        if referred is None and not [e for e in parse.entities if e.type != "meeting_kind"]:
            written = nlu.normalise.basic(parse.text)
            # the latest meeting talked of, when the last answer was about none ("the one
            # before that?" after ASEM4 and a fact about themes)
            with_meeting = next((t for t in reversed(topics) if topic_meeting(t)), topic)
            key = relative_meeting(self.kb, parse, with_meeting, cues, written)
            referred = ("meeting", key) if key else None
            year = same_year(self.kb, parse, topic, cues)
            if referred is None and year is not None:
                referred = ("year", year)
        if referred is not None:
            kind, value = referred
            asks = set(parse.words) - nlu.question_words - SUBSTITUTING - ORDINAL_WORDS
            asks = {w for w in asks if not w.isdigit()}
            info = nlu.intents.get(topic.intent)
            if not asks and info is not None and kind in info.required:
                # "the fourth one, theme?" - "and the sixth?": the same question of it
                return Action(topic.intent, ((kind, value),)), CARD_CONFIDENCE
            candidates = nlu.rank(parse, {kind: {value}})
            best = next((c for c in candidates if kind in nlu.intents[c.intent].required), None)
            if best is not None and best.score >= SUGGEST_AT:
                action = Action(best.intent, ((kind, value), *self._slots(parse, best.intent)))
                return action, min(SURE, best.score / 100)
            card = kinds.KIND[kind].card
            return (Action(card, ((kind, value),)), CARD_CONFIDENCE) if card else None
        pronoun = any(t in cues.refers and t not in SUBSTITUTING for t in parse.tokens)
        # "and Laos?" asks the last question again of Laos; "what's the capital of Laos?"
        # asks something else of it: only the words of that question may come with the name
        own = nlu.intent_words(topic.intent) | nlu.question_words | SUBSTITUTING
        other = not nlu.other_asks.isdisjoint(parse.tokens) or any(
            w not in own for w in parse.words
        )
        if topic.intent and topic.intent in nlu.intents and not pronoun and not other:
            # "and Laos?", "same for FMMs"; not "is it in the EU?" (it: what was talked of)
            slots = substituted(parse, topic, nlu.intents[topic.intent].accepts)
            if slots is not None:
                return Action(topic.intent, slots), CARD_CONFIDENCE
        known: dict[str, set[str]] = {}
        for earlier in topics:
            for kind, value in earlier.slots:
                known.setdefault(kind, set()).add(value)
            one = topic_meeting(earlier)
            if one:
                known.setdefault("meeting", set()).add(one)
        refers = refers_back(parse, cues)
        bare = not self._names_anything(parse)
        for candidate in nlu.rank(parse, known):
            if candidate.score < SUGGEST_AT:
                break
            info = nlu.intents[candidate.intent]
            # what the intent needs; after "that one", "it", also what it takes ("new
            # members at that one?": partners who joined at that summit), and so for a
            # question that names nothing and is read surely ("new members?" after ASEM9)
            leans = refers or (bare and candidate.score >= ANSWER_AT)
            wanted = info.required or (tuple(sorted(info.accepts)) if leans else ())
            extra = filled(parse, topics, wanted, self._bodies)
            if extra:
                slots = (*self._slots(parse, candidate.intent), *extra)
                return Action(candidate.intent, _bodies_as_groups(self.kb, slots)), min(
                    SURE, candidate.score / 100
                )
        return self._with_topic_words(parse, lang, topics)

    def _with_topic_words(
        self, parse: Parse, lang: str, topics: Sequence[Topic]
    ) -> tuple[Action, float] | None:
        """A follow-up that names nothing ("when?", "who decided that?", "dates?"), read
        with the words of the question before it ("when is asem day"): the same subject,
        another thing asked of it. Only a sure reading counts."""
        topic = topics[-1]
        if self._names_anything(parse) or not topic.words:
            return None
        both = self.nlu[lang].parse(f"{parse.text} {' '.join(topic.words)}")
        chosen = self._choose(both, lang)
        if isinstance(chosen, Reply) or chosen[1] < ANSWER_AT / 100:
            return None
        action, confidence = chosen
        nlu = self.nlu[lang]
        own = nlu.intent_words(action.intent) | nlu.question_words
        if any(w not in own for w in parse.words):
            return None  # what the follow-up asks must be what that answer is asked with
        info = nlu.intents.get(action.intent)
        extra = filled(both, topics, info.required, self._bodies) if info else ()
        return Action(action.intent, (*action.slots, *extra)), confidence

    def _combine(self, replies: list[Reply], questions: Sequence[str], lang: str) -> Reply:
        """Several questions in one message: each answer under its question."""
        answered = [r for r in replies if r.answered]
        if not answered:
            return replies[0]
        parts: list[str] = []
        buttons: list[Button] = []
        for reply, question in zip(replies, questions, strict=True):
            if reply.answered:
                heading = html.escape(reply.title or question.strip())
                parts.append(f"<b>{heading}</b>\n{reply.text}")
                buttons += [b for b in reply.buttons if b not in buttons]
            else:
                shown = html.escape(question.strip()[:PART_SHOWN])
                parts.append(self.kb.message(PART_UNKNOWN, lang).format(question=shown))
        first = answered[0]
        return dataclasses.replace(
            first,
            text=truncate_html("\n\n".join(parts)),
            confidence=min(r.confidence for r in answered),
            buttons=tuple(buttons[:MAX_PART_BUTTONS]),
            suggestions=(),
            pages=1,
            page=0,
            topic=answered[-1].topic,
        )

    def _respond(self, parse: Parse, lang: str) -> Reply:  # one question, without context
        """Answer, suggest or decline, for what was understood of a question; a yes/no
        question's answer opens with the verdict on what it claims."""
        chosen = self._choose(parse, lang)
        if isinstance(chosen, Reply):
            return chosen
        action, confidence = chosen
        reply = self._compose(action, lang, 0, confidence)
        return self._answer_yes_or_no(parse, reply, action, lang) if parse.yes_no else reply

    def _choose(self, parse: Parse, lang: str) -> tuple[Action, float] | Reply:
        """The action that answers the question and the confidence, or the reply when
        there is none (a decline, a "did you mean")."""
        card = self._entity_card(parse)
        top = parse.candidates[0] if parse.candidates else None
        if card and top and top.score >= CARD_OVERRIDE and family(top.intent) != family(card):
            card = None  # "is ASEM the same as ASEAN?": asked word for word as another answer
        if card:
            if parse.yes_no and self._asks_membership(parse, card):
                card = "partner.is_member"  # "is Kazakhstan in ASEM?": membership, not a card
            return Action(card, self._slots(parse, card)), CARD_CONFIDENCE
        candidates = parse.candidates
        best_score = candidates[0].score if candidates else 0.0
        if best_score < ANSWER_AT and parse.anchored:
            # "Could you describe the composition of the ASEM Senior Officials' Meeting?":
            # plainly about ASEM and about one thing, but worded unlike any example. The
            # thing's card answers it better than a "did you mean".
            card = self._entity_card(parse, alone=False)
            if card and best_score >= CARD_FLOOR:
                # the best intent, if it is about the thing named (ASEM13's side events),
                # else the thing's card
                best = candidates[0]
                if self.nlu[lang].intents[best.intent].needs and best.score >= SUGGEST_AT:
                    card = best.intent
                return Action(card, self._slots(parse, card)), FALLBACK_CONFIDENCE
        if not candidates or best_score < SUGGEST_AT:
            nearest = candidates[0].intent if candidates else None
            return self.decline(lang, confidence=best_score / 100, nearest=nearest)
        best = candidates[0]
        rival = next((c for c in candidates[1:] if self._rivals(parse, best, c)), None)
        margin = best.score - (rival.score if rival else 0.0)
        if best.score >= ANSWER_AT and margin >= MARGIN:
            intent = self._area_intent(parse, candidates) or best.intent
            return Action(intent, self._slots(parse, intent)), min(SURE, best.score / 100)
        return self._suggest(parse, candidates, lang)

    @staticmethod
    def _asks_membership(parse: Parse, card: str) -> bool:
        """Whether a yes/no question naming only things asks if a country was a partner
        ("is Kazakhstan in ASEM?", "Australia at ASEM9?", "the UK in the EU at ASEM12?")
        rather than where a meeting was ("ASEM5 in Viet Nam?")."""
        countries = parse.of_type("country")
        if card == "partner.info" or (countries and parse.of_type("group")):
            return True
        return any(e.start == 0 or parse.tokens[e.start - 1] != "in" for e in countries)

    def _rivals(self, parse: Parse, best: Candidate, other: Candidate) -> bool:
        """Whether ``other`` is a different answer to weigh ``best`` against. Not when they
        are of one family, nor a fact about the very thing the question names beside the
        answer composed from that thing's record ("asem8 theme": the theme, or a fact about
        it; either is right)."""
        if family(other.intent) == family(best.intent):
            return False
        fact, record = (other, best) if other.intent.startswith(FACT) else (best, other)
        if fact.intent.startswith(FACT) and not record.intent.startswith(FACT):
            needs = self.nlu[parse.lang].intents[fact.intent].valued
            named = {(e.type, v) for e in parse.entities for v in e.values}
            if needs and all((n.type, n.value) in named for n in needs):
                return False
        return True

    def forget(self) -> None:
        """Forget remembered parses and replies (benchmarks time questions as if first seen)."""
        self._composed.clear()
        self._raw.clear()
        for nlu in {id(u): u for u in self.nlu.values()}.values():
            nlu.forget()

    def question_key(self, text: str, lang: str = "en") -> tuple[object, ...]:
        """What the answer to ``text`` depends on: two texts with the same key get the same
        reply ("Where was ASEM5?" and "where was asem 5"), so channels can remember replies."""
        lang = lang if lang in self.nlu else "en"
        if not isinstance(text, str) or not text.strip():
            return (lang,)
        return (lang, True, *self.nlu[lang].normalise(text))

    def run(
        self, action_text: str, lang: str = "en", page: int = 0, came_from: str | None = None
    ) -> Reply | None:
        """Answer an action (a button press or a deep link). None if the action is not valid.

        ``came_from``: the address of the screen the button was pressed on, with its own trail
        (:mod:`bot.navigation`): the reply's ``parent`` is then that screen, so Back returns
        where the user came from; without it, the answer's own parent (a card's list)."""
        action = parse_action(action_text)
        if action is None or not self._resolves(action):
            return None
        if action.intent not in self.intents and action.intent not in BROWSE:
            return None
        try:
            reply = self._compose(action, lang if lang in self.nlu else "en", page, 1.0)
        except (KeyError, ValueError, IndexError):
            log.info("action %r refers to something not in the knowledge base", action_text)
            return None
        if not reply.answered:
            return None
        back = opened(action.encode(), page, came_from).back
        if back is None:
            return reply
        parent = back.encode(ADDRESS_BYTES)
        if parent is None:
            return reply
        if back.place.action == HOME:
            parent = HOME  # the menu: Home is the way back (its own trail is of no use)
        elif back.place.page == 0:
            # a button that opens the screen Back returns to is the same way twice
            buttons = tuple(b for b in reply.buttons if b.action != back.place.action)
            if not buttons and reply.buttons and action.intent not in BROWSE:
                more = self.related.more(("asem", "asem"))  # never no way on but Back
                buttons = (Button(self.related.label(more, lang, self.title), more.encode()),)
            reply = dataclasses.replace(reply, buttons=buttons)
        return dataclasses.replace(reply, parent=parent)

    def _resolves(self, action: Action) -> bool:
        """Every thing an action names exists: buttons and links name only real records."""
        return all(kinds.exists(self.kb, kind, value) for kind, value in action.slots)

    @property
    def intents(self) -> set[str]:
        return {q.intent for q in self.kb.questions}

    # -- outcomes ------------------------------------------------------------------------------

    def decline(
        self, lang: str = "en", confidence: float = 0.0, nearest: str | None = None
    ) -> Reply:
        """The polite decline; ``nearest``: the intent the question came closest to."""
        return Reply(
            self.kb.message(DECLINE, lang),
            confidence=round(confidence, 3),
            buttons=self.menu_buttons(lang),
            nearest=nearest,
        )

    def menu_buttons(self, lang: str = "en") -> tuple[Button, ...]:
        """The main menu: one button per topic (About ASEM, Summits, ... Cambodia)."""
        return tuple(
            Button(self.kb.message(topic.button, lang), topic.action.encode())
            for topic in MENU
            if topic.button
        )

    def menu(self, lang: str = "en") -> Reply:
        """The welcome message with the main menu."""
        lang = lang if lang in self.nlu else "en"
        return Reply(
            self.kb.message(WELCOME, lang),
            intent="menu",
            confidence=1.0,
            answered=True,
            buttons=self.menu_buttons(lang),
            action="menu",
        )

    def open_topic(self, payload: str, lang: str = "en") -> Reply | None:
        """The reply a deep-link payload (``summit_13``, ``partner_kh``, ``asef``) opens."""
        action = from_deep_link(payload)
        return self.run(action.encode(), lang) if action else None

    def cards(self, text: str, lang: str = "en", limit: int = 10) -> list[Reply]:
        """Fact cards for inline mode: the best answers to ``text``, or featured facts.

        Only confident, distinct answers: an out-of-scope query gets no cards at all.
        """
        lang = lang if lang in self.nlu else "en"
        if not isinstance(text, str) or not text.strip():
            replies = [self.open_topic(topic, lang) for topic in self.kb.asem.featured]
            return [r for r in replies if r is not None][:limit]
        parse = self.nlu[lang].parse(text)
        first = self._respond(parse, lang)
        cards = [first] if first.answered else []
        if not first.answered and not first.suggestions:
            return []
        seen = {first.action}
        for candidate in parse.candidates:
            if len(cards) >= limit or candidate.score < SUGGEST_AT:
                break
            action = Action(candidate.intent, self._slots(parse, candidate.intent))
            if action.encode() in seen:
                continue
            seen.add(action.encode())
            reply = self._compose(action, lang, 0, min(1.0, candidate.score / 100))
            if reply.answered:
                cards.append(reply)
        return cards[:limit]

    @staticmethod
    def _area_intent(parse: Parse, candidates: list[Candidate]) -> str | None:
        """List the areas, or check a topic against them ("does ASEM cooperate on space?").

        The two are worded alike; what tells them apart is whether a topic is named: a known
        area, or a word the bot does not know (a topic that is not on the list)."""
        if family(candidates[0].intent) != "area" or parse.of_type("area"):
            return None
        check = next((c for c in candidates if c.intent == "area.check"), None)
        if parse.unknown and check and check.score >= candidates[0].score - AREA_CHECK_RANGE:
            return "area.check"
        return "area.list"

    def _suggest(self, parse: Parse, candidates: list[Candidate], lang: str) -> Reply:
        suggestions: list[Button] = []
        families: set[str] = set()
        for candidate in candidates:
            if candidate.score < SUGGEST_AT or len(suggestions) >= MAX_SUGGESTIONS:
                break
            if family(candidate.intent) in families:
                continue
            label = self._label(candidate.intent, parse, lang)
            if label is None:
                continue
            action = Action(candidate.intent, self._slots(parse, candidate.intent))
            suggestions.append(Button(label, action.encode()))
            families.add(family(candidate.intent))
        if not suggestions:
            return self.decline(
                lang, confidence=candidates[0].score / 100, nearest=candidates[0].intent
            )
        return Reply(
            self.kb.message(DID_YOU_MEAN, lang),
            intent=candidates[0].intent,
            confidence=round(min(1.0, candidates[0].score / 100), 3),
            suggestions=tuple(suggestions),
        )

    def _label(self, intent: str, parse: Parse, lang: str) -> str | None:
        question = self.kb.question(intent)
        if question is None:
            return None
        template = question.label.get(lang)
        values = self._display_values(parse, lang)
        try:
            return template.format_map(values)
        except KeyError:
            return None

    def title(self, action: Action, lang: str = "en") -> str:
        """The question this action answers, as a plain title ("When did Cambodia join ASEM?")."""
        if action.intent in BROWSE:
            return self.related.label(action, lang, lambda a, lg: a.intent)
        question = self.kb.question(action.intent)
        if question is None:
            return action.intent
        values = self._display_values(action.slots, lang)
        try:
            return question.label.get(lang).format_map(values)
        except (KeyError, ValueError):
            return question.label.get(lang).split("{")[0].strip() or action.intent

    def _display_values(
        self, slots: tuple[tuple[str, str], ...] | Parse, lang: str
    ) -> dict[str, str]:
        if isinstance(slots, Parse):
            slots = tuple((e.type, v) for e in slots.entities for v in e.values[:1])
        values = kinds.display_values(self.kb, slots, lang)
        values.setdefault("kinds", self.kb.message(TITLE_ALL, lang))
        return values

    # -- composing -----------------------------------------------------------------------------

    def _entity_card(self, parse: Parse, *, alone: bool = True) -> str | None:
        """The card intent for a question that is nothing but one named thing (``alone``),
        or, as a fallback, for a plainly-ASEM question that names one thing."""
        words = set(parse.words) - {"asem"}  # "cambodia asem" names Cambodia alone
        if (alone and words) or not parse.entities or parse.of_type("organisation"):
            return None
        if alone and not self.nlu[parse.lang].other_asks.isdisjoint(parse.tokens):
            return None  # "things to do in Ulaanbaatar": something else about it
        if parse.elsewhere:  # "is Cambodia in ASEAN?": ASEAN's membership, not ASEM's
            return None
        types = {e.type for e in parse.entities}
        if not alone and len(types - {"year"}) != 1:
            return None
        for entity_type, intent in kinds.CARDS:
            if entity_type in types:
                return intent
        return None

    def _slots(self, parse: Parse, intent: str) -> tuple[tuple[str, str], ...]:
        if intent.startswith(FACT):
            return ()  # a fact answers for itself, whatever the question names
        slots: list[tuple[str, str]] = []
        for entity in parse.entities:
            if not kinds.KIND[entity.type].in_slots:  # named by the intent / not ASEM's
                continue
            for value in entity.values:
                if entity.type in ("year", "date") and entity.relation:
                    value = f"{entity.relation}_{value}"
                slots.append((entity.type, value))
        nlu = self.nlu[parse.lang]
        for word in parse.words:
            if word in nlu.normalise.flags:
                slots.append(("flag", nlu.normalise.flags[word]))
        info = nlu.intents.get(intent)
        for need in info.needs if info else ():
            if need.value and not any(t == need.type for t, _ in slots):
                slots.append((need.type, need.value))
        return _bodies_as_groups(self.kb, tuple(dict.fromkeys(slots)))  # unique, in order

    def _compose(self, action: Action, lang: str, page: int, confidence: float) -> Reply:
        """The reply to ``action``: composed once per day and language (the records do not
        change while the bot runs; "today" does), then remembered."""
        today = self.today()
        key = (action.encode(), lang, page, today)
        reply = self._composed.get(key)
        if reply is None:
            if len(self._composed) > COMPOSED_MEMO:
                self._composed.clear()
            reply = self._composed[key] = self._compose_new(action, lang, page, today)
        return dataclasses.replace(reply, confidence=round(min(1.0, confidence), 3))

    def _answer(self, action: Action, lang: str, page: int, today: dt.date) -> Answer:
        """What the composer of ``action`` says, without follow-ups (remembered)."""
        key = (action.encode(), lang, page, today)
        answer = self._raw.get(key)
        if answer is None:
            if len(self._raw) > COMPOSED_MEMO:
                self._raw.clear()
            answer = self._raw[key] = self._compose_answer(action, lang, page, today)
        return answer

    def _compose_answer(self, action: Action, lang: str, page: int, today: dt.date) -> Answer:
        ctx = Context(self.kb, lang, today, action.slots, page)
        question = self.kb.question(action.intent)
        fact = self.kb.facts.get(action.intent.removeprefix(FACT))
        if action.intent == KINDS:
            return kinds_screen(ctx)
        if action.intent == MORE:
            subject = self.related.subject(action) if action.slots else ("asem", "asem")
            items = [
                (self.related.label(a, lang, self.title), a)
                for a in self._offered(subject, action, lang, today)
            ]
            return more_screen(ctx, self.related, items, subject)
        if question is not None and question.answer is not None:
            return prose(ctx, action.intent)
        if fact is not None and action.intent.startswith(FACT):
            return facts.answer(ctx, fact)
        return COMPOSERS[action.intent](ctx)

    def _offered(
        self, subject: tuple[str, str], action: Action, lang: str, today: dt.date
    ) -> Iterator[Action]:
        """The things related to ``subject`` that answer, but ``action`` itself."""
        for candidate in self.related.candidates(subject):
            if candidate == action or not self._resolves(candidate):
                continue
            if self._surely_answers(candidate):
                yield candidate  # a record's card, a fact, a question about one thing
                continue
            if candidate.intent not in BROWSE:
                answer = self._answer(candidate, lang, 0, today)
                if not answer.answered or not answer.text.strip():
                    continue
                if candidate.slots and not self._label_names_slots(candidate, lang):
                    # "When is the next ASEM summit?" is no label for the next FMM: a label
                    # that names none of the slots must answer the same without them
                    plain = self._answer(Action(candidate.intent), lang, 0, today)
                    if plain.text != answer.text:
                        continue
            yield candidate

    def _surely_answers(self, action: Action) -> bool:
        """Known to answer without composing it (composing every candidate of every answer
        would double the time an answer takes): the card of a record that exists, a fact,
        a browse screen, a question that names nothing. The walk over every button
        (tests/test_browse.py) holds this to account."""
        if action.intent in BROWSE or action.intent.startswith(FACT) or not action.slots:
            return True
        kind = kinds.KIND.get(action.slots[0][0])
        return len(action.slots) == 1 and kind is not None and kind.card == action.intent

    def _label_names_slots(self, action: Action, lang: str) -> bool:
        question = self.kb.question(action.intent)
        if question is None or action.intent.startswith(FACT):
            return False
        entity = kinds.KIND.get(action.slots[0][0])
        if entity is not None and entity.card == action.intent:
            return True  # labelled with the thing's name
        if action.intent in ("partner.list", "meeting.list"):
            return True  # labelled by bot.followups ("Who joined at ASEM5?", a series' title)
        return "{" in question.label.get(lang)

    def _follow_ups(
        self, action: Action, answer: Answer, lang: str, today: dt.date
    ) -> tuple[Button, ...]:
        """A few related things to open next, and "More about ..." when there are more."""
        if action.intent in BROWSE or action.intent.startswith(SMALLTALK):
            return ()
        subject = self.related.subject(action)
        shown = {b.action for b in answer.buttons} | {answer.parent}
        picked: list[Button] = []
        more = False
        for candidate in self._offered(subject, action, lang, today):
            if candidate.encode() in shown:
                continue
            if len(picked) == SHOWN:
                more = True
                break
            label = self.related.label(candidate, lang, self.title)
            picked.append(Button(label, candidate.encode()))
        if (more and subject[0]) or not (picked or answer.buttons):
            # the rest, one tap further; and never a screen with no way on but Back
            target = self.related.more(subject if subject[0] else ("asem", "asem"))
            picked.append(Button(self.related.label(target, lang, self.title), target.encode()))
        return tuple(picked)

    def _compose_new(self, action: Action, lang: str, page: int, today: dt.date) -> Reply:
        answer = self._answer(action, lang, page, today)
        if not answer.text.strip():
            return self.decline(lang)
        text = arabic_digits(Html(truncate_html(answer.text)))
        buttons = answer.buttons
        if answer.answered:
            buttons += self._follow_ups(action, answer, lang, today)
        unique: dict[str, Button] = {}
        for button in buttons:  # one button a target: the first label wins
            unique.setdefault(button.action, button)
        return Reply(
            text,
            title=self.title(action, lang),
            intent=action.intent,
            answered=answer.answered,
            buttons=tuple(unique.values()),
            action=action.encode(),
            page=answer.page,
            pages=answer.pages,
            parent=answer.parent,
            facts=answer.facts,
            exists=answer.exists,
            topic=about(action, answer.listed),
        )

    # -- yes or no -----------------------------------------------------------------------------

    def _claims(self, parse: Parse, intent: str, slots: tuple[tuple[str, str], ...]) -> set:
        """What a yes/no question claims beside what it is about: "was ASEM3 held in
        <b>Seoul</b>?", "was Greece a <b>founding</b> member?", "is Norway in <b>the EU</b>?"."""
        info = self.nlu[parse.lang].intents.get(intent)
        named = {kind for kind, _ in slots}
        # what it is about: the first kind the intent needs that the question names
        required = [kind for kind in (info.required if info else ()) if kind in named]
        subjects = set(required[:1])
        claims: set[tuple[str, str]] = set()
        for kind, value in slots:
            if kind in CLAIMABLE and kind not in subjects:
                claims.add((kind, value))
        flags = self.nlu[parse.lang].normalise.flags
        for word in parse.words:
            if flags.get(word) in CLAIMABLE_FLAGS:
                claims.add(("flag", flags[word]))
        if "meeting" in named:  # how it met, from the words as typed ("online", not stemmed)
            claims |= {("format", flags[t]) for t in parse.tokens if flags.get(t) in FORMATS}
        return claims

    def _verdict(self, parse: Parse, reply: Reply, slots: tuple[tuple[str, str], ...]) -> str:
        """Yes, no, or "" (the facts do not settle it): the question's claims checked against
        what the answer states. A claim of a kind the answer does not state is not checked."""
        if not reply.answered or reply.intent is None:
            return ""
        claims = self._claims(parse, reply.intent, slots)
        if not reply.facts and reply.exists is not None:
            return "yes" if reply.exists else "no"  # "was there an FMM in 2021?"
        if ("member", "no") in reply.facts and ("member", "yes") not in reply.facts:
            return "no"  # "Türkiye joined ASEM in 2021, true?": it is no partner at all
        stated = {kind for kind, _ in reply.facts}
        checked = {claim for claim in claims if claim[0] in stated}
        if any(claim not in reply.facts for claim in checked):
            return "no"
        for kind, value in claims:
            since = next((v for k, v in reply.facts if k == "since"), None)
            start = next((v for k, v in reply.facts if k == "start"), None)
            if kind == "date" and since is not None:  # "was India a partner by FMM9?"
                relation, _, day = value.rpartition("_")
                if relation in ("before", "until", ""):
                    return "yes" if since <= day else "no"
            if kind == "date" and start is not None:  # "had Beijing hosted one before 2008?"
                relation, _, day = value.rpartition("_")
                if relation in ("before", "until", "after", "since"):
                    holds = start < day if relation in ("before", "until") else start > day
                    if not holds:
                        return "no"
                    checked.add((kind, value))
        checked |= {(e.type, v) for e in parse.described for v in e.values[:1]}
        if claims - checked:
            return ""  # it claims something the answer does not speak of
        if checked:
            if ("format", "virtual") in reply.facts and any(k == "city" for k, _ in checked):
                return "online"  # "was ASEM13 held in Phnom Penh?": hosted from there, online
            return "yes"
        if ("member", "no") in reply.facts:
            return "no"
        if reply.exists is not None:
            return "yes" if reply.exists else "no"
        return ""

    def _answer_yes_or_no(self, parse: Parse, reply: Reply, action: Action, lang: str) -> Reply:
        if parse.negated:
            return reply  # "isn't ASEM10 in Milan?", "... even though not in the EU?": the
            # answer states the facts; a bare yes or no would be read either way
        verdict = self._verdict(parse, reply, action.slots)
        if not verdict and reply.answered and reply.intent:
            verdict = self.nlu[parse.lang].verdict(parse, reply.intent)  # asked as data says
        if verdict == "yes" and (
            parse.unread_place or not self.nlu[parse.lang].explains(parse, reply.intent or "")
        ):
            # "was ASEM10 in Rome?", "did ASEM13 fail?": a word not understood, or not one of
            # how the answer is asked, may be what is claimed
            verdict = ""
        if not verdict:
            return reply
        opening = self.kb.message(VERDICT[verdict], lang)
        return dataclasses.replace(reply, text=f"{opening} {reply.text}", verdict=verdict)


# -- loading, with a cache of the built brain ------------------------------------------------

CACHE_FORMAT = 1


def _cache_dir() -> Path:
    configured = os.environ.get("ASEM_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "asem-bot"


def _cache_key(directory: Path) -> str:
    """Changes whenever a knowledge file or the bot's code changes."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}:{sys.version_info[:2]}".encode())
    for path in sorted(directory.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def _safe_to_read(path: Path) -> bool:
    """Only unpickle a file this user owns and nobody else can write."""
    try:
        stat = path.stat()
    except OSError:
        return False
    owned = not hasattr(os, "getuid") or stat.st_uid == os.getuid()
    return owned and not stat.st_mode & 0o022


def load_brain(directory: Path | str | None = None, *, cache: bool = True) -> Brain:
    """Load and validate the knowledge base and build the brain, reusing a cached build.

    Building the understanding index takes a few hundred milliseconds; the cache (in
    ``$ASEM_CACHE_DIR``, else ``~/.cache/asem-bot``) is keyed by the content of every
    knowledge file and by the code, so an edit is always seen. A cache that cannot be read or
    written is simply not used. Raises :class:`bot.knowledge.KnowledgeError`.
    """
    root = Path(directory) if directory is not None else default_knowledge_dir()
    path: Path | None = None
    if cache and root.is_dir():
        try:
            path = _cache_dir() / f"brain-{_cache_key(root)}.pickle"
        except OSError:
            path = None
    if path is not None and _safe_to_read(path):
        try:
            with path.open("rb") as handle:
                brain = pickle.load(handle)
            if isinstance(brain, Brain):
                return brain
        except Exception:  # a broken cache is rebuilt, never fatal
            log.debug("ignoring unreadable brain cache %s", path, exc_info=True)
    from bot.knowledge.loader import load_knowledge  # YAML and validation: only when building

    brain = Brain(load_knowledge(root))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                pickle.dump(brain, handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.chmod(0o600)
            os.replace(tmp, path)
            for old in path.parent.glob("brain-*.pickle"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            log.debug("cannot write brain cache %s", path, exc_info=True)
    return brain


_default: Brain | None = None
_lock = threading.Lock()


def default_brain() -> Brain:
    """The brain for the default knowledge base, loaded once per process."""
    global _default
    with _lock:
        if _default is None:
            _default = load_brain()
        return _default


def answer(text: str, lang: str = "en") -> Reply:
    """Answer ``text`` with the default knowledge base (loaded on first use)."""
    return default_brain().answer(text, lang)


__all__ = ["Brain", "Reply", "answer", "default_brain", "load_brain"]
