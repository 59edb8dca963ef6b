"""Answers about ASEM's meetings: one meeting, or lists and counts, for every series.

The series (summits, FMMs, Economic Ministers' Meetings...) are data in meetings.yaml; nothing
here names one, except that a list with no series named shows the summits and the FMMs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from bot.actions import Action
from bot.answers.base import Answer, Context, Html, bullets, html, lines, paras, sentence
from bot.answers.registry import composer
from bot.declare import msg
from bot.domain.kinds import meeting_facts
from bot.knowledge import MeetingRef
from bot.reply import Button, paginate

PER_PAGE = 15

PLACE = {
    "in_person": msg("meeting_place_in_person"),
    "virtual": msg("meeting_place_virtual"),
    "online": msg("meeting_place_online"),
    "planned": msg("meeting_place_planned"),
}
DATE = {
    "in_person": msg("meeting_date_in_person"),
    "virtual": msg("meeting_date_virtual"),
    "online": msg("meeting_date_online"),
    "planned": msg("meeting_date_planned"),
}
LINE = {
    "in_person": msg("meeting_line_in_person"),
    "virtual": msg("meeting_line_virtual"),
    "online": msg("meeting_line_online"),
    "planned": msg("meeting_line_planned"),
}
THEME = msg("meeting_theme")
THEME_FOCUS = msg("meeting_theme_focus")
THEME_NONE = msg("meeting_theme_none")
THEME_UNVERIFIED = msg("meeting_theme_unverified")
EARLIER_PLANS = msg("meeting_earlier_plans")
NOTE = msg("note")
MISSING = msg("meeting_missing")
MISSING_UNRECORDED = msg("meeting_missing_unrecorded")
NEXT_NONE = msg("meeting_next_none")
NEXT_UNKNOWN = msg("meeting_next_unknown")
NEXT = msg("meeting_next")
LATEST = msg("meeting_latest")
LATEST_ON_RECORD = msg("meeting_latest_on_record")
LIST_HEADER = msg("meeting_list_header")
LIST_NONE = msg("meeting_list_none")
COUNT = msg("meeting_count")
COUNT_ON_RECORD = msg("meeting_count_on_record")
COUNT_PLANNED = msg("meeting_count_planned")
FILTER = {
    "": msg("filter_in"),
    "after": msg("filter_after"),
    "since": msg("filter_since"),
    "before": msg("filter_before"),
    "until": msg("filter_until"),
}
BY_PLACE = msg("meeting_by_place")
BY_PLACE_NONE = msg("meeting_by_place_none")
BY_YEAR = msg("meeting_by_year")
BY_YEAR_NONE = msg("meeting_by_year_none")
KIND = msg("meeting_kind")
KIND_COUNT = msg("meeting_kind_count")
KIND_ON_RECORD = msg("meeting_kind_on_record")
TITLE_ALL = msg("meetings_title_all")
NOT_PARTNER = msg("not_partner")


# -- pieces ------------------------------------------------------------------------------------


def code(ctx: Context, meeting: MeetingRef) -> str:
    return ctx.code(meeting)


def card_action(meeting: MeetingRef) -> str:
    return Action("meeting.info", (("meeting", meeting.key),)).encode()


def list_action(series: str) -> str:
    return Action("meeting.list", (("meeting_kind", series),)).encode()


def _variant(ctx: Context, meeting: MeetingRef) -> str:
    if not meeting.held:
        return "planned"
    if meeting.record.format == "virtual":
        return "virtual" if ctx.where(meeting) else "online"
    return "in_person"


def _render(ctx: Context, templates: dict[str, str], meeting: MeetingRef) -> Html:
    """Fill the in-person / virtual / online / planned template with the meeting's facts."""
    return ctx.t(
        templates[_variant(ctx, meeting)],
        meeting=code(ctx, meeting),
        place=ctx.where(meeting) or "",
        when=ctx.when(meeting),
        dates=ctx.meeting_dates(meeting),
    )


def main_sentence(ctx: Context, meeting: MeetingRef, focus: str = "place") -> Html:
    """'<b>ASEM5</b> was held in <b>Hanoi, Viet Nam</b>, on 8-9 October 2004.'"""
    return _render(ctx, DATE if focus == "date" else PLACE, meeting)


def line(ctx: Context, meeting: MeetingRef) -> Html:
    """'<b>ASEM5</b>: Hanoi, Viet Nam, 8-9 October 2004', for lists."""
    return _render(ctx, LINE, meeting)


def _original(ctx: Context, title: object) -> str:
    """' (“Greater Growth”)': an official title's English, beside its translation."""
    english = ctx.original(title)
    return f" (“{english}”)" if english else ""


def extras(ctx: Context, meeting: MeetingRef, *, theme: bool = False) -> list[Html]:
    """Theme (optional), earlier plans and notes: the corrections and context of a record."""
    out: list[Html] = []
    record = meeting.record
    if theme and record.theme:
        out.append(
            ctx.t(THEME, theme=ctx.text(record.theme), original=_original(ctx, record.theme))
        )
    if record.earlier_plans:
        plans = []
        for plan in record.earlier_plans:
            text = Html(ctx.dates(plan.start, plan.end))
            if plan.note:
                text += Html(" (") + ctx.text(plan.note) + Html(")")
            plans.append(text)
        out.append(ctx.t(EARLIER_PLANS, plans=ctx.join(plans, "then_separator")))
    if record.notes:
        out.append(ctx.t(NOTE, text=ctx.text(record.notes)))
    return out


def neighbours(ctx: Context, meeting: MeetingRef) -> tuple[Button, ...]:
    """◀ previous / next ▶ meeting of the same series, for browsing."""
    items = ctx.kb.meetings(meeting.kind)
    at = items.index(meeting)
    buttons = []
    if at > 0:
        buttons.append(Button(f"◀ {code(ctx, items[at - 1])}", card_action(items[at - 1])))
    if at + 1 < len(items):
        buttons.append(Button(f"{code(ctx, items[at + 1])} ▶", card_action(items[at + 1])))
    return tuple(buttons)


def _name(ctx: Context, series: str) -> str:
    return ctx.name(ctx.kb.series[series])


def _code_of(ctx: Context, series: str, number: int) -> str:
    pattern = ctx.kb.series[series].code or "{n}"
    return pattern.replace("{n}", str(number))


def missing(ctx: Context, series: str, number: int) -> Html:
    """There is no such meeting on record: say what the record holds, and no more."""
    record = ctx.kb.series[series]
    items = ctx.kb.meetings(series)
    asked = _code_of(ctx, series, number)
    if not items:
        return ctx.t(MISSING_UNRECORDED, meeting=asked, meetings=_name(ctx, series))
    if record.complete and number > len(items) and number == len(items) + 1:
        return next_none(ctx, series)
    if record.complete:
        latest = items[-1]
        return ctx.t(
            MISSING,
            meeting=asked,
            first=code(ctx, items[0]),
            last=code(ctx, latest),
            dates=ctx.meeting_dates(latest),
        )
    # An incomplete series: a meeting not on record may well have taken place.
    return ctx.t(
        MISSING_UNRECORDED,
        meeting=asked,
        meetings=ctx.join(code(ctx, m) for m in items),
    )


def _latest_held(ctx: Context, series: str) -> MeetingRef | None:
    held = [m for m in ctx.kb.meetings(series) if m.held and m.start <= ctx.today]
    return held[-1] if held else None


def next_none(ctx: Context, series: str) -> Html:
    """No later meeting of the series is on record: as far as the sources were searched."""
    record = ctx.kb.series[series]
    latest = _latest_held(ctx, series)
    if latest is None:
        return ctx.t(MISSING_UNRECORDED, meeting=ctx.name(record), meetings=ctx.name(record))
    held = main_sentence(ctx, latest)
    numbers = [m.number for m in ctx.kb.meetings(series) if m.number is not None]
    if record.latest_checked and record.complete and numbers:
        asked = _code_of(ctx, series, max(numbers) + 1)
        return sentence(ctx.t(NEXT_NONE, next=asked, kind=ctx.name(record)), held)
    return sentence(ctx.t(NEXT_UNKNOWN, kind=ctx.name(record)), held)


def selected_series(ctx: Context, default: Iterable[str] | None = None) -> list[str]:
    """The series the question names that have meetings on record, else ``default`` (the
    main series: what "ASEM meetings" means in a list that names none)."""
    named = [s for s in ctx.kinds if ctx.kb.meetings(s)]
    if named:
        return named
    return [s for s in (ctx.kb.main_series if default is None else default) if s in ctx.kb.series]


def all_series(ctx: Context) -> list[str]:
    return [s for s in ctx.kb.series if ctx.kb.meetings(s)]


def _title(ctx: Context, series: list[str]) -> Html:
    """The heading for these series: one series' title, "summits and FMMs", or a list."""
    if len(series) == 1 and ctx.kb.series[series[0]].title is not None:
        return html(ctx.text(ctx.kb.series[series[0]].title))
    if set(series) == set(ctx.kb.main_series):
        return Html(ctx.kb.message(TITLE_ALL, ctx.lang))
    return ctx.join(ctx.text(ctx.kb.series[s].title or ctx.kb.series[s].name) for s in series)


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
                        THEME_FOCUS,
                        meeting=code(ctx, meeting),
                        theme=ctx.text(record.theme),
                        original=_original(ctx, record.theme),
                    )
                )
            elif record.theme_unverified:  # a theme some sources give, no official text
                parts.append(ctx.t(THEME_UNVERIFIED, meeting=code(ctx, meeting)))
            else:
                parts.append(ctx.t(THEME_NONE, meeting=code(ctx, meeting)))
            parts.append(main_sentence(ctx, meeting, "place"))
            parts += extras(ctx, meeting)
        else:
            parts.append(main_sentence(ctx, meeting, "date" if focus == "date" else "place"))
            parts += extras(ctx, meeting, theme=focus == "info")
        if len(ctx.meetings) == 1:
            buttons = neighbours(ctx, meeting)
    for series, number in ctx.missing_meetings:
        parts.append(missing(ctx, series, number))
    parent = list_action(ctx.meetings[0].kind) if ctx.meetings else None
    facts = frozenset(f for m in ctx.meetings for f in meeting_facts(ctx.kb, m))
    exists = bool(ctx.meetings) and not ctx.missing_meetings
    return Answer(paras(parts), buttons=buttons, parent=parent, facts=facts, exists=exists)


@composer("meeting.place", family="meeting.one")
def place(ctx: Context) -> Answer:
    return _single(ctx, "place")


@composer("meeting.date", family="meeting.one")
def date(ctx: Context) -> Answer:
    return _single(ctx, "date")


@composer("meeting.info", family="meeting.one")
def info(ctx: Context) -> Answer:
    return _single(ctx, "info")


@composer("meeting.theme", family="meeting.one")
def theme(ctx: Context) -> Answer:
    return _single(ctx, "theme")


# -- several meetings --------------------------------------------------------------------------


def _filtered(ctx: Context, series: list[str]) -> tuple[list[MeetingRef], list[Html]]:
    """The meetings of ``series`` that pass every filter in the question, and the filters'
    text."""
    kb = ctx.kb
    meetings = [m for s in series for m in kb.meetings(s)]
    described: list[Html] = []
    regions = ctx.values("region")
    if regions:
        meetings = [m for m in meetings if kb.meeting_region(m) in regions]
        described.append(
            ctx.t(FILTER[""], place=ctx.join(ctx.name(kb.regions[r]) for r in regions))
        )
    cities, countries = ctx.values("city"), ctx.countries
    if cities or countries:

        def held_there(m: MeetingRef) -> bool:
            city = m.record.city
            near = kb.cities[city].near if city else None  # Gödöllő, near Budapest
            return city in cities or near in cities or kb.meeting_country(m) in countries

        meetings = [m for m in meetings if held_there(m)]
        names = [ctx.name(kb.cities[c]) for c in cities] + [ctx.country(c) for c in countries]
        described.append(ctx.t(FILTER[""], place=ctx.join(names)))
    for relation, year in ctx.years():
        test = {
            "after": lambda y, year=year: y > year,
            "since": lambda y, year=year: y >= year,
            "before": lambda y, year=year: y < year,
            "until": lambda y, year=year: y <= year,
            "": lambda y, year=year: y == year,
        }[relation]
        meetings = [m for m in meetings if test(m.start.year)]
        described.append(ctx.t(FILTER[relation], place=str(year), year=year))
    for relation, day in ctx.days():
        if relation in ("after", "since"):
            meetings = [m for m in meetings if m.start > day]
        else:
            meetings = [m for m in meetings if m.end < day]
        described.append(
            ctx.t(FILTER[relation or "until"], place=ctx.date(day), year=ctx.date(day))
        )
    meetings.sort(key=lambda m: (m.start, m.kind))
    return meetings, described


def _listed(meetings: Iterable[MeetingRef]) -> tuple[tuple[str, str], ...]:
    return tuple(("meeting", m.key) for m in meetings)


def _filters(described: list[Html]) -> Html:
    return Html("").join(Html(" ") + d for d in described)


@composer("meeting.list", family="meeting.many")
def listing(ctx: Context) -> Answer:
    series = selected_series(ctx)
    meetings, described = _filtered(ctx, series)
    filters = _filters(described)
    if not meetings:
        text = ctx.t(LIST_NONE, title=_title(ctx, series), filters=filters)
        return Answer(text, exists=False)
    header = ctx.t(LIST_HEADER, title=_title(ctx, series), filters=filters, count=len(meetings))
    page = paginate([line(ctx, m) for m in meetings], ctx.page, PER_PAGE)
    shown = meetings[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in shown)
    text = header + Html("\n") + bullets(page.lines)
    return Answer(
        text,
        buttons=buttons,
        page=page.page,
        pages=page.pages,
        exists=True,
        listed=_listed(meetings),
    )


@composer("meeting.count", family="meeting.many")
def count(ctx: Context) -> Answer:
    series = selected_series(ctx)
    meetings, described = _filtered(ctx, series)
    held = [m for m in meetings if m.held]
    filters = _filters(described)
    if not held:
        return Answer(ctx.t(LIST_NONE, title=_title(ctx, series), filters=filters), exists=False)
    complete = all(ctx.kb.series[s].complete for s in series)
    template = COUNT if complete else COUNT_ON_RECORD
    parts = [ctx.t(template, count=len(held), title=_title(ctx, series), filters=filters)]
    if len(held) <= PER_PAGE:
        parts.append(bullets(line(ctx, m) for m in held))
    planned = [m for m in meetings if not m.held]
    if planned:
        parts.append(ctx.t(COUNT_PLANNED, meetings=ctx.join(code(ctx, m) for m in planned)))
    return Answer(lines(parts), exists=True, listed=_listed(held))


@composer("meeting.by_place", family="meeting.many")
def by_place(ctx: Context) -> Answer:
    series = selected_series(ctx, default=all_series(ctx))
    meetings, _ = _filtered(ctx, series)
    kb = ctx.kb
    names = [ctx.name(kb.cities[c]) for c in ctx.values("city")] + [
        ctx.country(c) for c in ctx.countries
    ]
    where = ctx.join(names)
    if len(meetings) == 1:  # "the Beijing summit": one meeting, so show its card
        return _card_of(ctx, meetings[0])
    heading = _title(ctx, series if ctx.kinds else list(ctx.kb.main_series))
    if not meetings:
        parts = [ctx.t(BY_PLACE_NONE, title=heading, place=where)]
        outsiders = [c for c in ctx.countries if c in kb.non_partners]
        if outsiders:
            parts.append(ctx.t(NOT_PARTNER, country=ctx.join(ctx.country(c) for c in outsiders)))
        return Answer(sentence(*parts), exists=False)
    heading = _title(ctx, sorted({m.kind for m in meetings}, key=list(kb.series).index))
    text = ctx.t(BY_PLACE, place=where, count=len(meetings), title=heading)
    text += Html("\n") + bullets(line(ctx, m) for m in meetings)
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in meetings[:PER_PAGE])
    return Answer(text, buttons=buttons, exists=True, listed=_listed(meetings))


def _card_of(ctx: Context, meeting: MeetingRef) -> Answer:
    """The card of the one meeting a place or a year names, remembered as what the reply
    showed (so "and its theme?" is about it)."""
    answer = info(Context(ctx.kb, ctx.lang, ctx.today, (("meeting", meeting.key),)))
    return dataclasses.replace(answer, listed=(("meeting", meeting.key),))


@composer("meeting.by_year", family="meeting.many")
def by_year(ctx: Context) -> Answer:
    if any(relation for relation, _ in ctx.years()):
        return listing(ctx)
    series = selected_series(ctx, default=all_series(ctx))
    parts: list[Html] = []
    found: list[MeetingRef] = []
    years = ctx.years()
    for _, year in years:
        meetings = [
            m for s in series for m in ctx.kb.meetings(s) if year in (m.start.year, m.end.year)
        ]
        meetings.sort(key=lambda m: m.start)
        found += meetings
        if len(years) == 1 and len(meetings) == 1:  # "the 2006 summit"
            return _card_of(ctx, meetings[0])
        if meetings:
            heading = _title(
                ctx, sorted({m.kind for m in meetings}, key=list(ctx.kb.series).index)
            )
            parts.append(ctx.t(BY_YEAR, year=year, title=heading))
            parts.append(bullets(line(ctx, m) for m in meetings))
        else:
            everything = [m for s in series for m in ctx.kb.meetings(s)]
            nearest = sorted(everything, key=lambda m: abs(m.start.year - year))[:2]
            heading = _title(ctx, series if ctx.kinds else list(ctx.kb.main_series))
            parts.append(
                ctx.t(
                    BY_YEAR_NONE,
                    year=year,
                    title=heading,
                    nearest=ctx.join(line(ctx, m) for m in sorted(nearest, key=lambda m: m.start)),
                )
            )
    buttons = tuple(Button(code(ctx, m), card_action(m)) for m in found[:PER_PAGE])
    return Answer(lines(parts), buttons=buttons, exists=bool(found), listed=_listed(found))


@composer("meeting.next", family="meeting.recent")
def upcoming(ctx: Context) -> Answer:
    parts: list[Html] = []
    for series in selected_series(ctx, default=("summit",)):
        planned = [m for m in ctx.kb.meetings(series) if not m.held and m.end >= ctx.today]
        if planned:
            parts.append(
                sentence(ctx.t(NEXT, kind=_name(ctx, series)), main_sentence(ctx, planned[0]))
            )
        else:
            parts.append(next_none(ctx, series))
    return Answer(paras(parts))


@composer("meeting.latest", family="meeting.recent")
def latest(ctx: Context) -> Answer:
    parts: list[Html] = []
    buttons: list[Button] = []
    shown: list[MeetingRef] = []
    for series in selected_series(ctx, default=("summit",)):
        meeting = _latest_held(ctx, series)
        if meeting is None:
            continue
        checked = ctx.kb.series[series].latest_checked
        parts.append(ctx.t(LATEST if checked else LATEST_ON_RECORD, kind=_name(ctx, series)))
        parts.append(main_sentence(ctx, meeting, "place"))
        parts += extras(ctx, meeting, theme=True)
        buttons.append(Button(code(ctx, meeting), card_action(meeting)))
        shown.append(meeting)
    # what it showed: "the one before that?" is the meeting before the latest
    return Answer(paras(parts), buttons=tuple(buttons), listed=_listed(shown))


@composer("meeting_kind.about")
def kind_about(ctx: Context) -> Answer:
    parts: list[Html] = []
    buttons: list[Button] = []
    for series_id in ctx.kinds:
        series = ctx.kb.series[series_id]
        parts.append(
            ctx.t(
                KIND,
                name=ctx.name(series),
                attendees=ctx.text(series.attendees),
                frequency=ctx.text(series.frequency),
                role=ctx.text(series.role),
            )
        )
        held = [m for m in ctx.kb.meetings(series_id) if m.held]
        if held:
            parts.append(
                ctx.t(
                    KIND_COUNT if series.complete else KIND_ON_RECORD,
                    count=len(held),
                    meeting=code(ctx, held[-1]),
                    dates=ctx.meeting_dates(held[-1]),
                    meetings=ctx.join(code(ctx, m) for m in held),
                )
            )
            buttons.append(Button(ctx.text(series.title), list_action(series_id)))  # type: ignore[arg-type]
    return Answer(paras(parts), buttons=tuple(buttons))
