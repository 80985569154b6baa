"""benchmarks/webshop_page_ambiguity.py: what the products listed where the expert leaves are worth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory, write_trajectories

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.webshop_episodes import write_noisy_test_episodes  # noqa: E402

pa = load_benchmark("webshop_page_ambiguity")


def test_the_goal_bought_with_its_options_is_worth_the_full_reward():
    env = gym.make("AgentPRM/WebShop-v0")
    env.reset(seed=0, options={"task_id": 2, "split": "test"})
    shop, goal = env.unwrapped.shop, env.unwrapped.goal
    assert pa.best_reward(shop.catalog.by_asin(goal.asin), goal) == pytest.approx(1.0)
    # a product of another task's goal is worth less for this one
    other = shop.goals.get("test", 3)
    assert pa.best_reward(shop.catalog.by_asin(other.asin), goal) < 1.0
    env.close()


def test_pages_where_the_expert_opens_a_result_list_the_goal(tmp_path, capsys):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=6)
    res = pa.page_ambiguity(str(data))
    assert res["result"]["pages"] >= 1
    # the expert opens a result only where the goal is listed, and the goal is worth 1.0
    assert res["result"]["with_full_reward"] == 1.0
    assert res["result"]["full_reward_products"] >= 1.0
    for r in res.values():
        assert 0.0 <= r["with_full_reward"] <= 1.0 and 0.0 <= r["best_reward"] <= 1.0
    assert pa.main(["--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["kinds"] == res


def test_a_file_of_another_env_is_refused(tmp_path, capsys):
    data = tmp_path / "a.jsonl"
    step = Step("o", "go[x]", expert_action="go[x]", admissible_actions=["click[b0abcdefgh]"])
    write_trajectories(data, [Trajectory("AgentPRM/ALFWorld-v0", 0, "test", "expert", "i", [step])])
    assert pa.main(["--data", str(data)]) == 2
    assert "not AgentPRM/WebShop-v0" in capsys.readouterr().err


def test_episodes_that_are_not_this_shops_tasks_are_refused(tmp_path):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=1)
    record = json.loads(data.read_text().splitlines()[0])
    for change, message in (
        ({"task_id": 10**6}, "no test task 1000000"),
        ({"split": "dev"}, "split 'dev'"),
        ({"instruction": "buy a spaceship"}, "another instruction"),
    ):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({**record, **change}) + "\n")
        with pytest.raises(ValueError, match=message):
            pa.page_ambiguity(str(bad))


def test_a_task_of_each_split_is_valued_against_its_own_goal(tmp_path):
    env = gym.make("AgentPRM/WebShop-v0")
    shop = env.unwrapped.shop
    goal = shop.goals.get("test", 0)
    other = shop.goals.get("train", 0)
    page = [f"click[{goal.asin}]", "click[next >]"]
    steps = [
        Step("page", "click[next >]", expert_action=f"click[{goal.asin}]", admissible_actions=page)
    ]
    data = tmp_path / "mixed.jsonl"
    write_trajectories(
        data,
        [
            Trajectory("AgentPRM/WebShop-v0", 0, "test", "noisy:0.5", goal.instruction, steps),
            Trajectory("AgentPRM/WebShop-v0", 0, "train", "noisy:0.5", other.instruction, steps),
        ],
    )
    res = pa.page_ambiguity(str(data))["result"]
    # the test goal's own product is worth 1.0 for it; for the train task it is worth less
    expected = (1.0 + (pa.best_reward(shop.catalog.by_asin(goal.asin), other) >= 1.0)) / 2
    assert res["pages"] == 2 and res["with_full_reward"] == pytest.approx(expected)
    env.close()
