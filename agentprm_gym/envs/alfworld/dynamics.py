"""ALFWorld's command language: parsing, state changes and observations.

Commands (case and extra spaces ignored)::

    go to R          open R            close R
    take O from R    move O to R       (also: put O in R, put O on R, put O in/on R)
    clean O with R   heat O with R     cool O with R
    use L            examine X         look             inventory

``R`` is a receptacle name (``"cabinet 3"``), ``O`` an object name
(``"apple 1"``), ``L`` a lamp (``"desklamp 1"``). Observations follow
ALFWorld's wording (``"You arrive at cabinet 1. The cabinet 1 is closed."``,
``"On the countertop 1, you see a apple 1, and a knife 2."``). An invalid
command leaves the state untouched, answers ``"Nothing happens."`` and returns
a message saying what was wrong.

Rules: the agent must stand at a receptacle to open, close, examine, take
from or put into it, and an openable one must be open to take from or put
into it; it holds one object at a time; an object goes only where its kind
may be (:mod:`~agentprm_gym.envs.alfworld.vocabulary`). ``clean``/``heat``/
``cool`` need the held object, the agent at a sinkbasin or bathtubbasin /
microwave / fridge (open or closed, as in ALFWorld's text game) and an object
that affords it; heating makes an object hot and not cool, cooling the
reverse. ``use`` toggles a lamp at the agent's receptacle.
"""

from __future__ import annotations

import re

from agentprm_gym.envs.alfworld.tasks import Task
from agentprm_gym.envs.alfworld.vocabulary import OBJECT_KINDS, TOOL_KINDS
from agentprm_gym.envs.alfworld.world import Layout, WorldState, kind_of

__all__ = [
    "NOTHING_HAPPENS",
    "apply_command",
    "normalize",
    "describe_receptacle",
    "list_things",
    "intro_text",
]

#: ALFWorld's answer to an invalid command.
NOTHING_HAPPENS = "Nothing happens."

_N = r"([a-z]+ \d+)"
_PATTERNS = {
    "go": re.compile(rf"go to {_N}"),
    "open": re.compile(rf"open {_N}"),
    "close": re.compile(rf"close {_N}"),
    "take": re.compile(rf"take {_N} from {_N}"),
    "move": re.compile(rf"move {_N} to {_N}"),
    "put": re.compile(rf"put {_N} (?:in|on|in/on|into|onto|to) {_N}"),
    "clean": re.compile(rf"clean {_N} with {_N}"),
    "heat": re.compile(rf"heat {_N} with {_N}"),
    "cool": re.compile(rf"cool {_N} with {_N}"),
    "use": re.compile(rf"use {_N}"),
    "examine": re.compile(rf"examine {_N}"),
}
_AFFORD = {"clean": "cleanable", "heat": "heatable", "cool": "coolable"}
_FORMS = (
    "go to R, open R, close R, take O from R, move O to R, clean O with R, heat O with R, "
    "cool O with R, use R, examine X, look, inventory"
)


def normalize(command: str) -> str:
    """Lower-case ``command`` and collapse its whitespace."""
    return " ".join(command.lower().split())


def list_things(names: tuple[str, ...] | list[str]) -> str:
    """ALFWorld's list: ``"nothing"``, ``"a apple 1"``, ``"a apple 1, and a knife 2"``."""
    if not names:
        return "nothing"
    if len(names) == 1:
        return f"a {names[0]}"
    return ", ".join(f"a {n}" for n in names[:-1]) + f", and a {names[-1]}"


def describe_receptacle(layout: Layout, state: WorldState, recep: str) -> str:
    """What the agent sees at ``recep``: closed, or its contents."""
    if recep in layout.openable:
        if recep not in state.opened:
            return f"The {recep} is closed."
        return f"The {recep} is open. In it, you see {list_things(state.contents[recep])}."
    return f"On the {recep}, you see {list_things(state.contents[recep])}."


def intro_text(layout: Layout, task: Task) -> str:
    """The first observation: the room's receptacles and the task."""
    return (
        "-= Welcome to TextWorld, ALFRED! =-\n\n"
        "You are in the middle of a room. Looking quickly around you, you see "
        f"{list_things(layout.receptacles)}.\n\nYour task is to: {task.goal}"
    )


def _fail(msg: str) -> tuple[str, str]:
    return NOTHING_HAPPENS, msg


def apply_command(layout: Layout, state: WorldState, command: str) -> tuple[str, str | None]:
    """Apply one command to ``state`` (in place when valid).

    Args:
        layout: The world's layout.
        state: The world state; changed only when the command is valid.
        command: The command text.

    Returns:
        ``(observation, error)``; ``error`` is None for a valid command, else a
        message saying what was wrong (and ``state`` is unchanged).
    """
    cmd = normalize(command)
    if cmd == "look":
        return _look(layout, state), None
    if cmd == "inventory":
        if state.holding is None:
            return "You are not carrying anything.", None
        return f"You are carrying: a {state.holding}.", None
    verb = cmd.split(" ", 1)[0]
    pat = _PATTERNS.get(verb)
    m = pat.fullmatch(cmd) if pat is not None else None
    if m is None:
        return _fail(f"unknown command {command.strip()!r}; commands: {_FORMS}")
    args = m.groups()
    if verb == "go":
        return _go(layout, state, args[0])
    if verb in ("open", "close"):
        return _open_close(layout, state, args[0], verb == "open")
    if verb == "take":
        return _take(layout, state, args[0], args[1])
    if verb in ("move", "put"):
        return _move(layout, state, args[0], args[1])
    if verb in _AFFORD:
        return _treat(layout, state, verb, args[0], args[1])
    if verb == "use":
        return _use(layout, state, args[0])
    return _examine(layout, state, args[0])


def _look(layout: Layout, state: WorldState) -> str:
    if state.location is None:
        return (
            "You are in the middle of a room. Looking quickly around you, you see "
            f"{list_things(layout.receptacles)}."
        )
    return f"You are facing the {state.location}. Next to it, you see nothing."


def _check_recep(layout: Layout, state: WorldState, recep: str) -> str | None:
    if recep not in layout.recep_index:
        return f"there is no receptacle called {recep!r} here"
    if state.location != recep:
        return f"you are not at the {recep}; go to {recep} first"
    return None


def _go(layout: Layout, state: WorldState, recep: str) -> tuple[str, str | None]:
    if recep not in layout.recep_index:
        return _fail(f"there is no receptacle called {recep!r} here")
    if state.location == recep:
        return _fail(f"you are already at the {recep}")
    state.location = recep
    return f"You arrive at {recep}. {describe_receptacle(layout, state, recep)}", None


def _open_close(
    layout: Layout, state: WorldState, recep: str, opening: bool
) -> tuple[str, str | None]:
    err = _check_recep(layout, state, recep)
    if err:
        return _fail(err)
    if recep not in layout.openable:
        return _fail(f"the {recep} cannot be opened or closed")
    is_open = recep in state.opened
    if opening:
        if is_open:
            return _fail(f"the {recep} is already open")
        state.opened = state.opened | {recep}
        return f"You open the {recep}. {describe_receptacle(layout, state, recep)}", None
    if not is_open:
        return _fail(f"the {recep} is already closed")
    state.opened = state.opened - {recep}
    return f"You close the {recep}.", None


def _take(layout: Layout, state: WorldState, obj: str, recep: str) -> tuple[str, str | None]:
    err = _check_recep(layout, state, recep)
    if err:
        return _fail(err)
    if not state.accessible(layout, recep):
        return _fail(f"the {recep} is closed; open it first")
    if obj not in state.contents[recep]:
        return _fail(f"there is no {obj} in the {recep}")
    if not OBJECT_KINDS[kind_of(obj)].pickupable:
        return _fail(f"the {obj} cannot be picked up")
    if state.holding is not None:
        return _fail(f"you are already holding the {state.holding}; put it somewhere first")
    state.remove(obj)
    return f"You pick up the {obj} from the {recep}.", None


def _move(layout: Layout, state: WorldState, obj: str, recep: str) -> tuple[str, str | None]:
    if state.holding != obj:
        return _fail(f"you are not holding the {obj}")
    err = _check_recep(layout, state, recep)
    if err:
        return _fail(err)
    if not state.accessible(layout, recep):
        return _fail(f"the {recep} is closed; open it first")
    if kind_of(recep) not in OBJECT_KINDS[kind_of(obj)].receptacles:
        return _fail(f"a {kind_of(obj)} does not go in or on a {kind_of(recep)}")
    state.place(obj, recep)
    return f"You move the {obj} to the {recep}.", None


def _treat(
    layout: Layout, state: WorldState, verb: str, obj: str, recep: str
) -> tuple[str, str | None]:
    if state.holding != obj:
        return _fail(f"you are not holding the {obj}")
    err = _check_recep(layout, state, recep)
    if err:
        return _fail(err)
    if kind_of(recep) not in TOOL_KINDS[verb]:
        tools = " or ".join(TOOL_KINDS[verb])
        return _fail(f"you can only {verb} things with a {tools}")
    if not getattr(OBJECT_KINDS[kind_of(obj)], _AFFORD[verb]):
        return _fail(f"a {kind_of(obj)} cannot be {'heated' if verb == 'heat' else verb + 'ed'}")
    if verb == "clean":
        state.clean = state.clean | {obj}
    elif verb == "heat":
        state.hot = state.hot | {obj}
        state.cool = state.cool - {obj}
    else:
        state.cool = state.cool | {obj}
        state.hot = state.hot - {obj}
    return f"You {verb} the {obj} using the {recep}.", None


def _use(layout: Layout, state: WorldState, lamp: str) -> tuple[str, str | None]:
    kind = OBJECT_KINDS.get(kind_of(lamp))
    if kind is None or not kind.toggleable:
        return _fail(f"the {lamp} cannot be used; only lamps can")
    loc = state.location
    if loc is None or lamp not in state.contents[loc] or not state.accessible(layout, loc):
        return _fail(f"there is no {lamp} here")
    if lamp in state.on:
        state.on = state.on - {lamp}
        return f"You turn off the {lamp}.", None
    state.on = state.on | {lamp}
    return f"You turn on the {lamp}.", None


def _examine(layout: Layout, state: WorldState, name: str) -> tuple[str, str | None]:
    if name in layout.recep_index:
        err = _check_recep(layout, state, name)
        if err:
            return _fail(err)
        return describe_receptacle(layout, state, name), None
    loc = state.location
    visible = state.holding == name or (
        loc is not None and name in state.contents[loc] and state.accessible(layout, loc)
    )
    if not visible:
        return _fail(f"you see no {name} here")
    flags = [
        f
        for f, s in (("clean", state.clean), ("hot", state.hot), ("cool", state.cool))
        if name in s
    ]
    if name in state.on:
        flags.append("turned on")
    if not flags:
        return f"There's nothing special about {name}.", None
    return f"The {name} is {' and '.join(flags)}.", None
