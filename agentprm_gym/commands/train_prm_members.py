"""``train-prm --members K``: K PRMs trained side by side and saved as one ensemble.

The token-state cache is built once in this process; then each member trains in
a worker process of its own (seed ``SEED + k``, its own held-out split, the
cores shared out) through the same code as a single run
(:func:`~agentprm_gym.commands.train_prm.train_one`), against one deadline.
The members are saved under ``member-k/`` of the directory that ``train-prm``
stages beside ``--out`` and the ensemble's ``prm_config.json`` is written last;
the command moves the whole into ``--out`` only then, so a run that fails leaves
``--out`` (an earlier PRM there included) as it was (:mod:`agentprm_gym.prm.ensemble`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from agentprm_gym.allocator import allocator_name
from agentprm_gym.commands.common import CLIError, emit_json
from agentprm_gym.commands.train_prm import (
    build_prm,
    data_step_limit,
    print_history,
    read_episodes,
    token_cache_path,
    train_one,
    warn_no_step_limit,
)
from agentprm_gym.progress import heartbeat, say

__all__ = ["report_members", "train_members"]


def _member_job(job: tuple[argparse.Namespace, str, int, float | None]) -> dict[str, Any]:
    """Train member ``k`` into ``OUT_DIR/member-k`` in a worker process (module level: pickled)."""
    from agentprm_gym.prm.ensemble import member_dir_name

    args, out_dir, k, deadline = job
    try:
        episodes = read_episodes(args, quiet=True)
        res = train_one(
            args,
            episodes,
            args.seed + k,
            str(Path(out_dir) / member_dir_name(k)),
            label=f"member {k}",
            deadline=deadline,
            final_dir=str(Path(args.out) / member_dir_name(k)),
        )
    except CLIError as e:
        raise CLIError(f"member {k}: {e}") from None
    res["member"] = k
    return res


def _prebuild_cache(args: argparse.Namespace, episodes: list[Any], quiet: bool) -> float:
    """Encode every text of the data once, into the token-state cache the members read.

    Returns the seconds it took (building the frozen encoder included).
    """
    from agentprm_gym.prm.training import TrainConfig, prepare_step_set

    t = time.perf_counter()
    with heartbeat(f"train-prm: building the {args.backbone} backbone", disable=quiet):
        prm, _ = build_prm(args, episodes, args.step_limit, args.seed)
    cfg = TrainConfig(cache_path=token_cache_path(args), progress=not quiet)
    try:
        prepare_step_set(prm, episodes, cfg, "every step")
    except OSError as e:
        raise CLIError(f"{e} (give --cache FILE in a writable place)") from None
    return time.perf_counter() - t


def _train_in_workers(
    args: argparse.Namespace, out_dir: str, deadline: float | None, threads: int
) -> list[dict[str, Any]]:
    """Every member's summary, in member order; the workers are stopped if one fails."""
    from agentprm_gym.parallel import ProcessExecutor

    k = args.members
    members: list[dict[str, Any]] = [{} for _ in range(k)]
    ex = ProcessExecutor(k, threads_per_worker=threads)
    try:
        for res in ex.imap_unordered(_member_job, [(args, out_dir, i, deadline) for i in range(k)]):
            members[res["member"]] = res
    except BrokenProcessPool:
        ex.terminate()
        raise CLIError(
            "a member's worker process died (killed, or out of memory?); try fewer --members"
        ) from None
    except BaseException:
        ex.terminate()  # the other members' work would be thrown away anyway
        raise
    ex.close()
    return members


def train_members(args: argparse.Namespace, episodes: list[Any], out_dir: str) -> dict[str, Any]:
    """Train ``args.members`` members side by side and save the ensemble in ``out_dir``.

    Args:
        args: The checked ``train-prm`` arguments (``args.members`` > 1).
        episodes: Every episode of the data (read and checked).
        out_dir: Where the ensemble is saved: the directory ``train-prm`` moves
            into ``args.out`` once this returns (the summary names ``args.out``).

    Returns:
        The summary, every member's result (with its history) under ``member_results``.
    """
    from agentprm_gym.parallel import default_worker_threads
    from agentprm_gym.prm.ensemble import member_dir_name, write_ensemble_config

    quiet = bool(args.no_progress)
    start = time.time()
    deadline = None if args.max_minutes is None else start + 60.0 * args.max_minutes
    k = args.members
    cores = os.cpu_count() or 1
    threads = default_worker_threads(k)
    if args.arch == "state" and args.step_limit is None:
        args.step_limit, why = data_step_limit(episodes)
        if args.step_limit is None:  # warned once here, not by every member
            warn_no_step_limit(why, "the PRMs see")
    cache_seconds = 0.0
    if token_cache_path(args) is not None and args.backbone != "tiny":
        # once, before the members start: each then loads the states from disk (a tiny
        # encoder is built from each member's own training texts, so it has its own)
        cache_seconds = _prebuild_cache(args, episodes, quiet)
    if not quiet:
        share = f"{threads} thread(s) each" if k <= cores else f"{k} processes on {cores} cores"
        say(
            f"train-prm: training {k} members (seeds {args.seed}..{args.seed + k - 1}) side by "
            f"side, one process each, {share}"
        )
    members = _train_in_workers(args, out_dir, deadline, threads)
    wall = time.time() - start
    out = write_ensemble_config(
        out_dir,
        [member_dir_name(i) for i in range(k)],
        {"training": {"members": k, "seeds": [args.seed + i for i in range(k)]}},
    )
    summary = {
        "out": str(Path(args.out)),
        "labels": args.labels,
        "arch": args.arch,
        "backbone": args.backbone,
        "members": k,
        "threads_per_member": threads,
        "allocator": allocator_name(),
        "wall_seconds": round(wall, 2),
        "cache_seconds": round(cache_seconds, 2),
    }
    with (out / "train_result.json").open("w", encoding="utf-8") as f:
        json.dump({**summary, "member_results": members}, f, indent=2)
        f.write("\n")
    return {**summary, "member_results": members}


def report_members(args: argparse.Namespace, summary: dict[str, Any]) -> int:
    """Print what :func:`train_members` returned (the ensemble is in ``args.out``).

    Returns:
        The exit code (0).
    """
    members = summary["member_results"]
    for i, m in enumerate(members):
        if args.no_progress:
            print_history(m["history"], f"member {i}")
        acc = m["heldout"].get("val_ranking_accuracy")
        print(
            f"member {i} (seed {m['seed']}): {m['epochs_run']} epochs in "
            f"{m['train_seconds']:.1f}s"
            + (f", held-out ranking {acc:.3f}" if acc is not None else "")
        )
    print(
        f"trained an ensemble of {summary['members']} {args.labels} PRMs in "
        f"{summary['wall_seconds']:.1f}s of wall time; saved to {summary['out']}"
    )
    if args.json:
        brief = [{key: v for key, v in m.items() if key != "history"} for m in members]
        emit_json({**summary, "member_results": brief})
    return 0
