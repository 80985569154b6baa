"""Helpers shared by the CLI subcommands: errors, env making, JSON output.

Progress reporting lives in :mod:`agentprm_gym.progress`, which library code uses too.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import gymnasium as gym

__all__ = [
    "CLIError",
    "add_json_flag",
    "check_executor_args",
    "check_new_out",
    "check_start",
    "emit_json",
    "split_task_count",
    "make_env",
    "parse_env_args",
]


class CLIError(Exception):
    """An error the CLI reports as one line and exit status 2."""


def check_executor_args(args: Any) -> None:
    """Validate ``--workers``/``--ray``/``--ray-cpus`` (see ``add_executor_arguments``).

    Raises:
        CLIError: For fewer than one worker or Ray CPU, ``--workers`` above 1 with
            ``--ray`` (Ray schedules the work; local processes are not started),
            ``--ray-cpus`` without ``--ray``, or ``--ray-cpus`` with the address of
            a running cluster (it sizes a local Ray instance only).
    """
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise CLIError("--workers must be >= 1")
    if args.ray_cpus is not None and args.ray_cpus < 1:
        raise CLIError("--ray-cpus must be >= 1")
    if args.ray is not None and workers is not None and workers > 1:
        raise CLIError(
            "--workers sets local worker processes and does not apply with --ray "
            "(size a local Ray instance with --ray-cpus)"
        )
    if args.ray_cpus is not None and args.ray is None:
        raise CLIError("--ray-cpus sizes a local Ray instance; give --ray too (or use --workers)")
    if args.ray_cpus is not None and args.ray != "local":
        raise CLIError("--ray-cpus applies only to a local Ray instance (--ray or --ray local)")


def parse_env_args(pairs: list[str] | None) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` pairs (values read as JSON when they parse, else as str)."""
    out: dict[str, Any] = {}
    for p in pairs or []:
        key, sep, val = p.partition("=")
        if not sep or not key:
            raise CLIError(f"--env-arg expects KEY=VALUE, got {p!r}")
        try:
            out[key] = json.loads(val)
        except json.JSONDecodeError:
            out[key] = val
    return out


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with a one-line error for an unknown id or bad kwargs."""
    import agentprm_gym  # noqa: F401  (registers the ids)

    if env_id not in gym.registry:
        known = [k for k in gym.registry if k.startswith("AgentPRM/")]
        raise CLIError(f"unknown env id {env_id!r}; run `agentprm-gym list` (known: {len(known)})")
    try:
        return gym.make(env_id, **kwargs)
    except TypeError as e:
        raise CLIError(f"cannot make {env_id}: {e}") from e


def emit_json(obj: dict[str, Any]) -> None:
    """Print one JSON object as the last line of output."""
    sys.stdout.flush()
    print(json.dumps(obj, sort_keys=False, default=_default), flush=True)


def _default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if hasattr(o, "to_dict"):
        return o.to_dict()
    return str(o)


def add_json_flag(parser: Any) -> None:
    """Add ``--json``: print one machine-readable JSON object as the last line."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object as the last line of output"
    )


def check_new_out(out: str | None) -> None:
    """Refuse an ``--out`` that names an existing, non-empty file (nothing resumes or appends).

    Raises:
        CLIError: If ``out`` exists and is not an empty file.
    """
    if out is not None and os.path.exists(out) and not _is_empty_file(out):
        raise CLIError(f"{out} exists: pass another --out, or delete it")


def _is_empty_file(path: str) -> bool:
    return os.path.isfile(path) and os.path.getsize(path) == 0


def check_start(start: int, n_tasks: int | None, split: str) -> None:
    """Refuse a first task id below 0 or (``n_tasks`` known) past the split's tasks.

    Raises:
        CLIError: If ``start`` is out of range.
    """
    if start < 0:
        raise CLIError("--start must be >= 0")
    if n_tasks is not None and start >= n_tasks:
        raise CLIError(f"--start {start} is past the {n_tasks} tasks of {split!r}")


def split_task_count(
    env: Any, env_id: str, split: str, start: int, episodes: int, doing: str
) -> int:
    """How many of ``episodes`` tasks from ``start`` on ``split`` has, after checking both.

    A split with fewer tasks gives a note on stdout (``doing``: "evaluating", ...).

    Raises:
        CLIError: For a split the env does not have, or a ``start`` past its tasks.
    """
    base = env.unwrapped
    splits = getattr(base, "splits", (split,))
    if split not in splits:
        raise CLIError(f"unknown split {split!r}; {env_id} has {list(splits)}")
    n_tasks = base.num_tasks(split)
    check_start(start, n_tasks, split)
    count = min(episodes, n_tasks - start)
    if count < episodes:
        print(f"note: split {split!r} has {n_tasks} tasks; {doing} {count}")
    return count
