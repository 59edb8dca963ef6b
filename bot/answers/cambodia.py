"""Answers about Cambodia in ASEM: what it gains, its part in ASEF, and ASEM13."""

from __future__ import annotations

from bot.actions import Action
from bot.answers.base import Answer, Context, Html
from bot.answers.meetings import card_action, main_sentence
from bot.reply import Button


def contribution(ctx: Context) -> Html:
    given = ctx.kb.cambodia.asef_contribution
    text = ctx.t("cambodia_asef_contribution", amount=f"{given.amount_usd:,}", since=given.since)
    if not given.verified:
        text = Html(text + " " + ctx.t("unverified_seed"))
    return text


def events(ctx: Context) -> list[Html]:
    return [
        ctx.t(
            "cambodia_event",
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
    lines = [main_sentence(ctx, summit, "place"), contribution(ctx)]
    buttons = [
        Button(ctx.kb.message("button_asem13", ctx.lang), card_action(summit)),
        Button(ctx.kb.message("button_cambodia_asef", ctx.lang), Action("asef.cambodia").encode()),
        Button(ctx.kb.message("button_benefits", ctx.lang), Action("cambodia.benefits").encode()),
    ]
    return lines, buttons


def benefits(ctx: Context) -> Answer:
    items = ctx.kb.cambodia.benefits
    text = ctx.t("cambodia_benefits") + "\n" + "\n".join(f"• {ctx.text(b.text)}" for b in items)
    return Answer(text, parent=Action("partner.info", (("country", "kh"),)).encode())


def asef(ctx: Context) -> Answer:
    parts = [contribution(ctx), *events(ctx)]
    return Answer("\n\n".join(parts), buttons=(Button("ASEF", Action("asef.about").encode()),))


def side_events(ctx: Context) -> Answer:
    side = ctx.kb.cambodia.asem13.side_events
    text = ctx.t("asem13_side_events", count=len(side.items))
    text += "\n" + "\n".join(f"• {ctx.text(item)}" for item in side.items)
    text += "\n" + ctx.t("note", text=ctx.text(side.text))
    return Answer(text, parent=_asem13(ctx))


def organisation(ctx: Context) -> Answer:
    asem13 = ctx.kb.cambodia.asem13
    text = ctx.text(asem13.organisation.text) + "\n\n" + ctx.text(asem13.chair.text)
    return Answer(ctx.t("plain", text=text), parent=_asem13(ctx))


def outcome(ctx: Context) -> Answer:
    text = ctx.text(ctx.kb.cambodia.asem13.outcome.text)
    return Answer(ctx.t("plain", text=text), parent=_asem13(ctx))


def _asem13(ctx: Context) -> str:
    summit = ctx.kb.summits[ctx.kb.cambodia.asem13.summit - 1]
    return Action("meeting.info", (("meeting", summit.key),)).encode()
