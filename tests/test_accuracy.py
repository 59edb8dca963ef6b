"""The accuracy reached on the labelled question sets holds (see README, "Quality, measured").

`dev.yaml`, `dev2.yaml` and `dev3.yaml` are the first tuning sets, written around the intent
catalogue; `holdout.yaml` was never tuned on. The public sets (``devset/public``) were written
from the seed and the fact sheet by people who never saw the code, and are labelled by the facts
a right answer contains: they are tuned on too, so they guard against regressions but do not
measure; held-out sets of the same kind do (README). The floors are the figures reached,
rounded down, and a ceiling on the share answered wrongly: a change that makes the bot
understand less, or say more that is wrong, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.brain import default_brain
from bot.evaluate import evaluate, load_cases

DEVSET = Path(__file__).parent / "devset"

# file: (in scope answered right, out of scope declined)
FLOORS = {
    "dev.yaml": (0.97, 0.96),
    "dev2.yaml": (0.88, 0.96),
    "dev3.yaml": (0.93, 0.97),
    "holdout.yaml": (0.92, 0.97),
}

# file: (in scope answered right, out of scope declined, in scope answered wrong at most)
PUBLIC_FLOORS = {
    "public-a.yaml": (0.80, 0.98, 0.09),
    "public-b.yaml": (0.76, 0.97, 0.11),
    "coverage.yaml": (0.87, 0.78, 0.06),
    "conversations.yaml": (0.80, 0.87, 0.10),
    # written blind from the seed and the fact sheet on 2026-12-02, first measured at
    # 84.7% / 9.3% wrong (public-d) and 74.6% / 13.8% wrong (conversations-d)
    "public-d.yaml": (0.87, 0.99, 0.10),
    "conversations-d.yaml": (0.76, 0.99, 0.135),
    # held out: written with public-d by the same blind writer, measured once at the end of
    # the session (2026-12-02), never worked on; reported apart in the README
    "public-heldout.yaml": (0.75, 0.99, 0.125),
    "conversations-heldout.yaml": (0.68, 0.50, 0.19),
}


@pytest.mark.parametrize("name", list(FLOORS))
def test_accuracy_holds(name: str) -> None:
    cases = load_cases(DEVSET / name)
    report = evaluate(default_brain(), cases)
    in_scope, declined = FLOORS[name]
    summary = report.as_text(show_failures=False).splitlines()[:5]
    assert report.in_scope_accuracy >= in_scope, summary
    assert report.decline_rate >= declined, summary


@pytest.mark.parametrize("name", list(PUBLIC_FLOORS))
def test_public_accuracy_holds(name: str) -> None:
    """Answered in the language each question is written in, as `asem-bot ask` does."""
    report = evaluate(default_brain(), load_cases(DEVSET / "public" / name), None)
    in_scope, declined, wrong = PUBLIC_FLOORS[name]
    summary = report.as_text(show_failures=False).splitlines()[:5]
    assert report.in_scope_accuracy >= in_scope, summary
    assert report.decline_rate >= declined, summary
    assert report.wrong_rate <= wrong, summary


def test_the_sets_are_big_and_varied_enough() -> None:
    cases = [c for name in FLOORS for c in load_cases(DEVSET / name)]
    assert len(cases) >= 400
    out_of_scope = sum(not c.in_scope for c in cases)
    assert out_of_scope / len(cases) >= 0.15
    intents = {i for c in cases for i in c.intents}
    # nearly every intent of the catalogue (the facts of facts.yaml and the intents added
    # since these sets were written are probed by the public sets, labelled by facts)
    brain_intents = {i for i in default_brain().intents if not i.startswith("fact.")}
    assert len(brain_intents - intents) <= len(brain_intents) // 10, brain_intents - intents


def test_a_turn_that_expects_nothing_is_out_of_scope(tmp_path: Path) -> None:
    """In a conversation, `expect: []` marks a question to decline, as kind: out_of_scope
    does; a turn with nothing expected and no kind is not silently counted as in scope."""
    labelled = tmp_path / "set.yaml"
    labelled.write_text(
        "- conversation:\n"
        "    - q: asem3 where\n"
        "      expect: [Seoul]\n"
        "    - q: what's the weather there today\n"
        "      expect: []\n"
        "  kind: follow_up\n",
        encoding="utf-8",
    )
    first, second = load_cases(labelled)
    assert (first.kind, first.in_scope) == ("first_turn", True)
    assert (second.kind, second.in_scope) == ("out_of_scope", False)
    report = evaluate(default_brain(), [first, second])
    assert [o.right for o in report.outcomes] == [True, True]


def test_a_name_expected_in_english_is_stated_by_its_khmer_name() -> None:
    """Labels written in English ("Hanoi", "1 March") are stated by a Khmer reply that gives
    the knowledge base's Khmer name or the Khmer date; a reply that names neither is not."""
    from bot.evaluate import Case, khmer_names, score
    from bot.reply import Reply

    names = khmer_names(default_brain().kb)
    case = Case("asem5 tver nov na", expect=(("Hanoi",), ("1 March",)))
    right = Reply("ASEM5 នៅ ហាណូយ ... ថ្ងៃទី1 ខែមីនា", answered=True)
    wrong = Reply("ASEM5 នៅ បាងកក ... ថ្ងៃទី1 ខែមេសា", answered=True)
    assert score(case, right, names).right
    assert score(case, wrong, names).missing == ("Hanoi", "1 March")
