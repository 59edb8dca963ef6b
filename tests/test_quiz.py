"""The quiz generator, against the real knowledge base: every question it can make is a valid
Telegram quiz poll whose right answer is the fact, with wrong answers of the same kind."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from bot.brain import Brain
from bot.campaign.quiz import (
    KINDS,
    OPTION_COUNT,
    PLAUSIBLE_NON_PARTNERS,
    QuizMaker,
    QuizQuestion,
    _clip,
    _fit,
    check_answer,
    format_for_terminal,
    parse_choice,
    poll_problems,
)
from bot.declare import declared_messages
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.limits import MAX_POLL_EXPLANATION, telegram_length

SEEDS = range(6)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="module")
def maker(kb: KnowledgeBase) -> QuizMaker:
    return QuizMaker(kb)


@pytest.fixture(scope="module")
def questions(maker: QuizMaker) -> list[QuizQuestion]:
    """Every key, made with several seeds."""
    pool = maker.keys()
    return [maker.make(key, random.Random(seed)) for key in pool for seed in SEEDS]


def _of_kind(questions: list[QuizQuestion], kind: str) -> list[QuizQuestion]:
    return [q for q in questions if q.key.partition(":")[0] == kind]


def _wrong(q: QuizQuestion) -> list[str]:
    return [o for i, o in enumerate(q.options) if i != q.correct]


def _city_label(kb: KnowledgeBase, city_id: str) -> str:
    city = kb.cities[city_id]
    return f"{city.name.en} ({city.note.en})" if city.note else city.name.en


def _host_labels(kb: KnowledgeBase) -> set[str]:
    return {_city_label(kb, m.record.city) for m in (*kb.summits, *kb.fmms) if m.held}


def _expected_answer(kb: KnowledgeBase, key: str) -> str:
    """The right answer, worked out from the knowledge base independently of the maker."""
    kind, _, arg = key.partition(":")
    if kind in ("summit_city", "fmm_city", "summit_year", "fmm_year"):
        meeting = kb.meeting(kind.split("_")[0], int(arg))  # type: ignore[arg-type]
        assert meeting is not None
        if kind.endswith("_city"):
            return _city_label(kb, meeting.record.city)
        return str(meeting.start.year)
    if kind == "partner_yes":
        return kb.partners[arg].name.en
    if kind == "partner_no":
        return kb.non_partners[arg].name.en
    if kind == "partner_joined":
        return str(kb.joined_year(kb.partners[arg]))
    if kind == "partner_first_summit":
        summit = kb.summits[kb.partners[arg].joined.summit - 1]
        return (
            f"ASEM{summit.number} ({kb.cities[summit.record.city].name.en}, {summit.start.year})"
        )
    if kind == "partner_count":
        return str(len(kb.partners))
    if kind == "asef_what":
        return kb.message("quiz_asef_what_answer")
    if kind == "asef_where":
        return kb.cities[kb.asef.headquarters].name.en
    if kind == "asef_founded":
        return str(kb.asef.founded.year)
    if kind == "area":
        return kb.areas[int(arg) - 1].short.en
    if kind == "founders":
        names = [kb.partners[p].name.en for p in kb.asem.founding.proposers]
        return f"{names[0]} and {names[1]}"
    if kind == "asem_day":
        months = kb.message("months").split()
        return f"{kb.asem.asem_day.day} {months[kb.asem.asem_day.month - 1]}"
    if kind == "pillar_count":
        return str(len(kb.asem.pillars.items))
    if kind == "pillar":
        name = next(p.name.en for p in kb.asem.pillars.items if p.id == arg)
        return name[:1].upper() + name[1:]
    raise AssertionError(f"no oracle for {key}")


# -- the pool -----------------------------------------------------------------------------------


def test_pool_has_every_kind_and_stable_unique_keys(kb: KnowledgeBase, maker: QuizMaker) -> None:
    keys = maker.keys()
    assert len(keys) == len(set(keys))
    assert {k.partition(":")[0] for k in keys} == set(KINDS)
    assert QuizMaker(kb).keys() == keys
    counts = Counter(k.partition(":")[0] for k in keys)
    assert counts["summit_city"] == len(kb.summits) == 13
    assert counts["fmm_city"] == len(kb.fmms) == 14
    assert counts["area"] == len(kb.areas)
    assert counts["partner_joined"] + counts["partner_first_summit"] == len(kb.partners) == 53


def test_unknown_keys_are_refused(maker: QuizMaker) -> None:
    rng = random.Random(0)
    for key in ("nonsense", "summit_city:99", "partner_yes:tr", "partner_no:kh", "area:x"):
        with pytest.raises(KeyError):
            maker.make(key, rng)


def test_every_quiz_message_exists_and_is_plain(kb: KnowledgeBase) -> None:
    declared = declared_messages("bot.campaign.quiz")
    assert len(declared) > 40 and "quiz_summit_city" in declared
    assert not declared - set(kb.messages)
    for key in declared:
        assert "<" not in kb.message(key) and "&" not in kb.message(key), key


# -- every question -----------------------------------------------------------------------------


def test_every_question_fits_telegram(questions: list[QuizQuestion]) -> None:
    for q in questions:
        assert poll_problems(q.question, q.options, q.correct, q.explanation, q.deep_link) == []
        assert len(q.options) == OPTION_COUNT
        assert len({o.casefold() for o in q.options}) == OPTION_COUNT
        assert 1 <= telegram_length(q.question) <= 300
        assert all(1 <= telegram_length(o) <= 100 for o in q.options)
        assert 1 <= telegram_length(q.explanation) <= MAX_POLL_EXPLANATION
        assert "\n" not in q.explanation


def test_nothing_had_to_be_cut(questions: list[QuizQuestion]) -> None:
    # Shortening is a safety net for future facts; today's must fit whole.
    for q in questions:
        assert not any(text.endswith("…") for text in (q.question, q.explanation, *q.options))


def test_texts_are_plain(questions: list[QuizQuestion]) -> None:
    for q in questions:
        for text in (q.question, q.explanation, *q.options):
            assert "<" not in text and "&amp;" not in text and "{" not in text, (q.key, text)


def test_the_right_option_is_the_fact(kb: KnowledgeBase, questions: list[QuizQuestion]) -> None:
    for q in questions:
        assert q.answer == _expected_answer(kb, q.key), q.key
        assert q.options.count(q.answer) == 1


def test_the_fact_never_varies_with_the_seed(maker: QuizMaker) -> None:
    pool = maker.keys()
    for key in pool:
        made = [maker.make(key, random.Random(seed)) for seed in SEEDS]
        assert len({(q.question, q.answer) for q in made}) == 1, key
        if not key.startswith(("partner_yes:", "partner_no:")):  # these name the wrong options
            assert len({q.explanation for q in made}) == 1, key


def test_the_options_do_vary_with_the_seed(maker: QuizMaker) -> None:
    pool = maker.keys()
    varied = [
        key for key in pool if len({maker.make(key, random.Random(s)).options for s in SEEDS}) > 1
    ]
    assert len(varied) > 0.9 * len(pool)


def test_checked_facts(maker: QuizMaker, kb: KnowledgeBase) -> None:
    """Answers compared with shared/reference/asem-facts.md, not with the knowledge base."""
    rng = random.Random(0)
    assert maker.make("summit_city:1", rng).answer == "Bangkok"
    assert maker.make("summit_year:13", rng).answer == "2021"
    assert maker.make("fmm_city:10", rng).answer.startswith("Gödöllő")
    assert maker.make("partner_count", rng).answer == "53"
    assert maker.make("asef_where", rng).answer == "Singapore"
    assert maker.make("asef_founded", rng).answer == "1997"
    assert maker.make("asem_day", rng).answer == "1 March"
    assert maker.make("pillar_count", rng).answer == "3"
    assert maker.make("founders", rng).answer == "Singapore and France"
    assert maker.make("partner_joined:kh", rng).answer == "2004"
    assert maker.make("partner_joined:kz", rng).answer == "2014"
    assert maker.make("partner_joined:gb", rng).answer == "1996"


def test_asem13_explains_the_videoconference(maker: QuizMaker) -> None:
    for key in ("summit_city:13", "summit_year:13"):
        q = maker.make(key, random.Random(0))
        assert "videoconference" in q.explanation
        assert "Phnom Penh" in q.explanation
        assert "25-26 November 2021" in q.explanation
    assert "videoconference" in maker.make("summit_city:13", random.Random(0)).question


def test_deep_links_open_the_fact(kb: KnowledgeBase, questions: list[QuizQuestion]) -> None:
    brain = Brain(kb)
    for link in {q.deep_link for q in questions}:
        assert link is not None
        reply = brain.open_topic(link)
        assert reply is not None and reply.answered, link


# -- distractors --------------------------------------------------------------------------------


def test_host_city_questions_offer_only_host_cities(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    hosts = _host_labels(kb)
    for kind in ("summit_city", "fmm_city", "asef_where"):
        for q in _of_kind(questions, kind):
            assert set(q.options) <= hosts, q.key


def test_is_a_partner_wrong_answers_are_real_non_members(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    partner_names = {p.name.en for p in kb.partners.values()}
    non_partner_names = {kb.non_partners[c].name.en for c in PLAUSIBLE_NON_PARTNERS}
    for q in _of_kind(questions, "partner_yes"):
        assert q.answer in partner_names
        for option in _wrong(q):
            assert option in non_partner_names and option not in partner_names
    for q in _of_kind(questions, "partner_no"):
        assert q.answer in non_partner_names and q.answer not in partner_names
        assert all(option in partner_names for option in _wrong(q))


def test_plausible_non_partners_are_in_the_knowledge_base(kb: KnowledgeBase) -> None:
    for country in PLAUSIBLE_NON_PARTNERS:
        assert country in kb.non_partners and country not in kb.partners, country


def test_partner_questions_are_about_countries(kb: KnowledgeBase, maker: QuizMaker) -> None:
    # "Which of these countries..." cannot have the EU or the ASEAN Secretariat as an option.
    institutions = {p.id for p in kb.partners.values() if kb.groups[p.group].region is None}
    assert institutions == {"eu", "asean"}
    assert not {f"partner_yes:{i}" for i in institutions} & set(maker.keys())


def test_meeting_years_are_distinct_near_and_not_only_summit_years(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    # Wrong years must not all be years of other meetings of the same kind, or knowing the
    # two-year rhythm of summits would be enough.
    meeting_years = {
        "summit_year": {s.start.year for s in kb.summits},
        "fmm_year": {f.start.year for f in kb.fmms},
        "asef_founded": set(),
    }
    for kind, other_years in meeting_years.items():
        for q in _of_kind(questions, kind):
            right = int(q.answer)
            wrong = [int(o) for o in _wrong(q)]
            assert len(set(wrong)) == 3 and right not in wrong
            assert all(1 <= abs(year - right) <= 3 for year in wrong), q.key
            assert any(year not in other_years for year in wrong), q.key
            assert list(q.options) == sorted(q.options, key=int)


def test_joining_years_are_other_enlargement_years(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    enlargements = {kb.joined_year(p) for p in kb.partners.values()}
    for q in _of_kind(questions, "partner_joined"):
        assert {int(o) for o in q.options} <= enlargements
        assert len(set(q.options)) == 4


def test_the_2006_2008_partners_are_asked_for_their_first_summit(
    kb: KnowledgeBase, maker: QuizMaker, questions: list[QuizQuestion]
) -> None:
    unclear = {"in", "mn", "pk", "bg", "ro", "asean"}  # note A of the fact sheet
    keys = set(maker.keys())
    for partner in unclear:
        assert f"partner_joined:{partner}" not in keys
        assert f"partner_first_summit:{partner}" in keys
    for q in _of_kind(questions, "partner_first_summit"):
        assert q.answer.startswith("ASEM7 ")
        # the summit that decided their admission is no wrong answer: some sources say
        # they joined there
        assert not any(o.startswith("ASEM6 ") for o in q.options)
        assert "ASEM6" in q.explanation and "FMM8" in q.explanation


def test_partner_count_wrong_answers_are_earlier_sizes(questions: list[QuizQuestion]) -> None:
    for q in _of_kind(questions, "partner_count"):
        assert set(_wrong(q)) <= {"26", "39", "45", "48", "51"}


def test_areas_and_pillars_wrong_answers_are_not_real(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    areas = {a.short.en.casefold() for a in kb.areas}
    for q in _of_kind(questions, "area"):
        assert q.answer.casefold() in areas
        assert not any(o.casefold() in areas for o in _wrong(q))
        assert "Cambodia's Ministry of Foreign Affairs" in q.explanation  # unverified list
    pillars = {p.name.en.casefold() for p in kb.asem.pillars.items}
    for q in _of_kind(questions, "pillar"):
        assert not any(o.casefold() in pillars for o in _wrong(q))


def test_asef_what_wrong_answers_come_from_the_messages(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    listed = {d.strip() for d in kb.message("quiz_asef_what_distractors").split("|")}
    for q in _of_kind(questions, "asef_what"):
        assert set(_wrong(q)) <= listed


def test_founders_wrong_pairs_are_other_founding_partners(
    kb: KnowledgeBase, questions: list[QuizQuestion]
) -> None:
    founding = {p.name.en for p in kb.partners.values() if p.joined.summit == 1}
    for q in _of_kind(questions, "founders"):
        for option in _wrong(q):
            asian, european = option.split(" and ")
            assert {asian, european} <= founding
            assert not {asian, european} & {"Singapore", "France"}


def test_asem_day_wrong_answers_are_outside_its_first_week(
    questions: list[QuizQuestion],
) -> None:
    for q in _of_kind(questions, "asem_day"):
        assert "10 March" in q.options  # Cambodia's 2020 celebration, the seed's date
        for option in _wrong(q):
            day, month = option.split()
            assert not (month == "March" and int(day) <= 7), option


# -- picking ------------------------------------------------------------------------------------


def test_pick_never_repeats_until_the_pool_is_used_up(maker: QuizMaker) -> None:
    rng = random.Random(42)
    seen: set[str] = set()
    pool = maker.keys()
    for _ in pool:
        q, new_round = maker.pick(seen, rng)
        assert not new_round
        assert q.key not in seen
        seen.add(q.key)
    assert seen == set(pool)
    q, new_round = maker.pick(seen, rng)
    assert new_round and q.key in seen
    seen = {q.key}
    q2, new_round = maker.pick(seen, rng)
    assert not new_round and q2.key != q.key


def test_pick_ignores_keys_no_longer_in_the_pool(maker: QuizMaker) -> None:
    q, new_round = maker.pick({"summit_city:99", "gone"}, random.Random(0))
    pool = maker.keys()
    assert not new_round and q.key in pool


def test_pick_mixes_the_kinds(maker: QuizMaker) -> None:
    rng = random.Random(7)
    seen: set[str] = set()
    for _ in range(30):
        q, _ = maker.pick(seen, rng)
        seen.add(q.key)
    assert len({k.partition(":")[0] for k in seen}) >= 10


def test_pick_is_deterministic_with_a_fixed_seed(maker: QuizMaker) -> None:
    def run(seed: int) -> list[QuizQuestion]:
        rng, seen, out = random.Random(seed), set(), []
        for _ in range(40):
            q, _ = maker.pick(seen, rng)
            seen.add(q.key)
            out.append(q)
        return out

    assert run(3) == run(3)
    assert run(3) != run(4)


# -- the terminal ---------------------------------------------------------------------------------


def test_terminal_play(maker: QuizMaker) -> None:
    q = maker.make("summit_city:5", random.Random(0))
    shown = format_for_terminal(q).splitlines()
    assert shown[0] == q.question
    assert shown[1:] == [f"  {i}. {o}" for i, o in enumerate(q.options, start=1)]

    right, feedback = check_answer(q, q.correct)
    assert right and feedback.startswith("Right!") and q.explanation in feedback
    wrong = (q.correct + 1) % len(q.options)
    right, feedback = check_answer(q, wrong)
    assert not right and "Hanoi" in feedback and q.explanation in feedback
    with pytest.raises(ValueError):
        check_answer(q, len(q.options))

    assert parse_choice(q, f" {q.correct + 1} ") == q.correct
    assert parse_choice(q, "hanoi") == q.options.index("Hanoi")
    assert parse_choice(q, "0") is None
    assert parse_choice(q, "5") is None
    assert parse_choice(q, "Paris") is None
    # an option's text that ends in ")" is that option, typed in any case, with a full stop
    summits = maker.make("partner_first_summit:in", random.Random(0))
    option = summits.options[1]
    assert option.endswith(")")
    assert parse_choice(summits, option.upper()) == 1
    assert parse_choice(summits, option + ".") == 1
    # options that are numbers: the number typed is the option it names, else a position
    pillars = maker.make("pillar_count", random.Random(0))
    assert set(pillars.options) == {"2", "3", "4", "5"}
    assert parse_choice(pillars, "3") == pillars.options.index("3")
    assert parse_choice(pillars, "៣") == pillars.options.index("3")
    assert parse_choice(pillars, "1") == 0
    years = maker.make("summit_year:5", random.Random(0))
    assert parse_choice(years, "2004") == years.options.index("2004")
    assert parse_choice(years, "2") == 1 and parse_choice(years, "1990") is None


# -- limits and shortening ------------------------------------------------------------------------


def _question(**changes: object) -> QuizQuestion:
    fields: dict[str, object] = {
        "key": "k",
        "question": "Q?",
        "options": ("a", "b", "c", "d"),
        "correct": 0,
        "explanation": "E.",
        "deep_link": "asef",
    }
    fields.update(changes)
    return QuizQuestion(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"question": ""},
        {"question": "x" * 301},
        {"options": ("a",)},
        {"options": tuple("abcdefghijk")},
        {"options": ("a", "A", "c", "d")},
        {"options": ("a", "", "c", "d")},
        {"options": ("a", "x" * 101, "c", "d")},
        {"correct": 4},
        {"explanation": "x" * 201},
        {"explanation": "😀" * 101},  # 202 UTF-16 units, though only 101 characters
        {"explanation": "a\nb\nc\nd"},
        {"deep_link": "summit 5"},
    ],
)
def test_invalid_polls_cannot_be_built(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _question(**changes)


def test_limits_are_inclusive() -> None:
    q = _question(question="x" * 300, options=("a" * 100, "b", "c", "d"), explanation="😀" * 100)
    assert telegram_length(q.explanation) == 200


def test_shortening() -> None:
    assert _clip("short", 10) == "short"
    cut = _clip("one two three four five six", 15)
    assert cut == "one two three…" and telegram_length(cut) <= 15
    assert _fit("Main.", "Fits.", "x" * 300, "Also fits.", limit=40) == "Main. Fits. Also fits."
    assert telegram_length(_fit("y " * 200)) <= MAX_POLL_EXPLANATION
