"""Answers about time: how long between two things, how long ago, and anniversaries."""

from __future__ import annotations

import datetime as dt

from bot.answers.base import Answer, Context, Html, paras
from bot.answers.registry import composer
from bot.declare import msg
from bot.domain.kinds import KIND, Dates, dates_of

BETWEEN = msg("time_between")
SINCE = msg("time_since")
AGE_ASEM = msg("time_asem_age")
ANNIVERSARY = msg("time_anniversary")
NEEDS_TWO = msg("time_needs_two")
BEFORE = msg("time_before")
AFTER = msg("time_after")
SAME_DAY = msg("time_same_day")

DATED = ("meeting", "event", "asef", "country", "date", "year")
"""What a question may name to ask how long: meetings, events, ASEF (its founding), a partner
(its joining), a date, a year."""


def _dated(ctx: Context) -> list[tuple[str, str, Dates]]:
    """The dated things the question names, in order, with when they happened; meetings
    named by their place count too ("the two Brussels summits")."""
    found = []
    for kind, value in ctx.slots:
        if kind in DATED:
            when = dates_of(ctx.kb, kind, value)
            if when is not None:
                found.append((kind, value, when))
    if len(found) < 2 and ctx.values("city"):
        series = ctx.kinds or list(ctx.kb.main_series)
        for meeting in ctx.kb.all_meetings():
            if meeting.kind in series and meeting.record.city in ctx.values("city"):
                when = dates_of(ctx.kb, "meeting", meeting.key)
                if when is not None:
                    found.append(("meeting", meeting.key, when))
    return found


def _name(ctx: Context, kind: str, value: str) -> str:
    if kind == "country":
        return ctx.country(value)
    if kind in ("date",):
        return ""
    shown = KIND[kind].display(ctx.kb, value, ctx.lang)
    return shown or value


def _when(ctx: Context, when: Dates) -> str:
    start, end, precision = when
    return ctx.period(start, end, precision)


def years_between(first: dt.date, second: dt.date) -> tuple[int, int]:
    """Whole years and the months left over, from ``first`` to ``second``."""
    if second < first:
        first, second = second, first
    months = (second.year - first.year) * 12 + second.month - first.month
    if second.day < first.day:
        months -= 1
    return divmod(months, 12)


@composer("time.between")
def between(ctx: Context) -> Answer:
    dated = _dated(ctx)
    if len(dated) < 2:
        # asking for the two things is no answer: the question is not understood yet
        return Answer(ctx.t(NEEDS_TWO), answered=False)
    (k1, v1, w1), (k2, v2, w2) = dated[:2]
    if w2[0] < w1[0]:
        (k1, v1, w1), (k2, v2, w2) = (k2, v2, w2), (k1, v1, w1)
    years, months = years_between(w1[0], w2[0])
    text = ctx.t(
        BETWEEN,
        first=_name(ctx, k1, v1),
        first_date=_when(ctx, w1),
        second=_name(ctx, k2, v2),
        second_date=_when(ctx, w2),
        years=years,
        months=months,
        difference=w2[0].year - w1[0].year,
    )
    return Answer(text, facts=frozenset({("number", str(w2[0].year - w1[0].year))}))


@composer("time.order")
def order(ctx: Context) -> Answer:
    """Which of two things came first ("was FMM1 before or after ASEM2?"), told of the one
    named first, with both dates."""
    dated = _dated(ctx)
    if len(dated) < 2:
        return Answer(ctx.t(NEEDS_TWO), answered=False)
    (k1, v1, w1), (k2, v2, w2) = dated[:2]
    names = {"first": _name(ctx, k1, v1), "second": _name(ctx, k2, v2)}
    if (w1[0], w1[1]) == (w2[0], w2[1]) and w1[2] == w2[2] == "day":
        return Answer(ctx.t(SAME_DAY, date=_when(ctx, w1), **names))
    if w1[1] < w2[0] or w2[1] < w1[0]:
        template = BEFORE if w1[1] < w2[0] else AFTER
        return Answer(
            ctx.t(template, first_date=_when(ctx, w1), second_date=_when(ctx, w2), **names)
        )
    # overlapping, or known only to the month or year: which came first is not told
    return Answer(ctx.t(NEEDS_TWO), answered=False)


@composer("time.age")
def age(ctx: Context) -> Answer:
    """How long ago, how old, which anniversary: counted to today."""
    dated = _dated(ctx)
    parts: list[Html] = []
    if not dated:
        first = ctx.kb.summits[0]
        years, _ = years_between(first.start, ctx.today)
        parts.append(ctx.t(AGE_ASEM, date=ctx.date(first.start), years=years))
        last_round = first.start.year + 10 * (years // 10)
        for year in (last_round, last_round + 10):
            day = first.start.replace(year=year)
            if year > first.start.year:
                parts.append(ctx.t(ANNIVERSARY, count=year - first.start.year, date=ctx.date(day)))
    for kind, value, when in dated[:2]:
        years, months = years_between(when[0], ctx.today)
        parts.append(
            ctx.t(
                SINCE,
                name=_name(ctx, kind, value),
                date=_when(ctx, when),
                years=years,
                months=months,
                today=ctx.date(ctx.today),
            )
        )
    return Answer(paras(parts))
