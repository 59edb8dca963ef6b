"""Answers about ASEM's tangible areas of cooperation."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context, Html
from bot.reply import Button, paginate

PER_PAGE = 20


def card(number: int) -> str:
    return Action("area.check", (("area", str(number)),)).encode()


def _source_note(ctx: Context) -> str:
    return "" if ctx.kb.areas_verified else "\n" + ctx.t("areas_unverified")


def listing(ctx: Context) -> Answer:
    areas = ctx.kb.areas
    rows = [ctx.t("area_line", number=a.number, name=ctx.text(a.short)) for a in areas]
    page = paginate(rows, ctx.page, PER_PAGE)
    shown = areas[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    text = ctx.t("area_list_header", count=len(areas)) + "\n" + "\n".join(page.lines)
    buttons = tuple(Button(f"{a.number}. {ctx.text(a.short)}", card(a.number)) for a in shown)
    return Answer(text + _source_note(ctx), buttons=buttons, page=page.page, pages=page.pages)


def check(ctx: Context) -> Answer:
    if not ctx.values("area"):
        # "is space exploration an area?": a topic the list does not have
        rows = [ctx.t("area_line", number=a.number, name=ctx.text(a.short)) for a in ctx.kb.areas]
        text = ctx.t("area_no", count=len(ctx.kb.areas)) + "\n" + "\n".join(rows)
        return Answer(text + _source_note(ctx), parent=Action("area.list").encode())
    parts: list[Html] = []
    for value in ctx.values("area"):
        area = ctx.kb.area(int(value))
        if area is None:
            continue
        parts.append(
            ctx.t(
                "area_yes",
                name=ctx.text(area.short),
                title=ctx.text(area.title),
                number=area.number,
                count=len(ctx.kb.areas),
            )
        )
    return Answer("\n\n".join(parts) + _source_note(ctx), parent=Action("area.list").encode())
