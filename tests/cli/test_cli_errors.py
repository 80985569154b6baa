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


@pytest.mark.parametrize(
    "error,want",
    [
        (PermissionError(13, "Permission denied", "/root/x"), "Permission denied: /root/x"),
        (OSError(30, "Read-only file system", "/mnt/ro/p"), "Read-only file system: /mnt/ro/p"),
        (IsADirectoryError(21, "Is a directory", "runs"), "Is a directory: runs"),
        (FileNotFoundError(2, "No such file or directory", "a.jsonl"), "no such file: a.jsonl"),
    ],
)
def test_a_system_error_says_its_own_reason(error, want):
    from agentprm_gym.cli import _one_line

    assert _one_line(error) == want


def test_a_permission_error_is_not_called_a_missing_file(monkeypatch, capsys):
    import agentprm_gym.commands.eval_prm as command

    def denied(args):
        raise PermissionError(13, "Permission denied", "/root/secret")

    monkeypatch.setattr(command, "run", denied)
    assert main(["eval-prm", "--prm", "random", "--data", "x.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "agentprm-gym eval-prm: error: Permission denied: /root/secret"


def test_each_one_line_description_names_what_the_command_reports():
    from agentprm_gym.commands import eval_prm

    help_ = SUBCOMMANDS["eval-prm"][1]
    assert "calibration" not in help_ and "calibration" not in eval_prm.DESCRIPTION
    for metric in ("ranking", "MSE vs MC", "AUC"):
        assert metric in help_ and metric in eval_prm.HELP
