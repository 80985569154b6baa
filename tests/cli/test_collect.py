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


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentprm-gym collect: error: "), err
    return err[0]


def test_resume_with_another_seed_is_refused(tmp_path, capsys):
    out = tmp_path / "c.jsonl"
    args = ["collect", "--env", WS, "--tasks", "2", "--per-task", "1", "--out", str(out)]
    assert main([*args, "--no-progress"]) == 0
    before = out.read_text()
    assert main([*args, "--no-progress", "--seed", "7"]) == 2
    assert "--seed 0, not 7" in _error(capsys)
    assert main([*args, "--no-progress", "--no-expert"]) == 2
    assert "--no-expert" in _error(capsys)
    assert out.read_text() == before


@pytest.fixture
def ws_noisy(tmp_path):
    path = tmp_path / "c1.jsonl"
    args = ["collect", "--env", WS, "--policy", "noisy:0.5", "--tasks", "2", "--per-task", "1"]
    assert main([*args, "--out", str(path), "--no-progress"]) == 0
    return path


def test_mc_from_resume_refuses_another_n_or_policy(ws_noisy, tmp_path, capsys):
    out = tmp_path / "mc.jsonl"
    label = ["collect", "--env", WS, "--mc-from", str(ws_noisy), "--out", str(out)]
    assert main([*label, "--mc", "2", "--policy", "noisy:0.5", "--no-progress"]) == 0
    before = out.read_text()
    capsys.readouterr()
    assert main([*label, "--mc", "8", "--policy", "random", "--no-progress"]) == 2
    assert "N=2, not N=8" in _error(capsys)
    assert main([*label, "--mc", "2", "--policy", "random", "--no-progress"]) == 2
    assert "policy 'noisy:0.5', not 'random'" in _error(capsys)
    assert out.read_text() == before
    assert main([*label, "--mc", "2", "--policy", "noisy:0.5", "--no-progress"]) == 0
    assert "wrote 0 episodes (skipped 2 already" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--env", "AgentPRM/BabyAI-v0"], "holds episodes of env 'AgentPRM/WebShop-v0', not"),
        (["--env", WS, "--tasks", "3"], "--tasks does not apply"),
        (["--env", WS, "--split", "test", "--per-task", "2"], "--per-task, --split do not"),
        (["--env", WS, "--start", "1", "--no-expert"], "--start, --no-expert do not"),
    ],
)
def test_mc_from_refuses_another_env_and_options_it_ignores(ws_noisy, tmp_path, capsys, extra, msg):
    out = tmp_path / "mc.jsonl"
    assert (
        main(["collect", "--mc", "2", "--mc-from", str(ws_noisy), "--out", str(out), *extra]) == 2
    )
    assert msg in _error(capsys)
    assert not out.exists()


def test_mc_from_an_empty_file_or_into_itself_is_an_error(ws_noisy, tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    base = ["collect", "--env", WS, "--mc", "2", "--no-progress"]
    assert main([*base, "--mc-from", str(empty), "--out", str(tmp_path / "mc.jsonl")]) == 2
    assert _error(capsys).endswith(f"{empty} holds no episodes")
    before = ws_noisy.read_text()
    monkeypatch.chdir(tmp_path)
    for out in (str(ws_noisy), "./c1.jsonl"):
        assert main([*base, "--mc-from", str(ws_noisy), "--out", out]) == 2
        assert "--mc-from and --out are the same file" in _error(capsys)
    assert ws_noisy.read_text() == before
