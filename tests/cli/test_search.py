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


def test_search_json_and_oracle_beam_beats_the_policy_alone(capsys, tmp_path):
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
    alone = _search(capsys, "--method", "policy")
    assert set(beam) >= KEYS and set(alone) >= KEYS
    assert beam["episodes"] == alone["episodes"] == 12
    assert beam["method"] == "beam" and beam["prm"] == "oracle" and alone["prm"] is None
    assert beam["prior"] == 0.0
    assert beam["lockstep"] == 1 and alone["lockstep"] == 1  # the oracle shares no calls
    assert beam["success_rate"] == 1.0
    assert alone["success_rate"] < 0.8
    led = beam["ledger"]
    assert led["prm_items"] == led["env_steps"] > 0
    # every call samples 4 actions per kept copy of its state
    assert led["sampled_actions"] % 4 == 0 and led["sampled_actions"] >= 4 * led["policy_calls"]
    assert alone["ledger"]["env_steps"] == round(alone["mean_steps"] * 12)
    trajs = list(read_trajectories(out))
    assert [t.task_id for t in trajs] == list(range(12))
    assert all(t.won for t in trajs)


def test_search_is_deterministic_and_seed_matters(capsys):
    a = _search(capsys, "--method", "bon", "--prm", "random", "--n", "3")
    b = _search(capsys, "--method", "bon", "--prm", "random", "--n", "3")
    c = _search(capsys, "--method", "bon", "--prm", "random", "--n", "3", "--seed", "5")

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
        ["--workers", "0"],
        ["--ray", "auto", "--ray-cpus", "2"],
        ["--method", "greedy", "--policy", "noisy:0.5"],
        ["--method", "beam", "--prior", "-1"],
        ["--method", "bon", "--prior", "1"],
        ["--method", "beam", "--prm", "random", "--lockstep", "0"],
    ],
)
def test_search_errors_are_one_line(capsys, extra):
    code = main(["search", "--env", "AgentPRM/WebShop-v0", *extra])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentprm-gym search: error:")


def test_search_on_two_worker_processes_equals_inline(capsys, tmp_path):
    """Tasks are shards: --workers 2 gives the inline summary and --out file, in task order."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from helpers.chain_env import CORRIDOR_ID, registered_corridor

    argv = ["search", "--env", CORRIDOR_ID, "--policy", "noisy:0.6", "--method", "beam"]
    argv += ["--prm", "random", "--n", "2", "--expand", "2", "--episodes", "8", "--json"]
    got, files = {}, {}
    with registered_corridor():
        for workers in ("1", "2"):
            out = tmp_path / f"w{workers}.jsonl"
            assert main([*argv, "--workers", workers, "--out", str(out)]) == 0
            got[workers] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
            files[workers] = out.read_text().splitlines()
    assert got["1"]["executor"] == "inline" and got["2"]["executor"] == "processes:2"
    # Two workers get two groups of 4 tasks, one worker one group of 8 (--lockstep 16):
    # the PRM calls they share differ, every task's result does not.
    assert got["1"]["lockstep"] == 8 and got["2"]["lockstep"] == 4
    assert got["2"]["ledger"]["prm_calls"] > got["1"]["ledger"]["prm_calls"]
    for d in got.values():
        del d["wall_seconds"], d["executor"], d["ledger"]["wall_seconds"], d["lockstep"]
        del d["ledger"]["prm_calls"]
    assert got["2"] == got["1"]
    assert len(files["1"]) == 8 and files["2"] == files["1"]
    assert [json.loads(line)["task_id"] for line in files["2"]] == list(range(8))


def test_search_prior_and_greedy_message(capsys):
    plain = _search(capsys, "--method", "beam", "--prm", "random", "--n", "1", "--expand", "8")
    prior = _search(
        capsys, "--method", "beam", "--prm", "random", "--n", "1", "--expand", "8", "--prior", "1"
    )
    assert prior["prior"] == 1.0
    # the random PRM ties every copy (the beam plays like the policy); the prior seeks its mode
    assert prior["success_rate"] > plain["success_rate"]
    assert main(["search", "--env", "AgentPRM/WebShop-v0", "--method", "greedy"]) == 2
    err = capsys.readouterr().err
    assert "temperature 0" in err and "--method policy" in err
