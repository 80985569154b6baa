"""Result tables of a sweep, shaped like the AgentPRM paper's.

- Table 1: beam search success (%) at ``2x2``/``4x4``/``8x8`` for each PRM
  (rows) and env (column groups), with the baselines without a PRM on top:
  ``policy (1 sample)`` (one policy sample per step) and, for LM policies,
  ``greedy (temperature 0)``.
- Beam search with the policy prior (``beam+prior``, rank ``Q + A·log π``):
  the same grid, one table per prior weight A, when the sweep ran it.
- Best-of-N table: success (%) at every N for each PRM and env.
- Table 3: TD/GAE labels (AgentPRM) against MC labels (MC-PRM): extra env
  steps and policy samples per labelled step, total env steps, and the best
  Best-of-N and beam successes each reaches.
- Efficiency table: the compute-efficiency ratios (see :mod:`.efficiency`), in
  policy samples and in total compute (policy samples plus PRM items).

A :class:`Table` renders to markdown (``benchmarks/results/<name>/tables.md``)
and is embedded in the HTML report. Successes are means over seeds, written
as percentages with one decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentprm_gym.benchmarking.config import GREEDY_METHOD, POLICY_METHOD
from agentprm_gym.benchmarking.efficiency import EfficiencyRatio, summarize_ratios

__all__ = [
    "Table",
    "aggregate",
    "bon_table",
    "efficiency_table",
    "fmt_pct",
    "prior_tables",
    "table1",
    "table3",
]

#: The rows without a PRM, in the order they are shown (their PRM column is ``-``).
BASELINES = (POLICY_METHOD, GREEDY_METHOD)


@dataclass
class Table:
    """A rendered-independent table.

    Attributes:
        key: Short identifier (``table1``, ``bon``, ``table3``, ``efficiency``).
        title: Heading.
        header: Column names.
        rows: Cells as strings.
        groups: Optional column groups ``(label, span)`` over the header (after the row label).
        caption: Explanation under the table.
    """

    key: str
    title: str
    header: list[str]
    rows: list[list[str]]
    groups: list[tuple[str, int]] = field(default_factory=list)
    caption: str = ""

    def to_markdown(self) -> str:
        """GitHub markdown (column groups folded into the header names)."""
        head = list(self.header)
        if self.groups:
            names: list[str] = []
            for label, span in self.groups:
                names.extend([label] * span)
            head = [head[0]] + [f"{g} {h}" for g, h in zip(names, head[1:])]
        lines = [f"### {self.title}", ""]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for r in self.rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        if self.caption:
            lines += ["", self.caption]
        return "\n".join(lines) + "\n"


def fmt_pct(x: float | None) -> str:
    """A success rate in [0, 1] as a percentage with one decimal (``-`` for None)."""
    return "-" if x is None or not np.isfinite(x) else f"{100.0 * x:.1f}"


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, float]]:
    """Mean success, reward and samples over seeds per ``(env, prm, method)``.

    Returns:
        ``{(env, prm, method): {"success", "mean_reward", "samples", "episodes", "seeds"}}``.
    """
    acc: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        acc.setdefault((str(r["env"]), str(r["prm"]), str(r["method"])), []).append(r)
    out = {}
    for k, rs in acc.items():
        out[k] = {
            "success": float(np.mean([float(r["success"]) for r in rs])),
            "mean_reward": float(np.mean([float(r["mean_reward"]) for r in rs])),
            "samples": float(np.mean([float(r["samples"]) for r in rs])),
            "episodes": float(sum(int(r["episodes"]) for r in rs)),
            "seeds": float(len(rs)),
        }
    return out


def _order(values: Sequence[str], preferred: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(values))
    return [p for p in preferred if p in seen] + [v for v in seen if v not in preferred]


def _envs(rows: Sequence[dict[str, Any]], envs: Sequence[str] | None) -> list[str]:
    return _order([str(r["env"]) for r in rows], envs or [])


def _prms(rows: Sequence[dict[str, Any]], prms: Sequence[str] | None) -> list[str]:
    return _order([str(r["prm"]) for r in rows if str(r["prm"]) != "-"], prms or [])


def _budgets(rows: Sequence[dict[str, Any]], prefix: str) -> list[str]:
    """The methods named ``prefix@...``, smallest budget first."""
    ms = {str(r["method"]) for r in rows if str(r["method"]).split("@")[0] == prefix}
    return sorted(ms, key=lambda m: [int(x) for x in m.split("@")[1].split("x")])


def _grid_table(
    key: str,
    title: str,
    rows: Sequence[dict[str, Any]],
    family: str,
    envs: Sequence[str] | None,
    prms: Sequence[str] | None,
    caption: str,
) -> Table:
    agg = aggregate(rows)
    env_list = _envs(rows, envs)
    methods = _budgets(rows, family)
    header = ["PRM"]
    groups = []
    for e in env_list:
        header += [m.split("@")[1] for m in methods]
        groups.append((e, len(methods)))
    body: list[list[str]] = []
    for name in BASELINES:
        line = [name]
        for e in env_list:
            g = agg.get((e, "-", name))
            line += [fmt_pct(g["success"]) if g else "-"] * len(methods)
        if any(c != "-" for c in line[1:]):
            body.append(line)
    for p in _prms(rows, prms):
        if not any((e, p, m) in agg for e in env_list for m in methods):
            continue  # no run of this search with this PRM
        line = [p]
        for e in env_list:
            for m in methods:
                a = agg.get((e, p, m))
                line.append(fmt_pct(a["success"]) if a else "-")
        body.append(line)
    return Table(key, title, header, body, groups, caption)


def table1(
    rows: Sequence[dict[str, Any]],
    envs: Sequence[str] | None = None,
    prms: Sequence[str] | None = None,
) -> Table:
    """Table 1: beam search success (%) per PRM (rows) per env and beam size (columns)."""
    return _grid_table(
        "table1",
        "Table 1: step-level beam search, success rate (%)",
        rows,
        "beam",
        envs,
        prms,
        "Columns are beam width x expansions per kept state (the paper's N x M); every "
        "sampled copy is a pool entry and the PRM's value ranks them (ties at random). "
        "'policy (1 sample)' is the policy alone, one sampled action per step, repeated "
        "under each budget; 'greedy (temperature 0)' is an LM policy's greedy decoding.",
    )


def prior_tables(
    rows: Sequence[dict[str, Any]],
    envs: Sequence[str] | None = None,
    prms: Sequence[str] | None = None,
) -> list[Table]:
    """Beam search ranked by ``Q + A·log π``: one success (%) grid per prior weight A."""
    prefixes = sorted(
        {str(r["method"]).split("@")[0] for r in rows if str(r["method"]).startswith("beam+prior")}
    )
    out = []
    for prefix in prefixes:
        weight = prefix.partition("=")[2] or "1"
        out.append(
            _grid_table(
                "prior" if weight == "1" else f"prior-{weight}",
                f"Beam search with the policy prior ({prefix}, A = {weight}), success rate (%)",
                rows,
                prefix,
                envs,
                prms,
                f"As Table 1, but entries are ranked by Q + {weight}·log pi(a|s): pi is an LM "
                "policy's log-probability of the sampled completion, or, for other policies, "
                "the action's share of the samples drawn from the state (count/n).",
            )
        )
    return out


def bon_table(
    rows: Sequence[dict[str, Any]],
    envs: Sequence[str] | None = None,
    prms: Sequence[str] | None = None,
) -> Table:
    """Best-of-N success (%) per PRM (rows) per env and N (columns)."""
    return _grid_table(
        "bon",
        "Best-of-N, success rate (%)",
        rows,
        "bon",
        envs,
        prms,
        "Columns are N, whole episodes sampled per task; the PRM's value of each "
        "episode's last step picks one.",
    )


def _best(agg: dict[tuple[str, str, str], dict[str, float]], env: str, prm: str, fam: str) -> str:
    cands = [(k[2], v) for k, v in agg.items() if k[0] == env and k[1] == prm]
    cands = [(m, v) for m, v in cands if m.startswith(fam + "@")]
    if not cands:
        return "-"
    m, v = max(cands, key=lambda mv: [int(x) for x in mv[0].split("@")[1].split("x")])
    return f"{fmt_pct(v['success'])} ({m})"


def table3(
    rows: Sequence[dict[str, Any]],
    label_costs: dict[str, dict[str, Any]],
    td_prm: str = "agentprm",
    mc_prm: str = "mc-prm",
) -> Table:
    """Table 3: TD/GAE vs MC labelling cost and the search results each PRM reaches.

    Args:
        rows: Result rows.
        label_costs: Per env: ``labelled_steps``, ``rollout_env_steps``,
            ``mc_rollouts``, ``mc_extra_env_steps``, ``mc_extra_policy_samples``.
        td_prm: The PRM trained on TD/GAE labels.
        mc_prm: The PRM trained on MC labels.
    """
    agg = aggregate(rows)
    header = [
        "env",
        "labels",
        "labelled steps",
        "extra env steps / label",
        "extra policy samples / label",
        "total env steps",
        "BoN success % (largest N)",
        "beam success % (largest)",
    ]
    body = []
    for env in _envs(rows, list(label_costs)):
        c = label_costs.get(env)
        if c is None:
            continue
        n = int(c.get("labelled_steps", 0))
        roll = int(c.get("rollout_env_steps", 0))
        mc_env = int(c.get("mc_extra_env_steps", 0))
        mc_pol = int(c.get("mc_extra_policy_samples", 0))
        body.append(
            [
                env,
                f"TD/GAE ({td_prm})",
                str(n),
                "0",
                "0",
                str(roll),
                _best(agg, env, td_prm, "bon"),
                _best(agg, env, td_prm, "beam"),
            ]
        )
        body.append(
            [
                env,
                f"MC, N={c.get('mc_rollouts', '?')} ({mc_prm})",
                str(n),
                f"{mc_env / n:.1f}" if n else "-",
                f"{mc_pol / n:.1f}" if n else "-",
                str(roll + mc_env),
                _best(agg, env, mc_prm, "bon"),
                _best(agg, env, mc_prm, "beam"),
            ]
        )
    return Table(
        "table3",
        "Table 3: TD/GAE labels vs Monte-Carlo labels",
        header,
        body,
        caption="Extra costs are beyond the collected rollouts themselves, which both "
        "label kinds share; MC labels roll the policy out N times from every step's snapshot.",
    )


def _bounds(lower: int, upper: int) -> str:
    note = []
    if lower:
        note.append(f"{lower} lower bounds")
    if upper:
        note.append(f"{upper} upper bounds")
    return ", ".join(note) or "all interpolated"


def efficiency_table(ratios: Sequence[EfficiencyRatio], reference: str = "agentprm") -> Table:
    """Geometric-mean compute-efficiency ratio per baseline, in policy samples and in total."""
    body = []
    for s in summarize_ratios(ratios):
        body.append(
            [
                s["baseline"],
                f"{s['geo_mean_ratio']:.2f}x",
                _bounds(s["n_lower"], s["n_upper"]),
                f"{s['geo_mean_compute_ratio']:.2f}x",
                _bounds(s["n_compute_lower"], s["n_compute_upper"]),
                str(s["n"]),
            ]
        )
    return Table(
        "efficiency",
        f"Compute efficiency: compute a baseline needs to match {reference}",
        [
            "baseline",
            "ratio (policy samples)",
            "bounds",
            "ratio (samples + PRM items)",
            "bounds",
            "points",
        ],
        body,
        caption=f"At each of {reference}'s Best-of-N and beam budgets, the compute the "
        f"baseline needs to reach {reference}'s success (interpolated in log2 compute on the "
        f"baseline's running-max curve of the same search), divided by what {reference} spent; "
        "geometric mean over envs, searches and budgets. Two axes: policy samples per episode "
        "(the paper's), and total compute, policy samples plus PRM items scored per episode. "
        "A lower bound means the baseline never reached that success within its largest "
        "budget; a ratio below 1 means the baseline needed less than " + reference + ".",
    )
