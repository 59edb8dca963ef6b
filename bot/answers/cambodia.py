"""Answers about Cambodia in ASEM: what it gains, its part in ASEF, and ASEM13."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context, Html, bullets, lines, paras, sentence
from bot.answers.meetings import card_action, main_sentence
from bot.answers.registry import composer
from bot.declare import msg
from bot.reply import Button

CONTRIBUTION = msg("cambodia_asef_contribution")
UNVERIFIED = msg("unverified_seed")
EVENT = msg("cambodia_event")
BENEFITS = msg("cambodia_benefits")
SIDE_EVENTS = msg("asem13_side_events")
NOTE = msg("note")
BUTTON_ASEM13 = msg("button_asem13")
BUTTON_ASEF = msg("button_cambodia_asef")
BUTTON_BENEFITS = msg("button_benefits")


def contribution(ctx: Context) -> Html:
    given = ctx.kb.cambodia.asef_contribution
    text = ctx.t(CONTRIBUTION, amount=f"{given.amount_usd:,}", since=given.since)
    return text if given.verified else sentence(text, ctx.t(UNVERIFIED))


def events(ctx: Context) -> list[Html]:
    return [
        ctx.t(
            EVENT,
            name=ctx.text(event.name),
            place=ctx.place(event.city),
            dates=ctx.dates(event.start, event.end),
            text=ctx.text(event.text),
        )
        for event in ctx.kb.cambodia.asef_events
    ]


def overview(ctx: Context) -> tuple[list[Html], list[Button]]:
    """Extra lines for Cambodia's partner card: ASEM13, ASEF, and where to read more."""
    kb = ctx.kb
    summit = kb.summits[kb.cambodia.asem13.summit - 1]
    card_lines = [main_sentence(ctx, summit, "place"), contribution(ctx)]
    buttons = [
        Button(ctx.kb.message(BUTTON_ASEM13, ctx.lang), card_action(summit)),
        Button(ctx.kb.message(BUTTON_ASEF, ctx.lang), Action("asef.cambodia").encode()),
        Button(ctx.kb.message(BUTTON_BENEFITS, ctx.lang), Action("cambodia.benefits").encode()),
    ]
    return card_lines, buttons


@composer("cambodia.benefits")
def benefits(ctx: Context) -> Answer:
    items = [ctx.text(b.text) for b in ctx.kb.cambodia.benefits]
    text = ctx.t(BENEFITS) + Html("\n") + bullets(items)
    return Answer(text, parent=Action("partner.info", (("country", "kh"),)).encode())


@composer("asef.cambodia")
def asef(ctx: Context) -> Answer:
    parts = [contribution(ctx), *events(ctx)]
    return Answer(paras(parts), buttons=(Button("ASEF", Action("asef.about").encode()),))


@composer("asem13.side_events")
def side_events(ctx: Context) -> Answer:
    side = ctx.kb.cambodia.asem13.side_events
    items = [ctx.text(item) for item in side.items]
    text = lines(
        [
            ctx.t(SIDE_EVENTS, count=len(items)),
            bullets(items),
            ctx.t(NOTE, text=ctx.text(side.text)),
        ]
    )
    return Answer(text, parent=_asem13(ctx))


@composer("asem13.organisation")
def organisation(ctx: Context) -> Answer:
    asem13 = ctx.kb.cambodia.asem13
    text = paras([ctx.text(asem13.organisation.text), ctx.text(asem13.chair.text)])
    return Answer(text, parent=_asem13(ctx))


@composer("asem13.outcome")
def outcome(ctx: Context) -> Answer:
    text = paras([ctx.text(ctx.kb.cambodia.asem13.outcome.text)])
    return Answer(text, parent=_asem13(ctx))


def _asem13(ctx: Context) -> str:
    summit = ctx.kb.summits[ctx.kb.cambodia.asem13.summit - 1]
    return Action("meeting.info", (("meeting", summit.key),)).encode()
