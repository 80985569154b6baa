"""The shipped `quick` sweep config, end to end on WebShop: the CI smoke test of the pipeline.

It runs `benchmarks/configs/quick.yaml` exactly as committed (collect, MC labels,
four tiny PRMs trained, greedy / Best-of-N / beam on test tasks, tables, plots,
report) and checks that every output is there and agrees with the CSV.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentprm_gym.benchmarking.config import load_config
from agentprm_gym.benchmarking.results import read_rows
from agentprm_gym.cli import main

QUICK = Path(__file__).resolve().parents[2] / "benchmarks" / "configs" / "quick.yaml"


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """The config sets torch to one thread; give the rest of the session its setting back."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_quick_config_runs_and_its_outputs_agree(tmp_path, capsys):
    cfg = load_config(QUICK)
    out = tmp_path / "quick"
    rc = main(["bench", "sweep", "--config", str(QUICK), "--out", str(out), "--no-progress"])
    assert rc == 0, capsys.readouterr().err
    rows = read_rows(out / "results.csv")
    prm_methods = [m for m in cfg.methods if m.uses_prm]
    assert len(rows) == len(cfg.envs) * (1 + len(cfg.prms) * len(prm_methods))
    assert {r["prm"] for r in rows} == {"-"} | {p.name for p in cfg.prms}
    assert all(r["episodes"] == cfg.envs[0].test_tasks for r in rows)
    assert all(0.0 <= r["success"] <= 1.0 and r["env_steps"] > 0 for r in rows)
    for name in ("tables.md", "report.html", "efficiency.csv", "provenance.json"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "success_vs_samples_WebShop-v0.png").read_bytes()[:4] == b"\x89PNG"

    # every success rate in Table 1 is the CSV's, to one decimal
    md = (out / "tables.md").read_text()
    table1 = md.split("### Table 1", 1)[1].split("###", 1)[0]
    beam = {r["prm"]: r["success"] for r in rows if r["method"] == "beam@2x2"}
    for prm, success in beam.items():
        m = re.search(rf"^\| {re.escape(prm)} \| ([0-9.]+) \|", table1, re.M)
        assert m and float(m.group(1)) == pytest.approx(100 * success, abs=0.051), prm

    costs = json.loads((out / "label_costs.json").read_text())["AgentPRM/WebShop-v0"]
    assert costs["mc_extra_env_steps"] > 0
    # TD/GAE labels need no rollouts beyond the collected ones; MC labels do
    assert "| TD/GAE (agentprm) |" in md and re.search(r"\| 0 \| 0 \|", md)
