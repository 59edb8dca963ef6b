"""Answers about ASEM's partners: membership, joining, groups, lists and counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.actions import Action
from bot.answers import cambodia
from bot.answers.base import Answer, Context, Html
from bot.answers.meetings import card_action, code
from bot.reply import Button, paginate

if TYPE_CHECKING:  # validated records are frozen copies at run time (bot.knowledge.frozen)
    from bot.knowledge import models as m

PER_PAGE = 15


def card(country_id: str) -> str:
    return Action("partner.info", (("country", country_id),)).encode()


def group_action(group_id: str) -> str:
    return Action("partner.list", (("group", group_id),)).encode()


# -- one partner -------------------------------------------------------------------------------


def _not_partner(ctx: Context, country_id: str) -> Html:
    record = ctx.kb.non_partners[country_id]
    text = ctx.t("not_partner", country=ctx.country(record.id))
    if record.note:
        text = Html(text + " " + ctx.text(record.note))
    return text


def membership(ctx: Context, partner: m.Partner) -> Html:
    return ctx.t("partner_yes", country=ctx.country(partner.id), total=len(ctx.kb.partners))


def group_line(ctx: Context, partner: m.Partner) -> Html:
    group = ctx.kb.groups[partner.group]
    region = ""
    if group.region:
        region = " " + ctx.t("in_region", region=ctx.name(ctx.kb.regions[group.region]))
    return ctx.t(
        "partner_group", country=ctx.country(partner.id), group=ctx.name(group), region=region
    )


def joining(ctx: Context, partner: m.Partner) -> Html:
    kb = ctx.kb
    joined = partner.joined
    summit = kb.summits[joined.summit - 1]
    values = {
        "country": ctx.country(partner.id),
        "meeting": code(ctx, summit),
        "place": ctx.place(summit.record.city),
        "dates": ctx.dates(summit.start, summit.end),
        "year": kb.joined_year(partner),
    }
    if joined.summit == 1:
        text = ctx.t("partner_joined_founding", **values)
    elif joined.decided_at_summit:
        decided = kb.summits[joined.decided_at_summit - 1]
        values |= {
            "decided": code(ctx, decided),
            "decided_place": ctx.place(decided.record.city),
            "decided_year": decided.start.year,
        }
        text = ctx.t("partner_joined_decided", **values)
        if joined.welcomed_at_fmm:
            fmm = kb.fmms[joined.welcomed_at_fmm - 1]
            text = Html(
                text
                + " "
                + ctx.t(
                    "partner_joined_welcomed",
                    meeting=code(ctx, fmm),
                    place=ctx.place(fmm.record.city),
                    dates=ctx.dates(fmm.start, fmm.end),
                )
            )
    elif joined.date:
        text = ctx.t("partner_joined_date", date=ctx.date(joined.date), **values)
    else:
        text = ctx.t("partner_joined", **values)
    if joined.note and not joined.decided_at_summit:
        text = Html(text + " " + ctx.t("note", text=ctx.text(joined.note)))
    return text


def hosted(ctx: Context, country_id: str) -> list:
    return [mt for mt in ctx.kb.all_meetings() if ctx.kb.meeting_country(mt) == country_id]


def _each_country(ctx: Context, render: Callable[[m.Partner], Html]) -> Answer:
    parts: list[Html] = []
    for country_id in ctx.countries:
        partner = ctx.kb.partners.get(country_id)
        parts.append(render(partner) if partner else _not_partner(ctx, country_id))
    buttons = ()
    if len(ctx.countries) == 1 and ctx.countries[0] in ctx.kb.partners:
        label = ctx.kb.country_name(ctx.countries[0], ctx.lang)
        buttons = (Button(label, card(ctx.countries[0])),)
    return Answer("\n\n".join(parts), buttons=buttons)


def is_member(ctx: Context) -> Answer:
    parts: list[Html] = []
    for group_id in ctx.values("group"):
        group = ctx.kb.groups[group_id]
        members = ctx.kb.partners_in_group(group_id)
        parts.append(
            ctx.t(
                "group_members",
                count=len(members),
                group=ctx.name(group),
                names=ctx.join(ctx.country(p.id) for p in members),
                description=ctx.text(group.description),
            )
        )
    for country_id in ctx.countries:
        partner = ctx.kb.partners.get(country_id)
        if partner is None:
            parts.append(_not_partner(ctx, country_id))
            continue
        parts.append(
            Html(
                membership(ctx, partner)
                + " "
                + group_line(ctx, partner)
                + " "
                + joining(ctx, partner)
            )
        )
    buttons = tuple(
        Button(ctx.kb.country_name(c, ctx.lang), card(c))
        for c in ctx.countries
        if c in ctx.kb.partners
    )
    return Answer("\n\n".join(parts), buttons=buttons)


def joined(ctx: Context) -> Answer:
    return _each_country(ctx, lambda partner: joining(ctx, partner))


def group(ctx: Context) -> Answer:
    return _each_country(ctx, lambda partner: group_line(ctx, partner))


def info(ctx: Context) -> Answer:
    parts: list[Html] = []
    buttons: list[Button] = []
    for country_id in ctx.countries:
        partner = ctx.kb.partners.get(country_id)
        if partner is None:
            parts.append(_not_partner(ctx, country_id))
            continue
        lines = [
            Html(f"<b>{ctx.t('partner_card_title', country=ctx.name(partner))}</b>"),
            Html(membership(ctx, partner) + " " + group_line(ctx, partner)),
            joining(ctx, partner),
        ]
        meetings = hosted(ctx, country_id)
        if meetings:
            lines.append(
                ctx.t("partner_hosted", meetings=ctx.join(code(ctx, mt) for mt in meetings))
            )
            buttons += [Button(code(ctx, mt), card_action(mt)) for mt in meetings]
        if partner.note:
            lines.append(ctx.t("note", text=ctx.text(partner.note)))
        if country_id == ctx.kb.cambodia.partner:
            extra_lines, extra_buttons = cambodia.overview(ctx)
            lines += extra_lines
            buttons += extra_buttons
        parts.append(Html("\n".join(lines)))
    return Answer(
        "\n\n".join(parts), buttons=tuple(buttons), parent=Action("partner.list").encode()
    )


# -- several partners --------------------------------------------------------------------------


def _select(ctx: Context) -> tuple[list[m.Partner], Html]:
    """The partners the question asks for, and a phrase saying which ("founding partners")."""
    kb = ctx.kb
    partners = list(kb.partners.values())
    what = ctx.kb.message("partners_word", ctx.lang)
    groups, regions = ctx.values("group"), ctx.values("region")
    if groups:
        partners = [p for p in partners if p.group in groups]
        what = ctx.join(ctx.name(kb.groups[g]) for g in groups)
    elif regions:
        partners = [p for p in partners if kb.partner_region(p.id) in regions]
        what = ctx.t(
            "partners_in_region", region=ctx.join(ctx.name(kb.regions[r]) for r in regions)
        )
    rounds: set[int] = set()
    if "founding" in ctx.flags:
        rounds.add(1)
    if "newest" in ctx.flags:
        rounds.add(max(p.joined.summit for p in kb.partners.values()))
    for meeting in ctx.meetings:
        if meeting.kind == "summit":
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
        return partners, ctx.t("partners_as_of", what=what, year=max(years))
    if years:
        rounds |= {p.joined.summit for p in kb.partners.values() if _joined_in(ctx, p, years)}
    if rounds or years:
        partners = [p for p in partners if p.joined.summit in rounds]
        summits = [kb.summits[n - 1] for n in sorted(rounds)]
        if rounds == {1}:
            what = ctx.t("partners_founding", what=what)
        else:
            what = ctx.t(
                "partners_joined_at",
                what=what,
                meetings=ctx.join(f"{code(ctx, s)} ({s.start.year})" for s in summits),
            )
    return partners, Html(what)


def _joined_in(ctx: Context, partner: m.Partner, years: list[int]) -> bool:
    kb = ctx.kb
    joined = partner.joined
    candidates = {kb.joined_year(partner)}
    if joined.decided_at_summit:
        candidates.add(kb.summits[joined.decided_at_summit - 1].start.year)
    if joined.welcomed_at_fmm:
        candidates.add(kb.fmms[joined.welcomed_at_fmm - 1].start.year)
    return bool(candidates & set(years))


def _grouped(ctx: Context, partners: list[m.Partner]) -> list[Html]:
    lines = []
    for group_id, group in ctx.kb.groups.items():
        members = [p for p in partners if p.group == group_id]
        if members:
            lines.append(
                ctx.t(
                    "partner_group_list",
                    group=ctx.name(group),
                    count=len(members),
                    names=ctx.join(ctx.country(p.id) for p in members),
                )
            )
    return lines


def listing(ctx: Context) -> Answer:
    partners, what = _select(ctx)
    header = ctx.t("partner_list_header", count=len(partners), what=what)
    if not partners:
        return Answer(ctx.t("partner_list_none", what=what))
    groups = {p.group for p in partners}
    if len(groups) > 1 and len(partners) > PER_PAGE:
        # An overview by group, with a button per group to open its own list.
        lines = _grouped(ctx, partners)
        buttons = tuple(
            Button(ctx.name(ctx.kb.groups[g]), group_action(g))
            for g in ctx.kb.groups
            if g in groups
        )
        return Answer(header + "\n" + "\n".join(f"• {x}" for x in lines), buttons=buttons)
    rows = [
        ctx.t(
            "partner_line",
            country=ctx.name(p),
            year=ctx.kb.joined_year(p),
            meeting=code(ctx, ctx.kb.summits[p.joined.summit - 1]),
        )
        for p in partners
    ]
    page = paginate(rows, ctx.page, PER_PAGE)
    shown = partners[page.page * PER_PAGE : (page.page + 1) * PER_PAGE]
    buttons = tuple(Button(ctx.name(p), card(p.id)) for p in shown)
    text = header + "\n" + "\n".join(f"• {row}" for row in page.lines)
    parent = Action("partner.list").encode() if ctx.slots else None
    return Answer(text, buttons=buttons, page=page.page, pages=page.pages, parent=parent)


def count(ctx: Context) -> Answer:
    partners, what = _select(ctx)
    kb = ctx.kb
    if len(partners) == len(kb.partners):
        countries = [p for p in partners if kb.groups[p.group].region]
        institutions = [p for p in partners if not kb.groups[p.group].region]
        text = ctx.t(
            "partner_count_all",
            total=len(partners),
            countries=len(countries),
            asia=len(kb.partners_in_region("asia")),
            europe=len(kb.partners_in_region("europe")),
            institutions=len(institutions),
            names=ctx.join(ctx.country(p.id) for p in institutions),
        )
        lines = _grouped(ctx, partners)
        return Answer(text + "\n" + "\n".join(f"• {x}" for x in lines))
    text = ctx.t("partner_count", count=len(partners), what=what)
    lines = _grouped(ctx, partners)
    return Answer(text + "\n" + "\n".join(f"• {x}" for x in lines))
