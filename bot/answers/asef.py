"""Answers about the Asia-Europe Foundation (ASEF)."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context
from bot.answers.meetings import code
from bot.reply import Button


def _buttons(ctx: Context, *intents: str) -> tuple[Button, ...]:
    """Buttons for related ASEF questions, labelled as the knowledge base phrases them."""
    buttons = []
    for intent in intents:
        question = ctx.kb.question(intent)
        if question is not None:
            buttons.append(Button(question.label.get(ctx.lang), Action(intent).encode()))
    return tuple(buttons)


def about(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    text = ctx.t("asef_about", name=ctx.name(asef), year=asef.founded.year)
    text += "\n\n" + ctx.t("plain", text=ctx.text(asef.about.text))
    text += "\n\n" + ctx.t("plain", text=ctx.text(asef.status.text))
    buttons = _buttons(ctx, "asef.founded", "asef.funding", "asef.location", "asef.cambodia")
    return Answer(text, buttons=buttons)


def founded(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    fmm = ctx.kb.fmms[asef.founded_at_fmm - 1]
    text = ctx.t(
        "asef_founded",
        date=ctx.date(asef.founded),
        meeting=code(ctx, fmm),
        place=ctx.place(fmm.record.city),
    )
    text += "\n\n" + ctx.t("plain", text=ctx.text(asef.founding.text))
    return Answer(text, buttons=_buttons(ctx, "asef.about"))


def funding(ctx: Context) -> Answer:
    text = ctx.t("plain", text=ctx.text(ctx.kb.asef.funding.text))
    return Answer(text, buttons=_buttons(ctx, "asef.cambodia", "asef.about"))


def location(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    text = ctx.t("asef_location", place=ctx.place(asef.headquarters), url=asef.website)
    return Answer(text, buttons=_buttons(ctx, "asef.about"))
