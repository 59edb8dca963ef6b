"""Read one YAML file into plain Python data, remembering the line of every node.

PyYAML's own loader forgets where values came from and lets a duplicated key silently win.
Campaign staff need to hear *where* a mistake is, so we compose the node tree ourselves,
build dicts and lists from it, and keep a map from each value's path (the same tuple pydantic
puts in an error's ``loc``) to its line. Every problem becomes a :class:`Problem`, never a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge.problems import Problem

try:  # libyaml is several times faster; the pure-Python loader gives the same result.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]
_STR = "tag:yaml.org,2002:str"


@dataclass
class YamlDocument:
    """The data of one file, with the line (1-based) of every value and of every key."""

    file: str
    data: Any
    value_lines: dict[Path_, int] = field(default_factory=dict)
    key_lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_, *, key: bool = False) -> int:
        """The line of the value at ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        if key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.value_lines:
                return self.value_lines[path]
            path = path[:-1]
        return self.value_lines.get((), 1)

    def problem(self, path: Path_, message: str, *, key: bool = False) -> Problem:
        return Problem(self.file, self.line_of(path, key=key), message)


class _Builder:
    def __init__(self, doc: YamlDocument, loader: Any) -> None:
        self.doc = doc
        self.loader = loader
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.value_lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Problem(self.doc.file, line, "a key must be a plain word"))
                continue
            key = str(self._scalar(key_node, path))
            if key == "<<":
                self.problems.append(Problem(self.doc.file, line, "merge keys (<<) are not used"))
                continue
            if key in result:
                first = self.doc.key_lines[(*path, key)]
                self.problems.append(
                    Problem(
                        self.doc.file, line, f"key '{key}' appears twice (first on line {first})"
                    )
                )
                continue
            self.doc.key_lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        if node.tag == _STR:  # most values: no need for the constructor's machinery
            return node.value
        try:
            value = self.loader.construct_object(node)
        except (ValueError, yaml.YAMLError) as exc:
            # e.g. 1996-02-30 matches YAML's date pattern but is no real day
            self.problems.append(
                Problem(
                    self.doc.file, node.start_mark.line + 1, f"'{node.value}' is not valid: {exc}"
                )
            )
            return node.value
        return value


def read_yaml(
    path: Path, display_name: str | None = None
) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse ``path``. Returns the document (None when unreadable) and the problems found."""
    name = display_name or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(name, 0, "file is missing")]
    except IsADirectoryError:
        return None, [Problem(name, 0, "is a folder, not a file")]
    except OSError as exc:
        return None, [Problem(name, 0, f"cannot be read ({exc.strerror or exc})")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(name, line, "is not UTF-8 text (save it as UTF-8)")]
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse the YAML ``text`` of the file called ``name`` (see :func:`read_yaml`)."""
    doc = YamlDocument(name, None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        # Point at where the broken construct begins ("while parsing a flow sequence" opened
        # at the context mark) and say where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.context_mark and exc.problem_mark:
            stopped = exc.problem_mark.line + 1
            reason = f"{reason} ({exc.context} that starts here; stopped at line {stopped})"
        return None, [Problem(name, line, f"malformed YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, f"malformed YAML: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        return None, [Problem(name, 1, "file is empty")]
    builder = _Builder(doc, loader)
    doc.data = builder.build(node, ())
    return doc, builder.problems
