"""Beam search with PRMs that know nothing, against the policy alone.

For one env and policy, on test tasks ``0..N-1`` with the seeds
``agentprm-gym search`` uses (env seed ``t``, policy and tie-break seed
``SEED*1000003 + t``), it measures the success of

- the policy alone, one sample per step (``policy_episode``);
- beam search at every budget with the **random** PRM (``RandomPRM``,
  ``--prm random``: every step 0.5, all candidates tie, so the search's seeded
  tie-breaks choose among the sampled copies);
- beam search with a **per-action random** PRM (defined here: a fixed
  pseudo-random value per distinct ``(instruction, history, action)``, the
  same for every copy of a sampled action, so it ranks the distinct actions
  in a random order);
- optionally the same with the policy prior ``--prior A`` (rank ``Q + A·log π``);
- optionally the oracle at the same budgets (``--oracle``).

Usage::

    .venv/bin/python benchmarks/uninformative_prm_search.py --env AgentPRM/WebShop-v0 \\
        --policy noisy:0.5 --tasks 100 --budgets 1x8,2x2,4x4,8x8 --prior 1 --oracle

The last line printed is one JSON object with every figure and its compute.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

import agentprm_gym  # noqa: F401  (registers the env ids)
from agentprm_gym.agents.spec import make_policy
from agentprm_gym.prm import PRM, OraclePRM, RandomPRM
from agentprm_gym.prm.base import ScoreItem
from agentprm_gym.search import Ledger, beam_search, policy_episode


class PerActionRandomPRM(PRM):
    """A fixed pseudo-random Q in [0, 1) per distinct ``(instruction, history, action)``.

    Every copy of a sampled action gets the same value, so a beam ranked by it
    alone picks among the *distinct* actions uniformly, however often the
    policy proposed each.

    Args:
        seed: Changes the function (the keyed hash's key).
    """

    name = "per-action random"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = int(seed)

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        out = np.empty(len(items))
        for i, it in enumerate(items):
            h = hashlib.blake2b(digest_size=8, key=str(self.seed).encode())
            h.update(repr((it.instruction, it.history, it.action)).encode("utf-8", "replace"))
            out[i] = int.from_bytes(h.digest(), "little") / 2**64
        return out


def run(
    env: gym.Env,
    policy: Any,
    tasks: int,
    seed: int,
    prm: Any = None,
    budget: tuple[int, int] | None = None,
    prior: float = 0.0,
) -> dict[str, Any]:
    """Success, mean reward and per-episode compute of one method on tasks ``0..tasks-1``."""
    wins, rewards, total = [], [], Ledger()
    t0 = time.perf_counter()
    for t in range(tasks):
        kw: dict[str, Any] = dict(seed=t, task_id=t, split="test", policy_seed=seed * 1_000_003 + t)
        if prm is None:
            res = policy_episode(env, policy, **kw)
        else:
            res = beam_search(env, policy, prm, budget[0], budget[1], prior=prior, **kw)
        wins.append(res.won)
        rewards.append(res.reward)
        total.merge(res.ledger)
    return {
        "success": float(np.mean(wins)),
        "mean_reward": float(np.mean(rewards)),
        "samples_per_episode": total.sampled_actions / tasks,
        "prm_items_per_episode": total.prm_items / tasks,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run every method, print a line each and the JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="noisy:0.5")
    p.add_argument("--tasks", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budgets", default="2x2,4x4,8x8", help="beam budgets NxM, comma-separated")
    p.add_argument("--prior", type=float, default=None, help="also run with this prior weight")
    p.add_argument("--oracle", action="store_true", help="also run the oracle PRM")
    p.add_argument(
        "--env-kwargs",
        default="{}",
        help='gym.make keyword arguments as JSON, e.g. \'{"backend": "static"}\'',
    )
    args = p.parse_args(argv)
    budgets = [tuple(int(x) for x in b.split("x")) for b in args.budgets.split(",")]
    try:
        kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as e:
        p.error(f"--env-kwargs is not JSON: {e}")
    if not isinstance(kwargs, dict):
        p.error("--env-kwargs must be a JSON object")
    env = gym.make(args.env, **kwargs)
    policy = make_policy(args.policy)
    out: dict[str, Any] = {"env": args.env, "policy": args.policy, "tasks": args.tasks}
    out["env_kwargs"] = kwargs
    out["policy (1 sample)"] = run(env, policy, args.tasks, args.seed)
    print(f"{args.env} {args.policy} | policy (1 sample) | {out['policy (1 sample)']}")
    prms: list[tuple[str, Any, float]] = [
        ("random", RandomPRM, 0.0),
        ("per-action random", PerActionRandomPRM, 0.0),
    ]
    if args.prior is not None:
        prms += [
            ("random", RandomPRM, args.prior),
            ("per-action random", PerActionRandomPRM, args.prior),
        ]
    if args.oracle:
        prms.append(("oracle", OraclePRM, 0.0))
    for name, make, prior in prms:
        for b in budgets:
            key = f"{name} beam {b[0]}x{b[1]}" + (f" prior {prior:g}" if prior else "")
            out[key] = run(env, policy, args.tasks, args.seed, make(), b, prior)
            print(f"{args.env} {args.policy} | {key} | {out[key]}", flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
