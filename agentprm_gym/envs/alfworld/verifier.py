"""Goal checks from the world state (never from the action history).

* Placing tasks (simple, clean, heat, cool): some object of kind ``X`` with the
  required flag (clean / hot / cool; none for the simple type) lies in some
  receptacle of kind ``Y``.
* ``pick_two_obj_and_place``: one receptacle of kind ``Y`` holds two distinct
  objects of kind ``X``.
* ``look_at_obj_in_light``: the agent holds an ``X`` and stands at the
  receptacle where a lamp of kind ``Y`` is switched on.
"""

from __future__ import annotations

from agentprm_gym.envs.alfworld.tasks import Task
from agentprm_gym.envs.alfworld.world import Layout, WorldState

__all__ = ["goal_satisfied", "has_flag", "FLAG_OF"]

#: Modifier -> the :class:`WorldState` attribute holding its flag.
FLAG_OF = {"clean": "clean", "heat": "hot", "cool": "cool"}


def has_flag(state: WorldState, obj: str, modifier: str | None) -> bool:
    """Whether ``obj`` has the flag ``modifier`` requires (always True for None)."""
    if modifier is None:
        return True
    return obj in getattr(state, FLAG_OF[modifier])


def goal_satisfied(task: Task, layout: Layout, state: WorldState) -> bool:
    """Whether ``state`` satisfies ``task``'s goal.

    Args:
        task: The task.
        layout: The world's layout.
        state: The world state.

    Returns:
        True when the goal holds.
    """
    x, y = task.object_kind, task.target_kind
    kinds = layout.kinds
    if task.task_type == "look_at_obj_in_light":
        held = state.holding
        loc = state.location
        if held is None or loc is None or kinds[held] != x:
            return False
        return any(kinds[o] == y and o in state.on for o in state.contents[loc])
    need = task.count
    mod = task.modifier
    contents = state.contents
    for recep in layout.by_kind.get(y, ()):
        n = 0
        for o in contents[recep]:
            if kinds[o] == x and has_flag(state, o, mod):
                n += 1
                if n >= need:
                    return True
    return False
