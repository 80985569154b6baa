"""``agentprm-gym collect``: rollouts into a crash-safe, resumable JSON Lines file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from agentprm_gym.agents.spec import POLICY_SPEC_HELP, make_policy
from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    check_executor_args,
    emit_json,
    parse_env_args,
)

HELP = "collect rollouts into a crash-safe, resumable JSONL file"
DESCRIPTION = """Collect K episodes of a policy on each of N tasks (task ids START..START+N-1).

Episode seeds derive from (--seed, task, k), so the file's records are the same
whatever --workers or --ray (order aside). Re-running the same command resumes:
episodes already in --out are skipped. With --mc N each episode also gets
Math-Shepherd MC labels (N rollouts per step) in its meta (mc_soft, mc_hard, ...).
With --mc-from FILE, the episodes of FILE (all of env --env) are MC-labelled into
--out instead, with --policy rollouts; --tasks, --per-task, --start, --split and
--no-expert do not apply then. Resuming refuses an --out made with another env,
split, policy, --seed, --mc or --no-expert (for --mc-from: another FILE, --mc,
--policy or --seed). --env-arg values are not recorded, so they are not checked.

Examples:
  agentprm-gym collect --env AgentPRM/WebShop-v0 --policy noisy:0.5 --tasks 300 --per-task 16 \\
      --out runs/ws.jsonl --workers 2
  agentprm-gym collect --env AgentPRM/WebShop-v0 --policy noisy:0.5 --tasks 50 --per-task 4 \\
      --mc 16 --out runs/ws-mc.jsonl --ray            # a local Ray instance
  agentprm-gym collect --env AgentPRM/WebShop-v0 --policy noisy:0.5 --mc 16 \\
      --mc-from runs/ws.jsonl --out runs/ws-mc.jsonl --ray auto   # a running Ray cluster
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    from agentprm_gym.collection import DEFAULT_PER_TASK
    from agentprm_gym.parallel import add_executor_arguments

    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="random", help=POLICY_SPEC_HELP)
    p.add_argument(
        "--tasks", type=int, default=None, help="number of tasks (required unless --mc-from)"
    )
    p.add_argument(
        "--per-task",
        type=int,
        default=DEFAULT_PER_TASK,
        help=f"episodes per task (default {DEFAULT_PER_TASK}, AgentPRM's N_TD)",
    )
    p.add_argument("--start", type=int, default=0, help="first task id (default 0)")
    p.add_argument("--split", default="train", help="task split (default train)")
    p.add_argument("--out", required=True, help="JSONL file to append to (resumed if it exists)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--mc", type=int, default=0, metavar="N", help="also MC-label: N rollouts/step")
    p.add_argument(
        "--mc-from",
        default=None,
        metavar="FILE",
        help="MC-label every episode of FILE (of env --env) into --out instead; "
        "--tasks, --per-task, --start, --split and --no-expert do not apply",
    )
    p.add_argument(
        "--no-expert", action="store_true", help="do not record the expert action per step"
    )
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    p.add_argument("--no-fsync", action="store_true", help="skip fsync after each record")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_executor_arguments(p)
    add_json_flag(p)


def _same_file(a: str, b: str) -> bool:
    """Whether paths ``a`` and ``b`` name the same file (existing or not)."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return Path(a).resolve() == Path(b).resolve()


def _check(args: argparse.Namespace) -> None:
    from agentprm_gym.collection import DEFAULT_PER_TASK

    check_executor_args(args)
    if args.mc < 0:
        raise CLIError("--mc must be >= 0")
    try:
        make_policy(args.policy)
    except ValueError as e:
        raise CLIError(str(e)) from None
    if args.mc_from:
        if args.mc < 1:
            raise CLIError("--mc-from needs --mc N (rollouts per step)")
        unused = [
            flag
            for flag, given in (
                ("--tasks", args.tasks is not None),
                ("--per-task", args.per_task != DEFAULT_PER_TASK),
                ("--start", args.start != 0),
                ("--split", args.split != "train"),
                ("--no-expert", args.no_expert),
            )
            if given
        ]
        if unused:
            raise CLIError(
                f"--mc-from labels every episode of {args.mc_from} as it is: "
                f"{', '.join(unused)} {'does' if len(unused) == 1 else 'do'} not apply "
                "(drop them)"
            )
        if _same_file(args.mc_from, args.out):
            raise CLIError("--mc-from and --out are the same file; label into another --out")
        return
    if args.tasks is None or args.tasks < 1:
        raise CLIError("--tasks must be given and >= 1")
    if args.per_task < 1:
        raise CLIError("--per-task must be >= 1")
    if args.start < 0:
        raise CLIError("--start must be >= 0")


def run(args: argparse.Namespace) -> int:
    """Collect (or MC-label) and print a summary."""
    from agentprm_gym.collection import (
        ResumeMismatchError,
        collect,
        mc_label_file,
        resolve_env,
    )
    from agentprm_gym.commands.common import make_env

    _check(args)
    kwargs = parse_env_args(args.env_arg)
    try:
        resolve_env(args.env)
    except KeyError:
        make_env(args.env)  # raises the one-line unknown-id error
    common = dict(
        seed=args.seed,
        workers=args.workers,
        ray_address=args.ray,
        ray_num_cpus=args.ray_cpus,
        env_kwargs=kwargs,
        fsync=not args.no_fsync,
        show_progress=not args.no_progress,
    )
    if args.mc_from:
        try:
            res = mc_label_file(
                args.mc_from, args.out, args.policy, args.mc, env_id=args.env, **common
            )
        except ResumeMismatchError as e:
            raise CLIError(str(e)) from None
    else:
        env = make_env(args.env, **kwargs)
        try:
            base = env.unwrapped
            splits = getattr(base, "splits", None)
            if splits is not None and args.split not in splits:
                raise CLIError(f"unknown split {args.split!r}; {args.env} has {list(splits)}")
            n = base.num_tasks(args.split) if hasattr(base, "num_tasks") else None
        finally:
            env.close()
        if n is not None and args.start + args.tasks > n:
            raise CLIError(
                f"split {args.split!r} of {args.env} has {n} tasks; "
                f"--start {args.start} --tasks {args.tasks} goes past it"
            )
        try:
            res = collect(
                args.env,
                args.policy,
                args.out,
                split=args.split,
                task_ids=range(args.start, args.start + args.tasks),
                per_task=args.per_task,
                record_expert=not args.no_expert,
                mc_rollouts=args.mc,
                **common,
            )
        except ResumeMismatchError as e:
            raise CLIError(str(e)) from None
    d = res.to_dict()
    line = (
        f"{args.env} | {args.policy} | wrote {res.episodes_written} episodes "
        f"(skipped {res.episodes_skipped} already in {res.out}) | env steps {res.env_steps} | "
        f"{res.wall_seconds:.1f} s on {res.executor}"
    )
    if res.mc_cost is not None:
        line += (
            f" | MC N={args.mc}: {d['mc_env_steps_per_label']} env steps/label, "
            f"{d['mc_over_td_env_steps']}x the env steps of TD/GAE labels"
        )
    print(line)
    if args.json:
        emit_json(d)
    return 0
