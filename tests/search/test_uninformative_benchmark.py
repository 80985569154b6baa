"""benchmarks/uninformative_prm_search.py: one run end to end, env arguments, clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

un = load_benchmark("uninformative_prm_search")


def test_a_small_run_reports_the_policy_and_each_budget_on_the_env_asked(capsys):
    argv = ["--env", "AgentPRM/Browser-v0", "--env-kwargs", '{"backend": "static"}']
    argv += ["--tasks", "3", "--budgets", "2x2"]
    assert un.main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["env_kwargs"] == {"backend": "static"} and out["tasks"] == 3
    for key in ("policy (1 sample)", "random beam 2x2", "per-action random beam 2x2"):
        assert 0.0 <= out[key]["success"] <= 1.0


@pytest.mark.parametrize("bad", ["{backend", '["static"]'])
def test_env_kwargs_that_are_not_a_json_object_exit_with_a_message(bad, capsys):
    with pytest.raises(SystemExit) as e:
        un.main(["--env-kwargs", bad, "--tasks", "1"])
    assert e.value.code == 2 and "--env-kwargs" in capsys.readouterr().err
