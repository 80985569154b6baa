"""Crafting tree, command dynamics and planner on hand-written recipes."""

from __future__ import annotations

from agentprm_gym.envs.textcraft.crafting_tree import CraftingTree, default_tree
from agentprm_gym.envs.textcraft.dynamics import apply_command, inventory_text
from agentprm_gym.envs.textcraft.expert import plan_commands
from agentprm_gym.envs.textcraft.recipes import parse_recipe

M = "minecraft:"


def _tree() -> CraftingTree:
    files = {
        "oak_planks.json": {
            "type": "minecraft:crafting_shapeless",
            "group": "planks",
            "ingredients": [{"tag": M + "oak_logs"}],
            "result": {"item": M + "oak_planks", "count": 4},
        },
        "stick.json": {
            "type": "minecraft:crafting_shaped",
            "group": "sticks",
            "pattern": ["#", "#"],
            "key": {"#": {"tag": M + "planks"}},
            "result": {"item": M + "stick", "count": 4},
        },
        "torch.json": {
            "type": "minecraft:crafting_shaped",
            "pattern": ["X", "#"],
            "key": {
                "X": [{"item": M + "coal"}, {"item": M + "charcoal"}],
                "#": {"item": M + "stick"},
            },
            "result": {"item": M + "torch", "count": 4},
        },
        "ladder.json": {
            "type": "minecraft:crafting_shaped",
            "pattern": ["# #", "###", "# #"],
            "key": {"#": {"item": M + "stick"}},
            "result": {"item": M + "ladder", "count": 3},
        },
        "coal_from_block.json": {
            "type": "minecraft:crafting_shapeless",
            "ingredients": [{"item": M + "coal_block"}],
            "result": {"item": M + "coal", "count": 9},
        },
        "smelt.json": {"type": "minecraft:smelting", "ingredient": {"item": M + "sand"}},
    }
    raw = [r for name, d in sorted(files.items()) if (r := parse_recipe(name, d)) is not None]
    return CraftingTree(raw)


def test_tree_rules():
    t = _tree()
    assert set(t.item_recipes) == {M + "oak_planks", M + "stick", M + "torch", M + "ladder"}
    assert t.item_tag[M + "oak_planks"] == M + "planks"
    assert t.is_base(M + "coal") and not t.is_base(M + "stick")  # block recipe dropped
    assert t.is_base(M + "oak_logs") and not t.is_tag(M + "oak_logs")  # orphan tag -> item
    assert t.is_tag(M + "planks")
    assert [t.depth(M + x) for x in ("oak_logs", "oak_planks", "stick", "torch", "ladder")] == [
        0,
        1,
        2,
        3,
        3,
    ]
    (ladder,) = t.item_recipes[M + "ladder"]
    assert ladder.inputs[0].count == 7 and ladder.output_count == 3
    assert ladder.text == "craft 3 ladder using 7 stick"
    assert t.item_recipes[M + "stick"][0].text == "craft 4 stick using 2 planks"
    assert t.match_recipe(M + "stick", [(M + "oak_planks", 2)]) is not None
    assert t.match_recipe(M + "stick", [(M + "oak_planks", 3)]) is None
    assert t.goal_items(2) == [M + "ladder", M + "stick", M + "torch"]


def test_commands_answer_like_textcraft():
    t = _tree()
    out = apply_command(t, {}, "get 2 oak planks")
    assert out.error == "Could not find oak planks" and out.inventory == {}
    out = apply_command(t, {}, "get 2 oak logs")
    assert out.observation == "Got 2 oak logs" and out.inventory == {M + "oak_logs": 2}
    inv = out.inventory
    bad = apply_command(t, inv, "craft 4 stick using 2 oak planks")
    assert bad.error == "Could not find enough items to craft minecraft:stick"
    assert bad.inventory is inv and inv == {M + "oak_logs": 2}
    ok = apply_command(t, inv, "craft 4 oak planks using 1 oak logs")
    assert ok.observation == "Crafted 4 minecraft:oak_planks"
    assert ok.inventory == {M + "oak_logs": 1, M + "oak_planks": 4}
    wrong = apply_command(t, ok.inventory, "craft 4 stick using 3 oak planks")
    assert wrong.error == "Could not find a valid recipe for stick"
    assert apply_command(t, {}, "craft stick using planks").error == "Wrong item format: planks"
    assert apply_command(t, {}, "dance").error == "Could not execute dance"
    assert inventory_text({}) == "Inventory: You are not carrying anything."
    assert inventory_text(ok.inventory) == "Inventory: [oak logs] (1) [oak planks] (4)"


def test_planner_reserves_shared_ingredients():
    t = _tree()
    plan = plan_commands(t, M + "ladder", {})
    assert plan == [
        "get 1 oak logs",
        "craft 4 oak planks using 1 oak logs",
        "craft 4 stick using 2 oak planks",
        "craft 4 stick using 2 oak planks",
        "craft 3 ladder using 7 stick",
    ]
    inv: dict[str, int] = {}
    crafted = None
    for cmd in plan:
        out = apply_command(t, inv, cmd)
        assert out.error is None, (cmd, out.observation)
        inv, crafted = out.inventory, out.crafted
    assert crafted == M + "ladder"
    # from a part-way inventory it uses what is held
    assert plan_commands(t, M + "torch", {M + "stick": 1})[0] == "get 1 coal"


def test_package_tree_matches_textcraft_recipe_count():
    t = default_tree()
    unique = {(r.output, r.text) for v in t.item_recipes.values() for r in v}
    assert len(unique) == 612 and len(t.goal_items(2)) == 419  # as textcraft's own tree
