"""PNG plots of a sweep: success rate against compute per episode, one figure per env and axis.

One line per (PRM, search family): solid for Best-of-N, dashed for beam
search, dash-dotted for beam search with the policy prior; the policy alone
(one sample per step) is a horizontal dotted line, an LM policy's greedy
decoding a grey dash-dotted one. The x-axis (log2 scale) is either the mean
number of policy samples (sampled actions) per episode, the paper's axis
(``success_vs_samples_<env>.png``), or the total compute per episode, policy
samples plus PRM items scored (``success_vs_compute_<env>.png``); the
efficiency ratios are measured on both. Uses matplotlib's Agg backend (no
display); provenance goes into the PNG's text metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentprm_gym.benchmarking.config import GREEDY_METHOD, POLICY_METHOD
from agentprm_gym.benchmarking.efficiency import total_compute
from agentprm_gym.benchmarking.tables import aggregate

__all__ = ["AXES", "plot_env", "plot_all"]

_FAMILY_STYLE = {"bon": ("-", "o", "Best-of-N"), "beam": ("--", "s", "beam")}
_PRIOR_STYLE = ("-.", "^")
#: x-axes: name -> (file stem, axis label).
AXES = {
    "samples": ("success_vs_samples", "policy samples per episode (log2)"),
    "compute": ("success_vs_compute", "policy samples + PRM items per episode (log2)"),
}


def _compute_by_run(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """Mean total compute per episode of each (env, prm, method), over seeds."""
    acc: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        key = (str(r["env"]), str(r["prm"]), str(r["method"]))
        acc.setdefault(key, []).append(total_compute(r))
    return {k: sum(v) / len(v) for k, v in acc.items()}


def _family_of(method: str) -> str | None:
    prefix = method.split("@")[0] if "@" in method else None
    if prefix in _FAMILY_STYLE or (prefix or "").startswith("beam+prior"):
        return prefix
    return None


def plot_env(
    rows: Sequence[dict[str, Any]],
    env: str,
    out: str | os.PathLike[str],
    prms: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    axis: str = "samples",
) -> Path:
    """Write the success-vs-compute PNG of one env.

    Args:
        rows: Result rows (all envs; only ``env``'s are drawn).
        env: Env to draw.
        out: PNG path.
        prms: PRM order (colours follow it).
        provenance: Written into the PNG metadata (``Comment`` field, JSON).
        axis: ``samples`` (policy samples per episode) or ``compute`` (plus PRM items).

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    if axis not in AXES:
        raise ValueError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
    agg = {k: v for k, v in aggregate(rows).items() if k[0] == env}
    compute = _compute_by_run(rows)
    present = list(dict.fromkeys(k[1] for k in agg if k[1] != "-"))
    order = [p for p in (prms or []) if p in present] + [
        p for p in present if p not in (prms or [])
    ]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(8.0, 4.2), dpi=110)
    families = sorted({f for k in agg if (f := _family_of(k[2])) is not None})
    for i, prm in enumerate(order):
        for fam in families:
            ls, marker, label = _FAMILY_STYLE.get(fam, (*_PRIOR_STYLE, fam))
            pts = sorted(
                (v["samples"] if axis == "samples" else compute[k], v["success"])
                for k, v in agg.items()
                if k[1] == prm and _family_of(k[2]) == fam
            )
            if not pts:
                continue
            xs, ys = zip(*pts)
            ax.plot(
                xs,
                [100 * y for y in ys],
                linestyle=ls,
                marker=marker,
                color=cmap(i % 10),
                label=f"{prm} ({label})",
                markersize=4,
            )
    for name, colour, ls in ((POLICY_METHOD, "black", ":"), (GREEDY_METHOD, "grey", "-.")):
        g = agg.get((env, "-", name))
        if g is not None:
            ax.axhline(100 * g["success"], color=colour, linestyle=ls, label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(AXES[axis][1])
    ax.set_ylabel("success rate (%)")
    ax.set_title(env)
    ax.set_ylim(-2, 102)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Title": f"success vs {AXES[axis][1]}: {env}", "Software": "agentprm-gym"}
    if provenance is not None:
        meta["Comment"] = json.dumps(provenance, sort_keys=True, default=str)
    fig.savefig(path, format="png", metadata=meta)
    plt.close(fig)
    return path


def plot_all(
    rows: Sequence[dict[str, Any]],
    out_dir: str | os.PathLike[str],
    prms: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
    axes: Sequence[str] = ("samples", "compute"),
) -> dict[str, Path]:
    """One PNG per env and axis in ``out_dir`` (``success_vs_<axis>_<env>.png``).

    Returns:
        A caption (``"<env>: success vs <axis>"``) -> path, envs in row order.
    """
    envs = list(dict.fromkeys(str(r["env"]) for r in rows))
    out = {}
    for env in envs:
        safe = env.split("/")[-1]
        for axis in axes:
            stem = AXES[axis][0]
            out[f"{env}: {stem.replace('_', ' ')}"] = plot_env(
                rows, env, Path(out_dir) / f"{stem}_{safe}.png", prms, provenance, axis
            )
    return out
