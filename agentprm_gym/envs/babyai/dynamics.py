"""Text actions of text BabyAI and their execution as primitive minigrid steps.

Primitive actions map one-to-one to minigrid actions (``turn left``, ``turn
right``, ``move forward``, ``pick up``, ``drop``, ``toggle``). High-level
actions name a visible object (``go to red ball 1``, ``pick up red ball 1``,
``go through blue door 1``, ``toggle and go through blue door 1``); they are
planned first (breadth-first search over agent position and direction on the
level's grid, through empty cells and open doors) and then executed as
primitive minigrid steps, stopping early when the episode ends. A plan that
cannot be made is an invalid action and changes nothing.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any

from agentprm_gym.envs.babyai.levels import observations_skipped
from agentprm_gym.envs.babyai.render import VisibleObject

__all__ = [
    "PRIMITIVES",
    "PRIMITIVE_NAMES",
    "ParsedCommand",
    "parse_command",
    "plan_command",
    "shortest_path",
    "high_level_actions",
    "ExecResult",
    "execute",
]

#: Text name -> minigrid action index (minigrid's ``Actions`` enum order).
PRIMITIVES: dict[str, int] = {
    "turn left": 0,
    "turn right": 1,
    "move forward": 2,
    "pick up": 3,
    "drop": 4,
    "toggle": 5,
}
#: Minigrid action index -> text name.
PRIMITIVE_NAMES: dict[int, str] = {v: k for k, v in PRIMITIVES.items()}

_HIGH_LEVEL = (
    ("toggle_through", re.compile(r"toggle and go through (.+)")),
    ("through", re.compile(r"go through (.+)")),
    ("goto", re.compile(r"go to (.+)")),
    ("pickup", re.compile(r"pick up (.+)")),
)
_DIRS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # minigrid DIR_TO_VEC


@dataclass(frozen=True)
class ParsedCommand:
    """A parsed text action: ``kind`` is ``"prim"`` or a high-level kind; ``arg`` its operand."""

    kind: str
    arg: str | int


def parse_command(action: str) -> ParsedCommand | None:
    """Parse a text action (case and extra spaces ignored); None if it is not one."""
    text = " ".join(action.lower().split())
    if text in PRIMITIVES:
        return ParsedCommand("prim", PRIMITIVES[text])
    for kind, rx in _HIGH_LEVEL:
        m = rx.fullmatch(text)
        if m:
            return ParsedCommand(kind, m.group(1))
    return None


def _passable(cell: Any) -> bool:
    return cell is None or cell.can_overlap()


def shortest_path(mg_env: Any, target: tuple[int, int]) -> list[int] | None:
    """Fewest primitive actions that leave the agent facing ``target`` (None: unreachable)."""
    grid = mg_env.grid
    start = (int(mg_env.agent_pos[0]), int(mg_env.agent_pos[1]), int(mg_env.agent_dir))
    tx, ty = target
    prev: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None] = {start: None}
    queue = deque([start])
    goal = None
    while queue:
        state = queue.popleft()
        x, y, d = state
        if (x + _DIRS[d][0], y + _DIRS[d][1]) == (tx, ty):
            goal = state
            break
        nxt = [((x, y, (d - 1) % 4), 0), ((x, y, (d + 1) % 4), 1)]
        fx, fy = x + _DIRS[d][0], y + _DIRS[d][1]
        if 0 <= fx < grid.width and 0 <= fy < grid.height and _passable(grid.get(fx, fy)):
            nxt.append(((fx, fy, d), 2))
        for s, a in nxt:
            if s not in prev:
                prev[s] = (state, a)
                queue.append(s)
    if goal is None:
        return None
    actions: list[int] = []
    node = goal
    while prev[node] is not None:
        node, a = prev[node]
        actions.append(a)
    actions.reverse()
    return actions


def _find(visible: list[VisibleObject], name: str) -> VisibleObject | None:
    for v in visible:
        if v.name == name:
            return v
    return None


def plan_command(
    mg_env: Any, cmd: ParsedCommand, visible: list[VisibleObject]
) -> tuple[list[int] | None, str | None]:
    """The primitive actions that carry out ``cmd`` now, or ``(None, error message)``."""
    if cmd.kind == "prim":
        return [int(cmd.arg)], None
    name = str(cmd.arg)
    target = _find(visible, name)
    if target is None:
        return None, f"you do not see a {name} here"
    obj = target.obj
    pos = target.pos
    front = tuple(int(v) for v in mg_env.front_pos)
    path = [] if front == pos else shortest_path(mg_env, pos)
    if path is None:
        return None, f"you cannot reach the {name} from here"
    if cmd.kind == "goto":
        if not path:
            return None, f"you are already facing the {name}"
        return path, None
    if cmd.kind == "pickup":
        if not obj.can_pickup():
            return None, f"the {name} cannot be picked up"
        if mg_env.carrying is not None:
            return None, "you are already carrying something; drop it first"
        return [*path, 3], None
    if obj.type != "door":
        return None, f"the {name} is not a door"
    plan = list(path)
    if cmd.kind == "through":
        if not obj.is_open:
            return None, f"the {name} is closed; use 'toggle and go through {name}'"
    else:
        if obj.is_open:
            return None, f"the {name} is already open; use 'go through {name}'"
        if obj.is_locked:
            carrying = mg_env.carrying
            if carrying is None or carrying.type != "key" or carrying.color != obj.color:
                return None, f"the {name} is locked and you do not carry a {obj.color} key"
        plan.append(5)
    plan.append(2)
    # one more step beyond the door when that cell is free
    before = _cell_before(mg_env, path)
    bx, by = 2 * pos[0] - before[0], 2 * pos[1] - before[1]
    grid = mg_env.grid
    if 0 <= bx < grid.width and 0 <= by < grid.height and _passable(grid.get(bx, by)):
        plan.append(2)
    return plan, None


def _cell_before(mg_env: Any, path: list[int]) -> tuple[int, int]:
    """The agent's cell after following ``path`` (turns and forward moves)."""
    x, y, d = int(mg_env.agent_pos[0]), int(mg_env.agent_pos[1]), int(mg_env.agent_dir)
    for a in path:
        if a == 0:
            d = (d - 1) % 4
        elif a == 1:
            d = (d + 1) % 4
        elif a == 2:
            x, y = x + _DIRS[d][0], y + _DIRS[d][1]
    return x, y


def high_level_actions(mg_env: Any, visible: list[VisibleObject]) -> list[str]:
    """The high-level actions that name visible objects and can be valid now."""
    out = []
    carrying = mg_env.carrying
    for v in visible:
        obj = v.obj
        out.append(f"go to {v.name}")
        if obj.type == "door":
            if obj.is_open:
                out.append(f"go through {v.name}")
            elif not obj.is_locked or (
                carrying is not None and carrying.type == "key" and carrying.color == obj.color
            ):
                out.append(f"toggle and go through {v.name}")
        elif carrying is None and obj.can_pickup():
            out.append(f"pick up {v.name}")
    return out


@dataclass
class ExecResult:
    """Outcome of executing primitive actions: last obs, summed reward, end flags, count."""

    obs: dict[str, Any]
    reward: float
    terminated: bool
    truncated: bool
    primitive_steps: int


def execute(mg_env: Any, actions: list[int]) -> ExecResult:
    """Step ``mg_env`` through ``actions``, stopping early when the episode ends.

    Only the final state's observation is built (see :func:`.observations_skipped`).
    """
    total = 0.0
    terminated = truncated = False
    n = 0
    with observations_skipped(mg_env):
        for a in actions:
            _, r, terminated, truncated, _ = mg_env.step(a)
            total += float(r)
            n += 1
            if terminated or truncated:
                break
    return ExecResult(mg_env.gen_obs(), total, bool(terminated), bool(truncated), n)
