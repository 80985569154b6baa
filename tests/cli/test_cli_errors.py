"""Every subcommand answers bad input with one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentprm_gym.cli import SUBCOMMANDS, main


def _run(args):
    return subprocess.run(
        [sys.executable, "-m", "agentprm_gym.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_help_works(name, capsys):
    with pytest.raises(SystemExit) as e:
        main([name, "--help"])
    assert e.value.code == 0
    assert "usage: agentprm-gym" in capsys.readouterr().out


BAD = [
    ["eval", "--env", "AgentPRM/Nope-v0", "--policy", "random", "--episodes", "1"],
    ["eval", "--env", "AgentPRM/WebShop-v0", "--policy", "bogus", "--episodes", "1"],
    ["eval", "--env", "AgentPRM/WebShop-v0", "--policy", "noisy:x", "--episodes", "1"],
    ["eval", "--env", "AgentPRM/WebShop-v0", "--episodes", "0"],
    ["eval", "--env", "AgentPRM/WebShop-v0", "--split", "nope", "--episodes", "1"],
    ["play", "--env", "AgentPRM/Nope-v0"],
    [
        "collect",
        "--env",
        "AgentPRM/Nope-v0",
        "--policy",
        "random",
        "--tasks",
        "1",
        "--out",
        "/tmp/x.jsonl",
    ],
    [
        "train-prm",
        "--data",
        "/nonexistent/file.jsonl",
        "--labels",
        "gae",
        "--out",
        "/tmp/agentprm-x",
    ],
    ["eval-prm", "--prm", "/nonexistent/dir", "--data", "/nonexistent/file.jsonl"],
    ["search", "--env", "AgentPRM/Nope-v0", "--policy", "random", "--prm", "random"],
    ["bench", "throughput", "--env", "AgentPRM/Nope-v0"],
    ["bench", "sweep", "--config", "benchmarks/configs/quick.yaml", "--workers", "0"],
]
# --ray-cpus sizes a local Ray instance only: refused before any work with a cluster address
RAY_CPUS_WITH_ADDRESS = ["--ray", "auto", "--ray-cpus", "2"]
BAD += [
    ["collect", "--env", "AgentPRM/WebShop-v0", "--policy", "random", "--tasks", "1"]
    + ["--out", "/tmp/agentprm-x.jsonl", *RAY_CPUS_WITH_ADDRESS],
    ["search", "--env", "AgentPRM/WebShop-v0", "--policy", "random", "--prm", "random"]
    + RAY_CPUS_WITH_ADDRESS,
    [
        "bench",
        "sweep",
        "--config",
        "benchmarks/configs/quick.yaml",
        "--out",
        "/tmp/agentprm-x-sweep",
    ]
    + RAY_CPUS_WITH_ADDRESS,
]


@pytest.mark.parametrize("args", BAD, ids=lambda a: " ".join(a[:3]))
def test_bad_input_is_one_line_error(args):
    out = _run(args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
    assert lines, "expected an error message on stderr"
    assert "error" in lines[-1]
    if RAY_CPUS_WITH_ADDRESS[0] in args:
        assert "--ray-cpus applies only to a local Ray instance" in lines[-1]


def test_no_subcommand_prints_help():
    out = _run([])
    assert out.returncode == 2
    assert "SUBCOMMAND" in out.stdout
