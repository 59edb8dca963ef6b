"""Answers about events: something that happened on a date (the Siem Reap training, the EU's
endorsement of the first summit...)."""

from __future__ import annotations

from bot.answers import facts as fact_answers
from bot.answers.base import Answer, Context, Html
from bot.answers.registry import composer
from bot.declare import msg
from bot.domain.kinds import dates_of

EVENT = msg("event_card")


def event_facts(ctx: Context, event_id: str) -> frozenset[tuple[str, str]]:
    event = ctx.kb.events[event_id]
    facts = {("event", event_id), ("year", str(event.start.year))}
    if event.precision != "year":
        facts.add(("month", str(event.start.month)))
    if event.city:
        facts.add(("city", event.city))
        facts.add(("country", ctx.kb.cities[event.city].country))
    return frozenset(facts)


@composer("event.info")
def info(ctx: Context) -> Answer:
    parts: list[Html] = []
    found: set[tuple[str, str]] = set()
    for event_id in ctx.values("event"):
        event = ctx.kb.events.get(event_id)
        if event is None:
            continue
        found |= event_facts(ctx, event_id)
        if event.fact:
            parts.append(fact_answers.answer(ctx, ctx.kb.facts[event.fact]).text)
            continue
        when = dates_of(ctx.kb, "event", event_id)
        assert when is not None
        parts.append(
            ctx.t(
                EVENT,
                name=ctx.text(event.name),
                place=ctx.place(event.city) if event.city else "",
                dates=ctx.dates(when[0], when[1]),
                text=ctx.text(event.text) if event.text else "",
            )
        )
    return Answer(Html("\n\n").join(parts), facts=frozenset(found), exists=bool(parts))
