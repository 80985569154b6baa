"""``agentprm-gym search``: the policy alone, greedy decoding, Best-of-N or PRM beam search."""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentprm_gym.agents.spec import POLICY_SPEC_HELP, make_policy
from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    check_executor_args,
    check_new_out,
    check_start,
    emit_json,
    make_env,
    parse_env_args,
    split_task_count,
)
from agentprm_gym.progress import heartbeat, progress

HELP = "run Best-of-N / beam search with a PRM, or the policy alone"
DESCRIPTION = """Search on N tasks of a split (task ids START..START+N-1), one search per task.

Methods: policy (one policy sample per step; the PRM is unused), greedy (temperature-0
decoding of an LM policy, hf:... or openai:...; the PRM is unused), bon (Best-of-N: --n whole
episodes, the one with the highest last-step PRM value kept), beam (AgentPRM Algorithm 2:
--n kept entries, each expanded with --expand sampled actions; every sampled copy is a pool
entry, identical copies are stepped and scored once, and the top --n by PRM value survive,
exact ties broken at random with the seed). --prior A ranks beam entries by
Q + A*log pi(a|s) instead (pi: the LM's log-probability, or, for other policies,
count/n: the action's share of the n samples drawn from its state, --expand per kept copy).
Task t is reset with seed t; the policy (and the tie-breaks) are seeded with SEED*1000003 + t.

bon and beam run --lockstep K tasks together (default 16): their searches advance
depth by depth side by side and one PRM call scores the new steps of all of them (with
the README's learned PRM on 2 CPU cores, beam search ran 1.4-2.2x as fast). Each task
keeps its own policy randomness, so a task's result is the one it gets alone
(--lockstep 1), up to float rounding in the PRM's batched encoder; state-backed PRMs
(oracle) and policies whose randomness cannot be kept apart run one task at a time (the
oracle in shards of one).

Groups of at most --lockstep consecutive tasks (of near-equal size, and at least one per
worker when there are tasks enough) are the shards: --workers W runs them in W local
processes, --ray [ADDRESS] as Ray tasks (a local Ray
instance, or 'auto' for the cluster of `ray start --head`). The driver writes --out in
task order, to a new file: an existing, non-empty --out is refused before any search
runs (search does not resume or append).

Examples:
  agentprm-gym search --env AgentPRM/WebShop-v0 --policy noisy:0.5 --prm oracle \\
      --method beam --n 4 --expand 4 --episodes 100 --split test --json
  agentprm-gym search --env AgentPRM/WebShop-v0 --prm oracle --method bon --n 8 \\
      --episodes 500 --ray auto --out runs/bon8.jsonl
  agentprm-gym search --env AgentPRM/WebShop-v0 --prm random --method beam --prior 1
"""

METHODS = ("policy", "greedy", "bon", "beam")
#: Methods that play one episode without a PRM.
NO_PRM = ("policy", "greedy")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    from agentprm_gym.parallel import add_executor_arguments
    from agentprm_gym.prm.loading import PRM_SPEC_HELP

    p.add_argument("--env", required=True, help="env id, e.g. AgentPRM/WebShop-v0")
    p.add_argument("--policy", default="noisy:0.5", help=POLICY_SPEC_HELP)
    p.add_argument(
        "--prm",
        default=None,
        help=f"required for bon and beam: {PRM_SPEC_HELP}; oracle is privileged, so a "
        "search with it is an upper bound, not an agent",
    )
    p.add_argument("--method", choices=METHODS, default="beam", help="search method")
    p.add_argument("--n", type=int, default=4, help="bon: episodes; beam: beam width (default 4)")
    p.add_argument(
        "--expand", type=int, default=4, help="beam: actions sampled per branch (default 4)"
    )
    p.add_argument(
        "--prior",
        type=float,
        default=0.0,
        metavar="A",
        help="beam: rank by Q + A*log pi(a|s) (default 0: the PRM alone, Algorithm 2)",
    )
    p.add_argument(
        "--lockstep",
        type=int,
        default=16,
        metavar="K",
        help="bon and beam: search K tasks together, one PRM call per round for all of "
        "them (default 16; 1: one task at a time)",
    )
    p.add_argument("--episodes", type=int, default=100, help="number of tasks (default 100)")
    p.add_argument("--split", default="test", help="task split (default test)")
    p.add_argument("--start", type=int, default=0, help="first task id (default 0)")
    p.add_argument("--seed", type=int, default=0, help="policy seed (default 0)")
    p.add_argument("--max-steps", type=int, default=None, help="step limit (default: the env's)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    p.add_argument(
        "--out",
        default=None,
        metavar="FILE",
        help="also write the chosen trajectories to FILE (JSONL); an existing, non-empty "
        "FILE is refused, never appended to",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_executor_arguments(p)
    add_json_flag(p)


@dataclass(frozen=True)
class SearchJob:
    """The searches of a group of tasks (a picklable shard for :mod:`agentprm_gym.parallel`).

    Attributes:
        env: Env id or gymnasium ``EnvSpec``.
        env_kwargs: ``gym.make`` kwargs.
        policy: Policy spec.
        prm: PRM spec (None for ``policy`` and ``greedy``).
        method: ``policy``, ``greedy``, ``bon`` or ``beam``.
        n: Best-of-N's N, or the beam width.
        expand: Beam expansion per kept branch.
        prior: Beam search's weight of ``log π`` in the rank.
        split: Task split.
        task_ids: Task ids (each also its env reset seed), searched in lockstep
            (``bon`` and ``beam``) or one after another.
        policy_seeds: The seed each task's search reseeds the policy with.
        max_steps: Step limit (None: the env's).
        keep_trajectory: Return the chosen trajectory too.
    """

    env: Any
    env_kwargs: dict[str, Any]
    policy: str
    prm: str | None
    method: str
    n: int
    expand: int
    split: str
    task_ids: tuple[int, ...]
    policy_seeds: tuple[int, ...]
    max_steps: int | None = None
    keep_trajectory: bool = False
    prior: float = 0.0


def _cached_prm(spec: str) -> Any:
    from agentprm_gym.prm.loading import episode_prm

    return episode_prm(spec, "search-prm")


def run_search_job(job: SearchJob) -> dict[str, Any]:
    """Search a group of tasks; the worker function of ``agentprm-gym search``.

    The env, the policy and the PRM are made once per worker process. Returns
    ``tasks``: per task, its id, win, reward, step count, ledger and (with
    ``keep_trajectory``) the chosen trajectory as a dict; and ``prm_calls``: the
    PRM calls the group made (a call shared by the group's searches counts once
    here and once in each of their ledgers).
    """
    from agentprm_gym.parallel import worker_env, worker_policy
    from agentprm_gym.search import (
        beam_search_lockstep,
        best_of_n_lockstep,
        greedy,
        policy_episode,
    )

    env = worker_env(job.env, job.env_kwargs)
    policy = worker_policy(job.policy)
    ids = list(job.task_ids)
    kw = {"split": job.split, "max_steps": job.max_steps}
    prm = _cached_prm(str(job.prm)) if job.method not in NO_PRM else None
    calls_before = prm.stats.calls if prm is not None else 0
    if job.method == "bon":
        got = best_of_n_lockstep(
            env, policy, prm, job.n, seeds=ids, task_ids=ids, policy_seeds=job.policy_seeds, **kw
        )
    elif job.method == "beam":
        got = beam_search_lockstep(
            env,
            policy,
            prm,
            job.n,
            job.expand,
            prior=job.prior,
            seeds=ids,
            task_ids=ids,
            policy_seeds=job.policy_seeds,
            **kw,
        )
    else:
        play = policy_episode if job.method == "policy" else greedy
        got = [
            play(env, policy, seed=t, task_id=t, policy_seed=s, **kw)
            for t, s in zip(ids, job.policy_seeds)
        ]
    out = []
    for t, res in zip(ids, got):
        row: dict[str, Any] = {
            "task_id": t,
            "won": bool(res.won),
            "reward": float(res.reward),
            "steps": len(res.trajectory.steps),
            "ledger": res.ledger.to_dict(),
        }
        if job.keep_trajectory:
            row["trajectory"] = res.trajectory.to_dict()
        out.append(row)
    calls = prm.stats.calls - calls_before if prm is not None else 0
    return {"tasks": out, "prm_calls": calls}


def _check(args: argparse.Namespace) -> tuple[Any, int]:
    """Validate the arguments; returns the env reference for workers and the task count."""
    from agentprm_gym.collection import resolve_env
    from agentprm_gym.search.single import supports_greedy

    if args.episodes < 1:
        raise CLIError("--episodes must be >= 1")
    check_start(args.start, None, args.split)
    check_new_out(args.out)
    if args.n < 1 or args.expand < 1:
        raise CLIError("--n and --expand must be >= 1")
    if args.lockstep < 1:
        raise CLIError("--lockstep must be >= 1 (1: one task at a time)")
    if args.method in ("bon", "beam") and args.prm is None:
        raise CLIError(
            f"--method {args.method} needs --prm: a trained PRM directory (train-prm), "
            "random (the chance baseline) or oracle (privileged: the expert's distance, "
            "an upper bound)"
        )
    if not math.isfinite(args.prior) or args.prior < 0:
        raise CLIError("--prior must be a number >= 0")
    if args.prior and args.method != "beam":
        raise CLIError("--prior weights beam search's ranking; use it with --method beam")
    check_executor_args(args)
    env = make_env(args.env, **parse_env_args(args.env_arg))
    try:
        count = split_task_count(env, args.env, args.split, args.start, args.episodes, "searching")
        try:
            policy = make_policy(args.policy, seed=args.seed)
        except ValueError as e:
            raise CLIError(str(e)) from None
        if args.method == "greedy" and not supports_greedy(policy):
            raise CLIError(
                f"--method greedy decodes an LM policy at temperature 0; {args.policy!r} has "
                "no temperature (hf:... and openai:... do). One policy sample per step is "
                "--method policy"
            )
        if args.method not in NO_PRM:
            try:
                with heartbeat(f"search: loading PRM {args.prm}", disable=args.no_progress):
                    _cached_prm(args.prm)
            except (ValueError, FileNotFoundError) as e:
                raise CLIError(str(e)) from None
    finally:
        env.close()
    return resolve_env(args.env), count


def run(args: argparse.Namespace) -> int:
    """Run the searches (one shard per group of tasks) and print a summary."""
    from agentprm_gym.parallel import group_for_workers, make_executor
    from agentprm_gym.search import Ledger

    env_ref, count = _check(args)
    uses_prm = args.method not in NO_PRM
    env_kwargs = parse_env_args(args.env_arg)

    def jobs(parallelism: int) -> list[SearchJob]:
        # a state-backed PRM (oracle) cannot share calls across tasks: shards of one task
        shares = uses_prm and not getattr(_cached_prm(args.prm), "requires_state", False)
        size = args.lockstep if shares else 1
        return [
            SearchJob(
                env=env_ref,
                env_kwargs=env_kwargs,
                policy=args.policy,
                prm=args.prm if uses_prm else None,
                method=args.method,
                n=args.n,
                expand=args.expand,
                split=args.split,
                task_ids=tuple(group),
                policy_seeds=tuple(args.seed * 1_000_003 + t for t in group),
                max_steps=args.max_steps,
                keep_trajectory=bool(args.out),
                prior=float(args.prior),
            )
            for group in group_for_workers(range(args.start, args.start + count), size, parallelism)
        ]

    writer = None
    if args.out:
        from agentprm_gym.core.trajectory import Trajectory, TrajectoryWriter

        writer = TrajectoryWriter(args.out, fsync=False)
    label = args.method if not uses_prm else f"{args.method} {args.prm}"
    if args.prior:
        label += f" prior {args.prior:g}"
    results: dict[int, dict[str, Any]] = {}
    next_out = args.start  # --out is written in task order, as results complete
    wins = 0
    prm_calls = 0
    t0 = time.perf_counter()
    bar = progress(total=count, desc=f"search {label}", disable=args.no_progress or None)
    try:
        with make_executor(args.workers, args.ray, ray_num_cpus=args.ray_cpus) as ex:
            executor = ex.name
            shards = jobs(ex.parallelism)
            lockstep = max(len(j.task_ids) for j in shards)
            for got in ex.imap_unordered(run_search_job, shards):
                prm_calls += got["prm_calls"]
                for r in got["tasks"]:
                    results[r["task_id"]] = r
                    wins += r["won"]
                bar.update(len(got["tasks"]))
                bar.set_postfix(success=f"{wins / len(results):.3f}")
                while writer is not None and next_out in results:
                    writer.write(Trajectory.from_dict(results[next_out].pop("trajectory")))
                    next_out += 1
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    ordered = [results[t] for t in sorted(results)]
    total = Ledger()
    for r in ordered:
        total.merge(Ledger(**r["ledger"]))
    total.prm_calls = prm_calls  # shared calls once, not once per task
    result = {
        "env": args.env,
        "method": args.method,
        "prm": args.prm if uses_prm else None,
        "policy": args.policy,
        "split": args.split,
        "n": args.n,
        "expand": args.expand,
        "prior": float(args.prior),
        "episodes": count,
        "success_rate": float(np.mean([r["won"] for r in ordered])),
        "mean_reward": float(np.mean([r["reward"] for r in ordered])),
        "mean_steps": float(np.mean([r["steps"] for r in ordered])),
        "ledger": total.to_dict(),
        "lockstep": lockstep,
        "executor": executor,
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
