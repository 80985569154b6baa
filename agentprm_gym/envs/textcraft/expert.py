"""A planner over the crafting tree: the TextCraft expert.

From any inventory it plans the commands that craft the goal: for each item
still missing it either gets it with ``get`` (a base item, exactly the missing
amount) or picks its cheapest feasible recipe (fewest commands from nothing,
ties by recipe order), picks a concrete item for each tag ingredient (one
already held in the needed amount if any, else the cheapest), secures every
ingredient for all the crafts it needs (reserving what one ingredient needs
while planning the next, so shared sub-ingredients are not used twice) and
then crafts as many times as needed (one command per craft, as recipes are
exact). The expert's action is the plan's first command; the number of
commands left is the plan's length.
"""

from __future__ import annotations

import math

from agentprm_gym.envs.textcraft.crafting_tree import CraftingTree, Recipe, display_name

__all__ = ["plan_commands", "ExpertPlanner"]

_INF = float("inf")


class ExpertPlanner:
    """Plans TextCraft commands over one crafting tree (costs cached).

    Args:
        tree: The crafting tree.
    """

    def __init__(self, tree: CraftingTree) -> None:
        self.tree = tree
        self._cost: dict[str, float] = {}

    def cost(self, name: str, _stack: frozenset[str] = frozenset()) -> float:
        """Commands to make one of ``name`` from nothing (inf if impossible)."""
        if name in self._cost:
            return self._cost[name]
        if name in _stack:
            return _INF
        tree = self.tree
        stack = _stack | {name}
        if tree.is_base(name):
            c: float = 1.0
        elif tree.is_tag(name) and name not in tree.item_recipes:
            c = min((self.cost(m, stack) for m in tree.tag_members(name)), default=_INF)
        else:
            c = min(
                (
                    1.0 + sum(self.cost(i.name, stack) for i in r.inputs)
                    for r in tree.item_recipes.get(name, [])
                ),
                default=_INF,
            )
        if not _stack or c < _INF:
            self._cost[name] = c
        return c

    def _recipe(self, item: str) -> Recipe:
        best = None
        best_cost = _INF
        for r in self.tree.item_recipes.get(item, []):
            c = 1.0 + sum(self.cost(i.name) for i in r.inputs)
            if c < best_cost:
                best, best_cost = r, c
        if best is None:
            raise ValueError(f"no feasible recipe for {item}")
        return best

    def _member(self, tag: str, need: int, inv: dict[str, int]) -> str:
        members = [m for m in self.tree.tag_members(tag) if self.cost(m) < _INF]
        if not members:
            if self.tree.is_base(tag):
                return tag
            raise ValueError(f"no feasible item for tag {tag}")
        held = [m for m in members if inv.get(m, 0) >= need]
        if held:
            return max(held, key=lambda m: (inv[m], m))
        return min(members, key=lambda m: (self.cost(m), m))

    def _plan_item(
        self, item: str, n: int, inv: dict[str, int], out: list[str], force: bool = False
    ) -> None:
        have = inv.get(item, 0)
        if have >= n and not force:
            return
        missing = max(n - have, 1)
        if self.tree.is_base(item):
            out.append(f"get {missing} {display_name(item)}")
            inv[item] = have + missing
            return
        recipe = self._recipe(item)
        batches = math.ceil(missing / recipe.output_count)
        concrete = [
            (self._member(i.name, i.count * batches, inv) if i.is_tag else i.name, i.count)
            for i in recipe.inputs
        ]
        reserved: dict[str, int] = {}
        for name, count in concrete:
            total = count * batches
            self._plan_item(name, total, inv, out)
            inv[name] -= total
            reserved[name] = reserved.get(name, 0) + total
        for name, count in reserved.items():
            inv[name] += count
        command = f"craft {recipe.output_count} {display_name(item)} using " + ", ".join(
            f"{count} {display_name(name)}" for name, count in concrete
        )
        for _ in range(batches):
            out.append(command)
            for name, count in concrete:
                inv[name] -= count
            inv[item] = inv.get(item, 0) + recipe.output_count

    def plan(self, goal: str, inventory: dict[str, int]) -> list[str]:
        """Commands that craft ``goal`` starting from ``inventory``."""
        out: list[str] = []
        self._plan_item(goal, 1, dict(inventory), out, force=True)
        return out


def plan_commands(tree: CraftingTree, goal: str, inventory: dict[str, int]) -> list[str]:
    """Convenience wrapper: :meth:`ExpertPlanner.plan` with a fresh planner."""
    return ExpertPlanner(tree).plan(goal, inventory)
