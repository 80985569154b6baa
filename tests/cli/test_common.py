"""``commands.common``: executor options, and the checks of ``--out`` and ``--start``."""

from __future__ import annotations

import argparse

import pytest

from agentprm_gym.cli import build_parser
from agentprm_gym.commands.common import (
    CLIError,
    check_executor_args,
    check_new_out,
    check_start,
)


def _ns(workers=1, ray=None, ray_cpus=None):
    return argparse.Namespace(workers=workers, ray=ray, ray_cpus=ray_cpus)


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(workers=0), "--workers must be >= 1"),
        (dict(ray_cpus=0, ray="local"), "--ray-cpus must be >= 1"),
        (dict(workers=2, ray="local"), "does not apply with --ray"),
        (dict(workers=2, ray="auto"), "does not apply with --ray"),
        (dict(ray_cpus=2), "give --ray too"),
        (dict(workers=None, ray_cpus=2), "give --ray too"),
        (dict(ray="auto", ray_cpus=2), "applies only to a local Ray instance"),
    ],
)
def test_conflicting_or_unused_options_are_errors(kw, msg):
    with pytest.raises(CLIError, match=msg):
        check_executor_args(_ns(**kw))


ARGS = {
    "collect": ["collect", "--env", "E", "--tasks", "1", "--out", "o.jsonl"],
    "search": ["search", "--env", "E", "--prm", "random"],
    "bench sweep": ["bench", "sweep", "--config", "c.yaml"],
}


@pytest.mark.parametrize("command", list(ARGS))
@pytest.mark.parametrize(
    "extra",
    [[], ["--workers", "2"], ["--ray"], ["--ray", "auto"], ["--ray", "--ray-cpus", "2"]],
)
def test_every_command_accepts_its_defaults_and_valid_combinations(command, extra):
    check_executor_args(build_parser().parse_args([*ARGS[command], *extra]))


def test_check_new_out_refuses_only_an_existing_non_empty_path(tmp_path):
    check_new_out(None)
    check_new_out(str(tmp_path / "new.jsonl"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    check_new_out(str(empty))
    for path in (tmp_path / "notes.json", tmp_path):
        if path != tmp_path:
            path.write_text('{"n": 1}')
        with pytest.raises(CLIError, match=f"{path} exists: pass another --out, or delete it"):
            check_new_out(str(path))


def test_check_start_bounds():
    check_start(0, None, "test")
    check_start(499, 500, "test")
    with pytest.raises(CLIError, match="^--start must be >= 0$"):
        check_start(-1, 500, "test")
    with pytest.raises(CLIError, match="^--start 500 is past the 500 tasks of 'test'$"):
        check_start(500, 500, "test")
