"""Compute-efficiency ratio: hand-worked curves."""

from __future__ import annotations

import math

import pytest

from agentprm_gym.benchmarking.efficiency import (
    efficiency_ratios,
    samples_to_reach,
    summarize_ratios,
)


def test_interpolates_in_log2_samples():
    # (1, 0.2) -> (4, 0.6): 0.4 is half way in log2 between 0 and 2 -> 2**1 = 2 samples
    s, bound = samples_to_reach([1, 4], [0.2, 0.6], 0.4)
    assert bound == "exact"
    assert s == pytest.approx(2.0)


def test_exact_hit_and_quarter_way():
    assert samples_to_reach([2, 8, 32], [0.1, 0.3, 0.5], 0.3) == (pytest.approx(8.0), "exact")
    # 0.35 is a quarter of the way from 0.3 (log2 8 = 3) to 0.5 (log2 32 = 5): 2**3.5
    s, _ = samples_to_reach([2, 8, 32], [0.1, 0.3, 0.5], 0.35)
    assert s == pytest.approx(2**3.5)


def test_running_max_makes_the_curve_monotone():
    # the dip at 4 does not matter: 0.5 is first reached at 2 samples
    s, bound = samples_to_reach([1, 2, 4, 8], [0.1, 0.5, 0.2, 0.6], 0.5)
    assert (s, bound) == (pytest.approx(2.0), "exact")


def test_bounds_without_extrapolation():
    assert samples_to_reach([4, 8], [0.5, 0.7], 0.3) == (4.0, "upper")
    assert samples_to_reach([4, 8], [0.5, 0.7], 0.9) == (8.0, "lower")


def test_unsorted_input_and_errors():
    assert samples_to_reach([4, 1], [0.6, 0.2], 0.4)[0] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        samples_to_reach([], [], 0.1)
    with pytest.raises(ValueError):
        samples_to_reach([0, 1], [0.1, 0.2], 0.1)
    with pytest.raises(ValueError):
        samples_to_reach([1, 2], [0.1], 0.1)


def _rows():
    rows = []
    # AgentPRM: BoN@2 -> 4 samples/episode, 0.5 success; BoN@4 -> 8 samples, 0.6
    for budget, s, y in (("2", 4.0, 0.5), ("4", 8.0, 0.6)):
        rows.append(
            dict(
                env="E", prm="agentprm", method=f"bon@{budget}", budget=budget, samples=s, success=y
            )
        )
    # PVM reaches 0.5 at 16 samples and 0.6 at 64 samples
    for budget, s, y in (("2", 4.0, 0.2), ("8", 16.0, 0.5), ("32", 64.0, 0.6)):
        rows.append(
            dict(env="E", prm="pvm", method=f"bon@{budget}", budget=budget, samples=s, success=y)
        )
    rows.append(
        dict(env="E", prm="-", method="policy (1 sample)", budget="1", samples=2.0, success=0.1)
    )
    return rows


def test_ratios_against_reference():
    rs = efficiency_ratios(_rows())
    assert [(r.baseline, r.budget) for r in rs] == [("pvm", "2"), ("pvm", "4")]
    assert rs[0].ratio == pytest.approx(16 / 4)
    assert rs[1].ratio == pytest.approx(64 / 8)
    assert all(r.bound == "exact" for r in rs)
    (summary,) = summarize_ratios(rs)
    assert summary["baseline"] == "pvm"
    assert summary["geo_mean_ratio"] == pytest.approx(math.sqrt(4 * 8))
    assert summary["n"] == 2 and summary["n_lower"] == 0


def test_seeds_are_averaged_and_families_kept_apart():
    rows = _rows()
    # a second seed of AgentPRM BoN@2 with success 0.7: the mean target becomes 0.6
    rows.append(dict(env="E", prm="agentprm", method="bon@2", budget="2", samples=4.0, success=0.7))
    # beam rows of pvm only: no AgentPRM beam curve, so no beam ratios
    rows.append(dict(env="E", prm="pvm", method="beam@2x2", budget="2x2", samples=9.0, success=0.9))
    rs = efficiency_ratios(rows)
    assert {r.family for r in rs} == {"bon"}
    r2 = next(r for r in rs if r.budget == "2")
    assert r2.agentprm_success == pytest.approx(0.6)
    assert r2.ratio == pytest.approx(64 / 4)


def test_total_compute_axis_counts_prm_items():
    # 10 episodes per run. AgentPRM beam 2x2: 10 samples + 10 items per episode -> 20, success
    # 0.5. PVM: 10 samples + 30 items -> 40 at 0.3; 40 samples + 60 items -> 100 at 0.7.
    def row(prm, budget, samples, items, y):
        return dict(
            env="E",
            prm=prm,
            method=f"beam@{budget}",
            budget=budget,
            samples=samples,
            success=y,
            prm_items=items,
            episodes=10,
        )

    rows = [
        row("agentprm", "2x2", 10.0, 100, 0.5),
        row("pvm", "2x2", 10.0, 300, 0.3),
        row("pvm", "4x4", 40.0, 600, 0.7),
        row("pvm", "8x8", 80.0, 3000, 0.2),  # worse at more compute: the running max keeps 0.7
    ]
    (r,) = efficiency_ratios(rows)
    # 0.5 is half way from 0.3 to 0.7: samples 2**(log2 10 + 1) = 20; compute sqrt(40 * 100)
    assert (r.ratio, r.bound) == (pytest.approx(20 / 10), "exact")
    assert r.agentprm_compute == pytest.approx(20.0)
    assert r.baseline_compute == pytest.approx(math.sqrt(40 * 100))
    assert (r.compute_ratio, r.compute_bound) == (pytest.approx(math.sqrt(4000) / 20), "exact")
    (s,) = summarize_ratios([r])
    assert s["geo_mean_compute_ratio"] == pytest.approx(math.sqrt(4000) / 20)
    assert s["n_compute_lower"] == s["n_compute_upper"] == 0


def test_prior_rows_are_their_own_curve():
    rows = _rows()
    for prm, y in (("agentprm", 0.5), ("pvm", 0.4)):
        rows.append(
            dict(env="E", prm=prm, method="beam+prior@2x2", budget="2x2", samples=9.0, success=y)
        )
    fams = {r.family for r in efficiency_ratios(rows)}
    assert fams == {"bon", "beam+prior"}
