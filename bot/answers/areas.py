"""Answers about ASEM's tangible areas of cooperation."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context, Html, lines, paras
from bot.answers.registry import composer
from bot.declare import msg
from bot.reply import Button, paginate

PER_PAGE = 20

HEADER = msg("area_list_header")
LINE = msg("area_line")
YES = msg("area_yes")
NO = msg("area_no")
UNVERIFIED = msg("areas_unverified")


def card(number: int) -> str:
    return Action("area.check", (("area", str(number)),)).encode()


def _with_source_note(ctx: Context, text: Html) -> Html:
    return text if ctx.kb.areas_verified else lines([text, ctx.t(UNVERIFIED)])


@composer("area.list", family="area")
def listing(ctx: Context) -> Answer:
    areas = ctx.kb.areas
    rows = [ctx.t(LINE, number=a.number, name=ctx.text(a.short)) for a in areas]
    page = paginate(rows, ctx.page, PER_PAGE)
    shown = areas[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    text = lines([ctx.t(HEADER, count=len(areas)), *page.lines])
    buttons = tuple(Button(f"{a.number}. {ctx.text(a.short)}", card(a.number)) for a in shown)
    return Answer(_with_source_note(ctx, text), buttons=buttons, page=page.page, pages=page.pages)


@composer("area.check", family="area")
def check(ctx: Context) -> Answer:
    parent = Action("area.list").encode()
    if not ctx.values("area"):
        # "is space exploration an area?": a topic the list does not have
        rows = [ctx.t(LINE, number=a.number, name=ctx.text(a.short)) for a in ctx.kb.areas]
        text = lines([ctx.t(NO, count=len(ctx.kb.areas)), *rows])
        return Answer(_with_source_note(ctx, text), parent=parent)
    parts: list[Html] = []
    for value in ctx.values("area"):
        area = ctx.kb.area(int(value))
        if area is None:
            continue
        parts.append(
            ctx.t(
                YES,
                name=ctx.text(area.short),
                title=ctx.text(area.title),
                number=area.number,
                count=len(ctx.kb.areas),
            )
        )
    return Answer(_with_source_note(ctx, paras(parts)), parent=parent, exists=bool(parts))
