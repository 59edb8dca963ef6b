"""Answers about the Asia-Europe Foundation (ASEF)."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context, paras
from bot.answers.meetings import code
from bot.answers.registry import composer
from bot.declare import msg
from bot.reply import Button

ABOUT = msg("asef_about")
FOUNDED = msg("asef_founded")
LOCATION = msg("asef_location")


def _buttons(ctx: Context, *intents: str) -> tuple[Button, ...]:
    """Buttons for related ASEF questions, labelled as the knowledge base phrases them."""
    buttons = []
    for intent in intents:
        question = ctx.kb.question(intent)
        if question is not None:
            buttons.append(Button(question.label.get(ctx.lang), Action(intent).encode()))
    return tuple(buttons)


@composer("asef.about")
def about(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    text = paras(
        [
            ctx.t(ABOUT, name=ctx.name(asef), year=asef.founded.year),
            ctx.text(asef.about.text),
            ctx.text(asef.status.text),
        ]
    )
    buttons = _buttons(ctx, "asef.founded", "asef.funding", "asef.location", "asef.cambodia")
    return Answer(text, buttons=buttons)


@composer("asef.founded")
def founded(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    fmm = ctx.kb.fmms[asef.founded_at_fmm - 1]
    text = ctx.t(
        FOUNDED, date=ctx.date(asef.founded), meeting=code(ctx, fmm), place=ctx.where(fmm)
    )
    return Answer(paras([text, ctx.text(asef.founding.text)]), buttons=_buttons(ctx, "asef.about"))


@composer("asef.funding")
def funding(ctx: Context) -> Answer:
    text = paras([ctx.text(ctx.kb.asef.funding.text)])
    return Answer(text, buttons=_buttons(ctx, "asef.cambodia", "asef.about"))


@composer("asef.location")
def location(ctx: Context) -> Answer:
    asef = ctx.kb.asef
    text = ctx.t(LOCATION, place=ctx.place(asef.headquarters), url=asef.website)
    return Answer(text, buttons=_buttons(ctx, "asef.about"))
