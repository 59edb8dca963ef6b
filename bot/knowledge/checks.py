"""Checks that span records and files: unique ids, references that resolve, counts that agree.

Each check reports :class:`Problem` objects pointing at the YAML line of the offending value.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from bot.knowledge import models as m
from bot.knowledge.base import phrasings
from bot.knowledge.yamlfile import Path_, Problem, YamlDocument

Files = dict[str, Any]


_LATIN_MARKS = dict.fromkeys(range(0x0300, 0x0370))  # combining accents of Latin letters


def fold(text: str) -> str:
    """Compare names loosely: no accents, no case, no punctuation or spaces."""
    kept = unicodedata.normalize("NFKD", text).translate(_LATIN_MARKS)
    return _NOT_WORD.sub("", kept.casefold())


_NOT_WORD = re.compile(r"[^\w\u1780-\u17ff]+|_")  # Khmer signs are letters, not punctuation


class _Checker:
    def __init__(self, files: Files, docs: dict[str, YamlDocument]) -> None:
        self.files = files
        self.docs = docs
        self.problems: list[Problem] = []

    def report(self, file: str, path: Path_, message: str, *, key: bool = False) -> None:
        self.problems.append(self.docs[file].problem(path, message, key=key))

    # -- helpers -------------------------------------------------------------------------------

    def unique(
        self, file: str, section: str, items: tuple[Any, ...], attr: str, what: str
    ) -> None:
        seen: dict[Any, int] = {}
        for i, item in enumerate(items):
            value = getattr(item, attr)
            if value in seen:
                first = self.docs[file].line_of((section, seen[value]))
                self.report(
                    file, (section, i, attr), f"duplicate {what} '{value}' (first on line {first})"
                )
            else:
                seen[value] = i

    def numbered(self, file: str, section: str, items: tuple[Any, ...], what: str) -> None:
        for i, item in enumerate(items):
            if item.number != i + 1:
                self.report(
                    file,
                    (section, i, "number"),
                    f"{what} are numbered 1, 2, 3... in order with no gap: "
                    f"expected {i + 1} here, found {item.number}",
                )
                return

    def ref(self, file: str, path: Path_, value: Any, known: Any, what: str) -> None:
        if value is None or value in known:
            return
        from rapidfuzz import process

        choices = [str(k) for k in known]
        best = process.extractOne(str(value), choices, score_cutoff=60) if choices else None
        hint = f" (did you mean '{best[0]}'?)" if best else ""
        self.report(file, path, f"unknown {what} '{value}'{hint}")


def _walk(model: Any, path: Path_ = ()) -> Iterator[tuple[Path_, BaseModel]]:
    """Every model nested in ``model``, with its path (plain values are not visited)."""
    if isinstance(model, BaseModel):
        yield path, model
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel | dict) or (
                isinstance(value, tuple | list) and value and not isinstance(value[0], str | int)
            ):
                yield from _walk(value, (*path, name))
    elif isinstance(model, tuple | list):
        for i, item in enumerate(model):
            yield from _walk(item, (*path, i))
    elif isinstance(model, dict):
        for key, item in model.items():
            if isinstance(item, BaseModel):
                yield from _walk(item, (*path, key))


def check_knowledge(files: Files, docs: dict[str, YamlDocument]) -> list[Problem]:
    """Run every cross-record check; an empty list means the knowledge base is consistent."""
    c = _Checker(files, docs)
    sources: m.SourcesFile = files["sources.yaml"]
    cities: m.CitiesFile = files["cities.yaml"]
    meetings: m.MeetingsFile = files["meetings.yaml"]
    partners: m.PartnersFile = files["partners.yaml"]
    areas: m.AreasFile = files["areas.yaml"]
    asem: m.Asem = files["asem.yaml"].asem
    asef: m.Asef = files["asef.yaml"].asef
    cambodia: m.Cambodia = files["cambodia.yaml"].cambodia

    # Unique ids
    c.unique("sources.yaml", "sources", sources.sources, "id", "source id")
    c.unique("cities.yaml", "cities", cities.cities, "id", "city id")
    c.unique("meetings.yaml", "series", meetings.series, "id", "series id")
    c.unique("partners.yaml", "regions", partners.regions, "id", "region id")
    c.unique("partners.yaml", "groups", partners.groups, "id", "group id")
    c.unique("partners.yaml", "partners", partners.partners, "id", "partner id")
    c.unique("partners.yaml", "non_partners", partners.non_partners, "id", "country id")
    c.unique("partners.yaml", "organisations", partners.organisations, "id", "organisation id")
    partner_ids = {p.id for p in partners.partners}
    for i, country in enumerate(partners.non_partners):
        if country.id in partner_ids:
            c.report(
                "partners.yaml",
                ("non_partners", i, "id"),
                f"'{country.id}' is listed as a partner and as a non-partner",
            )

    # Numbering
    c.numbered("areas.yaml", "areas", areas.areas, "areas")
    for k, series in enumerate(meetings.series):
        _check_series(c, k, series)

    # Sources: every 'sources' list anywhere must name known sources; and plain text is not HTML
    source_ids = {s.id for s in sources.sources}
    for file, parsed in files.items():
        for path, model in _walk(parsed):
            if isinstance(model, m.Text):
                _check_plain_text(c, file, path, model)
                continue
            if "sources" not in type(model).model_fields:
                continue
            for j, source in enumerate(model.sources):  # type: ignore[attr-defined]
                # (sources.yaml's own list holds records, not references)
                if isinstance(source, str) and source not in source_ids:
                    c.ref(file, (*path, "sources", j), source, source_ids, "source")

    # References between records
    city_ids = {city.id for city in cities.cities}
    by_id = {series.id: series for series in meetings.series}
    summit_numbers = {s.number for s in by_id["summit"].meetings} if "summit" in by_id else set()
    fmm_numbers = {f.number for f in by_id["fmm"].meetings} if "fmm" in by_id else set()
    for required in ("summit", "fmm"):
        if required not in by_id:
            c.report("meetings.yaml", ("series",), f"the series '{required}' is missing")
    region_ids = {r.id for r in partners.regions}
    group_ids = {g.id for g in partners.groups}
    for i, city in enumerate(cities.cities):
        c.ref("cities.yaml", ("cities", i, "country"), city.country, partner_ids, "partner")
        c.ref("cities.yaml", ("cities", i, "near"), city.near, city_ids, "city")
    country_ids = partner_ids | {country.id for country in partners.non_partners}
    for k, series in enumerate(meetings.series):
        for i, meeting in enumerate(series.meetings):
            path = ("series", k, "meetings", i)
            c.ref("meetings.yaml", (*path, "city"), meeting.city, city_ids, "city")
            c.ref("meetings.yaml", (*path, "country"), meeting.country, country_ids, "country")
            for j, plan in enumerate(meeting.earlier_plans):
                plan_path = (*path, "earlier_plans", j, "city")
                c.ref("meetings.yaml", plan_path, plan.city, city_ids, "city")
    for i, group in enumerate(partners.groups):
        c.ref("partners.yaml", ("groups", i, "region"), group.region, region_ids, "region")
    for i, partner in enumerate(partners.partners):
        path = ("partners", i)
        c.ref("partners.yaml", (*path, "group"), partner.group, group_ids, "group")
        for j, earlier in enumerate(partner.earlier_groups):
            c.ref(
                "partners.yaml",
                (*path, "earlier_groups", j, "group"),
                earlier.group,
                group_ids,
                "group",
            )
        joined = partner.joined
        c.ref(
            "partners.yaml", (*path, "joined", "summit"), joined.summit, summit_numbers, "summit"
        )
        c.ref(
            "partners.yaml",
            (*path, "joined", "decided_at_summit"),
            joined.decided_at_summit,
            summit_numbers,
            "summit",
        )
        c.ref(
            "partners.yaml",
            (*path, "joined", "welcomed_at_fmm"),
            joined.welcomed_at_fmm,
            fmm_numbers,
            "foreign ministers' meeting",
        )
    for j, proposer in enumerate(asem.founding.proposers):
        path = ("asem", "founding", "proposers", j)
        c.ref("asem.yaml", path, proposer, partner_ids, "partner")
    c.ref(
        "asem.yaml",
        ("asem", "founding", "first_summit"),
        asem.founding.first_summit,
        summit_numbers,
        "summit",
    )
    c.ref(
        "asem.yaml",
        ("asem", "asem_day", "decided_at_summit"),
        asem.asem_day.decided_at_summit,
        summit_numbers,
        "summit",
    )
    c.ref("asef.yaml", ("asef", "founded_at_fmm"), asef.founded_at_fmm, fmm_numbers, "FMM")
    c.ref(
        "asef.yaml", ("asef", "agreed_at_summit"), asef.agreed_at_summit, summit_numbers, "summit"
    )
    c.ref("asef.yaml", ("asef", "headquarters"), asef.headquarters, city_ids, "city")
    c.ref("cambodia.yaml", ("cambodia", "partner"), cambodia.partner, partner_ids, "partner")
    c.ref(
        "cambodia.yaml",
        ("cambodia", "asem13", "summit"),
        cambodia.asem13.summit,
        summit_numbers,
        "summit",
    )
    for i, event in enumerate((*cambodia.asef_events, cambodia.asem_day_celebration)):
        path = ("cambodia", "asef_events", i, "city")
        if i == len(cambodia.asef_events):
            path = ("cambodia", "asem_day_celebration", "city")
        c.ref("cambodia.yaml", path, event.city, city_ids, "city")

    _check_message_keys(c, files)
    _check_counts(c, partners)
    _check_areas(c, areas)
    _check_aliases(c, cities, partners)
    _check_questions(c, files, partner_ids, city_ids, group_ids, region_ids)
    _check_shared_phrasings(c, files)
    return c.problems


def _check_shared_phrasings(c: _Checker, files: Files) -> None:
    """A way of asking belongs to one question: the same phrasing under two intents (or a
    fact) makes the bot hesitate between them."""
    owners: list[tuple[str, str, Path_, list[str]]] = []  # (file, intent, path, phrasings)
    for file, parsed in files.items():
        if isinstance(parsed, m.WithQuestions):
            for i, question in enumerate(parsed.questions):
                for field_name in ("examples", "yes_to", "no_to"):
                    for j, text in enumerate(getattr(question, field_name)):
                        owners.append(
                            (file, question.intent, ("questions", i, field_name, j), [text])
                        )
    facts = files.get("facts.yaml")
    if isinstance(facts, m.FactsFile):
        for i, fact in enumerate(facts.facts):
            for field_name in ("examples", "yes_to", "no_to"):
                for j, text in enumerate(getattr(fact, field_name)):
                    owners.append(
                        ("facts.yaml", f"fact {fact.id}", ("facts", i, field_name, j), [text])
                    )
    first: dict[str, tuple[str, str, Path_]] = {}
    for file, intent, path, (text,) in owners:
        key = fold(text)
        if key not in first:
            first[key] = (file, intent, path)
            continue
        other_file, other_intent, other_path = first[key]
        if other_intent != intent:
            line = c.docs[other_file].line_of(other_path)
            c.report(
                file,
                path,
                f"'{text}' is also a phrasing of {other_intent} ({other_file}:{line}): "
                "a phrasing belongs to one question",
            )


_MARKUP = re.compile(r"&(amp|lt|gt|quot|#\d+);|<(b|i|u|s|a|code|pre|em|strong)[\s>]|</\w+>")
# Telegram HTML is allowed only in message templates and in the prose `answer:` of a question;
# everything else is plain text, escaped by the bot when shown.


def _check_plain_text(c: _Checker, file: str, path: Path_, text: m.Text) -> None:
    """Plain text written as HTML would show its tags and entities as they are."""
    if path and (path[-1] == "answer" or path[0] == "messages"):
        return  # markup
    for lang in ("en", "km"):
        value = getattr(text, lang)
        if value and ("&" in value or "<" in value) and _MARKUP.search(value):
            c.report(
                file,
                (*path, lang),
                "this is plain text, not HTML: write the characters themselves "
                "(& not &amp;, < not &lt;) and no tags; the bot escapes them",
            )


def _check_message_keys(c: _Checker, files: Files) -> None:
    """A message key is defined once, whichever file holds it."""
    seen: dict[str, str] = {}
    for file, parsed in files.items():
        for key in getattr(parsed, "messages", {}):
            if key in seen:
                line = c.docs[seen[key]].line_of(("messages", key), key=True)
                c.report(
                    file,
                    ("messages", key),
                    f"message '{key}' is also defined in {c.docs[seen[key]].file}:{line}",
                    key=True,
                )
            else:
                seen[key] = file


def _check_series(c: _Checker, k: int, series: m.Series) -> None:
    """Numbers and dates in order; a complete series numbered 1, 2, 3... with no gap."""
    path = ("series", k, "meetings")
    items = series.meetings
    if series.complete:
        for i, item in enumerate(items):
            if item.number != i + 1:
                c.report(
                    "meetings.yaml",
                    (*path, i, "number") if item.number else (*path, i),
                    f"the meetings of a complete series are numbered 1, 2, 3... in order with "
                    f"no gap: expected {i + 1} here, found {item.number or 'none'}",
                )
                return
    years_without_number: set[int] = set()
    for i, item in enumerate(items):
        previous = items[i - 1].number if i else None
        if previous is not None and item.number is not None and item.number <= previous:
            c.report("meetings.yaml", (*path, i, "number"), "numbers must go up in order")
        if i and item.start < (items[i - 1].end or items[i - 1].start):
            c.report(
                "meetings.yaml", (*path, i, "start"), "starts before the meeting above it ended"
            )
        if item.number is None:
            if item.start.year in years_without_number:
                c.report(
                    "meetings.yaml",
                    (*path, i, "start"),
                    "two meetings without a number in one year: give them numbers",
                )
            years_without_number.add(item.start.year)


def _check_counts(c: _Checker, partners: m.PartnersFile) -> None:
    counts = partners.counts
    groups = {g.id: g for g in partners.groups}
    if len(partners.partners) != counts.total:
        c.report(
            "partners.yaml",
            ("counts", "total"),
            f"the partner list has {len(partners.partners)} partners but counts.total says "
            f"{counts.total}",
        )
    by_group = Counter(p.group for p in partners.partners)
    for group_id, expected in counts.by_group.items():
        if group_id not in groups:
            c.report(
                "partners.yaml", ("counts", "by_group", group_id), f"unknown group '{group_id}'"
            )
        elif by_group[group_id] != expected:
            c.report(
                "partners.yaml",
                ("counts", "by_group", group_id),
                f"group '{group_id}' has {by_group[group_id]} partners in the list, "
                f"but counts say {expected}",
            )
    by_region = Counter(groups[p.group].region for p in partners.partners if p.group in groups)
    for region_id, expected in counts.by_region.items():
        if by_region[region_id] != expected:
            c.report(
                "partners.yaml",
                ("counts", "by_region", region_id),
                f"region '{region_id}' has {by_region[region_id]} partners in the list, "
                f"but counts say {expected}",
            )
    if sum(counts.by_group.values()) != counts.total:
        c.report(
            "partners.yaml",
            ("counts", "by_group"),
            f"the groups add up to {sum(counts.by_group.values())}, not {counts.total}",
        )


def _check_areas(c: _Checker, areas: m.AreasFile) -> None:
    if len(areas.areas) != areas.count:
        c.report(
            "areas.yaml",
            ("count",),
            f"the list has {len(areas.areas)} areas but count says {areas.count}",
        )


def _check_aliases(c: _Checker, cities: m.CitiesFile, partners: m.PartnersFile) -> None:
    """A name must point to one place only: unique across partners, countries and cities.

    A city may share its own country's name (Singapore, Luxembourg): both mean the same place.
    """
    # (file, section, records, kind); every record's names are its name(s) and its aliases
    tables: list[tuple[str, str, tuple[Any, ...], str]] = [
        ("partners.yaml", "partners", partners.partners, "partner"),
        ("partners.yaml", "non_partners", partners.non_partners, "country"),
        ("partners.yaml", "organisations", partners.organisations, "organisation"),
        ("cities.yaml", "cities", cities.cities, "city"),
    ]
    owners: dict[
        str, tuple[str, Path_, str, str, str]
    ] = {}  # folded -> file, path, kind, id, country
    for file, section, records, kind in tables:
        for i, record in enumerate(records):
            country = getattr(record, "country", record.id)
            names: list[tuple[Path_, str]] = [((section, i, "name"), record.name.en)]
            if record.name.km:
                names.append(((section, i, "name", "km"), record.name.km))
            names += [((section, i, "aliases", j), a) for j, a in enumerate(record.aliases)]
            for path, name in names:
                folded = fold(name)
                if not folded:
                    c.report(file, path, f"'{name}' has no letters or digits")
                    continue
                if folded not in owners:
                    owners[folded] = (file, path, kind, record.id, country)
                    continue
                first_file, first_path, first_kind, first_id, first_country = owners[folded]
                if (first_kind, first_id) == (kind, record.id):
                    continue  # a record repeating its own name is harmless
                if (
                    kind != first_kind
                    and "city" in (kind, first_kind)
                    and country == first_country
                ):
                    continue  # a city-state: the city and the country are the same place
                line = c.docs[first_file].line_of(first_path)
                c.report(
                    file,
                    path,
                    f"the name '{name}' is already used by {first_kind} '{first_id}' "
                    f"({c.docs[first_file].file}:{line})",
                )


def _check_questions(
    c: _Checker,
    files: Files,
    partner_ids: set[str],
    city_ids: set[str],
    group_ids: set[str],
    region_ids: set[str],
) -> None:
    seen: dict[str, tuple[str, int]] = {}
    known_values = {
        "country": partner_ids,
        "city": city_ids,
        "group": group_ids,
        "region": region_ids,
    }
    all_intents = {
        q.intent for f in files.values() if isinstance(f, m.WithQuestions) for q in f.questions
    }
    for file, parsed in files.items():
        if not isinstance(parsed, m.WithQuestions):
            continue
        for i, question in enumerate(parsed.questions):
            path = ("questions", i)
            if question.intent in seen:
                other_file, other_line = seen[question.intent]
                c.report(
                    file,
                    (*path, "intent"),
                    f"intent '{question.intent}' is defined twice "
                    f"(also at {other_file}:{other_line})",
                )
            else:
                seen[question.intent] = (
                    c.docs[file].file,
                    c.docs[file].line_of((*path, "intent")),
                )
            for j, need in enumerate(question.needs):
                kind, _, value = need.partition("=")
                if value and kind in known_values and value not in known_values[kind]:
                    c.report(file, (*path, "needs", j), f"unknown {kind} '{value}'")
            for j, related in enumerate(question.related):
                if related not in all_intents:
                    c.ref(file, (*path, "related", j), related, all_intents, "intent")
            folded = Counter(fold(e) for e, _ in phrasings(question))
            for field_name in ("examples", "yes_to", "no_to"):
                for j, example in enumerate(getattr(question, field_name)):
                    if folded[fold(example)] > 1:
                        where = (*path, field_name, j)
                        c.report(file, where, f"example '{example}' is repeated")
                        break
