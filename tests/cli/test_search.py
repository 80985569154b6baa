"""``agentprm-gym search``: JSON summary, ledger, determinism and errors."""

from __future__ import annotations

import json

import pytest

from agentprm_gym.cli import main
from agentprm_gym.core.trajectory import read_trajectories

KEYS = {
    "env",
    "method",
    "prm",
    "policy",
    "episodes",
    "success_rate",
    "mean_reward",
    "mean_steps",
    "ledger",
}


def _search(capsys, *extra):
    code = main(
        [
            "search",
            "--env",
            "AgentPRM/WebShop-v0",
            "--policy",
            "noisy:0.5",
            "--episodes",
            "12",
            "--split",
            "test",
            "--json",
            *extra,
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_search_json_and_oracle_beam_beats_greedy(capsys, tmp_path):
    out = tmp_path / "beam.jsonl"
    beam = _search(
        capsys,
        "--method",
        "beam",
        "--prm",
        "oracle",
        "--n",
        "4",
        "--expand",
        "4",
        "--out",
        str(out),
    )
    greedy = _search(capsys, "--method", "greedy")
    assert set(beam) >= KEYS and set(greedy) >= KEYS
    assert beam["episodes"] == greedy["episodes"] == 12
    assert beam["method"] == "beam" and beam["prm"] == "oracle" and greedy["prm"] is None
    assert beam["success_rate"] == 1.0
    assert greedy["success_rate"] < 0.8
    led = beam["ledger"]
    assert led["prm_items"] == led["env_steps"] > 0
    assert led["sampled_actions"] == 4 * led["policy_calls"]
    assert greedy["ledger"]["env_steps"] == round(greedy["mean_steps"] * 12)
    trajs = list(read_trajectories(out))
    assert [t.task_id for t in trajs] == list(range(12))
    assert all(t.won for t in trajs)


def test_search_is_deterministic_and_seed_matters(capsys):
    a = _search(capsys, "--method", "bon", "--prm", "random:2", "--n", "3")
    b = _search(capsys, "--method", "bon", "--prm", "random:2", "--n", "3")
    c = _search(capsys, "--method", "bon", "--prm", "random:2", "--n", "3", "--seed", "5")

    def strip(d):
        out = {k: v for k, v in d.items() if k != "wall_seconds"}
        out["ledger"] = {k: v for k, v in d["ledger"].items() if k != "wall_seconds"}
        return out

    assert strip(a) == strip(b)
    assert strip(a) != strip(c)


@pytest.mark.parametrize(
    "extra",
    [
        ["--prm", "/nonexistent/prm-dir", "--method", "beam"],
        ["--prm", "random:x", "--method", "bon"],
        ["--episodes", "0"],
        ["--split", "nope"],
        ["--n", "0", "--method", "beam"],
        ["--policy", "bogus"],
    ],
)
def test_search_errors_are_one_line(capsys, extra):
    code = main(["search", "--env", "AgentPRM/WebShop-v0", *extra])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentprm-gym search: error:")
