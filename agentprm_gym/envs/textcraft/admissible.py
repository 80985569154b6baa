"""A finite, useful list of valid TextCraft commands for a state.

Built from the recipes the task lists (the goal's and the distractors):
``inventory``; ``get N item`` for every base item those recipes use, with N
the amount a recipe asks for and 1; and every ``craft`` of a listed recipe
that the inventory allows now, with concrete held items for tag ingredients.
Every listed command is valid.
"""

from __future__ import annotations

import itertools

from agentprm_gym.envs.textcraft.crafting_tree import CraftingTree, Recipe, display_name

__all__ = ["admissible_commands", "recipe_gets"]

_MAX_COMBOS = 8


def recipe_gets(tree: CraftingTree, recipes: tuple[Recipe, ...]) -> tuple[str, ...]:
    """The ``get`` commands for the base items that ``recipes`` use, sorted."""
    out: set[str] = set()
    for r in recipes:
        for ing in r.inputs:
            names = tree.tag_members(ing.name) if ing.is_tag else [ing.name]
            if ing.is_tag and tree.is_base(ing.name):
                names = [ing.name]
            for name in names:
                if tree.is_base(name):
                    out.add(f"get {ing.count} {display_name(name)}")
                    out.add(f"get 1 {display_name(name)}")
    return tuple(sorted(out))


def _crafts(tree: CraftingTree, recipe: Recipe, inv: dict[str, int]) -> list[str]:
    options: list[list[str]] = []
    for ing in recipe.inputs:
        held = [n for n in inv if tree.matches(ing, n) and inv[n] >= ing.count]
        if not held:
            return []
        options.append(sorted(held))
    out = []
    for combo in itertools.islice(itertools.product(*options), _MAX_COMBOS):
        need: dict[str, int] = {}
        for name, ing in zip(combo, recipe.inputs, strict=True):
            need[name] = need.get(name, 0) + ing.count
        if any(inv[n] < c for n, c in need.items()):
            continue
        ins = ", ".join(
            f"{ing.count} {display_name(n)}" for n, ing in zip(combo, recipe.inputs, strict=True)
        )
        out.append(f"craft {recipe.output_count} {display_name(recipe.output)} using {ins}")
    return out


def admissible_commands(
    tree: CraftingTree,
    recipes: tuple[Recipe, ...],
    gets: tuple[str, ...],
    inventory: dict[str, int],
) -> list[str]:
    """Valid commands now: crafts of ``recipes`` possible with the inventory, ``gets``, inventory.

    Args:
        tree: The crafting tree.
        recipes: The task's listed recipes.
        gets: :func:`recipe_gets` of those recipes (computed once per task).
        inventory: The current inventory.
    """
    crafts: list[str] = []
    if inventory:
        for r in recipes:
            crafts.extend(_crafts(tree, r, inventory))
    return [*sorted(set(crafts)), *gets, "inventory"]
