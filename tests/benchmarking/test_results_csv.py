"""The results CSV: appends are crash-safe and resumable."""

from __future__ import annotations

import pytest

from agentprm_gym.benchmarking.results import COLUMNS, ResultsWriter, done_keys, read_rows


def _row(method="bon@4", budget="4", success=0.5):
    return dict(
        env="E",
        policy="noisy:0.5",
        prm="pvm",
        method=method,
        family="bon",
        budget=budget,
        seed=0,
        episodes=10,
        samples=12.5,
        success=success,
        mean_reward=0.6,
        sampled_actions=125,
        wall_seconds=0.25,
    )


def test_round_trip_and_keys(tmp_path):
    p = tmp_path / "r.csv"
    with ResultsWriter(p, fsync=False) as w:
        w.write(_row())
        w.write(_row("beam@2x2", "2x2", 0.75))
    rows = read_rows(p)
    assert [r["method"] for r in rows] == ["bon@4", "beam@2x2"]
    assert rows[1]["success"] == 0.75 and rows[0]["episodes"] == 10 and rows[0]["seed"] == 0
    assert rows[0]["prm_items"] == "" or rows[0]["prm_items"] is not None
    assert done_keys(p) == {
        ("E", "noisy:0.5", "pvm", "bon@4", "4", "0"),
        ("E", "noisy:0.5", "pvm", "beam@2x2", "2x2", "0"),
    }
    assert p.read_text().splitlines()[0].split(",") == list(COLUMNS)


def test_torn_last_line_is_cut_and_earlier_rows_kept(tmp_path):
    p = tmp_path / "r.csv"
    with ResultsWriter(p, fsync=False) as w:
        w.write(_row())
    with open(p, "a") as f:
        f.write("E,noisy:0.5,pvm,bon@8,bo")  # a writer killed mid-line
    assert len(read_rows(p)) == 1
    with ResultsWriter(p, fsync=False) as w:
        w.write(_row("bon@8", "8"))
    rows = read_rows(p)
    assert [r["method"] for r in rows] == ["bon@4", "bon@8"]


def test_unknown_columns_and_foreign_files_rejected(tmp_path):
    p = tmp_path / "r.csv"
    with ResultsWriter(p, fsync=False) as w, pytest.raises(ValueError, match="unknown"):
        w.write({**_row(), "colour": 1})
    q = tmp_path / "other.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="other columns"):
        ResultsWriter(q)


def test_rows_from_before_the_rename_read_as_the_one_sample_policy(tmp_path):
    p = tmp_path / "r.csv"
    with ResultsWriter(p, fsync=False) as w:
        w.write({**_row("greedy", "1"), "prm": "-", "family": "greedy"})
        w.write({**_row("greedy (temperature 0)", "1"), "prm": "-", "family": "greedy"})
    old, true_greedy = read_rows(p)
    assert (old["method"], old["family"]) == ("policy (1 sample)", "policy")
    assert (true_greedy["method"], true_greedy["family"]) == ("greedy (temperature 0)", "greedy")
    assert ("E", "noisy:0.5", "-", "policy (1 sample)", "1", "0") in done_keys(p)
