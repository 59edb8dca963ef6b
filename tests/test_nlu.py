"""Unit tests of understanding: the normaliser and entity extraction, one mechanism each."""

from __future__ import annotations

import pytest

from bot.brain import default_brain
from bot.nlu.entities import Entity
from bot.nlu.understand import Understanding


@pytest.fixture(scope="module")
def nlu() -> Understanding:
    return default_brain().nlu["en"]


def tokens(nlu: Understanding, text: str) -> list[str]:
    return nlu.normalise(text)


def entities(nlu: Understanding, text: str) -> list[tuple[str, tuple[str, ...]]]:
    found: list[Entity] = nlu.extract(nlu.normalise(text))
    return [(e.type, e.values) for e in found]


# -- the normaliser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ASEM7", ["asem", "7"]),
        ("asem7th", ["asem", "#7"]),
        ("FMM12", ["fmm", "12"]),
        ("asemme7", ["asemme", "7"]),
        ("FinMM13", ["finmm", "13"]),
        ("ASEM VII", ["asem", "7"]),
        ("the seventh summit", ["the", "#7", "summit"]),
        ("twenty first", ["#21"]),
        ("asem seven", ["asem", "~7"]),
        ("Gödöllő", ["godollo"]),
        ("Cambodia's", ["cambodia"]),
        ("summits", ["summit"]),
        ("wen", ["when"]),
    ],
)
def test_normaliser(nlu: Understanding, text: str, expected: list[str]) -> None:
    assert tokens(nlu, text) == expected


def test_roman_numerals_only_after_a_meeting_word(nlu: Understanding) -> None:
    assert tokens(nlu, "fmm iv") == ["fmm", "4"]
    assert "v" in tokens(nlu, "vitamin v")  # no meeting word before it


def test_typos_are_corrected_towards_known_words_only(nlu: Understanding) -> None:
    assert tokens(nlu, "sumit") == ["summit"]
    assert tokens(nlu, "foriegn")[0] == "foreign" or tokens(nlu, "foriegn") == ["fmm"]
    assert tokens(nlu, "weather") == ["weather"]  # never "water" or "whether"


# -- entities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "meeting"),
    [
        ("asem 7", ("summit_7",)),
        ("asem summit 7", ("summit_7",)),
        ("summit no 7", ("summit_7",)),
        ("the 7th summit", ("summit_7",)),
        ("the 7th asem", ("summit_7",)),
        ("fmm 3", ("fmm_3",)),
        ("the third foreign ministers meeting", ("fmm_3",)),
        ("asem 3 fmm", ("fmm_3",)),
        ("asem fmm 3", ("fmm_3",)),
        ("fmm 2 and 3", ("fmm_2", "fmm_3")),
        ("the 7th asem education ministers meeting", ("asemme_7",)),
        ("emm7", ("emm_7",)),
        ("the 13th finance ministers meeting", ("finmm_13",)),
    ],
)
def test_meetings_by_number(nlu: Understanding, text: str, meeting: tuple[str, ...]) -> None:
    assert ("meeting", meeting) in entities(nlu, text)


def test_numbers_that_are_not_meetings(nlu: Understanding) -> None:
    assert ("year", ("2014",)) in entities(nlu, "asem 2014")
    assert not [e for e in entities(nlu, "asem three pillars") if e[0] == "meeting"]


def test_years_with_relations(nlu: Understanding) -> None:
    found = nlu.extract(nlu.normalise("summits after 2010"))
    years = [e for e in found if e.type == "year"]
    assert years and years[0].relation == "after" and years[0].values == ("2010",)


def test_names_longest_first_and_fuzzy(nlu: Understanding) -> None:
    assert ("country", ("kp",)) in entities(nlu, "is north korea a partner")
    assert ("city", ("ulaanbaatar",)) in entities(nlu, "ulan bator")
    assert ("city", ("ulaanbaatar",)) in entities(nlu, "ulaanbatar")  # a typo
    assert ("country", ("vn",)) in entities(nlu, "viet nam")


def test_a_series_without_a_number_is_a_series(nlu: Understanding) -> None:
    assert ("meeting_kind", ("fmm",)) in entities(nlu, "when was the last fmm")
    assert ("meeting_kind", ("asemme",)) in entities(nlu, "education ministers meeting")
