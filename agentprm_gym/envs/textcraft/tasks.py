"""TextCraft tasks: goal items, train/test splits over goals, and the task text.

Goals are the craftable items of crafting depth at least 2 (TextCraft's
choice). A goal belongs to ``test`` when the CRC32 of its id is divisible by
5 (about a fifth of the goals), else to ``train``, so the splits share no
goal item. Each goal has :data:`VARIANTS` tasks that differ in the distractor
commands and the order of the listed commands: task ``i`` of a split is goal
``goals[i % G]``, variant ``i // G``, and every random choice comes from an
RNG seeded by (split, goal, variant), so a task id names one fixed task.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from agentprm_gym.envs.textcraft.crafting_tree import (
    CraftingTree,
    Recipe,
    default_tree,
    display_name,
)

__all__ = [
    "VARIANTS",
    "MAX_DISTRACTORS",
    "SPLITS",
    "Task",
    "split_goals",
    "make_task",
    "task_text",
]

#: Tasks per goal item (distractor/order variants).
VARIANTS = 10
#: At most this many distractor commands are listed (as TextCraft).
MAX_DISTRACTORS = 10
#: Uses of each ingredient sampled as distractor candidates (as TextCraft).
_USES_PER_INPUT = 10
SPLITS: tuple[str, ...] = ("train", "test")


@dataclass(frozen=True)
class Task:
    """One TextCraft task.

    Attributes:
        goal: Goal item id, e.g. ``"minecraft:dark_oak_sign"``.
        commands: The crafting commands shown, relevant ones and distractors, shuffled.
        depth: Crafting depth of the goal.
        recipes: The recipes behind ``commands`` (same order).
    """

    goal: str
    commands: tuple[str, ...]
    depth: int
    recipes: tuple[Recipe, ...] = ()

    @property
    def goal_name(self) -> str:
        """The goal as shown, e.g. ``"dark oak sign"``."""
        return display_name(self.goal)


def _in_test(goal: str) -> bool:
    return zlib.crc32(goal.encode()) % 5 == 0


@lru_cache(maxsize=4)
def split_goals(split: str) -> tuple[str, ...]:
    """The goal items of ``split``, sorted."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    goals = default_tree().goal_items(2)
    return tuple(g for g in goals if _in_test(g) == (split == "test"))


def make_task(split: str, task_id: int, tree: CraftingTree | None = None) -> Task:
    """Build task ``task_id`` of ``split`` (deterministic)."""
    tree = tree or default_tree()
    goals = split_goals(split)
    goal = goals[task_id % len(goals)]
    variant = task_id // len(goals)
    rng = np.random.default_rng([SPLITS.index(split), zlib.crc32(goal.encode()), variant])
    relevant = tree.relevant_recipes(goal)
    by_text: dict[str, Recipe] = {}
    for r in relevant:
        by_text.setdefault(r.text, r)
    rel_text = list(by_text)
    uses = _uses(tree)
    candidates: dict[str, Recipe] = {}
    for r in relevant:
        for ing in r.inputs:
            pool = uses.get(ing.name, [])
            k = min(len(pool), _USES_PER_INPUT)
            for idx in rng.choice(len(pool), size=k, replace=False) if k else ():
                candidates.setdefault(pool[int(idx)].text, pool[int(idx)])
    distractors = sorted(set(candidates) - set(rel_text))
    k = min(len(distractors), MAX_DISTRACTORS)
    picked = [distractors[int(i)] for i in rng.choice(len(distractors), size=k, replace=False)]
    for text in picked:
        by_text[text] = candidates[text]
    commands = rel_text + picked
    order = [commands[int(i)] for i in rng.permutation(len(commands))]
    return Task(goal, tuple(order), tree.depth(goal), tuple(by_text[c] for c in order))


@lru_cache(maxsize=1)
def _uses(tree: CraftingTree) -> dict:
    return tree.uses()


def task_text(task: Task) -> str:
    """TextCraft's task observation: the crafting commands, then ``Goal: craft X.``."""
    return "Crafting commands:\n{}\n\nGoal: craft {}.".format(
        "\n".join(task.commands), task.goal_name
    )
