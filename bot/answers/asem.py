"""Answers about ASEM itself: what it is, how it began, how it works, its weight."""

from __future__ import annotations

from bot.answers.base import Answer, Context
from bot.answers.meetings import code


def about(ctx: Context) -> Answer:
    asem = ctx.kb.asem
    pillars = ctx.join(ctx.text(p.name) for p in asem.pillars.items)
    text = ctx.t("asem_name", name=ctx.name(asem))
    text += " " + ctx.t("plain", text=ctx.text(asem.purpose.text))
    text += "\n\n" + ctx.t(
        "asem_about_facts",
        partners=len(ctx.kb.partners),
        year=ctx.kb.summits[0].start.year,
        pillars=pillars,
    )
    return Answer(text)


def founding(ctx: Context) -> Answer:
    founding = ctx.kb.asem.founding
    first = ctx.kb.summits[founding.first_summit - 1]
    text = ctx.t(
        "asem_founding",
        proposers=ctx.join(ctx.country(p) for p in founding.proposers),
        month=ctx.month(founding.proposed.month),
        year=founding.proposed.year,
        meeting=code(ctx, first),
        place=ctx.place(first.record.city),
        dates=ctx.dates(first.start, first.end),
    )
    text += "\n\n" + ctx.t("plain", text=ctx.text(founding.story))
    return Answer(text)


def pillars(ctx: Context) -> Answer:
    items = ctx.kb.asem.pillars.items
    text = ctx.t("asem_pillars", count=len(items))
    text += "\n" + "\n".join(f"• <b>{ctx.t('plain', text=ctx.text(p.name))}</b>" for p in items)
    return Answer(text)


def share(ctx: Context) -> Answer:
    shares = ctx.kb.asem.shares
    text = ctx.t("asem_share")
    for item in shares.items:
        text += "\n" + ctx.t(
            "asem_share_line", percent=f"{item.percent:g}%", label=ctx.text(item.label)
        )
    if shares.note:
        text += "\n" + ctx.t("note", text=ctx.text(shares.note))
    return Answer(text)


def secretariat(ctx: Context) -> Answer:
    return Answer(ctx.t("plain", text=ctx.text(ctx.kb.asem.secretariat.text)))


def coordinators(ctx: Context) -> Answer:
    return Answer(ctx.t("plain", text=ctx.text(ctx.kb.asem.coordinators.text)))


def day(ctx: Context) -> Answer:
    asem_day = ctx.kb.asem.asem_day
    celebration = ctx.kb.cambodia.asem_day_celebration
    text = ctx.t("asem_day", day=asem_day.day, month=ctx.month(asem_day.month))
    text += "\n\n" + ctx.t("plain", text=ctx.text(asem_day.text))
    text += "\n\n" + ctx.t(
        "asem_day_cambodia",
        date=ctx.date(celebration.start),
        place=ctx.place(celebration.city),
        text=ctx.text(celebration.text),
    )
    return Answer(text)


def website(ctx: Context) -> Answer:
    board = ctx.kb.asem.infoboard
    text = ctx.t("asem_website", url=board.url, text=ctx.text(board.text))
    return Answer(text)
