"""Success check of a TextCraft task: the goal item has been crafted.

As in TextCraft, only crafting the goal counts (it cannot be fetched with
``get``); the episode ends on the craft that makes it.
"""

from __future__ import annotations

from agentprm_gym.envs.textcraft.tasks import Task

__all__ = ["crafted_goal"]


def crafted_goal(task: Task, crafted_item: str | None) -> bool:
    """Whether the item just crafted is the task's goal."""
    return crafted_item is not None and crafted_item == task.goal
