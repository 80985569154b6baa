"""``agentprm-gym collect`` end to end: errors, --json, SIGKILL mid-run and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentprm_gym.cli import main
from agentprm_gym.collection import collect
from agentprm_gym.core.trajectory import Trajectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CORRIDOR_ID, registered_corridor  # noqa: E402

WS = "AgentPRM/WebShop-v0"
CORRIDOR_CLI = Path(__file__).resolve().parents[1] / "helpers" / "corridor_cli.py"


def _cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "agentprm_gym.cli", "collect", *args],
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


@pytest.mark.parametrize(
    "args,msg",
    [
        (["--env", "AgentPRM/Nope-v0", "--tasks", "1"], "unknown env id"),
        (["--env", WS, "--tasks", "1", "--policy", "bogus"], "unknown policy"),
        (["--env", WS, "--tasks", "0"], "--tasks"),
        (["--env", WS, "--tasks", "1", "--per-task", "0"], "--per-task"),
        (["--env", WS, "--tasks", "1", "--workers", "0"], "--workers"),
        (["--env", WS, "--tasks", "1", "--split", "nope"], "unknown split"),
        (["--env", WS, "--tasks", "100000"], "goes past it"),
        (["--env", WS, "--mc-from", "x.jsonl"], "--mc-from needs --mc"),
        (["--env", WS, "--mc", "2", "--mc-from", "/nonexistent/x.jsonl"], "no such file"),
    ],
)
def test_bad_arguments_give_one_line(tmp_path, capsys, args, msg):
    assert main(["collect", *args, "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and msg in err, err


def test_json_summary_and_no_expert(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    args = ["collect", "--env", WS, "--policy", "noisy:0.5", "--tasks", "3", "--per-task", "2"]
    assert main([*args, "--out", str(out), "--no-expert", "--json", "--no-fsync"]) == 0
    d = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert d["out"] == str(out) and d["episodes_written"] == 6 and d["episodes_skipped"] == 0
    assert d["env_steps"] > 0 and d["wall_seconds"] >= 0
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert all(s["expert_action"] is None for r in recs for s in r["steps"])
    assert main([*args, "--out", str(out), "--no-expert", "--json", "--mc", "2"]) == 2
    assert "meta keys" in capsys.readouterr().err


def test_sigkill_mid_run_then_resume_equals_uninterrupted_run(tmp_path):
    # The corridor env keeps this fast; tests/helpers/corridor_cli.py registers its id.
    out = tmp_path / "killed.jsonl"
    args = ["collect", "--env", CORRIDOR_ID, "--policy", "noisy:0.5", "--tasks", "20"]
    args += ["--per-task", "10", "--mc", "8", "--seed", "3", "--no-progress"]
    proc = subprocess.Popen(  # killed with 2 workers, resumed with 1: same records
        [sys.executable, str(CORRIDOR_CLI), *args, "--workers", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 10:
                break
            assert proc.poll() is None, "collect finished before it could be killed"
            time.sleep(0.01)
        assert proc.poll() is None, "collect finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers
    finally:
        proc.wait(timeout=60)
    complete = out.read_bytes().split(b"\n")[:-1]
    assert 10 <= len(complete) < 200
    for line in complete:  # every complete line is a valid record
        Trajectory.from_dict(json.loads(line))
    res = subprocess.run(
        [sys.executable, str(CORRIDOR_CLI), *args, "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout.strip().splitlines()[-1])
    assert d["episodes_skipped"] == len(complete)
    assert d["episodes_written"] == 200 - len(complete)
    ref = tmp_path / "ref.jsonl"
    with registered_corridor():
        collect(
            CORRIDOR_ID,
            "noisy:0.5",
            ref,
            tasks=20,
            per_task=10,
            mc_rollouts=8,
            seed=3,
            show_progress=False,
        )
    got = out.read_text().splitlines()
    assert len(got) == 200
    assert set(got) == set(ref.read_text().splitlines())
