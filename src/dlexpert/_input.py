"""The input boundary (issue 17): every file a user hands dlexpert is read through here. Only regular files (or `-`
for standard input), each under a size cap; YAML that repeats a key, expands aliases past a small budget or nests past
a sane depth is refused; and a message never echoes more than MAX_ECHO characters of what the user wrote.

Example:
    >>> clip("x" * 1000)[-22:]
    "...' (1000 characters)"
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import yaml

from .errors import InvalidInputError

MAX_ECHO = 200  # characters of user input a message may quote
MAX_SPEC_BYTES = 1 << 20  # a task spec, a decisions or config file: 1 MiB is thousands of times a real one
MAX_YAML_NODES = 100_000  # nodes of a YAML document with its aliases expanded (a "billion laughs" has 10^9)
MAX_DEPTH = 64  # nested mappings and lists


def clip(value: object, limit: int = MAX_ECHO) -> str:
    """`repr(value)` cut to `limit` characters, with the full length when it was cut."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...' ({len(str(value))} characters)"


def some(values: list[Any], limit: int = 8, *, quote: bool = True) -> str:
    """The first `limit` values (quoted, or as they are), then how many more: a list in a message stays one short
    line."""
    shown = ", ".join(clip(v, 40) if quote else str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more ({len(values)} in all)" if len(values) > limit else "")


def file_kind(mode: int) -> str:
    """What a stat mode is, in words: 'a directory', 'a FIFO (named pipe)', 'a character device'..."""
    kinds = [
        (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
    ]  # fmt: skip
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def check_regular_file(path: Path, *, expected: str) -> os.stat_result:
    """The stat of `path`, a regular file (a symbolic link to one is followed); one line naming it otherwise."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file; expected {expected}") from None
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot be read ({exc.strerror}); expected {expected}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{path}: is {file_kind(st.st_mode)}; expected {expected}")
    return st


def read_user_text(source: str | Path, *, expected: str, max_bytes: int = MAX_SPEC_BYTES) -> str:
    """The UTF-8 text of a user's file, or of standard input when `source` is "-", at most `max_bytes` long."""
    if str(source) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        where = "<stdin>"
    else:
        path = Path(source)
        st = check_regular_file(path, expected=expected)
        where = str(path)
        if st.st_size > max_bytes:
            raise InvalidInputError(f"{where}: {st.st_size:,} bytes, over the {max_bytes:,}-byte limit; expected "
                                    f"{expected}")  # fmt: skip
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{where}: cannot be read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise InvalidInputError(f"{where}: over the {max_bytes:,}-byte limit; expected {expected}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{where}: not UTF-8 text; expected {expected}") from None


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that also refuses a key given twice in one mapping, and a document whose aliases
    expand past MAX_YAML_NODES nodes or that nests deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        """PyYAML's composer, stopped at MAX_DEPTH levels (before Python's recursion limit)."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(f"line {mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call,no-any-return,arg-type]
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *defaults" merges on purpose
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the base class says so
            if first != key_node.start_mark.line + 1:
                raise _Refused(f"line {key_node.start_mark.line + 1}: key {clip(key)} is given twice (first on line "
                               f"{first}); keep one")  # fmt: skip
        return super().construct_mapping(node, deep=deep)


class _Refused(Exception):
    pass


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Nodes of `node` with every alias expanded, counted once per distinct node (linear time). A recursive alias
    (`a: &a [*a]`) nests without end, and is refused by the depth limit."""
    if depth > MAX_DEPTH:
        raise _Refused(f"line {node.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        children = []
    size = 1 + sum(_expanded_size(c, memo, depth + 1) for c in children)
    memo[id(node)] = size
    return size


def load_yaml(text: str, *, source: str) -> Any:
    """A YAML document as Python values (`_StrictLoader`); one line naming `source` and the line otherwise."""
    loader = None
    try:
        loader = _StrictLoader(text)  # its reader already refuses control characters
        root = loader.get_single_node()
        if root is None:
            return None
        size = _expanded_size(root, {})
        if size > MAX_YAML_NODES:
            raise _Refused(f"its aliases expand to {size:,} nodes, over the limit of {MAX_YAML_NODES:,}")
        return loader.construct_document(root)
    except _Refused as exc:
        raise InvalidInputError(f"{source}: {exc}") from None
    except RecursionError:
        raise InvalidInputError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInputError(f"{source}: {where}invalid YAML: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()
