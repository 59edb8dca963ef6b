"""Answers about ASEM itself: what it is, how it began, how it works, its weight."""

from __future__ import annotations

from bot.answers.base import Answer, Context, Html, bullets, paras, sentence
from bot.answers.meetings import code
from bot.answers.registry import composer
from bot.declare import msg
from bot.domain.kinds import day_facts

NAME = msg("asem_name")
ABOUT_FACTS = msg("asem_about_facts")
FOUNDING = msg("asem_founding")
PILLARS = msg("asem_pillars")
SHARE = msg("asem_share")
SHARE_LINE = msg("asem_share_line")
NOTE = msg("note")
DAY = msg("asem_day")
DAY_CAMBODIA = msg("asem_day_cambodia")
WEBSITE = msg("asem_website")


@composer("asem.about")
def about(ctx: Context) -> Answer:
    asem = ctx.kb.asem
    pillars = ctx.join(ctx.text(p.name) for p in asem.pillars.items)
    text = sentence(ctx.t(NAME, name=ctx.name(asem)), ctx.text(asem.purpose.text))
    facts = ctx.t(
        ABOUT_FACTS,
        partners=len(ctx.kb.partners),
        year=ctx.kb.summits[0].start.year,
        pillars=pillars,
    )
    return Answer(paras([text, facts]))


@composer("asem.founding")
def founding(ctx: Context) -> Answer:
    founding = ctx.kb.asem.founding
    first = ctx.kb.summits[founding.first_summit - 1]
    text = ctx.t(
        FOUNDING,
        proposers=ctx.join(ctx.country(p) for p in founding.proposers),
        month=ctx.month(founding.proposed.month),
        year=founding.proposed.year,
        meeting=code(ctx, first),
        place=ctx.where(first),
        dates=ctx.meeting_dates(first),
    )
    return Answer(paras([text, ctx.text(founding.story)]))


@composer("asem.pillars")
def pillars(ctx: Context) -> Answer:
    items = ctx.kb.asem.pillars.items
    names = (Html("<b>") + ctx.text(p.name) + Html("</b>") for p in items)
    return Answer(ctx.t(PILLARS, count=len(items)) + Html("\n") + bullets(names))


@composer("asem.share")
def share(ctx: Context) -> Answer:
    shares = ctx.kb.asem.shares
    rows = [
        ctx.t(SHARE_LINE, percent=f"{item.percent:g}%", label=ctx.text(item.label))
        for item in shares.items
    ]
    if shares.note:
        rows.append(ctx.t(NOTE, text=ctx.text(shares.note)))
    return Answer(Html("\n").join([ctx.t(SHARE), *rows]))


@composer("asem.secretariat")
def secretariat(ctx: Context) -> Answer:
    return Answer(Html("").join([ctx.text(ctx.kb.asem.secretariat.text)]))


@composer("asem.coordinators")
def coordinators(ctx: Context) -> Answer:
    return Answer(Html("").join([ctx.text(ctx.kb.asem.coordinators.text)]))


@composer("asem.day")
def day(ctx: Context) -> Answer:
    asem_day = ctx.kb.asem.asem_day
    celebration = ctx.kb.cambodia.asem_day_celebration
    official = [
        ctx.t(DAY, day=asem_day.day, month=ctx.month(asem_day.month)),
        ctx.text(asem_day.text),
    ]
    cambodian = ctx.t(
        DAY_CAMBODIA,
        date=ctx.date(celebration.start),
        place=ctx.place(celebration.city),
        text=ctx.text(celebration.text),
    )
    # the day a yes/no question may claim: the official one, or Cambodia's celebration when
    # Cambodia is named ("did Cambodia celebrate it on 10 March?"), which then comes first
    if ctx.kb.cambodia.partner in ctx.countries:
        start = celebration.start
        facts = {("country", ctx.kb.cambodia.partner)} | day_facts(start, start)
        return Answer(paras([cambodian, *official]), facts=frozenset(facts))
    facts = {("month", str(asem_day.month))}
    allowed = range(asem_day.day + 1, asem_day.day + asem_day.days_allowed)
    if not any(int(d) in allowed for d in ctx.values("day")):
        # "is ASEM Day on 10 March?": no; on 3 March, a day it may also be celebrated on, the
        # answer explains, with no bare yes or no
        facts.add(("day", str(asem_day.day)))
    return Answer(paras([*official, cambodian]), facts=frozenset(facts))


@composer("asem.website")
def website(ctx: Context) -> Answer:
    board = ctx.kb.asem.infoboard
    return Answer(ctx.t(WEBSITE, url=board.url, text=ctx.text(board.text)))
