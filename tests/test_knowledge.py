"""The real knowledge base loads, validates, and holds the facts of the seed (as corrected)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.knowledge.checks import _walk
from bot.validation import check_brain


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def test_the_knowledge_base_loads_and_validates(kb: KnowledgeBase) -> None:
    assert check_brain(kb) == []


# The seed's summits, with the checked corrections: (number, city, year)
SUMMITS = [
    (1, "Bangkok", 1996),
    (2, "London", 1998),
    (3, "Seoul", 2000),
    (4, "Copenhagen", 2002),
    (5, "Hanoi", 2004),
    (6, "Helsinki", 2006),
    (7, "Beijing", 2008),
    (8, "Brussels", 2010),
    (9, "Vientiane", 2012),
    (10, "Milan", 2014),
    (11, "Ulaanbaatar", 2016),
    (12, "Brussels", 2018),
    (13, "Phnom Penh", 2021),  # seed: June 2021; held virtually in November 2021
]
FMMS = [
    (1, "Singapore", 1997),
    (2, "Berlin", 1999),
    (3, "Beijing", 2001),
    (4, "Madrid", 2002),
    (5, "Bali", 2003),
    (6, "Kildare", 2004),
    (7, "Kyoto", 2005),
    (8, "Hamburg", 2007),
    (9, "Hanoi", 2009),
    (10, "Gödöllő", 2011),  # seed: Budapest
    (11, "New Delhi", 2013),
    (12, "Luxembourg", 2015),
    (13, "Nay Pyi Taw", 2017),
    (14, "Madrid", 2019),
]


@pytest.mark.parametrize(("number", "city", "year"), SUMMITS)
def test_every_summit_of_the_seed(kb: KnowledgeBase, number: int, city: str, year: int) -> None:
    summit = kb.meeting("summit", number)
    assert summit is not None and summit.held
    assert kb.cities[summit.record.city].name.en == city
    assert summit.start.year == year


@pytest.mark.parametrize(("number", "city", "year"), FMMS)
def test_every_fmm_of_the_seed(kb: KnowledgeBase, number: int, city: str, year: int) -> None:
    fmm = kb.meeting("fmm", number)
    assert fmm is not None and fmm.held
    assert kb.cities[fmm.record.city].name.en == city
    assert fmm.start.year == year


def test_counts_and_corrections(kb: KnowledgeBase) -> None:
    assert len(kb.summits) == 13 and len(kb.fmms) == 14
    assert len(kb.partners) == 53
    by_region = Counter(kb.partner_region(p) for p in kb.partners)
    assert by_region == {"asia": 21, "europe": 30, None: 2}
    assert len(kb.partners_in_group("eu")) == 27
    assert len(kb.partners_in_group("asean")) == 10
    assert {p.name.en for p in kb.partners_in_group("non_eu")} == {
        "United Kingdom",
        "Norway",
        "Switzerland",
    }
    assert len(kb.areas) == 20
    # corrections of the seed
    assert kb.fmms[1].start == dt.date(1999, 3, 29)  # seed: "19 March 199."
    asem13 = kb.summits[12]
    assert (asem13.start, asem13.end, asem13.record.format) == (
        dt.date(2021, 11, 25),
        dt.date(2021, 11, 26),
        "virtual",
    )
    assert dt.date(2021, 6, 1) in [plan.start for plan in asem13.record.earlier_plans]


def test_asef_and_cambodia(kb: KnowledgeBase) -> None:
    assert kb.asef.founded == dt.date(1997, 2, 15)
    assert kb.asef.founded_at_fmm == 1
    assert kb.cities[kb.asef.headquarters].name.en == "Singapore"
    cambodia = kb.partners["kh"]
    assert cambodia.joined.summit == 5
    assert cambodia.joined.date == dt.date(2004, 10, 7)
    assert kb.joined_year(cambodia) == 2004
    contribution = kb.cambodia.asef_contribution
    assert (contribution.amount_usd, contribution.since, contribution.verified) == (
        10000,
        2005,
        False,
    )
    event = kb.cambodia.asef_events[0]
    assert kb.cities[event.city].name.en == "Siem Reap"
    assert (event.start, event.end) == (dt.date(2019, 10, 21), dt.date(2019, 10, 25))


def test_growth_of_the_partnership(kb: KnowledgeBase) -> None:
    """26 (1996) -> 39 (2004) -> 45 (2008) -> 48 (2010) -> 51 (2012) -> 53 (2014)."""
    by_summit = Counter(p.joined.summit for p in kb.partners.values())
    totals = []
    running = 0
    for number in sorted(by_summit):
        running += by_summit[number]
        totals.append((number, running))
    assert totals == [(1, 26), (5, 39), (7, 45), (8, 48), (9, 51), (10, 53)]


def test_aliases_people_type(kb: KnowledgeBase) -> None:
    aliases = {a.casefold(): p.id for p in kb.partners.values() for a in p.aliases}
    for alias, partner in [
        ("viet nam".replace(" ", ""), "vn"),
        ("lao pdr", "la"),
        ("south korea", "kr"),
        ("rok", "kr"),
        ("uk", "gb"),
        ("britain", "gb"),
        ("czech republic", "cz"),
        ("burma", "mm"),
    ]:
        assert aliases.get(alias) == partner or kb.partners[partner].name.en.casefold() == alias
    # "England" is not the partner (the fact sheet's correction): it is told apart, and why
    england = kb.non_partners["gb_eng"]
    assert england.name.en == "England" and "United Kingdom" in england.note.en


def test_every_record_names_known_sources(kb: KnowledgeBase) -> None:
    cited = [source for question in kb.questions for source in question.sources]
    for record in (*kb.partners.values(), *kb.cities.values(), *kb.areas):
        assert record.sources, record
        cited += record.sources
    for meeting in kb.all_meetings():
        assert meeting.record.sources
        cited += meeting.record.sources
    for _, model in _walk(kb.asem):
        cited += getattr(model, "sources", ())
    assert set(cited) <= set(kb.sources)


def test_the_knowledge_base_is_immutable(kb: KnowledgeBase) -> None:
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
        kb.summits[0].record.city = "paris"  # type: ignore[misc]
    with pytest.raises(TypeError):
        kb.partners["xx"] = kb.partners["kh"]  # type: ignore[index]


def test_every_file_parses_without_libyaml_too() -> None:
    """Where PyYAML has no C extension, its pure-Python parser is stricter (e.g. about '?'
    inside {...}): every file must read the same with both."""
    import yaml

    for path in sorted(load_knowledge().root.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=yaml.SafeLoader) == yaml.load(text, Loader=yaml.CSafeLoader)
