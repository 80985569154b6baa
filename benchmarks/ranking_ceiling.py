"""How well could a *perfect* value of the data policy rank actions? (the ranking ceiling).

``eval-prm``'s step ranking accuracy asks whether the PRM scores the expert's
action above one other admissible action. A PRM trained on a policy's rollouts
(TD, GAE, MC or final-reward labels alike) learns that policy's ``Q^pi``, and
``Q^pi`` need not rank the expert's action first: after a premature ``buy now``
a noisy policy can end with a higher mean reward than after the expert's option
click. This script measures the ceiling: for exactly the pairs ``eval-prm``
ranks (same seed, same draws), it estimates ``Q^pi(s, expert)`` and
``Q^pi(s, other)`` with N Monte-Carlo rollouts of the policy from the restored
state (:func:`agentprm_gym.prm.mc.mc_action_values`) and counts how often the
expert's estimate is higher (a tie counts 0.5), for Q valued by the final
reward and by success.

With finite N the estimates are noisy, so the figure is a slight underestimate
of the exact-``Q^pi`` ceiling; raise ``--rollouts`` to tighten it.

How precise must a PRM's values be to rank like this? ``--noise 0.02,0.05``
also reports, per group, the median gap ``|Q^pi(s, expert) − Q^pi(s, other)|``
(reward-valued) and the accuracy left when independent Gaussian errors of each
standard deviation are added to every estimate (mean of 20 seeded draws): a
PRM whose values are off by that much cannot rank better, whatever it reads.

``--by-pair`` splits the pairs by the kinds of *both* actions (on WebShop,
``click[< prev]`` against an option click is mostly a wrong item's page): where a
PRM loses pairs that ``Q^pi`` would win, and by how small a margin.

Run:
``.venv/bin/python benchmarks/ranking_ceiling.py --data runs/ws-test.jsonl --rollouts 64``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["ceiling", "main"]


def ceiling(
    data: str,
    rollouts: int = 64,
    policy: str | None = None,
    episodes: int | None = None,
    seed: int = 0,
    progress: bool = True,
    prm: str | None = None,
    env_kwargs: dict[str, Any] | None = None,
    noise: tuple[float, ...] = (),
) -> dict[str, Any]:
    """Estimate the ranking ceiling of ``Q^pi`` on a held-out trajectory file.

    Args:
        data: Trajectory JSONL (held-out episodes with expert actions recorded).
        rollouts: MC rollouts per candidate action (N).
        policy: Rollout policy spec; default the file's recorded policy.
        episodes: Use only the first this many episodes.
        seed: Seed of the pair draws (as ``eval-prm --seed``) and the rollouts.
        progress: Show a progress bar.
        prm: Also rank the same pairs with this PRM (a spec for
            :func:`agentprm_gym.prm.loading.load_prm`), overall and per group.
        env_kwargs: ``gym.make`` keyword arguments of the env the data came from
            (e.g. ``{"backend": "static"}``), for the rollouts.
        noise: Standard deviations of the Gaussian errors whose effect on the
            ranking is reported (``noisy`` and the groups' ``median_gap``; empty: none).

    Returns:
        A JSON-ready dict: ceilings for reward- and success-valued Q with
        standard errors, per-group figures, pair count and cost (and the PRM's
        accuracy when ``prm`` is given; with ``noise``, ``noisy`` maps each sd to
        the accuracy left overall, and each group has ``median_gap`` and
        ``noisy_<sd>``; each figure is its own set of seeded draws). ``by_pair``
        splits the same pairs by the kinds of both actions (``"<expert's> vs
        <other's>"``), each group with its median gap and the mean reward-valued
        ``Q^pi`` of the two actions (``mean_q``).
    """
    import gymnasium as gym
    from tqdm.auto import tqdm

    import agentprm_gym  # noqa: F401  (registers the envs)
    from agentprm_gym.agents.spec import make_policy
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.labels import LabelCost
    from agentprm_gym.prm.mc import DEFAULT_SUCCESS_THRESHOLD, mc_action_values
    from agentprm_gym.prm.metrics import (
        action_kind,
        common_arguments,
        pair_wins,
        ranking_choices,
        ranking_wins,
    )
    from agentprm_gym.prm.steps import episode_steps

    eps = episode_steps(read_trajectories(data))[:episodes]
    if not eps:
        raise SystemExit(f"{data} holds no episodes")
    choices = ranking_choices(eps, seed)
    if not choices:
        raise SystemExit(
            f"{data} has no step with a recorded expert action and two admissible actions "
            "(collect held-out data with `agentprm-gym collect`, which records them)"
        )
    by_ep: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    for c in choices:
        by_ep[c.episode][c.step] = (c.expert, c.other)
    spec = policy or eps[0].trajectory.policy
    pol = make_policy(spec)
    env_id = eps[0].trajectory.env_id
    env = gym.make(env_id, **(env_kwargs or {}))
    common = common_arguments([c.expert for c in choices])
    prm_wins: dict[tuple[int, int], float] = {}
    if prm is not None:
        from agentprm_gym.prm.loading import load_prm

        wins = ranking_wins(load_prm(prm), eps, choices)
        prm_wins = {(c.episode, c.step): float(w) for c, w in zip(choices, wins, strict=True)}
    groups: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    q_pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    # the same pairs split by the kind of the expert's action *and* of the other action
    pair_groups: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    pair_q: dict[str, list[tuple[float, float]]] = defaultdict(list)
    total = LabelCost()
    t0 = time.perf_counter()
    for e in tqdm(sorted(by_ep), desc="ranking ceiling", disable=not progress, unit="ep"):
        queries = {t: list(pair) for t, pair in by_ep[e].items()}
        values, cost = mc_action_values(env, pol, eps[e].trajectory, queries, rollouts, seed)
        total = total + cost
        for t, (exp, other) in by_ep[e].items():
            v = values[t]
            win_r, win_s = pair_wins(
                [v[0].mean(), (v[0] >= DEFAULT_SUCCESS_THRESHOLD).mean()],
                [v[1].mean(), (v[1] >= DEFAULT_SUCCESS_THRESHOLD).mean()],
            )
            row = (float(win_r), float(win_s)) + ((prm_wins[(e, t)],) if prm_wins else ())
            kind = action_kind(exp, common)
            q = (float(v[0].mean()), float(v[1].mean()))
            groups[kind].append(row)
            q_pairs[kind].append(q)
            both = f"{kind} vs {action_kind(other, common)}"
            pair_groups[both].append(row)
            pair_q[both].append(q)
    env.close()
    all_w = np.array([w for g in groups.values() for w in g])

    def _stat(col: np.ndarray) -> dict[str, float]:
        return {
            "accuracy": round(float(col.mean()), 4),
            "stderr": round(float(col.std(ddof=1) / np.sqrt(len(col))), 4) if len(col) > 1 else 0.0,
        }

    res: dict[str, Any] = {
        "data": data,
        "env": env_id,
        "policy": spec,
        "rollouts": rollouts,
        "episodes": len(eps),
        "pairs": int(len(all_w)),
        "reward_q": _stat(all_w[:, 0]),
        "success_q": _stat(all_w[:, 1]),
        "by_expert_action": {
            k: _group_means(v) for k, v in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        },
        "by_pair": {
            k: {
                **_group_means(v),
                "median_gap": _median_gap(pair_q[k]),
                "mean_q": [
                    round(float(np.mean([a for a, _ in pair_q[k]])), 4),
                    round(float(np.mean([b for _, b in pair_q[k]])), 4),
                ],
                **({"prm": _col_mean(v, 2)} if prm_wins else {}),
            }
            for k, v in sorted(pair_groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        },
        "env_steps": total.env_steps,
        "policy_samples": total.policy_samples,
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    if noise:
        res["noisy"] = {f"{sd:g}": _noisy_accuracy(q_pairs, sd) for sd in noise}
        for k, v in q_pairs.items():
            g = res["by_expert_action"][k]
            g["median_gap"] = _median_gap(v)
            for sd in noise:
                g[f"noisy_{sd:g}"] = round(_noisy_accuracy({k: v}, sd), 4)
    if prm_wins:
        res["prm"] = {"spec": prm, **_stat(all_w[:, 2])}
        for k, v in groups.items():
            res["by_expert_action"][k]["prm"] = _col_mean(v, 2)
    return res


def _col_mean(rows: list[tuple[float, ...]], col: int) -> float:
    """Mean of one column of a group's win rows, rounded."""
    return round(float(np.mean([w[col] for w in rows])), 4)


def _group_means(rows: list[tuple[float, ...]]) -> dict[str, Any]:
    """Pairs of a group and how often reward- and success-valued ``Q^pi`` rank them right."""
    return {"pairs": len(rows), "reward_q": _col_mean(rows, 0), "success_q": _col_mean(rows, 1)}


def _median_gap(q_pairs: list[tuple[float, float]]) -> float:
    """Median ``|Q^pi(s, expert) − Q^pi(s, other)|`` of a group's pairs, rounded."""
    return round(float(np.median([abs(a - b) for a, b in q_pairs])), 4)


def _noisy_accuracy(
    q_pairs: dict[str, list[tuple[float, float]]], sd: float, draws: int = 20
) -> float:
    """Ranking accuracy of ``(expert, other)`` values with N(0, sd²) errors added to each."""
    from agentprm_gym.prm.metrics import pair_wins

    q = np.array([p for v in q_pairs.values() for p in v], dtype=np.float64)
    rng = np.random.default_rng(0)
    acc = [
        float(
            pair_wins(
                q[:, 0] + rng.normal(0, sd, len(q)), q[:, 1] + rng.normal(0, sd, len(q))
            ).mean()
        )
        for _ in range(draws)
    ]
    return round(float(np.mean(acc)), 4)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="held-out trajectory JSONL (eval-prm's --data)")
    p.add_argument("--rollouts", type=int, default=64, help="MC rollouts per candidate (N)")
    p.add_argument("--policy", default=None, help="rollout policy (default: the file's policy)")
    p.add_argument("--episodes", type=int, default=None, help="use the first N episodes")
    p.add_argument("--seed", type=int, default=0, help="pair-draw seed, as eval-prm --seed")
    p.add_argument("--prm", default=None, help="also rank the same pairs with this PRM")
    p.add_argument(
        "--noise",
        default="",
        help="comma-separated error sizes (e.g. 0.02,0.05): ranking left when each Q "
        "estimate is off by Gaussian noise of that standard deviation",
    )
    p.add_argument(
        "--by-pair",
        action="store_true",
        help="also print the pairs split by the kind of both actions (expert's vs other's), "
        "with each group's median gap and mean reward-valued Q of the two",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    if a.rollouts < 1 or (a.episodes is not None and a.episodes < 1):
        p.error("--rollouts and --episodes must be >= 1")
    try:
        noise = tuple(float(x) for x in a.noise.split(",") if x.strip())
    except ValueError:
        p.error(f"--noise must be comma-separated numbers, got {a.noise!r}")
    if any(not math.isfinite(sd) or sd < 0 for sd in noise):
        p.error("--noise values must be finite and >= 0")
    noise = tuple(dict.fromkeys(noise))
    res = ceiling(
        a.data,
        a.rollouts,
        a.policy,
        a.episodes,
        a.seed,
        progress=not a.no_progress,
        prm=a.prm,
        noise=noise,
    )
    if a.json:
        print(json.dumps(res))
        return 0
    print(
        f"{res['env']}, policy {res['policy']}: {res['pairs']} pairs from {res['episodes']} "
        f"episodes, N = {res['rollouts']} rollouts per candidate ({res['wall_seconds']} s)"
    )
    for key, name in (("reward_q", "final reward"), ("success_q", "success")):
        s = res[key]
        print(f"  ceiling with Q = mean {name}: {s['accuracy']:.3f} ± {s['stderr']:.3f}")
    if "prm" in res:
        s = res["prm"]
        print(f"  the PRM {s['spec']}: {s['accuracy']:.3f} ± {s['stderr']:.3f}")
    for sd, acc in res.get("noisy", {}).items():
        print(f"  with Gaussian errors of sd {sd} on every reward-valued Q: {acc:.3f}")
    extra = "  PRM" if "prm" in res else ""
    extra += "".join(f"  {'sd ' + sd:>7s}" for sd in res.get("noisy", {})) + (
        "  median gap" if "noisy" in res else ""
    )
    print(f"  by expert action:            pairs  reward-Q  success-Q{extra}")
    for k, v in res["by_expert_action"].items():
        tail = f"  {v['prm']:.3f}" if "prm" in v else ""
        tail += "".join(f"  {v[f'noisy_{sd}']:.3f}" for sd in res.get("noisy", {}))
        tail += f"  {v['median_gap']:10.3f}" if "median_gap" in v else ""
        print(
            f"    {k[:26]:26s} {v['pairs']:6d}  {v['reward_q']:8.3f}  {v['success_q']:9.3f}{tail}"
        )
    if a.by_pair:
        head = "  PRM" if "prm" in res else ""
        title = "by both actions (expert's vs other's):"
        print(f"  {title:50s} pairs  reward-Q{head}  median gap  mean Q^pi (expert, other)")
        for k, v in res["by_pair"].items():
            tail = f"  {v['prm']:.3f}" if "prm" in v else ""
            e, o = v["mean_q"]
            print(
                f"    {k[:48]:48s} {v['pairs']:6d}  {v['reward_q']:8.3f}{tail}  "
                f"{v['median_gap']:10.3f}  {e:.3f}, {o:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
