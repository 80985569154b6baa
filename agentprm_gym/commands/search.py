"""``agentprm-gym search``: greedy, Best-of-N or PRM beam search over an env's tasks."""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from agentprm_gym.agents.spec import POLICY_SPEC_HELP, make_policy
from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    emit_json,
    make_env,
    parse_env_args,
    progress,
)

HELP = "run greedy / Best-of-N / beam search with a PRM"
DESCRIPTION = """Search on N tasks of a split (task ids START..START+N-1), one search per task.

Methods: greedy (one policy sample per step; the PRM is unused), bon (Best-of-N: --n whole
episodes, the one with the highest last-step PRM value kept), beam (AgentPRM Algorithm 2:
--n kept branches, each expanded with --expand sampled actions, the top --n kept by PRM).
Task t is reset with seed t; the policy is reseeded with SEED*1000003 + t.

Example:
  agentprm-gym search --env AgentPRM/WebShop-v0 --policy noisy:0.5 --prm oracle \\
      --method beam --n 4 --expand 4 --episodes 100 --split test --json
"""

METHODS = ("greedy", "bon", "beam")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    from agentprm_gym.prm.loading import PRM_SPEC_HELP

    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="noisy:0.5", help=POLICY_SPEC_HELP)
    p.add_argument("--prm", default="oracle", help=PRM_SPEC_HELP)
    p.add_argument("--method", choices=METHODS, default="beam", help="search method")
    p.add_argument("--n", type=int, default=4, help="bon: episodes; beam: beam width (default 4)")
    p.add_argument(
        "--expand", type=int, default=4, help="beam: actions sampled per branch (default 4)"
    )
    p.add_argument("--episodes", type=int, default=100, help="number of tasks (default 100)")
    p.add_argument("--split", default="test", help="task split (default test)")
    p.add_argument("--start", type=int, default=0, help="first task id (default 0)")
    p.add_argument("--seed", type=int, default=0, help="policy seed (default 0)")
    p.add_argument("--max-steps", type=int, default=None, help="step limit (default: the env's)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    p.add_argument("--out", default=None, help="also write the chosen trajectories (JSONL)")
    add_json_flag(p)


def _search_one(args: argparse.Namespace, env: Any, policy: Any, prm: Any, task_id: int) -> Any:
    from agentprm_gym.search import beam_search, best_of_n, greedy

    kw = {
        "seed": task_id,
        "task_id": task_id,
        "split": args.split,
        "max_steps": args.max_steps,
        "policy_seed": args.seed * 1_000_003 + task_id,
    }
    if args.method == "greedy":
        return greedy(env, policy, **kw)
    if args.method == "bon":
        return best_of_n(env, policy, prm, args.n, **kw)
    return beam_search(env, policy, prm, args.n, args.expand, **kw)


def run(args: argparse.Namespace) -> int:
    """Run the searches and print a summary."""
    from agentprm_gym.prm.loading import load_prm
    from agentprm_gym.search import Ledger

    if args.episodes < 1:
        raise CLIError("--episodes must be >= 1")
    if args.n < 1 or args.expand < 1:
        raise CLIError("--n and --expand must be >= 1")
    env = make_env(args.env, **parse_env_args(args.env_arg))
    base = env.unwrapped
    if args.split not in getattr(base, "splits", (args.split,)):
        raise CLIError(f"unknown split {args.split!r}; {args.env} has {list(base.splits)}")
    try:
        policy = make_policy(args.policy, seed=args.seed)
    except ValueError as e:
        raise CLIError(str(e)) from None
    try:
        prm = load_prm(args.prm, env=env) if args.method != "greedy" else None
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    n_tasks = base.num_tasks(args.split)
    count = min(args.episodes, n_tasks - args.start)
    if count < 1:
        raise CLIError(f"--start {args.start} is past the {n_tasks} tasks of {args.split!r}")
    if count < args.episodes:
        print(f"note: split {args.split!r} has {n_tasks} tasks; searching {count}")
    writer = None
    if args.out:
        from agentprm_gym.core.trajectory import TrajectoryWriter

        writer = TrajectoryWriter(args.out, fsync=False)
    total = Ledger()
    rewards, wins, steps = [], [], []
    label = args.method if args.method == "greedy" else f"{args.method} {args.prm}"
    t0 = time.perf_counter()
    try:
        bar = progress(range(args.start, args.start + count), desc=f"search {label}")
        for task_id in bar:
            res = _search_one(args, env, policy, prm, task_id)
            total.merge(res.ledger)
            rewards.append(res.reward)
            wins.append(res.won)
            steps.append(len(res.trajectory.steps))
            bar.set_postfix(success=f"{np.mean(wins):.3f}")
            if writer is not None:
                writer.write(res.trajectory)
    finally:
        env.close()
        if writer is not None:
            writer.close()
    result = {
        "env": args.env,
        "method": args.method,
        "prm": args.prm if prm is not None else None,
        "policy": args.policy,
        "split": args.split,
        "n": args.n,
        "expand": args.expand,
        "episodes": count,
        "success_rate": float(np.mean(wins)),
        "mean_reward": float(np.mean(rewards)),
        "mean_steps": float(np.mean(steps)),
        "ledger": total.to_dict(),
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    print(
        f"{args.env} | {label} | {args.policy} | episodes {count} | "
        f"success {result['success_rate']:.3f} | reward {result['mean_reward']:.3f} | "
        f"steps {result['mean_steps']:.2f}"
    )
    if args.json:
        emit_json(result)
    return 0
