"""Compute-efficiency ratio: how much more compute a baseline needs to match AgentPRM.

For one env and one search family (Best-of-N or beam), AgentPRM's runs give a
curve of success against mean policy samples per episode, and so does each
baseline's (another PRM on the same search). At an AgentPRM point
``(s_a, y_a)`` the ratio of a baseline is ``s_b / s_a``, where ``s_b`` is the
number of samples at which the baseline's curve first reaches ``y_a``.

The baseline curve is made monotone by a running maximum (a budget that
reached a success rate counts as reaching it at every larger budget, which is
what "samples needed to reach" means) and interpolated linearly in
``log2(samples)`` between measured points (budgets are geometric: 1, 2, 4,
...). No extrapolation: if the baseline already reaches ``y_a`` at its smallest
budget the ratio is an upper bound (``bound="upper"``); if it never reaches it
the ratio is a lower bound taken at its largest budget (``bound="lower"``).

Each ratio is measured on two compute axes: **policy samples** per episode
(the paper's axis) and **total compute** per episode, policy samples plus PRM
items scored. The second counts what the PRM costs: beam search scores a new
step for every distinct sampled action, Best-of-N one step per episode, so at
equal samples beam 8×8 scores about five times the items Best-of-64 does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "EfficiencyRatio",
    "efficiency_ratios",
    "samples_to_reach",
    "summarize_ratios",
    "total_compute",
]


@dataclass(frozen=True)
class EfficiencyRatio:
    """One ratio: baseline compute needed / AgentPRM compute spent, in samples and in total.

    Attributes:
        env: Env id.
        family: Search family (``bon`` or ``beam``).
        baseline: The baseline PRM's name.
        budget: AgentPRM's budget label (e.g. ``8`` or ``4x4``).
        agentprm_samples: AgentPRM's mean policy samples per episode at that budget.
        agentprm_success: AgentPRM's success rate there (the target).
        baseline_samples: Samples the baseline needs (bound as in ``bound``).
        ratio: ``baseline_samples / agentprm_samples``.
        bound: ``exact`` (interpolated), ``upper`` (reached at the baseline's
            smallest budget: the ratio is at most this) or ``lower`` (never
            reached: at least this).
        agentprm_compute: AgentPRM's mean policy samples plus PRM items per episode.
        baseline_compute: Total compute the baseline needs (bound as in ``compute_bound``).
        compute_ratio: ``baseline_compute / agentprm_compute``.
        compute_bound: ``bound`` on the total-compute axis.
    """

    env: str
    family: str
    baseline: str
    budget: str
    agentprm_samples: float
    agentprm_success: float
    baseline_samples: float
    ratio: float
    bound: str
    agentprm_compute: float = float("nan")
    baseline_compute: float = float("nan")
    compute_ratio: float = float("nan")
    compute_bound: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def samples_to_reach(
    samples: Sequence[float], success: Sequence[float], target: float
) -> tuple[float, str]:
    """Samples at which a success-vs-samples curve first reaches ``target``.

    Args:
        samples: Policy samples of each measured point (> 0).
        success: Success rate of each point.
        target: Success rate to reach.

    Returns:
        ``(samples, bound)`` with bound ``exact``, ``upper`` (reached at the
        smallest budget already) or ``lower`` (never reached; the largest budget).

    Raises:
        ValueError: For empty, mismatched or non-positive inputs.
    """
    s = np.asarray(samples, dtype=np.float64)
    y = np.asarray(success, dtype=np.float64)
    if s.ndim != 1 or s.shape != y.shape or s.size == 0:
        raise ValueError("samples and success must be equal-length, non-empty 1-D sequences")
    if np.any(s <= 0):
        raise ValueError("samples must be > 0 (interpolation is in log2(samples))")
    order = np.argsort(s, kind="stable")
    s, y = s[order], np.maximum.accumulate(y[order])
    eps = 1e-12
    if y[0] >= target - eps:
        return float(s[0]), "upper"
    if y[-1] < target - eps:
        return float(s[-1]), "lower"
    i = int(np.argmax(y >= target - eps))  # first index reaching the target (i >= 1)
    x0, x1 = math.log2(s[i - 1]), math.log2(s[i])
    y0, y1 = y[i - 1], y[i]
    frac = (target - y0) / (y1 - y0) if y1 > y0 else 1.0
    return float(2.0 ** (x0 + frac * (x1 - x0))), "exact"


def _family(method: str) -> str | None:
    """The curve a method's row belongs to: ``bon``, ``beam``, ``beam+prior[=A]``; else None."""
    if "@" not in method:
        return None
    m = method.split("@")[0]
    return m if m in ("bon", "beam") or m.startswith("beam+prior") else None


def total_compute(row: dict[str, Any]) -> float:
    """Policy samples plus PRM items scored, per episode, of one results row."""
    episodes = max(int(row.get("episodes") or 1), 1)
    return float(row["samples"]) + float(row.get("prm_items") or 0) / episodes


def efficiency_ratios(
    rows: Sequence[dict[str, Any]], reference: str = "agentprm"
) -> list[EfficiencyRatio]:
    """Ratios of every baseline PRM against ``reference`` at each of its budgets.

    Args:
        rows: Result rows with ``env``, ``prm``, ``method`` (``bon@N``, ``beam@NxM``,
            ``beam+prior@NxM``), ``budget``, ``samples``, ``success`` and, for the
            total-compute axis, ``prm_items`` and ``episodes`` (missing: 0 items).
            Several rows of one (env, prm, method) (seeds) are averaged.
        reference: The PRM whose budgets and successes are the targets.

    Returns:
        One ratio per (env, family, baseline, reference budget), sorted.
    """
    curves: dict[tuple[str, str, str], dict[str, list[tuple[float, float, float]]]] = {}
    for r in rows:
        fam = _family(str(r["method"]))
        if fam is None:
            continue
        key = (str(r["env"]), fam, str(r["prm"]))
        pts = curves.setdefault(key, {})
        pts.setdefault(str(r["budget"]), []).append(
            (float(r["samples"]), total_compute(r), float(r["success"]))
        )
    # average repeated (seed) rows of one budget: (budget, samples, compute, success)
    points: dict[tuple[str, str, str], list[tuple[str, float, float, float]]] = {}
    for key, by_budget in curves.items():
        pl = []
        for budget, vals in by_budget.items():
            ss, cs, ys = zip(*vals)
            pl.append((budget, float(np.mean(ss)), float(np.mean(cs)), float(np.mean(ys))))
        points[key] = sorted(pl, key=lambda p: p[1])
    out: list[EfficiencyRatio] = []
    for (env, fam, prm), ref_pts in sorted(points.items()):
        if prm != reference:
            continue
        for (benv, bfam, bprm), base_pts in sorted(points.items()):
            if benv != env or bfam != fam or bprm == reference:
                continue
            bs = [p[1] for p in base_pts]
            bc = [p[2] for p in base_pts]
            by = [p[3] for p in base_pts]
            for budget, s_a, c_a, y_a in ref_pts:
                s_b, bound = samples_to_reach(bs, by, y_a)
                c_b, c_bound = samples_to_reach(bc, by, y_a)
                out.append(
                    EfficiencyRatio(
                        env,
                        fam,
                        bprm,
                        budget,
                        s_a,
                        y_a,
                        s_b,
                        s_b / s_a,
                        bound,
                        c_a,
                        c_b,
                        c_b / c_a,
                        c_bound,
                    )
                )
    return out


def summarize_ratios(ratios: Sequence[EfficiencyRatio]) -> list[dict[str, Any]]:
    """Geometric-mean ratio per baseline (over envs, families and budgets).

    Returns:
        One dict per baseline: ``baseline``, ``geo_mean_ratio`` (policy samples),
        ``geo_mean_compute_ratio`` (policy samples plus PRM items), ``n``, and
        ``n_lower``/``n_upper`` (how many of the sample ratios were bounds) and
        ``n_compute_lower``/``n_compute_upper`` (the same for the compute ratios).
    """
    by: dict[str, list[EfficiencyRatio]] = {}
    for r in ratios:
        by.setdefault(r.baseline, []).append(r)
    out = []
    for base, rs in sorted(by.items()):
        out.append(
            {
                "baseline": base,
                "geo_mean_ratio": _geo_mean([r.ratio for r in rs]),
                "geo_mean_compute_ratio": _geo_mean([r.compute_ratio for r in rs]),
                "n": len(rs),
                "n_lower": sum(r.bound == "lower" for r in rs),
                "n_upper": sum(r.bound == "upper" for r in rs),
                "n_compute_lower": sum(r.compute_bound == "lower" for r in rs),
                "n_compute_upper": sum(r.compute_bound == "upper" for r in rs),
            }
        )
    return out


def _geo_mean(values: Sequence[float]) -> float:
    logs = [math.log(v) for v in values if math.isfinite(v) and v > 0]
    return float(math.exp(np.mean(logs))) if logs else float("nan")
