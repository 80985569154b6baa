"""benchmarks/sweep_ranking.py: the ranking table of a sweep's PRMs beside the ceiling."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.agents import NoisyExpertPolicy
from agentprm_gym.benchmarking.config import EnvConfig
from agentprm_gym.core.trajectory import read_trajectories
from agentprm_gym.prm.metrics import ranking_accuracy
from agentprm_gym.prm.state_model import StatePRM
from agentprm_gym.prm.steps import episode_steps
from agentprm_gym.rollout import run_episode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

sr = load_benchmark("sweep_ranking")


def test_markdown_table_has_a_row_per_prm_and_the_ceiling(tmp_path):
    results = [
        {
            "env": "AgentPRM/WebShop-v0",
            "prms": {"agentprm": 0.6, "pvm": 0.55},
            "pairs": 10,
            "ceiling": {"accuracy": 0.875, "rollouts": 16},
        },
        {"env": "AgentPRM/ALFWorld-v0", "prms": {"agentprm": 0.7, "pvm": None}, "pairs": 4},
    ]
    sr.write_markdown(results, tmp_path / "r.md", note="a note")
    text = (tmp_path / "r.md").read_text()
    assert "a note" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0] == "| held-out step ranking | WebShop-v0 | ALFWorld-v0 |"
    assert rows[2:] == [
        "| agentprm | 0.600 | 0.700 |",
        "| pvm | 0.550 | – |",
        "| perfect Q^π (ceiling) | 0.875 | – |",
        "| ceiling: rollouts per action | 16 | – |",
        "| pairs | 10 | 4 |",
    ]


def test_rank_env_ranks_each_prm_on_collected_held_out_episodes(tmp_path):
    env = gym.make("AgentPRM/WebShop-v0")
    train = [
        run_episode(env, NoisyExpertPolicy(0.5, seed=k), seed=k, task_id=k, split="train")
        for k in range(3)
    ]
    env.close()
    eps = episode_steps(train)
    corpus = sorted({f"{i.history[-1]} {i.action} {i.instruction}" for e in eps for i in e.items})
    prm = StatePRM.create("tiny", tiny_corpus=corpus, d=32, heads=4, step_limit=15)
    d = prm.save_pretrained(tmp_path / "prm")
    cfg = EnvConfig(id="AgentPRM/WebShop-v0", policy="noisy:0.5")
    held = tmp_path / "held" / "WebShop.jsonl"
    got = sr.rank_env(cfg, {"agentprm": d}, held, tasks=2, per_task=1, rollouts=1, progress=False)
    assert held.exists() and got["episodes"] == 2
    acc, n = ranking_accuracy(
        StatePRM.from_pretrained(d), episode_steps(read_trajectories(held)), seed=0
    )
    assert got["prms"]["agentprm"] == pytest.approx(acc, abs=1e-4) and got["pairs"] == n > 0
    assert got["ceiling"]["pairs"] == n and 0.0 <= got["ceiling"]["accuracy"] <= 1.0


def test_missing_prms_are_an_error_not_a_traceback(tmp_path, capsys):
    config = Path(__file__).resolve().parents[2] / "benchmarks" / "configs" / "standard.yaml"
    argv = ["--config", str(config), "--sweep", str(tmp_path), "--out", str(tmp_path / "o")]
    assert sr.main([*argv, "--no-progress"]) == 2
    assert "no trained PRM" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        sr.main([*argv, "--envs", "Nowhere"])
    assert e.value.code == 2


def test_held_out_episodes_are_put_in_task_order_so_the_pairs_do_not_depend_on_workers(
    tmp_path,
):
    env = gym.make("AgentPRM/WebShop-v0")
    eps = [
        run_episode(env, NoisyExpertPolicy(0.5, seed=k), seed=k, task_id=t, split="test")
        for t, k in ((0, 0), (0, 1), (1, 0), (2, 0))
    ]
    env.close()
    for ep, k in zip(eps, (0, 1, 0, 0), strict=True):
        ep.meta["k"] = k
    path = tmp_path / "held.jsonl"
    path.write_text("".join(eps[i].to_json() + "\n" for i in (3, 1, 2, 0)), encoding="utf-8")
    assert sr.sort_episodes(path) is True
    got = [(t.task_id, t.meta["k"]) for t in read_trajectories(path)]
    assert got == [(0, 0), (0, 1), (1, 0), (2, 0)]
    assert sr.sort_episodes(path) is False  # already in order: left as it is
