"""Answers about summits and Foreign Ministers' Meetings: one meeting, or lists and counts."""

from __future__ import annotations

from collections.abc import Iterable

from bot.actions import Action
from bot.answers.base import Answer, Context, Html
from bot.knowledge import MeetingRef
from bot.reply import Button, paginate

PER_PAGE = 15
MEETING_KINDS = ("summit", "fmm")


# -- pieces ------------------------------------------------------------------------------------


def code(ctx: Context, meeting: MeetingRef | tuple[str, int]) -> str:
    kind, number = (meeting.kind, meeting.number) if isinstance(meeting, MeetingRef) else meeting
    return ctx.kb.message(f"meeting_code_{kind}", ctx.lang).format(number=number)


def card_action(meeting: MeetingRef) -> str:
    return Action("meeting.info", (("meeting", meeting.key),)).encode()


def list_action(kind: str) -> str:
    return Action("meeting.list", (("meeting_kind", kind),)).encode()


def _render(ctx: Context, template: str, meeting: MeetingRef) -> Html:
    """Fill ``template``_in_person / _virtual / _planned with the meeting's code, place, dates."""
    variant = "planned" if not meeting.held else meeting.record.format
    return ctx.t(
        f"{template}_{variant}",
        meeting=code(ctx, meeting),
        place=ctx.place(meeting.record.city),
        dates=ctx.dates(meeting.start, meeting.end),
    )


def main_sentence(ctx: Context, meeting: MeetingRef, focus: str = "place") -> Html:
    """'<b>ASEM5</b> was held in <b>Hanoi, Viet Nam</b>, on 8-9 October 2004.'"""
    return _render(ctx, f"meeting_{focus}", meeting)


def line(ctx: Context, meeting: MeetingRef) -> Html:
    """'<b>ASEM5</b>: Hanoi, Viet Nam, 8-9 October 2004', for lists."""
    return _render(ctx, "meeting_line", meeting)


def extras(ctx: Context, meeting: MeetingRef, *, theme: bool = False) -> list[Html]:
    """Theme (optional), earlier plans and notes: the corrections and context of a record."""
    out: list[Html] = []
    record = meeting.record
    if theme and record.theme:
        out.append(ctx.t("meeting_theme", theme=ctx.text(record.theme)))
    if record.earlier_plans:
        plans = []
        for plan in record.earlier_plans:
            text = ctx.dates(plan.start, plan.end)
            if plan.note:
                text += f" ({ctx.text(plan.note)})"
            plans.append(text)
        out.append(ctx.t("meeting_earlier_plans", plans=ctx.join(plans, "then_separator")))
    if record.notes:
        out.append(Html(ctx.t("note", text=ctx.text(record.notes))))
    return out


def neighbours(ctx: Context, meeting: MeetingRef) -> tuple[Button, ...]:
    """◀ previous / next ▶ meeting of the same kind, for browsing."""
    buttons = []
    items = ctx.kb.meetings(meeting.kind)
    if meeting.number > 1:
        previous = items[meeting.number - 2]
        buttons.append(Button(f"◀ {code(ctx, previous)}", card_action(previous)))
    if meeting.number < len(items):
        following = items[meeting.number]
        buttons.append(Button(f"{code(ctx, following)} ▶", card_action(following)))
    return tuple(buttons)


def missing(ctx: Context, kind: str, number: int) -> Html:
    """There is no such meeting (yet): say what the record holds."""
    items = ctx.kb.meetings(kind)  # type: ignore[arg-type]
    if number == len(items) + 1:
        return next_none(ctx, kind)
    latest = items[-1]
    return ctx.t(
        "meeting_missing",
        meeting=code(ctx, (kind, number)),
        first=code(ctx, items[0]),
        last=code(ctx, latest),
        dates=ctx.dates(latest.start, latest.end),
    )


def next_none(ctx: Context, kind: str) -> Html:
    items = ctx.kb.meetings(kind)  # type: ignore[arg-type]
    held = [m for m in items if m.held and m.start <= ctx.today] or list(items)
    latest = held[-1]
    return ctx.t(
        "meeting_next_none",
        next=code(ctx, (kind, len(items) + 1)),
        kind=ctx.kb.message(f"kind_{kind}", ctx.lang),
        meeting=code(ctx, latest),
        place=ctx.place(latest.record.city),
        dates=ctx.dates(latest.start, latest.end),
    )


def selected_kinds(ctx: Context, default: Iterable[str] = MEETING_KINDS) -> list[str]:
    kinds = [k for k in ctx.kinds if k in MEETING_KINDS]
    return kinds or list(default)


def title(ctx: Context, kinds: list[str]) -> str:
    key = f"meetings_title_{kinds[0]}" if len(kinds) == 1 else "meetings_title_all"
    return ctx.kb.message(key, ctx.lang)


# -- one meeting -------------------------------------------------------------------------------


def _single(ctx: Context, focus: str) -> Answer:
    parts: list[Html] = []
    buttons: tuple[Button, ...] = ()
    for meeting in ctx.meetings:
        if focus == "theme":
            record = meeting.record
            if record.theme:
                parts.append(
                    ctx.t(
                        "meeting_theme_focus",
                        meeting=code(ctx, meeting),
                        theme=ctx.text(record.theme),
                    )
                )
            else:
                parts.append(ctx.t("meeting_theme_none", meeting=code(ctx, meeting)))
            parts.append(main_sentence(ctx, meeting, "place"))
            parts += extras(ctx, meeting)
        else:
            parts.append(main_sentence(ctx, meeting, "date" if focus == "date" else "place"))
            parts += extras(ctx, meeting, theme=focus == "info")
        if len(ctx.meetings) == 1:
            buttons = neighbours(ctx, meeting)
    for kind, number in ctx.missing_meetings:
        parts.append(missing(ctx, kind, number))
    parent = list_action(ctx.meetings[0].kind) if ctx.meetings else None
    return Answer("\n\n".join(parts), buttons=buttons, parent=parent)


def place(ctx: Context) -> Answer:
    return _single(ctx, "place")


def date(ctx: Context) -> Answer:
    return _single(ctx, "date")


def info(ctx: Context) -> Answer:
    return _single(ctx, "info")


def theme(ctx: Context) -> Answer:
    return _single(ctx, "theme")


# -- several meetings --------------------------------------------------------------------------


def _filtered(ctx: Context, kinds: list[str]) -> tuple[list[MeetingRef], list[str]]:
    """The meetings of ``kinds`` that pass every filter in the question, and the filters' text."""
    kb = ctx.kb
    meetings = [m for kind in kinds for m in kb.meetings(kind)]  # type: ignore[arg-type]
    described: list[str] = []
    regions = ctx.values("region")
    if regions:
        meetings = [m for m in meetings if kb.meeting_region(m) in regions]
        described.append(
            ctx.t("filter_in", place=ctx.join(ctx.name(kb.regions[r]) for r in regions))
        )
    cities, countries = ctx.values("city"), ctx.countries
    if cities or countries:
        meetings = [
            m for m in meetings if m.record.city in cities or kb.meeting_country(m) in countries
        ]
        names = [ctx.name(kb.cities[c]) for c in cities] + [ctx.country(c) for c in countries]
        described.append(ctx.t("filter_in", place=ctx.join(names)))
    for relation, year in ctx.years():
        test = {
            "after": lambda y, year=year: y > year,
            "since": lambda y, year=year: y >= year,
            "before": lambda y, year=year: y < year,
            "until": lambda y, year=year: y <= year,
            "": lambda y, year=year: y == year,
        }[relation]
        meetings = [m for m in meetings if test(m.start.year)]
        described.append(ctx.t(f"filter_{relation or 'in'}", place=str(year), year=year))
    meetings.sort(key=lambda m: (m.start, m.kind))
    return meetings, described


def listing(ctx: Context) -> Answer:
    kinds = selected_kinds(ctx)
    meetings, described = _filtered(ctx, kinds)
    header = ctx.t(
        "meeting_list_header",
        title=title(ctx, kinds),
        filters=Html("".join(" " + d for d in described)),
        count=len(meetings),
    )
    if not meetings:
        filters = Html("".join(" " + d for d in described))
        return Answer(ctx.t("meeting_list_none", title=title(ctx, kinds), filters=filters))
    page = paginate([line(ctx, m) for m in meetings], ctx.page, PER_PAGE)
    shown = meetings[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in shown)
    text = header + "\n" + "\n".join(f"• {entry}" for entry in page.lines)
    return Answer(text, buttons=buttons, page=page.page, pages=page.pages)


def count(ctx: Context) -> Answer:
    kinds = selected_kinds(ctx)
    meetings, described = _filtered(ctx, kinds)
    held = [m for m in meetings if m.held]
    filters = Html("".join(" " + d for d in described))
    if not held:
        return Answer(ctx.t("meeting_list_none", title=title(ctx, kinds), filters=filters))
    parts = [ctx.t("meeting_count", count=len(held), title=title(ctx, kinds), filters=filters)]
    if len(held) <= PER_PAGE:
        parts.append("\n".join(f"• {line(ctx, m)}" for m in held))
    planned = [m for m in meetings if not m.held]
    if planned:
        parts.append(
            ctx.t("meeting_count_planned", meetings=ctx.join(code(ctx, m) for m in planned))
        )
    return Answer("\n".join(parts))


def by_place(ctx: Context) -> Answer:
    kinds = selected_kinds(ctx)
    meetings, described = _filtered(ctx, kinds)
    kb = ctx.kb
    names = [ctx.name(kb.cities[c]) for c in ctx.values("city")] + [
        ctx.country(c) for c in ctx.countries
    ]
    where = ctx.join(names)
    if len(meetings) == 1:  # "the Beijing summit": one meeting, so show its card
        return info(Context(ctx.kb, ctx.lang, ctx.today, (("meeting", meetings[0].key),)))
    if not meetings:
        parts = [ctx.t("meeting_by_place_none", title=title(ctx, kinds), place=where)]
        outsiders = [c for c in ctx.countries if c in kb.non_partners]
        if outsiders:
            parts.append(ctx.t("not_partner", country=ctx.join(ctx.country(c) for c in outsiders)))
        return Answer(" ".join(parts))
    text = ctx.t("meeting_by_place", place=where, count=len(meetings), title=title(ctx, kinds))
    text += "\n" + "\n".join(f"• {line(ctx, m)}" for m in meetings)
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in meetings[:PER_PAGE])
    return Answer(text, buttons=buttons)


def by_year(ctx: Context) -> Answer:
    if any(relation for relation, _ in ctx.years()):
        return listing(ctx)
    kinds = selected_kinds(ctx)
    parts: list[str] = []
    found: list[MeetingRef] = []
    for _, year in ctx.years():
        meetings = [
            m
            for kind in kinds
            for m in ctx.kb.meetings(kind)  # type: ignore[arg-type]
            if m.start.year == year or m.end.year == year
        ]
        found += meetings
        if len(ctx.years()) == 1 and len(meetings) == 1:  # "the 2006 summit"
            return info(Context(ctx.kb, ctx.lang, ctx.today, (("meeting", meetings[0].key),)))
        if meetings:
            parts.append(ctx.t("meeting_by_year", year=year, title=title(ctx, kinds)))
            parts.append("\n".join(f"• {line(ctx, m)}" for m in meetings))
        else:
            everything = [m for kind in kinds for m in ctx.kb.meetings(kind)]  # type: ignore[arg-type]
            nearest = sorted(everything, key=lambda m: abs(m.start.year - year))[:2]
            parts.append(
                ctx.t(
                    "meeting_by_year_none",
                    year=year,
                    title=title(ctx, kinds),
                    nearest=ctx.join(line(ctx, m) for m in sorted(nearest, key=lambda m: m.start)),
                )
            )
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in found[:PER_PAGE])
    return Answer("\n".join(parts), buttons=buttons)


def upcoming(ctx: Context) -> Answer:
    kinds = selected_kinds(ctx, default=("summit",))
    parts: list[Html] = []
    for kind in kinds:
        planned = [
            m
            for m in ctx.kb.meetings(kind)  # type: ignore[arg-type]
            if not m.held and m.end >= ctx.today
        ]
        if planned:
            meeting = planned[0]
            parts.append(
                ctx.t("meeting_next", kind=ctx.kb.message(f"kind_{kind}", ctx.lang))
                + " "
                + main_sentence(ctx, meeting, "place")
            )
        else:
            parts.append(next_none(ctx, kind))
    return Answer("\n\n".join(parts))


def latest(ctx: Context) -> Answer:
    kinds = selected_kinds(ctx, default=("summit",))
    parts: list[Html] = []
    buttons: list[Button] = []
    for kind in kinds:
        held = [
            m
            for m in ctx.kb.meetings(kind)  # type: ignore[arg-type]
            if m.held and m.start <= ctx.today
        ]
        if not held:
            continue
        meeting = held[-1]
        parts.append(ctx.t("meeting_latest", kind=ctx.kb.message(f"kind_{kind}", ctx.lang)))
        parts.append(main_sentence(ctx, meeting, "place"))
        parts += extras(ctx, meeting, theme=True)
        buttons.append(Button(code(ctx, meeting), card_action(meeting)))
    return Answer("\n\n".join(parts), buttons=tuple(buttons))


def kind_about(ctx: Context) -> Answer:
    parts: list[Html] = []
    buttons: list[Button] = []
    for kind_id in ctx.kinds:
        kind = ctx.kb.kinds[kind_id]
        parts.append(
            ctx.t(
                "meeting_kind",
                name=ctx.name(kind),
                attendees=ctx.text(kind.attendees),
                frequency=ctx.text(kind.frequency),
                role=ctx.text(kind.role),
            )
        )
        if kind_id in MEETING_KINDS:
            items = [m for m in ctx.kb.meetings(kind_id) if m.held]  # type: ignore[arg-type]
            if items:
                parts.append(
                    ctx.t(
                        "meeting_kind_count",
                        count=len(items),
                        meeting=code(ctx, items[-1]),
                        dates=ctx.dates(items[-1].start, items[-1].end),
                    )
                )
                buttons.append(
                    Button(
                        ctx.kb.message(f"meetings_title_{kind_id}", ctx.lang), list_action(kind_id)
                    )
                )
    return Answer("\n\n".join(parts), buttons=tuple(buttons))
