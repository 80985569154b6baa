"""``agentprm-gym eval``: evaluate a policy on an env's tasks."""

from __future__ import annotations

import argparse
import time

import numpy as np

from agentprm_gym.agents.spec import POLICY_SPEC_HELP, make_policy
from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    check_new_out,
    check_start,
    emit_json,
    make_env,
    parse_env_args,
    split_task_count,
)
from agentprm_gym.progress import progress
from agentprm_gym.rollout import run_episode

HELP = "evaluate a policy: success rate, mean reward, mean steps"
DESCRIPTION = """Evaluate a policy on N tasks of a split (task ids START..START+N-1).

--out FILE writes the episodes as trajectory JSON Lines to a new FILE: an existing,
non-empty FILE is refused before any episode runs (eval does not resume or append;
`agentprm-gym collect` does).

Example:
  agentprm-gym eval --env AgentPRM/WebShop-v0 --policy expert --episodes 200 --split test --json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="random", help=POLICY_SPEC_HELP)
    p.add_argument("--episodes", type=int, default=100, help="number of tasks (default 100)")
    p.add_argument("--split", default="test", help="task split (default test)")
    p.add_argument("--seed", type=int, default=0, help="policy seed (default 0)")
    p.add_argument("--start", type=int, default=0, help="first task id (default 0)")
    p.add_argument(
        "--task-type", default=None, help="ALFWorld: only this task type (env kwarg task_type)"
    )
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="also write the trajectories to FILE (JSONL); an existing, non-empty FILE is "
        "refused, never appended to",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_json_flag(p)


def run(args: argparse.Namespace) -> int:
    """Run the episodes and print a summary."""
    if args.episodes < 1:
        raise CLIError("--episodes must be >= 1")
    check_start(args.start, None, args.split)
    check_new_out(args.out)
    kwargs = parse_env_args(args.env_arg)
    if args.task_type:
        kwargs["task_type"] = args.task_type
    env = make_env(args.env, **kwargs)
    writer = None
    try:
        policy = make_policy(args.policy, seed=args.seed)
        count = split_task_count(env, args.env, args.split, args.start, args.episodes, "evaluating")
        if args.out:
            from agentprm_gym.core.trajectory import TrajectoryWriter

            writer = TrajectoryWriter(args.out, fsync=False)
    except BaseException:
        env.close()
        raise
    rewards, wins, steps = [], [], []
    t0 = time.perf_counter()
    try:
        bar = progress(
            range(args.start, args.start + count),
            desc=f"eval {args.policy}",
            disable=args.no_progress or None,
        )
        for task_id in bar:
            policy.seed(args.seed * 1_000_003 + task_id)
            traj = run_episode(env, policy, seed=task_id, task_id=task_id, split=args.split)
            rewards.append(traj.final_reward)
            wins.append(traj.won)
            steps.append(len(traj.steps))
            bar.set_postfix(success=f"{np.mean(wins):.3f}")
            if writer is not None:
                writer.write(traj)
    finally:
        env.close()
        if writer is not None:
            writer.close()
    result = {
        "env": args.env,
        "policy": args.policy,
        "split": args.split,
        "episodes": count,
        "success_rate": float(np.mean(wins)),
        "mean_reward": float(np.mean(rewards)),
        "mean_steps": float(np.mean(steps)),
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    if args.task_type:
        result["task_type"] = args.task_type
    print(
        f"{args.env} | {args.policy} | {args.split} | episodes {count} | "
        f"success {result['success_rate']:.3f} | reward {result['mean_reward']:.3f} | "
        f"steps {result['mean_steps']:.2f}"
    )
    if args.json:
        emit_json(result)
    return 0
