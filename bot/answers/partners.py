"""Answers about ASEM's partners: membership, joining, groups, lists and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.actions import Action
from bot.answers import cambodia
from bot.answers.base import Answer, Context, Html, bullets, lines, paras, sentence
from bot.answers.meetings import card_action, code
from bot.answers.registry import composer
from bot.declare import msg
from bot.domain.kinds import Facts, day_facts
from bot.reply import Button, paginate

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge import MeetingRef
    from bot.knowledge import models as m

PER_PAGE = 15

PARTNERS_WORD = msg("partners_word")
PARTNER_MEMBER = msg("partner_member")
NOT_PARTNER = msg("not_partner")
PARTNER_GROUP = msg("partner_group")
PARTNER_GROUP_EARLIER = msg("partner_group_earlier")
IN_REGION = msg("in_region")
PARTNER_JOINED_FOUNDING = msg("partner_joined_founding")
PARTNER_JOINED_DECIDED = msg("partner_joined_decided")
PARTNER_JOINED_WELCOMED = msg("partner_joined_welcomed")
PARTNER_JOINED_DATE = msg("partner_joined_date")
PARTNER_JOINED = msg("partner_joined")
GROUP_MEMBERS = msg("group_members")
PARTNER_CARD_TITLE = msg("partner_card_title")
PARTNER_CARD_SINCE = msg("partner_card_since")
PARTNER_CARD_FOUNDING = msg("partner_card_founding")
PARTNER_HOSTED = msg("partner_hosted")
PARTNERS_IN_REGION = msg("partners_in_region")
PARTNERS_FOUNDING = msg("partners_founding")
PARTNERS_AS_OF = msg("partners_as_of")
PARTNERS_AT = msg("partners_at")
AT_MEETING = msg("at_meeting")
ON_DAY = msg("on_day")
PARTNERS_JOINED_AT = msg("partners_joined_at")
PARTNERS_JOINED_RELATIVE = {
    True: msg("partners_joined_after"),
    False: msg("partners_joined_before"),
}
PARTNER_GROUP_LIST = msg("partner_group_list")
PARTNER_LIST_HEADER = msg("partner_list_header")
PARTNER_LIST_NONE = msg("partner_list_none")
PARTNER_LINE = msg("partner_line")
PARTNER_COUNT_ALL = msg("partner_count_all")
PARTNER_COUNT = msg("partner_count")
NOTE = msg("note")


def card(country_id: str) -> str:
    return Action("partner.info", (("country", country_id),)).encode()


def group_action(group_id: str) -> str:
    return Action("partner.list", (("group", group_id),)).encode()


# -- one partner -------------------------------------------------------------------------------


def _not_partner(ctx: Context, country_id: str) -> Html:
    record = ctx.kb.non_partners[country_id]
    text = ctx.t(NOT_PARTNER, country=ctx.country(record.id))
    if record.note:
        text = sentence(text, ctx.text(record.note))
    return text


def membership(ctx: Context, partner: m.Partner) -> Html:
    return ctx.t(PARTNER_MEMBER, country=ctx.country(partner.id), total=len(ctx.kb.partners))


def group_line(ctx: Context, partner: m.Partner) -> Html:
    """Its group, and the groups it was in before ("... was one of the EU member states until
    31 January 2020; since then ...")."""
    group = ctx.kb.groups[partner.group]
    region = ""
    if group.region:
        region = Html(" ") + ctx.t(IN_REGION, region=ctx.name(ctx.kb.regions[group.region]))
    values = {"country": ctx.country(partner.id), "group": ctx.name(group), "region": region}
    if partner.earlier_groups:
        earlier = partner.earlier_groups[-1]
        return ctx.t(
            PARTNER_GROUP_EARLIER,
            earlier=ctx.name(ctx.kb.groups[earlier.group]),
            until=ctx.date(earlier.until),
            **values,
        )
    return ctx.t(PARTNER_GROUP, **values)


def _asked_days(ctx: Context) -> list[dt.date]:
    """The days a question asks about: a meeting's, a day's, a year's first and last."""
    days = [mt.start for mt in ctx.meetings]
    days += [day for _, day in ctx.days()]
    for _, year in ctx.years():
        days += [dt.date(year, 1, 1), dt.date(year, 12, 31)]
    return days


def joining(ctx: Context, partner: m.Partner) -> Html:
    kb = ctx.kb
    joined = partner.joined
    summit = kb.summits[joined.summit - 1]
    values = {
        "country": ctx.country(partner.id),
        "meeting": code(ctx, summit),
        "place": ctx.where(summit),
        "dates": ctx.meeting_dates(summit),
        "year": kb.joined_year(partner),
    }
    if joined.summit == 1:
        text = ctx.t(PARTNER_JOINED_FOUNDING, **values)
    elif joined.decided_at_summit:
        decided = kb.summits[joined.decided_at_summit - 1]
        values |= {
            "decided": code(ctx, decided),
            "decided_place": ctx.where(decided),
            "decided_year": decided.start.year,
        }
        text = ctx.t(PARTNER_JOINED_DECIDED, **values)
        if joined.welcomed_at_fmm:
            fmm = kb.fmms[joined.welcomed_at_fmm - 1]
            text = sentence(
                text,
                ctx.t(
                    PARTNER_JOINED_WELCOMED,
                    meeting=code(ctx, fmm),
                    place=ctx.where(fmm),
                    dates=ctx.meeting_dates(fmm),
                ),
            )
    elif joined.date:
        text = ctx.t(PARTNER_JOINED_DATE, date=ctx.date(joined.date), **values)
    else:
        text = ctx.t(PARTNER_JOINED, **values)
    if joined.note and not joined.decided_at_summit:
        text = sentence(text, ctx.t(NOTE, text=ctx.text(joined.note)))
    return text


def hosted(ctx: Context, country_id: str) -> list[MeetingRef]:
    return [mt for mt in ctx.kb.all_meetings() if ctx.kb.meeting_country(mt) == country_id]


def partner_facts(ctx: Context, country_id: str, *, as_of: bool = False) -> Facts:
    """What the records say of a country that a yes/no question may name: whether it is a
    partner, its group and region, whether it is a founding partner, and either when it
    joined (each year of a joining in stages, and those summits: "did Australia join at
    ASEM8?") or, ``as_of``, every year and meeting it has been a partner at ("was Croatia a
    partner at ASEM9?", "was Kazakhstan in ASEM in 2018?")."""
    kb = ctx.kb
    partner = kb.partners.get(country_id)
    if partner is None:
        return frozenset({("country", country_id), ("member", "no")})
    facts = {("country", country_id), ("member", "yes")}
    # its group then, when the question names a time ("was the UK in the EU in 1996?")
    days: list[dt.date | None] = [*_asked_days(ctx)] if as_of else []
    facts |= {("group", kb.group_of(partner, day)) for day in days or [None]}
    region = kb.partner_region(country_id)
    if region:
        facts.add(("region", region))
    joined = partner.joined
    # "was Croatia a founding member?": whether it is one is always stated
    founding = joined.summit == kb.asem.founding.first_summit
    facts.add(("flag", "founding" if founding else "later"))
    if as_of:
        since = kb.partner_since(partner)
        facts |= {("meeting", mt.key) for mt in kb.all_meetings() if mt.start >= since}
        facts |= {("year", str(y)) for y in range(since.year, max(since.year, ctx.today.year) + 1)}
        facts.add(("since", since.strftime("%Y%m%d")))
        return frozenset(facts)
    summits = [joined.summit, joined.decided_at_summit]
    facts |= {("meeting", f"summit_{n}") for n in summits if n}
    if joined.welcomed_at_fmm:
        facts.add(("meeting", f"fmm_{joined.welcomed_at_fmm}"))
    facts |= {("year", str(y)) for y in _joining_years(ctx, partner)}
    # the days of each stage: "did Cambodia join on 8 October 2004?" (no: on the 7th)
    for start, end in _joining_days(ctx, partner):
        facts |= day_facts(start, end)
    return frozenset(facts)


def _joining_days(ctx: Context, partner: m.Partner) -> list[tuple[dt.date, dt.date]]:
    """The first and last day of each stage of a joining: the admission day (else the first
    summit's days), the summit that decided it, the FMM that welcomed it."""
    kb = ctx.kb
    joined = partner.joined
    summit = kb.summits[joined.summit - 1]
    days = [(joined.date, joined.date) if joined.date else (summit.start, summit.end)]
    if joined.decided_at_summit:
        decided = kb.summits[joined.decided_at_summit - 1]
        days.append((decided.start, decided.end))
    if joined.welcomed_at_fmm:
        fmm = kb.fmms[joined.welcomed_at_fmm - 1]
        days.append((fmm.start, fmm.end))
    return days


def _each_country(
    ctx: Context, render: Callable[[m.Partner], Html], *, as_of: bool = False
) -> Answer:
    parts: list[Html] = []
    for country_id in ctx.countries:
        partner = ctx.kb.partners.get(country_id)
        parts.append(render(partner) if partner else _not_partner(ctx, country_id))
    buttons: tuple[Button, ...] = ()
    if len(ctx.countries) == 1 and ctx.countries[0] in ctx.kb.partners:
        label = ctx.kb.country_name(ctx.countries[0], ctx.lang)
        buttons = (Button(label, card(ctx.countries[0])),)
    facts = frozenset(f for c in ctx.countries for f in partner_facts(ctx, c, as_of=as_of))
    exists = all(c in ctx.kb.partners for c in ctx.countries)
    return Answer(paras(parts), buttons=buttons, facts=facts, exists=exists)


@composer("partner.is_member", family="partner.one")
def is_member(ctx: Context) -> Answer:
    """Is X a partner (of ASEM; of a group, when one is named beside it)? Are all of a group?"""
    if ctx.countries:
        if ctx.values("group"):  # "is Norway in the EU?": its group first
            return _each_country(
                ctx,
                lambda partner: sentence(group_line(ctx, partner), membership(ctx, partner)),
                as_of=True,
            )
        if ctx.meetings or ctx.days() or ctx.years():  # "was Croatia a partner at ASEM9?"
            return _each_country(
                ctx,
                lambda partner: sentence(joining(ctx, partner), group_line(ctx, partner)),
                as_of=True,
            )
        return _each_country(
            ctx,
            lambda partner: sentence(
                membership(ctx, partner), group_line(ctx, partner), joining(ctx, partner)
            ),
            as_of=True,
        )
    parts: list[Html] = []
    for group_id in ctx.values("group"):
        group = ctx.kb.groups[group_id]
        members = ctx.kb.partners_in_group(group_id)
        parts.append(
            ctx.t(
                GROUP_MEMBERS,
                count=len(members),
                group=ctx.name(group),
                names=ctx.join(ctx.country(p.id) for p in members),
                description=ctx.text(group.description),
            )
        )
    return Answer(paras(parts), exists=bool(parts))


@composer("partner.joined", family="partner.one")
def joined(ctx: Context) -> Answer:
    return _each_country(ctx, lambda partner: joining(ctx, partner))


@composer("partner.group", family="partner.one")
def group(ctx: Context) -> Answer:
    return _each_country(ctx, lambda partner: group_line(ctx, partner))


@composer("partner.info", family="partner.one")
def info(ctx: Context) -> Answer:
    parts: list[Html] = []
    buttons: list[Button] = []
    for country_id in ctx.countries:
        partner = ctx.kb.partners.get(country_id)
        if partner is None:
            parts.append(_not_partner(ctx, country_id))
            continue
        # a card, not a yes: "Brunei Darussalam in ASEM / A founding partner (1996). One of
        # the ASEAN member states..." rather than "Brunei Darussalam is one of ASEM's partners"
        founding = partner.joined.summit == ctx.kb.asem.founding.first_summit
        since = ctx.t(
            PARTNER_CARD_FOUNDING if founding else PARTNER_CARD_SINCE,
            year=ctx.kb.joined_year(partner),
            total=len(ctx.kb.partners),
        )
        card_lines = [
            Html("<b>") + ctx.t(PARTNER_CARD_TITLE, country=ctx.name(partner)) + Html("</b>"),
            sentence(since, group_line(ctx, partner)),
            joining(ctx, partner),
        ]
        meetings = hosted(ctx, country_id)
        if meetings:
            card_lines.append(
                ctx.t(PARTNER_HOSTED, meetings=ctx.join(code(ctx, mt) for mt in meetings))
            )
            buttons += [Button(code(ctx, mt), card_action(mt)) for mt in meetings]
        if partner.note:
            card_lines.append(ctx.t(NOTE, text=ctx.text(partner.note)))
        if country_id == ctx.kb.cambodia.partner:
            extra_lines, extra_buttons = cambodia.overview(ctx)
            card_lines += extra_lines
            buttons += extra_buttons
        parts.append(lines(card_lines))
    facts = frozenset(f for c in ctx.countries for f in partner_facts(ctx, c, as_of=True))
    exists = all(c in ctx.kb.partners for c in ctx.countries)
    return Answer(
        paras(parts),
        buttons=tuple(buttons),
        parent=Action("partner.list").encode(),
        facts=facts,
        exists=exists,
    )


# -- several partners --------------------------------------------------------------------------


def _select(ctx: Context) -> tuple[list[m.Partner], Html]:
    """The partners the question asks for, and a phrase saying which ("founding partners")."""
    kb = ctx.kb
    partners = list(kb.partners.values())
    what = Html(ctx.kb.message(PARTNERS_WORD, ctx.lang))
    groups, regions = ctx.values("group"), ctx.values("region")
    # "how many partners at FMM10?", "partners when Cambodia joined": as of that day
    moment = _moment(ctx)
    day = _group_day(ctx)
    if groups:
        partners = [p for p in partners if kb.group_of(p, day) in groups]
        what = ctx.join(ctx.name(kb.groups[g]) for g in groups)
    elif regions:
        partners = [p for p in partners if kb.partner_region(p.id) in regions]
        what = ctx.t(PARTNERS_IN_REGION, region=ctx.join(ctx.name(kb.regions[r]) for r in regions))
    if moment is not None and not ctx.flags & {"joining", "founding", "newest"}:
        day, label = moment
        partners = [p for p in partners if kb.partner_since(p) <= day]
        return partners, ctx.t(PARTNERS_AT, what=what, when=label)
    joined_days = [(r, d) for r, d in ctx.days() if r in ("after", "since", "before", "until")]
    if joined_days and "joining" in ctx.flags:
        # "which partners joined after ASEM8": by the day each joined
        relation, day = joined_days[0]
        later = relation in ("after", "since")
        partners = [p for p in partners if (kb.partner_since(p) > day) == later]
        label = ctx.t(PARTNERS_JOINED_RELATIVE[later], what=what, date=ctx.date(day))
        return partners, label
    rounds: set[int] = set()
    if "founding" in ctx.flags:
        rounds.add(1)
    if "newest" in ctx.flags:
        rounds.add(max(p.joined.summit for p in kb.partners.values()))
    for meeting in ctx.meetings:
        if meeting.kind == "summit" and meeting.number:
            rounds.add(meeting.number)
            rounds |= {
                p.joined.summit
                for p in kb.partners.values()
                if p.joined.decided_at_summit == meeting.number
            }
    for country_id in ctx.countries:
        if country_id in kb.partners:
            rounds.add(kb.partners[country_id].joined.summit)
    years = [year for _, year in ctx.years()]
    if years and not (rounds or "joining" in ctx.flags):
        # "how many partners did ASEM have in 2008": everyone who had joined by then
        partners = [p for p in partners if kb.joined_year(p) <= max(years)]
        return partners, ctx.t(PARTNERS_AS_OF, what=what, year=max(years))
    if years:
        rounds |= {p.joined.summit for p in kb.partners.values() if _joined_in(ctx, p, years)}
    if rounds or years:
        partners = [p for p in partners if p.joined.summit in rounds]
        summits = [kb.summits[n - 1] for n in sorted(rounds)]
        if rounds == {1}:
            what = ctx.t(PARTNERS_FOUNDING, what=what)
        else:
            what = ctx.t(
                PARTNERS_JOINED_AT,
                what=what,
                meetings=ctx.join(f"{code(ctx, s)} ({s.start.year})" for s in summits),
            )
    return partners, what


def _moment(ctx: Context) -> tuple[dt.date, Html] | None:
    """The day a list of partners is asked as of: a meeting's (the partners at it), or a date
    a reference gave ("when Cambodia joined", "by 2008")."""
    if len(ctx.meetings) == 1 and not ctx.countries:
        meeting = ctx.meetings[0]
        dates = ctx.meeting_dates(meeting)
        return meeting.end, ctx.t(AT_MEETING, meeting=code(ctx, meeting), dates=dates)
    for relation, day in ctx.days():
        # "partners after ASEM8" (not joined after: that is a flag): as of the day after it
        if relation in ("until", "before", "", "after", "since"):
            return day, ctx.t(ON_DAY, date=ctx.date(day))
    return None


def _group_day(ctx: Context) -> dt.date | None:
    """The day whose groups a list of partners shows: the moment asked, the last day of the
    latest year asked ("EU members in ASEM in 2008"), the first summit's for the founders;
    None for today."""
    moment = _moment(ctx)
    if moment is not None:
        return moment[0]
    years = [year for _, year in ctx.years()]
    if years:
        return dt.date(max(years), 12, 31)
    if "founding" in ctx.flags:
        return ctx.kb.summits[0].start
    return None


def _joining_years(ctx: Context, partner: m.Partner) -> set[int]:
    """The years a partner joined: one, or each stage of a joining in stages (decided 2006,
    welcomed 2007, first summit 2008)."""
    kb = ctx.kb
    joined = partner.joined
    years = {kb.joined_year(partner)}
    if joined.decided_at_summit:
        years.add(kb.summits[joined.decided_at_summit - 1].start.year)
    if joined.welcomed_at_fmm:
        years.add(kb.fmms[joined.welcomed_at_fmm - 1].start.year)
    return years


def _joined_in(ctx: Context, partner: m.Partner, years: list[int]) -> bool:
    return bool(_joining_years(ctx, partner) & set(years))


def _grouped(ctx: Context, partners: list[m.Partner]) -> list[Html]:
    """The partners by group, each in the group it was in on the day asked."""
    day = _group_day(ctx)
    rows = []
    for group_id, group in ctx.kb.groups.items():
        members = [p for p in partners if ctx.kb.group_of(p, day) == group_id]
        if members:
            rows.append(
                ctx.t(
                    PARTNER_GROUP_LIST,
                    group=ctx.name(group),
                    count=len(members),
                    names=ctx.join(ctx.country(p.id) for p in members),
                )
            )
    return rows


@composer("partner.list", family="partner.many")
def listing(ctx: Context) -> Answer:
    partners, what = _select(ctx)
    header = ctx.t(PARTNER_LIST_HEADER, count=len(partners), what=what)
    if not partners:
        return Answer(ctx.t(PARTNER_LIST_NONE, what=what))
    day = _group_day(ctx)
    groups = {ctx.kb.group_of(p, day) for p in partners}
    if len(groups) > 1 and len(partners) > PER_PAGE:
        # An overview by group, with a button per group to open its own list.
        rows = _grouped(ctx, partners)
        buttons = tuple(
            Button(ctx.name(ctx.kb.groups[g]), group_action(g))
            for g in ctx.kb.groups
            if g in groups
        )
        listed = tuple(("country", p.id) for p in partners)
        return Answer(header + Html("\n") + bullets(rows), buttons=buttons, listed=listed)
    entries = [
        ctx.t(
            PARTNER_LINE,
            country=ctx.name(p),
            year=ctx.kb.joined_year(p),
            meeting=code(ctx, ctx.kb.summits[p.joined.summit - 1]),
        )
        for p in partners
    ]
    page = paginate(entries, ctx.page, PER_PAGE)
    shown = partners[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    buttons = tuple(Button(ctx.name(p), card(p.id)) for p in shown)
    text = header + Html("\n") + bullets(page.lines)
    parent = Action("partner.list").encode() if ctx.slots else None
    listed = tuple(("country", p.id) for p in partners)
    return Answer(
        text, buttons=buttons, page=page.page, pages=page.pages, parent=parent, listed=listed
    )


@composer("partner.count", family="partner.many")
def count(ctx: Context) -> Answer:
    partners, what = _select(ctx)
    kb = ctx.kb
    if len(partners) == len(kb.partners) and _moment(ctx) is None:
        countries = [p for p in partners if kb.groups[p.group].region]
        institutions = [p for p in partners if not kb.groups[p.group].region]
        text = ctx.t(
            PARTNER_COUNT_ALL,
            total=len(partners),
            countries=len(countries),
            asia=len(kb.partners_in_region("asia")),
            europe=len(kb.partners_in_region("europe")),
            institutions=len(institutions),
            names=ctx.join(ctx.country(p.id) for p in institutions),
        )
        return Answer(text + Html("\n") + bullets(_grouped(ctx, partners)))
    if not partners:  # "how many countries joined at ASEM13?": none
        return Answer(ctx.t(PARTNER_LIST_NONE, what=what))
    text = ctx.t(PARTNER_COUNT, count=len(partners), what=what)
    return Answer(text + Html("\n") + bullets(_grouped(ctx, partners)))
