"""benchmarks/prm_label_signal.py: expert-imitation labels and one run of every variant kind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.webshop_episodes import write_noisy_test_episodes  # noqa: E402

ls = load_benchmark("prm_label_signal")


def _traj(actions, experts):
    steps = [Step(f"obs {i}", a, expert_action=e) for i, (a, e) in enumerate(zip(actions, experts))]
    return Trajectory("AgentPRM/WebShop-v0", 0, "train", "noisy:0.5", "buy it", steps)


def test_expert_labels_mark_the_steps_that_took_the_experts_action():
    t = _traj(
        ["search[a]", "click[b]", "click[buy now]"], ["search[a]", "click[c]", "click[buy now]"]
    )
    assert ls.expert_labels(t) == [1.0, 0.0, 1.0]
    (labelled,) = ls.with_expert_labels([t])
    assert labelled.meta["mc_soft"] == [1.0, 0.0, 1.0] and "mc_soft" not in t.meta


def test_goal_titles_name_the_webshop_goal_product():
    env = gym.make("AgentPRM/WebShop-v0")
    env.reset(seed=0, options={"task_id": 3, "split": "test"})
    title = env.unwrapped.goal.name
    t = Trajectory("AgentPRM/WebShop-v0", 3, "test", "noisy:0.5", "buy it", [Step("o", "a")])
    (named,) = ls.with_goal_titles([t])
    assert named.instruction == f"buy it [goal product] {title}" and t.instruction == "buy it"
    other = Trajectory("AgentPRM/TextCraft-v0", 0, "test", "noisy:0.5", "craft", [Step("o", "a")])
    with pytest.raises(ValueError, match="no goal product"):
        ls.with_goal_titles([other])


def test_expert_labels_need_recorded_expert_actions():
    with pytest.raises(ValueError, match="no expert action"):
        ls.expert_labels(_traj(["search[a]", "click[b]"], ["search[a]", None]))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_noisy_test_episodes(tmp_path_factory.mktemp("signal") / "eps.jsonl")


def test_every_variant_trains_and_ranks_the_same_pairs(data, capsys):
    argv = ["--train", str(data), "--test", str(data), "--variants", "pvm,expert"]
    argv += ["--epochs", "1", "--encoder", "tiny", "--no-progress"]
    assert ls.main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    pvm, expert = out["variants"]["pvm"], out["variants"]["expert"]
    assert expert["labels"] == "mc" and pvm["labels"] == "pvm"
    assert pvm["pairs"] == expert["pairs"] > 0
    for v in (pvm, expert):
        assert 0.0 <= v["held_out_ranking"] <= 1.0 and v["epochs"] == 1


@pytest.mark.parametrize(
    "bad", [["--variants", "nope"], ["--variants", "gae+x"], ["--epochs", "0"]]
)
def test_bad_arguments_exit_with_a_message(data, bad, capsys):
    with pytest.raises(SystemExit) as e:
        ls.main(["--train", str(data), "--test", str(data), *bad])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err
