"""Answer composers, one module per topic, and the registry that maps intents to them.

An intent whose question in the knowledge base carries its own ``answer`` (small talk, for
instance) needs no composer: :func:`prose` shows that answer. Every other intent must be
registered here; ``asem-bot validate`` checks both ways.
"""

from __future__ import annotations

from bot.answers import areas, asef, asem, cambodia, meetings, partners
from bot.answers.base import Answer, Composer, Context, Html

COMPOSERS: dict[str, Composer] = {
    "meeting.place": meetings.place,
    "meeting.date": meetings.date,
    "meeting.info": meetings.info,
    "meeting.theme": meetings.theme,
    "meeting.by_place": meetings.by_place,
    "meeting.by_year": meetings.by_year,
    "meeting.list": meetings.listing,
    "meeting.count": meetings.count,
    "meeting.next": meetings.upcoming,
    "meeting.latest": meetings.latest,
    "meeting_kind.about": meetings.kind_about,
    "partner.is_member": partners.is_member,
    "partner.joined": partners.joined,
    "partner.group": partners.group,
    "partner.info": partners.info,
    "partner.list": partners.listing,
    "partner.count": partners.count,
    "area.list": areas.listing,
    "area.check": areas.check,
    "asef.about": asef.about,
    "asef.founded": asef.founded,
    "asef.funding": asef.funding,
    "asef.location": asef.location,
    "asef.cambodia": cambodia.asef,
    "asem.about": asem.about,
    "asem.founding": asem.founding,
    "asem.pillars": asem.pillars,
    "asem.share": asem.share,
    "asem.secretariat": asem.secretariat,
    "asem.coordinators": asem.coordinators,
    "asem.day": asem.day,
    "asem.website": asem.website,
    "cambodia.benefits": cambodia.benefits,
    "asem13.side_events": cambodia.side_events,
    "asem13.organisation": cambodia.organisation,
    "asem13.outcome": cambodia.outcome,
}

# Intents whose answers overlap so much that either is right for the other's question:
# "where was ASEM5?" answered with the date-focused sentence still names the place.
FAMILIES: dict[str, str] = {
    "meeting.place": "meeting.one",
    "meeting.date": "meeting.one",
    "meeting.info": "meeting.one",
    "meeting.theme": "meeting.one",
    "meeting.by_place": "meeting.many",
    "meeting.by_year": "meeting.many",
    "meeting.list": "meeting.many",
    "meeting.count": "meeting.many",
    "meeting.next": "meeting.recent",
    "meeting.latest": "meeting.recent",
    "partner.is_member": "partner.one",
    "partner.joined": "partner.one",
    "partner.group": "partner.one",
    "partner.info": "partner.one",
    "partner.list": "partner.many",
    "partner.count": "partner.many",
    "area.list": "area",
    "area.check": "area",
}


# Every message key the composers and channels use; `asem-bot validate` reports a missing one.
MESSAGE_KEYS: frozenset[str] = frozenset(
    {
        "months",
        "welcome",
        "menu_about",
        "menu_summits",
        "menu_fmms",
        "menu_partners",
        "menu_areas",
        "menu_asef",
        "menu_cambodia",
        "and_separator",
        "then_separator",
        "note",
        "plain",
        "unverified_seed",
        "in_region",
        "decline",
        "did_you_mean",
        "empty",
        "meeting_code_summit",
        "meeting_code_fmm",
        "kind_summit",
        "kind_fmm",
        "meetings_title_summit",
        "meetings_title_fmm",
        "meetings_title_all",
        "meeting_place_in_person",
        "meeting_place_virtual",
        "meeting_place_planned",
        "meeting_date_in_person",
        "meeting_date_virtual",
        "meeting_date_planned",
        "meeting_line_in_person",
        "meeting_line_virtual",
        "meeting_line_planned",
        "meeting_theme",
        "meeting_theme_focus",
        "meeting_theme_none",
        "meeting_earlier_plans",
        "meeting_missing",
        "meeting_next_none",
        "meeting_next",
        "meeting_latest",
        "meeting_list_header",
        "meeting_list_none",
        "meeting_count",
        "meeting_count_planned",
        "filter_in",
        "filter_after",
        "filter_since",
        "filter_before",
        "filter_until",
        "meeting_by_place",
        "meeting_by_place_none",
        "meeting_by_year",
        "meeting_by_year_none",
        "meeting_kind",
        "meeting_kind_count",
        "partners_word",
        "partner_yes",
        "not_partner",
        "partner_group",
        "partner_joined_founding",
        "partner_joined_decided",
        "partner_joined_welcomed",
        "partner_joined_date",
        "partner_joined",
        "group_members",
        "partner_card_title",
        "partner_hosted",
        "partners_in_region",
        "partners_founding",
        "partners_as_of",
        "partners_joined_at",
        "partner_group_list",
        "partner_list_header",
        "partner_list_none",
        "partner_line",
        "partner_count_all",
        "partner_count",
        "area_list_header",
        "area_line",
        "area_yes",
        "areas_unverified",
        "asef_founded",
        "asef_about",
        "asem_name",
        "asef_location",
        "asem_about_facts",
        "asem_founding",
        "asem_pillars",
        "asem_share",
        "asem_share_line",
        "asem_day",
        "asem_day_cambodia",
        "asem_website",
        "cambodia_benefits",
        "cambodia_asef_contribution",
        "cambodia_event",
        "asem13_side_events",
        "button_asem13",
        "button_cambodia_asef",
        "button_benefits",
    }
)


def family(intent: str) -> str:
    return FAMILIES.get(intent, intent)


def prose(ctx: Context, intent: str) -> Answer:
    """The answer written in the knowledge base itself (already HTML)."""
    question = ctx.kb.question(intent)
    assert question is not None and question.answer is not None
    return Answer(Html(question.answer.get(ctx.lang)))


__all__ = ["COMPOSERS", "FAMILIES", "MESSAGE_KEYS", "Answer", "Context", "family", "prose"]
