"""The browser action language, parsed (never evaluated) into commands.

``click[id]``, ``type[id][text]``, ``select[id][option]``, ``press[key]``,
``scroll[up|down]``, ``back``, ``goto[url]`` (local pages only) and
``stop[answer]``. Element ids are the numbers shown in the observation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentprm_gym.core.actions import ActionParseError, parse_action

__all__ = ["BrowserCommand", "parse_browser_action", "KEY_NAMES", "ACTION_HELP"]

#: Special keys ``press[...]`` accepts (Playwright names); single characters are accepted too.
KEY_NAMES = frozenset(
    (
        "Enter",
        "Tab",
        "Escape",
        "Backspace",
        "Delete",
        "ArrowUp",
        "ArrowDown",
        "ArrowLeft",
        "ArrowRight",
        "Home",
        "End",
        "PageUp",
        "PageDown",
        "Space",
        "Insert",
    )
)
_MODIFIERS = ("Control", "Shift", "Alt", "Meta")
_ID_RE = re.compile(r"\d{1,9}")

ACTION_HELP = (
    "actions: click[id], type[id][text], select[id][option], press[key], scroll[up|down], "
    "back, goto[url], stop[answer]"
)


@dataclass(frozen=True)
class BrowserCommand:
    """A parsed browser action.

    Attributes:
        op: One of ``click type select press scroll back goto stop``.
        target: Element id (click/type/select), key, direction, URL or answer.
        text: Text to type or option to choose.
    """

    op: str
    target: str = ""
    text: str = ""


def _want(name: str, args: tuple[str, ...], n: int, form: str) -> None:
    if len(args) != n:
        raise ActionParseError(f"{name} takes {n} argument(s): {form}")


def parse_browser_action(action: str) -> BrowserCommand:
    """Parse one action string.

    Raises:
        ActionParseError: For anything outside the language (message says why).
    """
    p = parse_action(action)
    name, args = p.name, p.args
    if name == "click":
        _want(name, args, 1, "click[id]")
        return BrowserCommand("click", _elem_id(args[0]))
    if name == "type":
        _want(name, args, 2, "type[id][text]")
        return BrowserCommand("type", _elem_id(args[0]), args[1])
    if name == "select":
        _want(name, args, 2, "select[id][option]")
        return BrowserCommand("select", _elem_id(args[0]), args[1])
    if name == "press":
        _want(name, args, 1, "press[key], e.g. press[Enter]")
        return BrowserCommand("press", _key(args[0]))
    if name == "scroll":
        _want(name, args, 1, "scroll[up] or scroll[down]")
        if args[0].lower() not in ("up", "down"):
            raise ActionParseError("scroll takes up or down")
        return BrowserCommand("scroll", args[0].lower())
    if name == "back":
        _want(name, args, 0, "back")
        return BrowserCommand("back")
    if name == "goto":
        _want(name, args, 1, "goto[url]")
        return BrowserCommand("goto", args[0])
    if name == "stop":
        if len(args) > 1:
            raise ActionParseError("stop takes at most one argument: stop[answer]")
        return BrowserCommand("stop", args[0] if args else "")
    raise ActionParseError(f"unknown action {name!r}; {ACTION_HELP}")


def _elem_id(s: str) -> str:
    if not _ID_RE.fullmatch(s):
        raise ActionParseError(f"element id must be a number shown in brackets, got {s!r}")
    return str(int(s))


def _key(s: str) -> str:
    parts = s.split("+")
    *mods, key = parts
    for m in mods:
        if m not in _MODIFIERS:
            raise ActionParseError(f"unknown modifier {m!r}; use {', '.join(_MODIFIERS)}")
    if key == "Space":
        key = " "
    if not (key in KEY_NAMES or len(key) == 1):
        raise ActionParseError(
            f"unknown key {key!r}; use a character or one of {sorted(KEY_NAMES)}"
        )
    return "+".join([*mods, key])
