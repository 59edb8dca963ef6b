"""The fact of the day: anniversaries first, then every fact in turn."""

from __future__ import annotations

import datetime as dt

from bot.brain import default_brain
from bot.campaign.daily import anniversaries, fact_for, rotation
from bot.reply import html_problems


def test_a_summit_anniversary_comes_first() -> None:
    fact = fact_for(default_brain(), dt.date(2026, 3, 1))
    assert fact.anniversary
    assert "On this day in 1996" in fact.header and "30 years ago" in fact.header
    assert "ASEM1" in fact.reply.text and fact.deep_link == "summit_1"
    assert html_problems(fact.text) == []


def test_asef_founding_day_and_cambodias_admission() -> None:
    brain = default_brain()
    assert fact_for(brain, dt.date(2027, 2, 15)).deep_link in ("fmm_1", "asef-founded")
    october_7 = [a.encode() for _, a in anniversaries(brain, dt.date(2026, 10, 7))]
    assert "partner.info:country=kh" in october_7


def test_ordinary_days_rotate_through_every_fact_without_repeats() -> None:
    brain = default_brain()
    pool = rotation(brain)
    assert len(pool) > 100
    start = dt.date(2026, 1, 5)
    seen = []
    day = start
    while len(seen) < 40:
        fact = fact_for(brain, day)
        if not fact.anniversary:
            seen.append(fact.reply.action)
            assert fact.deep_link and html_problems(fact.text) == []
        day += dt.timedelta(days=1)
    assert len(set(seen)) == len(seen)
