"""Khmer understanding, one mechanism each: the normaliser, the cluster matching, the Latin
folding, the per-message choice between English and romanised Khmer, and whole questions."""

from __future__ import annotations

import pytest

from bot.brain import Brain, default_brain
from bot.language import choose_language, script_language, telegram_language
from bot.nlu.khmer import KhmerReader, clusters, fold_latin, normalise_khmer


@pytest.fixture(scope="module")
def brain() -> Brain:
    return default_brain()


@pytest.fixture(scope="module")
def reader(brain: Brain) -> KhmerReader:
    khmer = brain.nlu["en"].normalise.khmer
    assert khmer is not None
    return khmer


def tokens(brain: Brain, text: str) -> list[str]:
    return brain.nlu["en"].normalise(text)


# -- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("ប្រជំុ", "ប្រជុំ"),  # nikahit typed before the vowel
        ("រដ្ឋមន្រ្តី", "រដ្ឋមន្ត្រី"),  # coeng ro typed before coeng ta
        ("ស្ដី", "ស្តី"),  # coeng da for coeng ta
        ("ឲ្យ", "ឱ្យ"),
        ("\u1780\u17c1\u17b6", "\u1780\u17c4"),  # េ + ា typed for ោ
        ("\u1780\u17b6\u17c1", "\u1780\u17c4"),  # ... in either order
        ("ប៊ុ", "ប៊ុ"),  # shifter then vowel: already in order
        ("\u1794\u17bb\u17ca", "\u1794\u17ca\u17bb"),  # vowel typed before the shifter
        ("ក\u200bម\u200c", "កម"),  # zero-width characters
        ("ASEM១៣ ២០០៤", "ASEM13 2004"),  # Khmer digits
        ("ការ\u17b4", "ការ"),  # invisible inherent vowel
    ],
)
def test_normalise_khmer(typed: str, normal: str) -> None:
    assert normalise_khmer(typed) == normal


def test_clusters_keep_subscripts_and_marks_with_their_consonant() -> None:
    assert clusters("កម្ពុជា") == ["ក", "ម្ពុ", "ជា"]
    assert clusters("ស្ត្រី") == ["ស្ត្រី"]


# -- matching over clusters -------------------------------------------------------------------


def test_segment_prefers_the_fewest_unknown_then_the_longest_words(reader: KhmerReader) -> None:
    pieces = reader.segment(normalise_khmer("ធ្វើនៅឯណា"))
    assert [canonical for _, canonical in pieces] == ["held", "where"]
    pieces = reader.segment(normalise_khmer("កិច្ចប្រជុំកំពូលលើកក្រោយ"))
    assert [canonical for _, canonical in pieces] == ["summit", "next"]


def test_an_unknown_stretch_is_kept_as_one_word(reader: KhmerReader) -> None:
    pieces = reader.segment(normalise_khmer("ប្រាសាទអង្គរវត្តនៅណា"))
    assert pieces[-1] == ("នៅណា", "where")
    assert pieces[0][1] is None and len(pieces) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ASEM13 ធ្វើនៅឯណា?", ["asem", "13", "held", "where"]),
        ("ASEM5ធ្វើនៅណា", ["asem", "5", "held", "where"]),
        ("កិច្ចប្រជុំកំពូលអាស៊ី-អឺរ៉ុបលើកទី១", ["asem", "summit", "#1"]),
        ("កម្ពុជាចូលASEMពេលណា", ["cambodia", "join", "asem", "when"]),
        ("កម្ពជាចូលASEM", ["cambodia", "join", "asem"]),  # misspelt, found by n-grams
        ("ASEFនៅសិង្ហបុរីមែនទេ", ["is", "asef", "in", "republic", "singapore"]),  # yes/no
        ("ទិវាASEMគឺថ្ងៃណា", ["asemday", "what", "date"]),  # ASEM after its noun
    ],
)
def test_khmer_script_reads_as_canonical_words(
    brain: Brain, text: str, expected: list[str]
) -> None:
    assert [t for t in tokens(brain, text) if t not in ("of", "the")] == expected


@pytest.mark.parametrize("text", ["ប្រទេសកម្ពុជា", "កម្ពុជា", "ប្រទេស កម្ពុជា", "កម្ពជា"])
def test_khmer_names_with_and_without_prefix_name_the_same_partner(
    brain: Brain, text: str
) -> None:
    nlu = brain.nlu["en"]
    found = nlu.extract(nlu.normalise(text))
    assert [(e.type, e.values) for e in found] == [("country", ("kh",))]


def test_a_khmer_name_of_the_knowledge_base_wins_over_a_lexicon_word(brain: Brain) -> None:
    # partners.yaml gives អង់គ្លេស as an alias of the United Kingdom
    assert tokens(brain, "អង់គ្លេស") == ["uk"]


# -- Latin letters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spellings",
    [
        ("chhnam", "chnam", "chhnamm", "chnamm"),
        ("thver", "tver", "thveer"),
        ("avey", "avei", "avay"),
        ("chol", "jol", "chaul", "joul"),
        ("kampuchea", "kampuchhea"),
        ("ponman", "ponmann", "pponman"),
    ],
)
def test_fold_latin_gives_one_spelling(spellings: tuple[str, ...]) -> None:
    assert len({fold_latin(s) for s in spellings}) == 1


def test_fold_latin_leaves_codes_alone() -> None:
    assert fold_latin("asem13") == "asem13"


@pytest.mark.parametrize(
    "text",
    [
        "asem jea avei",
        "kampuchea chol asem pel na",
        "asem 5 tver nov na",
        "asem5 theme ei",
        "fmm6 nv na",
        "europe krav EU knong asem, england rii uk?",
    ],
)
def test_romanised_khmer_is_told_from_english(reader: KhmerReader, text: str) -> None:
    assert reader.is_romanised(text)


@pytest.mark.parametrize(
    "text",
    [
        "where was asem 5 held",
        "when did cambodia join asem",
        "man utd vs chelsea score",
        "are cyprus and malta both asem partners",
        "Is Norway a member? thanks bong",
        "ASEM13",
    ],
)
def test_english_is_not_read_as_romanised_khmer(reader: KhmerReader, text: str) -> None:
    assert not reader.is_romanised(text)
    assert reader.romanised(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("asem jea avei", ["asem", "what"]),
        ("kampuchea chol asem pel na", ["cambodia", "join", "asem", "when"]),
        (
            "kech prochum kampoul asem lerk ti 3 tver nov na",
            ["asem", "summit", "#3", "held", "where"],
        ),
        ("norway jea samachik asem te", ["is", "norway", "member", "asem"]),
    ],
)
def test_romanised_khmer_reads_as_canonical_words(
    brain: Brain, text: str, expected: list[str]
) -> None:
    filler = brain.nlu["en"].normalise.fillers
    assert [t for t in tokens(brain, text) if t not in filler or t in expected] == expected


# -- the reply language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("ASEM5ធ្វើនៅណា?", "km"),
        ("ASEM13 ធ្វើនៅឯណា?", "km"),
        ("asem jea avei", "km"),
        ("Where was ASEM5 held?", "en"),
        ("is អង់គ្លេស the Khmer name of the UK partner?", "en"),  # mostly English
        ("ASEM13", None),  # says nothing about its language
        ("", None),
    ],
)
def test_script_language(brain: Brain, text: str, lang: str | None) -> None:
    assert script_language(brain, text) == lang


def test_choose_language_script_then_stored_then_telegram_then_english(brain: Brain) -> None:
    assert choose_language(brain, "ASEM13ធ្វើនៅណា", stored="en", telegram="en") == "km"
    assert choose_language(brain, "Where was ASEM5?", stored="km", telegram="km") == "en"
    assert choose_language(brain, "ASEM13", stored="km", telegram="en") == "km"
    assert choose_language(brain, "ASEM13", stored=None, telegram="km-KH") == "km"
    assert choose_language(brain, "ASEM13", stored="fr", telegram="de") == "en"
    assert choose_language(brain, None) == "en"


def test_telegram_language_codes() -> None:
    assert telegram_language("km", {"en", "km"}) == "km"
    assert telegram_language("en-GB", {"en", "km"}) == "en"
    assert telegram_language("fr", {"en", "km"}) is None
    assert telegram_language(None, {"en", "km"}) is None


# -- whole questions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "intent", "fact"),
    [
        ("ASEM13 ធ្វើនៅឯណា?", "meeting.place", "Phnom Penh"),
        ("កម្ពុជាចូលASEMពេលណា?", "partner.joined", "2004"),
        ("kampuchea chol asem pel na", "partner.joined", "2004"),
        ("asef jea avei", "asef.about", "Foundation"),
    ],
)
def test_khmer_questions_are_answered(brain: Brain, question: str, intent: str, fact: str) -> None:
    reply = brain.answer(question, "en")
    assert reply.answered and reply.intent == intent
    assert fact in reply.plain


@pytest.mark.parametrize(
    "question", ["ប្រាសាទអង្គរវត្តសាងសង់នៅសម័យណា", "tlai meas tngai nis", "ធ្វើម្ហូបអាម៉ុកត្រីយ៉ាងម៉េច"]
)
def test_khmer_questions_out_of_scope_are_declined(brain: Brain, question: str) -> None:
    assert not brain.answer(question, "km").answered


def test_the_same_understanding_serves_every_language(brain: Brain) -> None:
    assert brain.nlu["km"] is brain.nlu["en"]
    assert brain.answer("ASEM5ធ្វើនៅណា", "km").intent == "meeting.place"
