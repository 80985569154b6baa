"""Object names and the text view of a minigrid BabyAI state.

Every door, key, ball and box gets a stable name at reset (``"red ball 1"``,
numbered per colour and type in grid order), kept as an attribute on the
minigrid object so that it survives deep copies. The view lists what the
agent sees in its partial view (minigrid's visibility mask), object by object
with its position relative to the agent, the nearest walls ahead, to the left
and to the right, and what the agent carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "NAME_ATTR",
    "NAMED_TYPES",
    "VisibleObject",
    "assign_names",
    "name_of",
    "visible_objects",
    "relative_phrase",
    "describe",
    "steps_phrase",
]

#: Attribute set on minigrid objects to hold their text name.
NAME_ATTR = "agentprm_name"
#: Object types that get names and appear in the view.
NAMED_TYPES = ("door", "key", "ball", "box")

# minigrid's OBJECT_TO_IDX codes
_WALL = 2


@dataclass(frozen=True)
class VisibleObject:
    """One object in the agent's view.

    Attributes:
        obj: The minigrid object.
        name: Its text name, e.g. ``"red ball 1"``.
        forward: Cells in front of the agent (0 = the agent's row).
        right: Cells to the right (negative: to the left).
        pos: Its grid position.
    """

    obj: Any
    name: str
    forward: int
    right: int
    pos: tuple[int, int]


def assign_names(mg_env: Any) -> None:
    """Name every door, key, ball and box of the level (and the carried object)."""
    counts: dict[tuple[str, str], int] = {}
    grid = mg_env.grid
    objs = [o for o in grid.grid if o is not None and o.type in NAMED_TYPES]
    if mg_env.carrying is not None:
        objs.append(mg_env.carrying)
    for obj in objs:
        key = (obj.color, obj.type)
        counts[key] = counts.get(key, 0) + 1
        setattr(obj, NAME_ATTR, f"{obj.color} {obj.type} {counts[key]}")


def name_of(obj: Any) -> str:
    """The text name of a minigrid object (colour and type if it has none)."""
    return getattr(obj, NAME_ATTR, None) or f"{obj.color} {obj.type}"


def visible_objects(mg_env: Any, image: np.ndarray) -> list[VisibleObject]:
    """The named objects in the agent's view, nearest first.

    Args:
        mg_env: The minigrid env (agent position and direction are read).
        image: Minigrid's encoded partial view (``obs["image"]``), which marks
            cells the agent cannot see as unseen.
    """
    size = image.shape[0]
    mid = size // 2
    ax, ay = int(mg_env.agent_pos[0]), int(mg_env.agent_pos[1])
    dx, dy = (int(v) for v in mg_env.dir_vec)
    rx, ry = -dy, dx
    types = image[:, :, 0]
    out = []
    for i, j in zip(*np.nonzero((types >= 4) & (types <= 7)), strict=True):  # door..box
        fwd = size - 1 - int(j)
        right = int(i) - mid
        if fwd == 0 and right == 0:
            continue  # the carried object is drawn on the agent's cell
        pos = (ax + dx * fwd + rx * right, ay + dy * fwd + ry * right)
        obj = mg_env.grid.get(*pos)
        if obj is None:
            continue
        out.append(VisibleObject(obj, name_of(obj), fwd, right, pos))
    out.sort(key=lambda v: (abs(v.forward) + abs(v.right), v.forward, v.right, v.name))
    return out


def steps_phrase(n: int) -> str:
    """``"1 step"`` or ``"n steps"``."""
    return f"{n} step" if n == 1 else f"{n} steps"


def relative_phrase(forward: int, right: int) -> str:
    """E.g. ``"2 steps in front of you and 1 step to your left"``."""
    parts = []
    if forward > 0:
        parts.append(f"{steps_phrase(forward)} in front of you")
    if right > 0:
        parts.append(f"{steps_phrase(right)} to your right")
    elif right < 0:
        parts.append(f"{steps_phrase(-right)} to your left")
    return " and ".join(parts) if parts else "where you stand"


def _door_state(obj: Any) -> str:
    if obj.is_open:
        return "open "
    return "locked " if obj.is_locked else "closed "


def _ray_wall(image: np.ndarray, cells: list[tuple[int, int]]) -> int | None:
    """Distance to the first wall along a ray of view cells; None if blocked first or unseen."""
    for k, (i, j) in enumerate(cells, start=1):
        code = int(image[i, j, 0])
        if code == _WALL:
            return k
        if code != 1 and code != 3:  # not empty/floor: an object or unseen cell stops the ray
            return None
    return None


def describe(mission: str, mg_env: Any, image: np.ndarray, visible: list[VisibleObject]) -> str:
    """The text view: mission, visible objects, nearby walls and what is carried."""
    lines = [f"Your goal: {mission}"]
    if visible:
        lines.append("You see:")
        for v in visible:
            state = _door_state(v.obj) if v.obj.type == "door" else ""
            where = relative_phrase(v.forward, v.right)
            what = f"{state}{v.name}"
            article = "an" if what[0] in "aeiou" else "a"
            lines.append(f"There is {article} {what} {where}.")
    else:
        lines.append("You see no objects.")
    size = image.shape[0]
    mid = size // 2
    walls = []
    ahead = _ray_wall(image, [(mid, size - 1 - k) for k in range(1, size)])
    if ahead is not None:
        walls.append(f"You are facing a wall {steps_phrase(ahead)} away.")
    left = _ray_wall(image, [(mid - k, size - 1) for k in range(1, mid + 1)])
    if left is not None:
        walls.append(f"There is a wall {steps_phrase(left)} to your left.")
    right = _ray_wall(image, [(mid + k, size - 1) for k in range(1, mid + 1)])
    if right is not None:
        walls.append(f"There is a wall {steps_phrase(right)} to your right.")
    lines.extend(walls)
    carrying = mg_env.carrying
    if carrying is not None:
        what = name_of(carrying)
        lines.append(f"You are carrying {'an' if what[0] in 'aeiou' else 'a'} {what}.")
    else:
        lines.append("You are not carrying anything.")
    return "\n".join(lines)
