"""The crafting tree: items, tags, recipes, depths and recipe matching.

Built from :func:`~.recipes.load_raw_recipes` with TextCraft's rules:

- Recipes whose only input is a ``*_block`` are dropped (uncrafting blocks).
- A recipe's ``group`` becomes the tag of its output item (``oak_planks`` has
  tag ``planks``) unless the group is the item itself.
- A recipe that would close a dependency cycle (its output is already among
  the transitive inputs of one of its inputs) is dropped.
- A tag input that no craftable item carries is turned into an item of the
  same name (``minecraft:logs`` becomes an item one can get).
- Base items (those one can ``get``) are known items with no recipe that are
  not tags.
- The depth of a base item is 0; of a craftable item, the least over its
  recipes of the largest input depth plus one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from agentprm_gym.envs.textcraft.recipes import Ingredient, RawRecipe, load_raw_recipes

__all__ = ["Recipe", "CraftingTree", "default_tree", "display_name", "item_id"]


def display_name(name: str) -> str:
    """``"minecraft:oak_planks"`` -> ``"oak planks"``."""
    return name.replace("minecraft:", "").replace("_", " ")


def item_id(text: str) -> str:
    """``"oak planks"`` -> ``"minecraft:oak_planks"``."""
    return "minecraft:" + text.replace(" ", "_")


@dataclass(frozen=True)
class Recipe:
    """A usable recipe: output item, how many one craft makes, and the inputs."""

    output: str
    output_count: int
    inputs: tuple[Ingredient, ...]

    @property
    def text(self) -> str:
        """TextCraft's crafting command text, e.g. ``"craft 4 stick using 2 planks"``."""
        ins = ", ".join(f"{i.count} {display_name(i.name)}" for i in self.inputs)
        return f"craft {self.output_count} {display_name(self.output)} using {ins}"


class CraftingTree:
    """Items, tags and recipes of the Minecraft crafting data, with TextCraft's rules.

    Args:
        raw: The recipes to build from (default: the ``textcraft`` package's data).
    """

    def __init__(self, raw: Iterable[RawRecipe] | None = None) -> None:
        raw = tuple(load_raw_recipes() if raw is None else raw)
        self.items: set[str] = set()
        self.tags: set[str] = set()
        self.item_tag: dict[str, str] = {}
        self.item_recipes: dict[str, list[Recipe]] = {}
        self.tag_recipes: dict[str, list[Recipe]] = {}
        deps: dict[str, set[str]] = {}
        kept: list[Recipe] = []
        for r in raw:
            for ing in r.inputs:
                (self.tags if ing.is_tag else self.items).add(ing.name)
            self.items.add(r.output)
            if len(r.inputs) == 1 and r.inputs[0].name.endswith("_block"):
                continue
            tag = None
            if r.group is not None:
                tag = "minecraft:" + r.group
                if tag != r.output:
                    self.tags.add(tag)
                    self.item_tag[r.output] = tag
            recipe = Recipe(r.output, r.output_count, r.inputs)
            out_deps = deps.setdefault(r.output, set())
            if any(r.output in deps.get(ing.name, ()) for ing in r.inputs):
                continue  # would close a cycle
            self.item_recipes.setdefault(r.output, []).append(recipe)
            for ing in r.inputs:
                out_deps.add(ing.name)
                out_deps.update(deps.get(ing.name, ()))
            if tag is not None:
                self.tag_recipes.setdefault(tag, []).append(recipe)
            kept.append(recipe)
        self._convert_orphan_tags()
        self._depth: dict[str, int] = {}

    def _convert_orphan_tags(self) -> None:
        """Turn tag inputs that no craftable item carries into plain items."""
        members: dict[str, list[str]] = {}
        for item, tag in self.item_tag.items():
            members.setdefault(tag, []).append(item)
        orphans = set()
        for recipes in self.item_recipes.values():
            for r in recipes:
                for ing in r.inputs:
                    if ing.is_tag and not any(
                        m in self.item_recipes for m in members.get(ing.name, ())
                    ):
                        orphans.add(ing.name)
        if not orphans:
            return

        def fix(r: Recipe) -> Recipe:
            ins = tuple(
                Ingredient(i.name, False, i.count) if i.is_tag and i.name in orphans else i
                for i in r.inputs
            )
            return Recipe(r.output, r.output_count, ins)

        fixed: dict[int, Recipe] = {}
        for table in (self.item_recipes, self.tag_recipes):
            for key, recipes in table.items():
                table[key] = [fixed.setdefault(id(r), fix(r)) for r in recipes]
        self.items |= orphans
        self.tags -= orphans

    # ------------------------------------------------------------ queries
    def is_craftable(self, name: str) -> bool:
        """Whether ``name`` (item or tag) has a recipe."""
        return name in self.item_recipes or name in self.tag_recipes

    def is_tag(self, name: str) -> bool:
        """Whether ``name`` is a tag (an item family)."""
        return name in self.tags

    def is_base(self, name: str) -> bool:
        """Whether ``name`` is an item one can ``get`` (known, not a tag, no recipe)."""
        return name in self.items and name not in self.tags and not self.is_craftable(name)

    def recipes_for(self, name: str) -> list[Recipe]:
        """The recipes of an item, or of every member of a tag."""
        return self.item_recipes.get(name) or self.tag_recipes.get(name) or []

    def tag_members(self, tag: str) -> list[str]:
        """Items that carry ``tag``, sorted."""
        return sorted(i for i, t in self.item_tag.items() if t == tag)

    def depth(self, name: str) -> int:
        """Least crafting depth of an item or tag (0 for base items)."""
        if name in self._depth:
            return self._depth[name]
        self._depth[name] = 0  # guards against (already removed) cycles
        recipes = self.recipes_for(name)
        if recipes:
            self._depth[name] = min(max(self.depth(i.name) + 1 for i in r.inputs) for r in recipes)
        return self._depth[name]

    def matches(self, required: Ingredient, given: str) -> bool:
        """Whether item ``given`` satisfies a recipe ingredient (by id or by tag)."""
        if required.is_tag:
            return self.item_tag.get(given) == required.name or given == required.name
        return given == required.name

    def match_recipe(self, output: str, inputs: list[tuple[str, int]]) -> Recipe | None:
        """The recipe of ``output`` whose ingredients equal ``inputs`` exactly (or None)."""
        for r in self.item_recipes.get(output, []):
            left = list(inputs)
            ok = True
            for ing in r.inputs:
                hit = next((k for k, (n, _) in enumerate(left) if self.matches(ing, n)), None)
                if hit is None or left[hit][1] != ing.count:
                    ok = False
                    break
                left.pop(hit)
            if ok and not left:
                return r
        return None

    def relevant_recipes(self, goal: str) -> list[Recipe]:
        """Every recipe reachable from ``goal`` through inputs (depth first, each once)."""
        out: list[Recipe] = []
        seen_r: set[int] = set()
        seen_n: set[str] = set()

        def visit(name: str) -> None:
            if name in seen_n:
                return
            seen_n.add(name)
            for r in self.recipes_for(name):
                if id(r) not in seen_r:
                    seen_r.add(id(r))
                    out.append(r)
                for ing in r.inputs:
                    visit(ing.name)

        visit(goal)
        return out

    def uses(self) -> dict[str, list[Recipe]]:
        """Ingredient name -> recipes that use it."""
        out: dict[str, list[Recipe]] = {}
        for recipes in self.item_recipes.values():
            for r in recipes:
                for ing in r.inputs:
                    out.setdefault(ing.name, []).append(r)
        return out

    def goal_items(self, min_depth: int = 2) -> list[str]:
        """Craftable items of depth at least ``min_depth``, sorted by id."""
        return sorted(i for i in self.item_recipes if self.depth(i) >= min_depth)


@lru_cache(maxsize=1)
def default_tree() -> CraftingTree:
    """The tree of the ``textcraft`` package's data (built once per process)."""
    return CraftingTree()
