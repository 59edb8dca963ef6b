"""Immutable copies of the validated records, for run time.

pydantic checks the knowledge base when it is loaded; after that the bot only reads attributes.
:func:`freeze` turns every model into a :class:`Record` (attribute access, immutable, cheap to
pickle), so a process that reuses a cached brain never imports pydantic or builds its models:
``asem-bot ask`` starts in a fraction of the time.
"""

from __future__ import annotations

from typing import Any


class Record:
    """A read-only record: ``meeting.city``, ``partner.name.get("km")``."""

    __slots__ = ("_kind", "_fields")

    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_fields", fields)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{self._kind} has no field {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{self._kind} records are read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self._kind} records are read-only")

    def get(self, lang: str) -> str:
        """For text keyed by language: the text in ``lang``, falling back to English."""
        return self._fields.get(lang) or self._fields["en"]

    def __reduce__(self) -> tuple[type[Record], tuple[str, dict[str, Any]]]:
        return (Record, (self._kind, self._fields))

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"{self._kind}({inner})"


def freeze(value: Any) -> Any:
    """A deep, immutable copy of a validated model (pydantic) as Records and tuples."""
    from pydantic import BaseModel

    return _freeze(value, BaseModel)


_PLAIN = (str, int, float, bool, type(None))


def _freeze(value: Any, model: type) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, model):
        names = type(value).model_fields  # type: ignore[attr-defined]  # a pydantic model
        fields = {name: _freeze(getattr(value, name), model) for name in names}
        return Record(type(value).__name__, fields)
    if isinstance(value, tuple | list):
        if all(isinstance(item, _PLAIN) for item in value):
            return tuple(value)  # names, aliases, examples: nothing inside to freeze
        return tuple(_freeze(item, model) for item in value)
    if isinstance(value, dict):
        return {key: _freeze(item, model) for key, item in value.items()}
    return value


def english_texts(value: Any) -> list[str]:
    """Every English text held in ``value``'s records, however deep (names, answers, notes)."""
    out: list[str] = []
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Record):
            if item._kind == "Text":
                out.append(item._fields["en"])
            else:
                stack.extend(item._fields.values())
        elif isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.extend(vars(item).values())
    return out
