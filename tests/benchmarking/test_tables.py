"""Tables from a synthetic results CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from agentprm_gym.benchmarking.efficiency import efficiency_ratios
from agentprm_gym.benchmarking.results import read_rows
from agentprm_gym.benchmarking.tables import (
    aggregate,
    bon_table,
    efficiency_table,
    fmt_pct,
    prior_tables,
    table1,
    table3,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import ENVS, PRMS, write_csv  # noqa: E402


def _mean(rows, **match):
    vals = [r["success"] for r in rows if all(r[k] == v for k, v in match.items())]
    assert len(vals) == 2
    return float(np.mean(vals))


def test_table1_is_beam_success_per_prm_per_env(tmp_path):
    src = write_csv(tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    t = table1(rows, list(ENVS), list(PRMS))
    assert t.groups == [(ENVS[0], 2), (ENVS[1], 2)]
    assert t.header == ["PRM", "2x2", "4x4", "2x2", "4x4"]
    assert [r[0] for r in t.rows] == ["policy (1 sample)", *PRMS]
    for line in t.rows[1:]:
        prm = line[0]
        want = [
            fmt_pct(_mean(src, env=e, prm=prm, method=m))
            for e in ENVS
            for m in ("beam@2x2", "beam@4x4")
        ]
        assert line[1:] == want
    md = t.to_markdown()
    assert "| agentprm |" in md and f"{ENVS[0]} 2x2" in md


def test_bon_table_and_aggregate(tmp_path):
    src = write_csv(tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    agg = aggregate(rows)
    a = agg[(ENVS[1], "pvm", "bon@4")]
    assert a["seeds"] == 2 and a["episodes"] == 40
    assert a["success"] == _mean(src, env=ENVS[1], prm="pvm", method="bon@4")
    t = bon_table(rows, list(ENVS), list(PRMS))
    assert t.header == ["PRM", "1", "2", "4", "1", "2", "4"]


def test_table3_costs_and_efficiency_table(tmp_path):
    write_csv(tmp_path / "r.csv")
    rows = read_rows(tmp_path / "r.csv")
    costs = {
        ENVS[0]: dict(
            labelled_steps=100,
            rollout_env_steps=100,
            mc_rollouts=4,
            mc_extra_env_steps=1200,
            mc_extra_policy_samples=1300,
        )
    }
    t = table3(rows, costs, td_prm="agentprm", mc_prm="pvm")
    assert len(t.rows) == 2
    td, mc = t.rows
    assert td[3:6] == ["0", "0", "100"]
    assert mc[3:6] == ["12.0", "13.0", "1300"]
    assert td[7].endswith("(beam@4x4)")
    ratios = efficiency_ratios(rows)
    e = efficiency_table(ratios)
    assert {r[0] for r in e.rows} == {"pvm", "oracle"}
    assert e.header[1] == "ratio (policy samples)" and e.header[3] == "ratio (samples + PRM items)"
    # the synthetic PRM items are half the samples, so both axes give the same ratios
    for line in e.rows:
        assert line[1] == line[3]


def test_prior_rows_get_their_own_table_and_baselines_their_rows(tmp_path):
    src = write_csv(tmp_path / "r.csv")
    extra = []
    for r in src:
        if r["method"].startswith("beam@") and r["prm"] == "pvm":
            extra.append({**r, "method": "beam+prior" + r["method"][4:], "family": "beam+prior"})
        if r["prm"] == "-":
            extra.append({**r, "method": "greedy (temperature 0)", "family": "greedy"})
    rows = read_rows(tmp_path / "r.csv") + extra
    t = table1(rows, list(ENVS), list(PRMS))
    assert [r[0] for r in t.rows] == ["policy (1 sample)", "greedy (temperature 0)", *PRMS]
    (p,) = prior_tables(rows, list(ENVS), list(PRMS))
    assert p.key == "prior" and "A = 1" in p.title
    assert [r[0] for r in p.rows] == ["policy (1 sample)", "greedy (temperature 0)", "pvm"]
    assert p.rows[2] == next(r for r in t.rows if r[0] == "pvm")
    assert prior_tables(read_rows(tmp_path / "r.csv")) == []
