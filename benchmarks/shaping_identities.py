"""What each ``PRMReward`` mode adds to an episode's return, measured.

Plays the same episodes (same env seed, same policy seed) once per mode and
sums the shaping terms the wrapper adds (``info["prm"]["shaping"]``):

- ``potential``: the discounted sum ``Σ_t γ^t·shaping_t``, which potential-based
  shaping makes 0 on a terminated episode (``γ^T·Φ(h_T)`` on a truncated one);
- ``progress``: the plain sum, which telescopes to ``Q_T``, the PRM's value of
  the episode's last step;
- ``promise``: the plain sum ``Σ_t Q_t``, which grows with the episode's length.

Usage::

    .venv/bin/python benchmarks/shaping_identities.py --env AgentPRM/WebShop-v0 \\
        --policy noisy:0.5 --prm oracle --episodes 6 --gamma 0.9

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import gymnasium as gym

import agentprm_gym  # noqa: F401  (registers the env ids)
from agentprm_gym.agents.spec import make_policy
from agentprm_gym.prm.loading import load_prm
from agentprm_gym.wrappers import PRM_REWARD_MODES, PRMReward


def play(env: gym.Env, policy: Any, seed: int) -> list[dict[str, Any]]:
    """One episode; the ``info["prm"]`` of every step plus whether it ended the episode."""
    policy.seed(seed)
    policy.bind(env)
    obs, info = env.reset(seed=seed, options={"split": "test", "task_id": seed})
    steps = []
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
        steps.append({**info["prm"], "terminated": terminated, "truncated": truncated})
        done = terminated or truncated
    return steps


def measure(env_id: str, policy_spec: str, prm_spec: str, episodes: int, gamma: float) -> dict:
    """Per episode and mode: steps, how it ended, ``Q_T`` and the (discounted) shaping sums."""
    out: list[dict[str, Any]] = []
    for seed in range(episodes):
        row: dict[str, Any] = {"task_id": seed}
        for mode in PRM_REWARD_MODES:
            env = PRMReward(gym.make(env_id), load_prm(prm_spec), mode=mode, gamma=gamma)
            steps = play(env, make_policy(policy_spec), seed)
            env.close()
            shaping = [s["shaping"] for s in steps]
            if mode == "potential":
                row["steps"] = len(steps)
                row["terminated"] = bool(steps[-1]["terminated"])
                row["q_last"] = steps[-1]["promise"]
                row["potential_discounted_sum"] = sum(f * gamma**t for t, f in enumerate(shaping))
            else:
                row[f"{mode}_sum"] = sum(shaping)
        out.append(row)
    return {
        "env": env_id,
        "policy": policy_spec,
        "prm": prm_spec,
        "gamma": gamma,
        "episodes": out,
        "max_abs_potential_sum_terminated": max(
            (abs(r["potential_discounted_sum"]) for r in out if r["terminated"]), default=None
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print a line per episode and the JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="noisy:0.5")
    p.add_argument("--prm", default="oracle")
    p.add_argument("--episodes", type=int, default=6)
    p.add_argument("--gamma", type=float, default=0.9)
    args = p.parse_args(argv)
    res = measure(args.env, args.policy, args.prm, args.episodes, args.gamma)
    for r in res["episodes"]:
        print(
            f"task {r['task_id']}: {r['steps']} steps "
            f"({'terminated' if r['terminated'] else 'truncated'}), Q_T {r['q_last']:.4f} | "
            f"potential (discounted) {r['potential_discounted_sum']:+.2e} | "
            f"progress {r['progress_sum']:.4f} | promise {r['promise_sum']:.4f}"
        )
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
