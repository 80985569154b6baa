"""Does a PRM's value of a step depend on the state as the data's returns do?

``eval-prm`` asks whether a PRM ranks the expert's action above another one.
This script asks a plainer question of the steps a file records (the PRM's own
training file, or held-out rollouts): group every step by the kind of the
*expert's* action at its state (which says what kind of state it is: a results
page without the goal is a ``next >`` or ``back to search`` state) and the kind
of the action *taken*, and compare, per group, the PRM's mean value of the
action taken with the data's mean return after it (the episode's final reward:
WebShop's reward is sparse, so with γ = 1 that is the return a PVM or an MC
label regresses).

A PRM that reads which kind of state it is in gives a result click a low value
where the expert would page on (the data's mean is low there) and a high one
where the goal is on the page. A PRM that cannot tell the two apart gives
result clicks about the same value in both, and the table shows it: then no
label or loss fixes the ranking of the leave-the-page steps, only what the
network reads and fits. Run on the training file it separates *fitting* from
*generalising*: a group the PRM misses on its own training steps is not fitted.

A third column says where AgentPRM's own labels would put the step: the GAE
target ``Q̂_t = M_t + Â_t`` (λ-return, ``--lam``/``--gamma``) computed from the
PRM's values along each episode, the label that training with ``gae`` regresses
once the values stop moving. Up to about ``1 − λ^(T−t)`` of it is the PRM's own
values of the later steps, so where the target sits nearer the PRM's value than
the return, the bootstrapping carries the PRM's errors into its labels (for an
ensemble, the target of the mean value is the mean of the members' targets, as
the targets are linear in the values). The values here come without dropout;
training computes its targets from its dropout-carrying predictions.

Per group it prints the steps, the PRM's mean value, the mean GAE target and the
data's mean return; the last line is one JSON object. Run (about a minute for 800
WebShop episodes)::

    .venv/bin/python benchmarks/prm_value_fit.py --prm runs/webshop-prm --data runs/ws-m.jsonl \\
        --episodes 800
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["value_fit", "main"]


def value_fit(
    prm: Any,
    data: str,
    episodes: int | None = None,
    min_steps: int = 1,
    lam: float = 0.95,
    gamma: float = 1.0,
) -> list[dict[str, Any]]:
    """Mean PRM value, GAE target and return per (expert action kind, taken action kind).

    Args:
        prm: A PRM (``score`` of items).
        data: Trajectory JSONL file; steps without a recorded expert action are skipped
            (but their values still enter the targets of the steps before them).
        episodes: Use only the first this many episodes (None: all).
        min_steps: Leave out groups with fewer steps.
        lam: GAE λ of the targets.
        gamma: Discount γ of the targets.

    Returns:
        One dict per group, most steps first: ``expert``, ``taken``, ``steps``,
        ``prm_mean``, ``target_mean`` and ``return_mean``.
    """
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.metrics import action_kind, common_arguments
    from agentprm_gym.prm.steps import episode_steps
    from agentprm_gym.prm.training import episode_targets

    eps = episode_steps(read_trajectories(data))
    if episodes is not None:
        eps = eps[:episodes]
    eps = [e for e in eps if any(s.expert_action is not None for s in e.trajectory.steps)]
    if not eps:
        return []
    q = np.asarray(prm.score([it for e in eps for it in e.items]), dtype=np.float64)
    expert, taken, rows = [], [], []  # rows: (value, target, return) of each kept step
    start = 0
    for e in eps:
        values = q[start : start + len(e)]
        start += len(e)
        target, _ = episode_targets(e, "gae", values, lam=lam, gamma=gamma)
        for s, v, y in zip(e.trajectory.steps, values, target, strict=True):
            if s.expert_action is not None:
                expert.append(s.expert_action)
                taken.append(s.action)
                rows.append((float(v), float(y), e.final_reward))
    common = common_arguments(expert + taken)
    groups: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    for x, a, row in zip(expert, taken, rows, strict=True):
        groups[(action_kind(x, common), action_kind(a, common))].append(row)
    out = []
    for (x, a), vals in groups.items():
        if len(vals) < min_steps:
            continue
        arr = np.asarray(vals)
        out.append(
            {
                "expert": x,
                "taken": a,
                "steps": len(vals),
                "prm_mean": float(arr[:, 0].mean()),
                "target_mean": float(arr[:, 1].mean()),
                "return_mean": float(arr[:, 2].mean()),
            }
        )
    out.sort(key=lambda r: (r["expert"], -r["steps"], r["taken"]))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--prm", required=True, help="PRM directory (from train-prm)")
    ap.add_argument("--data", required=True, help="trajectory JSONL file")
    ap.add_argument("--episodes", type=int, default=None, help="first N episodes only")
    ap.add_argument("--min-steps", type=int, default=40, help="smallest group shown (40)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    ap.add_argument("--lam", type=float, default=0.95, help="GAE λ of the targets (0.95)")
    ap.add_argument("--gamma", type=float, default=1.0, help="discount γ of the targets (1.0)")
    args = ap.parse_args(argv)
    if args.episodes is not None and args.episodes < 1:
        ap.error("--episodes must be at least 1")
    if not (0.0 <= args.lam <= 1.0 and 0.0 <= args.gamma <= 1.0):
        ap.error("--lam and --gamma must be in [0, 1]")
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    import torch

    from agentprm_gym.prm.loading import load_prm

    torch.set_num_threads(args.threads)
    if args.prm.strip().lower() == "oracle":
        print("prm_value_fit: the oracle PRM needs a live env; give a trained PRM", file=sys.stderr)
        return 2
    try:
        prm = load_prm(args.prm)
        rows = value_fit(prm, args.data, args.episodes, args.min_steps, args.lam, args.gamma)
    except (OSError, ValueError) as e:
        print(f"prm_value_fit: {e}", file=sys.stderr)
        return 2
    head = f"{'expert action':26s} {'action taken':26s} {'steps':>6s} {'PRM':>6s}"
    print(f"{head} {'target':>7s} {'return':>7s}")
    for r in rows:
        print(
            f"{r['expert']:26s} {r['taken']:26s} {r['steps']:6d} "
            f"{r['prm_mean']:6.3f} {r['target_mean']:7.3f} {r['return_mean']:7.3f}"
        )
    print(json.dumps({"prm": args.prm, "data": args.data, "groups": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
