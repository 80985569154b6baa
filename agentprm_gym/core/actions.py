"""The bracket action grammar shared by the web-style environments.

Actions look like ``name``, ``name[arg]`` or ``name[arg1][arg2]``, e.g.
``search[red mug]``, ``click[buy now]``, ``type[7][hello]`` or ``back``.
Arguments may contain any character except an unbalanced ``]``; nested
brackets inside an argument are kept when balanced (``click[< prev]`` and
``search[size [xl]]`` both parse). Parsing never evaluates anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ActionParseError", "ParsedAction", "parse_action", "format_action"]

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_ \-]*")


class ActionParseError(ValueError):
    """Raised by :func:`parse_action` for a string that is not in the grammar."""


@dataclass(frozen=True)
class ParsedAction:
    """A parsed action: its lower-cased name and its bracketed arguments."""

    name: str
    args: tuple[str, ...] = ()

    @property
    def arg(self) -> str | None:
        """The first argument, or None for a bare action."""
        return self.args[0] if self.args else None

    def __str__(self) -> str:
        return format_action(self.name, *self.args)


def format_action(name: str, *args: str) -> str:
    """Build an action string: ``format_action("click", "buy now") == "click[buy now]"``."""
    return name + "".join(f"[{a}]" for a in args)


def parse_action(text: str, max_length: int = 10_000) -> ParsedAction:
    """Parse ``name``, ``name[arg]`` or ``name[arg1][arg2]...``.

    Surrounding whitespace is ignored and the name is lower-cased; arguments are
    returned stripped but otherwise verbatim.

    Args:
        text: The action string.
        max_length: Longer strings are rejected without being scanned.

    Returns:
        The parsed action.

    Raises:
        ActionParseError: If the string is empty, too long or malformed; the
            message says what is wrong and shows the expected form.
    """
    if not isinstance(text, str):
        raise TypeError(f"action must be a str, got {type(text).__name__}")
    if len(text) > max_length:
        raise ActionParseError(f"action is {len(text)} characters long; the limit is {max_length}")
    s = text.strip()
    if not s:
        raise ActionParseError("empty action; expected e.g. 'search[query]' or 'click[button]'")
    open_at = s.find("[")
    if open_at == -1:
        if "]" in s:
            raise ActionParseError(f"unmatched ']' in action {_show(s)}")
        if not _NAME_RE.fullmatch(s):
            raise ActionParseError(f"invalid action name {_show(s)}")
        return ParsedAction(s.lower())
    name = s[:open_at].strip()
    if not name or not _NAME_RE.fullmatch(name):
        raise ActionParseError(
            f"invalid action {_show(s)}; expected the form name[argument], e.g. click[buy now]"
        )
    args: list[str] = []
    i = open_at
    n = len(s)
    while i < n:
        if s[i] != "[":
            raise ActionParseError(f"unexpected text {_show(s[i:])} after ']' in action {_show(s)}")
        depth = 0
        j = i
        while j < n:
            c = s[j]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= n:
            raise ActionParseError(f"unclosed '[' in action {_show(s)}")
        args.append(s[i + 1 : j].strip())
        i = j + 1
        while i < n and s[i] == " ":
            i += 1
    return ParsedAction(name.lower(), tuple(args))


def _show(s: str, limit: int = 60) -> str:
    return repr(s if len(s) <= limit else s[:limit] + "...")
