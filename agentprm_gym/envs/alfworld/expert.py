"""A privileged expert for all six task types, and its exact remaining step count.

:func:`expert_action` is a deterministic function of the state (it reads
where every object is, like ALFWorld's hand-coded expert reads the PDDL
state). It handles any state a policy can reach: a wrong object in hand is
put down first (at the agent's receptacle when that accepts it, else at the
first accepting receptacle in display order, open ones preferred); the object
to fetch is the first fitting ``X`` (at the agent's receptacle if one is
there, else in display order); closed receptacles are opened when the agent
needs inside. :func:`expert_plan` simulates it on a copy of the state until the
goal holds, so ``len(expert_plan(...))`` is exactly the number of steps the
expert takes from here. Every plan is short (at most about a dozen steps)
and the simulation is bounded, so nothing can hang.
"""

from __future__ import annotations

from agentprm_gym.envs.alfworld.dynamics import apply_command
from agentprm_gym.envs.alfworld.tasks import Task
from agentprm_gym.envs.alfworld.verifier import goal_satisfied, has_flag
from agentprm_gym.envs.alfworld.vocabulary import OBJECT_KINDS, TOOL_KINDS
from agentprm_gym.envs.alfworld.world import Layout, WorldState, kind_of

__all__ = ["expert_action", "expert_plan", "ExpertError", "MAX_PLAN"]

#: Bound on simulated expert steps (a plan is far shorter; exceeding it is a bug).
MAX_PLAN = 60


class ExpertError(RuntimeError):
    """Raised if the expert fails to reach the goal in simulation (a bug)."""


def _reach(layout: Layout, state: WorldState, recep: str, then: str) -> str:
    """Go to ``recep``, open it if closed, then do ``then``."""
    if state.location != recep:
        return f"go to {recep}"
    if recep in layout.openable and recep not in state.opened:
        return f"open {recep}"
    return then


def _put_down(layout: Layout, state: WorldState, held: str) -> str:
    places = OBJECT_KINDS[layout.kinds[held]].receptacles
    loc = state.location
    if loc is not None and kind_of(loc) in places:
        return _reach(layout, state, loc, f"move {held} to {loc}")
    fits = [r for r in layout.receptacles if layout.kinds[r] in places]
    best = min(fits, key=lambda r: (not state.accessible(layout, r), layout.recep_index[r]))
    return f"go to {best}"


def _fetch(layout: Layout, state: WorldState, candidates: list[str]) -> str:
    loc = state.location
    where = state.where
    idx = layout.recep_index
    obj = min(candidates, key=lambda o: (where[o] != loc, idx[where[o]], o))
    src = where[obj]
    return _reach(layout, state, src, f"take {obj} from {src}")


def expert_action(task: Task, layout: Layout, state: WorldState) -> str:
    """The expert's next command in ``state`` (``"look"`` once the goal holds).

    Args:
        task: The task.
        layout: The world's layout.
        state: The current state (not changed).

    Returns:
        A valid command.
    """
    if goal_satisfied(task, layout, state):
        return "look"
    x = task.object_kind
    held = state.holding
    if held is not None and layout.kinds[held] != x:
        return _put_down(layout, state, held)
    if task.task_type == "look_at_obj_in_light":
        lamp = next(o for o in layout.objects if layout.kinds[o] == task.target_kind)
        if held is None:
            return _fetch(layout, state, [o for o in layout.objects if layout.kinds[o] == x])
        lamp_loc = state.where[lamp]
        return _reach(layout, state, lamp_loc, f"use {lamp}")
    mod = task.modifier
    targets = layout.receptacles_of(task.target_kind)

    def good(r: str) -> int:
        return sum(1 for o in state.contents[r] if layout.kinds[o] == x and has_flag(state, o, mod))

    target = max(targets, key=lambda r: (good(r), -layout.recep_index[r]))
    if held is None:
        done = set(state.contents[target]) if task.count > 1 else set()
        cands = [o for o in layout.objects if layout.kinds[o] == x and o not in done]
        return _fetch(layout, state, cands)
    if not has_flag(state, held, mod):
        tool = next(r for k in TOOL_KINDS[mod] for r in layout.receptacles_of(k))
        if state.location != tool:
            return f"go to {tool}"
        return f"{mod} {held} with {tool}"
    return _reach(layout, state, target, f"move {held} to {target}")


def expert_plan(task: Task, layout: Layout, state: WorldState) -> list[str]:
    """The expert's commands from ``state`` to the goal, by simulation on a copy.

    Raises:
        ExpertError: If a command is rejected or the goal is not reached within
            :data:`MAX_PLAN` steps (either would be a bug).
    """
    sim = state.copy()
    plan: list[str] = []
    while not goal_satisfied(task, layout, sim):
        if len(plan) >= MAX_PLAN:
            raise ExpertError(f"expert did not reach the goal in {MAX_PLAN} steps: {plan}")
        cmd = expert_action(task, layout, sim)
        _, err = apply_command(layout, sim, cmd)
        if err is not None:
            raise ExpertError(f"expert command {cmd!r} was rejected: {err}")
        plan.append(cmd)
    return plan
