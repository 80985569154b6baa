"""Helpers shared by the CLI subcommands: errors, env making, JSON output.

Progress reporting lives in :mod:`agentprm_gym.progress`, which library code uses too.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import gymnasium as gym

__all__ = ["CLIError", "make_env", "parse_env_args", "emit_json", "add_json_flag"]


class CLIError(Exception):
    """An error the CLI reports as one line and exit status 2."""


def check_executor_args(args: Any) -> None:
    """Validate ``--workers``/``--ray``/``--ray-cpus`` (see ``add_executor_arguments``).

    Raises:
        CLIError: For fewer than one worker or Ray CPU, or ``--ray-cpus`` with the
            address of a running cluster (it sizes a local Ray instance only).
    """
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise CLIError("--workers must be >= 1")
    if args.ray_cpus is not None and args.ray_cpus < 1:
        raise CLIError("--ray-cpus must be >= 1")
    if args.ray_cpus is not None and args.ray not in (None, "local"):
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
