import json
import shutil
from pathlib import Path

import gymnasium as gym
import pytest

import agentprm_gym  # noqa: F401
from agentprm_gym.agents import ExpertPolicy
from agentprm_gym.envs.webshop.data_loader import find_data_files, load_webshop_dir
from agentprm_gym.rollout import run_episode

FIXTURES = Path(__file__).parent / "fixtures"


def test_find_files():
    f = find_data_files(FIXTURES)
    assert f["products"].name == "items_shuffle_1000.json"
    assert f["attributes"].name == "items_ins_v2_1000.json"
    assert f["human"].name == "items_human_ins.json"


def test_load_products_as_webshop():
    cat, goals = load_webshop_dir(FIXTURES)
    assert len(cat) == 6  # the "nan" asin is skipped
    mask = cat.by_asin("B07MASK001")
    assert mask.options == (("size", ("8 ounce (pack of 1)", "16 ounce | pack of 2")),)
    assert mask.attributes == ("dry hair", "damaged hair", "natural ingredients", "paraben free")
    assert mask.price == 14.99 and mask.price_tag == "$14.99"
    tee = cat.by_asin("b08tshrt02")
    assert 10.99 <= tee.price <= 15.99 and tee.price_tag == "$10.99 to $15.99"
    assert tee.rating == 4.3
    buds = cat.by_asin("B09EARBD03")
    assert buds.bullet_points == ("Long battery life and water resistant design",)
    choc = cat.by_asin("B01CHOCO04")
    assert choc.price == 100.0 and choc.options == ()  # no pricing: $100, as WebShop
    assert cat.by_asin("B07TABLE05").attributes == (
        "mid century modern",
        "storage shelf",
        "easy assemble",
    )
    # human goals: the one without attributes is skipped
    assert len(goals) == 6
    assert goals.num_tasks("test") == 3 and goals.num_tasks("train") == 3
    g = next(x for x in goals.goals if x.asin == "B08TSHRT02")
    assert g.attributes == ("slim fit", "cotton")
    assert g.option_values == ("navy blue", "medium")
    assert g.instruction.startswith("i am looking for a slim fit cotton t-shirt")
    assert g.instruction.endswith(f", and price lower than {g.price_upper:.2f} dollars")


def test_synthetic_goals_without_human_file(tmp_path):
    for name in ("items_shuffle_1000.json", "items_ins_v2_1000.json"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    cat, goals = load_webshop_dir(tmp_path)
    # one goal per option combination of products with an instruction
    # mask 2 + tee 2*3 + buds 2 + chocolate 1 + body wash 2 = 13 (the table has no instruction)
    assert len(goals) == 13
    tee_goals = [g for g in goals.goals if g.asin == "B08TSHRT02"]
    assert len(tee_goals) == 6
    assert all(" with color: " in g.instruction for g in tee_goals)


def test_synthetic_goal_options_in_sorted_name_order(tmp_path):
    # WebShop's get_synthetic_goals walks option names sorted, whatever the product's order
    shutil.copy(FIXTURES / "items_ins_v2_1000.json", tmp_path / "items_ins_v2_1000.json")
    items = json.loads((FIXTURES / "items_shuffle_1000.json").read_text())
    for item in items:
        opts = item.get("customization_options")
        if opts:
            item["customization_options"] = dict(reversed(list(opts.items())))
    (tmp_path / "items_shuffle_1000.json").write_text(json.dumps(items))
    cat, goals = load_webshop_dir(tmp_path)
    assert [n for n, _ in cat.by_asin("B08TSHRT02").options] == ["size", "color"]
    tee_goals = [g for g in goals.goals if g.asin == "B08TSHRT02"]
    assert len(tee_goals) == 6
    for g in tee_goals:
        assert [n for n, _ in g.options] == ["color", "size"]
        assert " with color: " in g.instruction and ", and size: " in g.instruction


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_webshop_dir(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_webshop_dir(tmp_path / "nope")
    (tmp_path / "items_shuffle.json").write_text(json.dumps([]))
    (tmp_path / "items_ins_v2.json").write_text(json.dumps({}))
    with pytest.raises(ValueError):
        load_webshop_dir(tmp_path)


def test_env_on_data_dir():
    env = gym.make("AgentPRM/WebShop-v0", data_dir=str(FIXTURES), split="test")
    u = env.unwrapped
    assert u.num_tasks("test") == 3
    wins = 0
    for t in range(3):
        traj = run_episode(env, ExpertPolicy(), seed=t, task_id=t, split="test")
        wins += traj.won
    for t in range(3):
        traj = run_episode(env, ExpertPolicy(), seed=t, task_id=t, split="train")
        wins += traj.won
    assert wins == 6
    obs, info = env.reset(seed=0, options={"split": "train", "task_id": 0})
    assert info["instruction"] in obs
