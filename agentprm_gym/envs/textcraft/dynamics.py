"""TextCraft's command language applied to an inventory.

Commands: ``get N item`` (base items only), ``craft N item using M a, K b``
(an exact recipe, with concrete items for tag ingredients: ``2 oak planks``
for ``2 planks``) and ``inventory``. Responses follow TextCraft:
``"Got 2 oak logs"``, ``"Crafted 4 minecraft:stick"``, ``"Inventory: [stick] (4)"``;
failures ``"Could not find oak planks"``, ``"Could not find enough items to
craft minecraft:stick"``, ``"Could not find a valid recipe for stick"``,
``"Wrong item format: ..."``, ``"Could not execute ..."``. A failed command
leaves the inventory unchanged. Unlike TextCraft, a craft checks the summed
count of an item named twice in its inputs, and ``get`` needs N >= 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentprm_gym.envs.textcraft.crafting_tree import CraftingTree, display_name, item_id

__all__ = ["Outcome", "apply_command", "inventory_text", "normalize"]

_GET = re.compile(r"get ([0-9]+) (.+)")
_CRAFT = re.compile(r"craft (.+?) using (.+)")
_COUNT = re.compile(r"([0-9]+) (.+)")


@dataclass(frozen=True)
class Outcome:
    """Result of a command.

    Attributes:
        observation: TextCraft's response text.
        error: None on success, else the failure message (same as the response).
        inventory: The new inventory (a new dict; the input one is never changed).
        crafted: The item id crafted by this command, if any.
    """

    observation: str
    error: str | None
    inventory: dict[str, int]
    crafted: str | None = None


def normalize(action: str) -> str:
    """Lower-case and collapse whitespace."""
    return " ".join(action.lower().split())


def inventory_text(inventory: dict[str, int]) -> str:
    """TextCraft's inventory line."""
    if not inventory:
        return "Inventory: You are not carrying anything."
    return "Inventory: " + " ".join(f"[{display_name(k)}] ({v})" for k, v in inventory.items())


def _fail(msg: str, inventory: dict[str, int]) -> Outcome:
    return Outcome(msg, msg, inventory)


def apply_command(tree: CraftingTree, inventory: dict[str, int], action: str) -> Outcome:
    """Apply one command to ``inventory`` (not modified) and return the outcome."""
    text = normalize(action)
    if text == "inventory":
        return Outcome(inventory_text(inventory), None, inventory)
    m = _GET.fullmatch(text)
    if m:
        amount, name = int(m.group(1)), m.group(2)
        if amount < 1 or amount > 10_000:
            return _fail(f"Could not execute {text}", inventory)
        iid = item_id(name)
        if not tree.is_base(iid):
            return _fail(f"Could not find {name}", inventory)
        new = dict(inventory)
        new[iid] = new.get(iid, 0) + amount
        return Outcome(f"Got {amount} {name}", None, new)
    m = _CRAFT.fullmatch(text)
    if m:
        return _craft(tree, inventory, m.group(1), m.group(2))
    return _fail(f"Could not execute {action.strip()[:200]}", inventory)


def _craft(tree: CraftingTree, inventory: dict[str, int], out_str: str, in_str: str) -> Outcome:
    m = _COUNT.fullmatch(out_str)
    out_name = m.group(2) if m else out_str
    output = item_id(out_name)
    inputs: list[tuple[str, int]] = []
    for part in in_str.split(","):
        part = part.strip()
        pm = _COUNT.fullmatch(part)
        if not pm:
            return _fail(f"Wrong item format: {part}", inventory)
        inputs.append((item_id(pm.group(2)), int(pm.group(1))))
    needed: dict[str, int] = {}
    for name, count in inputs:
        needed[name] = needed.get(name, 0) + count
    if any(inventory.get(n, 0) < c for n, c in needed.items()):
        return _fail(f"Could not find enough items to craft {output}", inventory)
    recipe = tree.match_recipe(output, inputs)
    if recipe is None:
        return _fail(f"Could not find a valid recipe for {out_name}", inventory)
    new = dict(inventory)
    for name, count in needed.items():
        new[name] -= count
        if new[name] == 0:
            del new[name]
    new[output] = new.get(output, 0) + recipe.output_count
    return Outcome(f"Crafted {recipe.output_count} {output}", None, new, output)
