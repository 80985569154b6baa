"""ALFWorld's six task types: their goal phrasings and the combinations they allow.

A task asks for an object kind ``X`` (and, except for looking in light, a
target receptacle kind ``Y``) in one room type. The *combination* of a task is
``(X, Y, room)`` (``Y = "desklamp"`` for ``look_at_obj_in_light``); the splits
partition these combinations (:mod:`agentprm_gym.envs.alfworld.splits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agentprm_gym.envs.alfworld.vocabulary import (
    CONTAINER_KINDS,
    LAMP_HOSTS,
    OBJECT_KINDS,
    ROOM_LAYOUTS,
    ROOMS,
    TOOL_KINDS,
)

__all__ = [
    "TASK_TYPES",
    "MODIFIERS",
    "Task",
    "Combo",
    "TASK_COMBOS",
    "goal_text",
    "num_phrasings",
]

#: ALFWorld's task types, in a fixed order.
TASK_TYPES: tuple[str, ...] = (
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
)

#: Task type -> the state change it requires before placing (None: none).
MODIFIERS: Mapping[str, str | None] = MappingProxyType(
    {
        "pick_and_place_simple": None,
        "look_at_obj_in_light": None,
        "pick_clean_then_place_in_recep": "clean",
        "pick_heat_then_place_in_recep": "heat",
        "pick_cool_then_place_in_recep": "cool",
        "pick_two_obj_and_place": None,
    }
)

#: An ``(object kind, target kind, room)`` combination.
Combo = tuple[str, str, str]


@dataclass(frozen=True)
class Task:
    """One generated task.

    Attributes:
        task_type: One of :data:`TASK_TYPES`.
        object_kind: The kind ``X`` to handle.
        target_kind: The receptacle kind ``Y`` to put it in (``"desklamp"``
            for ``look_at_obj_in_light``: the light to look under).
        room: Room type.
        goal: The instruction text, e.g. ``"put a clean mug in cabinet."``.
    """

    task_type: str
    object_kind: str
    target_kind: str
    room: str
    goal: str

    @property
    def modifier(self) -> str | None:
        """``"clean"``, ``"heat"``, ``"cool"`` or None."""
        return MODIFIERS[self.task_type]

    @property
    def count(self) -> int:
        """How many ``X`` must end up in one ``Y`` (2 for pick_two, else 1)."""
        return 2 if self.task_type == "pick_two_obj_and_place" else 1

    @property
    def combo(self) -> Combo:
        """The task's ``(X, Y, room)`` combination."""
        return (self.object_kind, self.target_kind, self.room)


def _prep(y: str) -> str:
    return "in" if y in CONTAINER_KINDS else "on"


_PHRASINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pick_and_place_simple": ("put a {x} {p} {y}.", "put some {x} {p} {y}."),
        "look_at_obj_in_light": (
            "look at {x} under the {y}.",
            "examine the {x} with the {y}.",
        ),
        "pick_clean_then_place_in_recep": (
            "put a clean {x} in {y}.",
            "clean some {x} and put it in {y}.",
        ),
        "pick_heat_then_place_in_recep": (
            "put a hot {x} in {y}.",
            "heat some {x} and put it in {y}.",
        ),
        "pick_cool_then_place_in_recep": (
            "put a cool {x} in {y}.",
            "cool some {x} and put it in {y}.",
        ),
        "pick_two_obj_and_place": (
            "put two {x} {p} {y}.",
            "find two {x} and put them {p} {y}.",
        ),
    }
)


def num_phrasings(task_type: str) -> int:
    """How many goal phrasings ``task_type`` has."""
    return len(_PHRASINGS[task_type])


def goal_text(task_type: str, x: str, y: str, variant: int) -> str:
    """The goal sentence of a task, in ALFWorld's phrasing.

    Args:
        task_type: One of :data:`TASK_TYPES`.
        x: Object kind.
        y: Target receptacle kind (or lamp kind).
        variant: Which phrasing (modulo the number available).

    Returns:
        e.g. ``"put some apple on countertop."``.
    """
    forms = _PHRASINGS[task_type]
    return forms[variant % len(forms)].format(x=x, y=y, p=_prep(y))


def _other_place(x: str, y: str, room: str) -> bool:
    kinds = ROOM_LAYOUTS[room]
    return any(r != y and r in kinds for r in OBJECT_KINDS[x].receptacles)


def _combos(task_type: str) -> tuple[Combo, ...]:
    mod = MODIFIERS[task_type]
    out: list[Combo] = []
    for room in ROOMS:
        kinds = ROOM_LAYOUTS[room]
        if task_type == "look_at_obj_in_light":
            if not any(h in kinds for h in LAMP_HOSTS):
                continue
        elif mod is not None and not any(t in kinds for t in TOOL_KINDS[mod]):
            continue
        for k in OBJECT_KINDS.values():
            if not k.pickupable or room not in k.rooms:
                continue
            if mod is not None and not getattr(
                k, {"clean": "cleanable", "heat": "heatable", "cool": "coolable"}[mod]
            ):
                continue
            if task_type == "look_at_obj_in_light":
                if _other_place(k.name, "desklamp", room):
                    out.append((k.name, "desklamp", room))
                continue
            for y in k.receptacles:
                if y not in kinds or (mod is not None and y in TOOL_KINDS[mod]):
                    continue
                if _other_place(k.name, y, room):
                    out.append((k.name, y, room))
    return tuple(out)


#: Task type -> every combination it can be generated with (before the split).
TASK_COMBOS: Mapping[str, tuple[Combo, ...]] = MappingProxyType({t: _combos(t) for t in TASK_TYPES})
