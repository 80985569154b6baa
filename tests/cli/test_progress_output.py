"""Every long command shows progress within 2 s, in a log (plain lines) and on a terminal.

Each command runs in a subprocess whose output goes to a pipe, as in a CI log.
The child imports the CLI and every subcommand's module (as ``--help`` does),
then notes the monotonic clock (system-wide on Linux) right before it calls the
CLI; the parent notes when each line arrives. So the 2 s are the command's own
silence, not how long Python takes to start and import the package (close to
2 s by itself on a slow machine).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from agentprm_gym.cli import main

REPO = Path(__file__).resolve().parents[2]
START = (
    "import sys, time; from agentprm_gym.cli import build_parser, main; build_parser(); "
    "print('T0', time.monotonic(), flush=True); "
)
RUN = "sys.exit(main(sys.argv[1:]))"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """A small WebShop workspace: train and test rollouts and a tiny trained PRM."""
    d = tmp_path_factory.mktemp("progress")
    common = ["--env", "AgentPRM/WebShop-v0", "--policy", "noisy:0.5", "--no-progress"]
    assert (
        main(["collect", *common, "--tasks", "6", "--per-task", "2", "--out", str(d / "tr.jsonl")])
        == 0
    )
    test = ["--tasks", "3", "--per-task", "2", "--split", "test", "--out", str(d / "te.jsonl")]
    assert main(["collect", *common, *test]) == 0
    tiny = ["--backbone", "tiny", "--epochs", "1", "--no-progress"]
    assert main(["train-prm", "--data", str(d / "tr.jsonl"), *tiny, "--out", str(d / "prm")]) == 0
    return d


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        AGENTPRM_PROGRESS_SECONDS="1",
        **extra,
    )
    return env


def _run_logged(argv: list[str], cwd: Path) -> tuple[float, list[tuple[float, str]], int]:
    """Run the CLI with stdout+stderr on one pipe; (T0, [(arrival, line)], exit code)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", START + RUN, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env=_env(),
    )
    lines = []
    assert proc.stdout is not None
    for raw in proc.stdout:
        lines.append((time.monotonic(), raw.decode("utf-8", "replace")))
    rc = proc.wait()
    t0 = float(lines[0][1].split()[1])
    return t0, lines[1:], rc


def _commands(ws: Path) -> dict[str, list[str]]:
    webshop = ["--env", "AgentPRM/WebShop-v0", "--policy", "noisy:0.5"]
    return {
        "collect": ["collect", *webshop, "--tasks", "3", "--per-task", "2", "--out", "c.jsonl"],
        "eval": ["eval", *webshop, "--episodes", "3"],
        "search": [
            "search",
            *webshop,
            "--prm",
            "random",
            "--method",
            "bon",
            "--n",
            "2",
            "--episodes",
            "3",
        ],
        "train-prm": [
            "train-prm",
            "--data",
            str(ws / "tr.jsonl"),
            "--backbone",
            "tiny",
            "--epochs",
            "1",
            "--out",
            "p",
        ],
        "eval-prm": ["eval-prm", "--prm", str(ws / "prm"), "--data", str(ws / "te.jsonl")],
        "bench": [
            "bench",
            "throughput",
            "--env",
            "AgentPRM/ALFWorld-v0",
            "--steps",
            "300",
            "--no-subprocess",
        ],
    }


@pytest.mark.parametrize("name", ["collect", "eval", "search", "train-prm", "eval-prm", "bench"])
def test_progress_within_2s_in_a_log_as_plain_lines(ws, tmp_path, name):
    argv = _commands(ws)[name]
    t0, lines, rc = _run_logged(argv, tmp_path)
    text = "".join(line for _, line in lines)
    assert rc == 0, text
    assert lines, "no output at all"
    assert lines[0][0] - t0 < 2.0, f"first line after {lines[0][0] - t0:.2f} s: {lines[0][1]!r}"
    assert "\r" not in text  # no tqdm redraws in a log
    # silence never lasts long: plain lines every second, a heartbeat after 1 s
    gaps = [b[0] - a[0] for a, b in zip(lines, lines[1:])]
    assert max(gaps, default=0.0) < 6.0, text
    # and --no-progress silences it (the result line on stdout stays)
    (tmp_path / "q").mkdir()
    _, quiet, rc = _run_logged([*argv, "--no-progress"], tmp_path / "q")
    quiet_text = "".join(line for _, line in quiet)
    assert rc == 0 and len(quiet) <= 2, quiet_text
    assert "started" not in quiet_text


def test_train_prm_on_a_terminal_draws_a_bar_within_2s(ws, tmp_path):
    master, slave = pty.openpty()
    # a terminal of 100 columns (a fresh pty has 0, and tqdm then draws nothing)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    argv = _commands(ws)["train-prm"]
    proc = subprocess.Popen(
        [sys.executable, "-c", START + RUN, *argv],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=tmp_path,
        env=_env(),
    )
    os.close(slave)
    assert proc.stdout is not None
    t0 = float(proc.stdout.readline().split()[1])
    chunks: list[tuple[float, bytes]] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append((time.monotonic(), data))
        elif proc.poll() is not None:
            break
    rest = proc.stdout.read().decode()
    assert proc.wait() == 0, rest
    os.close(master)
    term = b"".join(c for _, c in chunks).decode("utf-8", "replace")
    assert chunks and chunks[0][0] - t0 < 2.0
    assert "train-prm gae epoch 1/1" in term and "\r" in term  # a tqdm bar
    assert "trained gae PRM" in rest


def test_cli_leaves_hf_progress_bars_on_only_on_a_terminal(ws, tmp_path):
    code = (
        "import sys, os; from agentprm_gym.cli import main; "
        "main(['list']); print('HF', os.environ.get('HF_HUB_DISABLE_PROGRESS_BARS'))"
    )
    env = _env()
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.stdout.strip().splitlines()[-1] == "HF 1"
