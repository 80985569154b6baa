"""PNG plots of a sweep: success rate against policy samples per episode, one figure per env.

One line per (PRM, search family): solid for Best-of-N, dashed for beam
search; the greedy policy is a horizontal dotted line. The x-axis is the mean
number of sampled actions per episode (log2 scale), the compute the
efficiency ratio is measured in. Uses matplotlib's Agg backend (no display);
provenance goes into the PNG's text metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentprm_gym.benchmarking.tables import aggregate

__all__ = ["plot_env", "plot_all"]

_FAMILY_STYLE = {"bon": ("-", "o", "Best-of-N"), "beam": ("--", "s", "beam")}


def plot_env(
    rows: Sequence[dict[str, Any]],
    env: str,
    out: str | os.PathLike[str],
    prms: Sequence[str] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write the success-vs-samples PNG of one env.

    Args:
        rows: Result rows (all envs; only ``env``'s are drawn).
        env: Env to draw.
        out: PNG path.
        prms: PRM order (colours follow it).
        provenance: Written into the PNG metadata (``Comment`` field, JSON).

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    agg = {k: v for k, v in aggregate(rows).items() if k[0] == env}
    present = list(dict.fromkeys(k[1] for k in agg if k[2] != "greedy"))
    order = [p for p in (prms or []) if p in present] + [
        p for p in present if p not in (prms or [])
    ]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(8.0, 4.2), dpi=110)
    for i, prm in enumerate(order):
        for fam, (ls, marker, label) in _FAMILY_STYLE.items():
            pts = sorted(
                (v["samples"], v["success"])
                for k, v in agg.items()
                if k[1] == prm and k[2].startswith(fam + "@")
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
    g = agg.get((env, "-", "greedy"))
    if g is not None:
        ax.axhline(100 * g["success"], color="black", linestyle=":", label="greedy policy")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("policy samples per episode (log2)")
    ax.set_ylabel("success rate (%)")
    ax.set_title(env)
    ax.set_ylim(-2, 102)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Title": f"success vs policy samples: {env}", "Software": "agentprm-gym"}
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
) -> dict[str, Path]:
    """One PNG per env in ``out_dir`` (``success_vs_samples_<env>.png``); returns env -> path."""
    envs = list(dict.fromkeys(str(r["env"]) for r in rows))
    out = {}
    for env in envs:
        safe = env.split("/")[-1]
        out[env] = plot_env(
            rows, env, Path(out_dir) / f"success_vs_samples_{safe}.png", prms, provenance
        )
    return out
