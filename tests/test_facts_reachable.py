"""Every fact of facts.yaml is reachable: its own question, as shown on a button, gets it.

A fact nobody can reach is a fact the bot does not know. The examples are the ways people ask;
this holds only the question itself, so that rewording examples or the matcher stays free.
"""

from __future__ import annotations

import pytest

from bot.brain import Brain
from bot.knowledge.base import FACT


def test_every_fact_answers_its_own_question(brain: Brain) -> None:
    missed = []
    for fact in brain.kb.facts.values():
        reply = brain.answer(fact.question.en)
        if not (reply.answered and reply.intent == FACT + fact.id):
            missed.append(f"{fact.id}: {fact.question.en!r} -> {reply.intent}")
    assert not missed, missed


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("who first floated the idea of asem", "idea_goh_chok_tong"),
        ("what are the dublin principles", "dublin_principles"),
        ("when was the asem logo chosen", "asem_logo"),
        ("which summit was the first with 45 partners", "first_summit_45_partners"),
        ("which fmm was the first with 45 partners", "first_fmm_45_partners"),
        ("asem13 website", "asem13_website"),
        ("what is asem in khmer", "khmer_asem"),
    ],
)
def test_facts_are_told_apart(brain: Brain, question: str, fact: str) -> None:
    reply = brain.answer(question)
    assert reply.answered and reply.intent == FACT + fact, reply.intent
