"""``agentprm-gym bench``: env throughput and result sweeps."""

from __future__ import annotations

import argparse
import csv
import importlib
import math
import sys
from pathlib import Path
from typing import Any

from agentprm_gym.commands.common import (
    CLIError,
    add_json_flag,
    check_executor_args,
    emit_json,
    make_env,
    parse_env_args,
)

HELP = "benchmarks: env throughput, result sweeps"
DESCRIPTION = """Benchmarks.

  bench throughput --env ID        random-policy steps/s, snapshot µs, make times, step/reset ms
  bench throughput --all           every registered id (ids with missing dependencies are skipped)
  bench sweep --config FILE        run a sweep config (agentprm_gym.benchmarking.sweep)

Examples:
  agentprm-gym bench throughput --env AgentPRM/WebShop-v0 --json
  agentprm-gym bench throughput --all --csv throughput.csv
"""

_COLUMNS = (
    ("env", "env", "{}"),
    ("steps_per_s", "steps/s", "{:.0f}"),
    ("snapshot_us", "snapshot µs", "{:.1f}"),
    ("make_first_s", "make first s", "{:.3f}"),
    ("make_again_s", "make again ms", "{:.2f}"),
    ("step_ms_median", "step ms (med)", "{:.3f}"),
    ("reset_ms_median", "reset ms (med)", "{:.3f}"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the subcommands and their arguments."""
    from agentprm_gym.parallel import add_executor_arguments

    sub = p.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    t = sub.add_parser(
        "throughput",
        help="env steps/s with a random admissible policy, snapshot and make times",
        description=(
            "Measure env throughput: a random admissible-action policy's steps/s, "
            "mean get_state+set_state µs, first gym.make (fresh subprocess) and later "
            "gym.make times, and median step/reset times."
        ),
    )
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--env", help="env id, e.g. AgentPRM/WebShop-v0")
    which.add_argument("--all", action="store_true", help="every registered id")
    t.add_argument("--steps", type=int, default=20_000, help="env steps (default 20000)")
    t.add_argument(
        "--browser-steps",
        type=int,
        default=200,
        help="env steps for ids that need a browser (default 200)",
    )
    t.add_argument("--seed", type=int, default=0, help="policy/reset seed (default 0)")
    t.add_argument("--max-seconds", type=float, default=None, help="time budget per id's loop")
    t.add_argument(
        "--no-subprocess",
        action="store_true",
        help="skip the fresh-process first-make measurement (make_first_s is then null)",
    )
    t.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="env kwarg")
    t.add_argument("--csv", metavar="FILE", help="also write the table to this CSV file")
    t.add_argument("--no-progress", action="store_true", help="no progress output")
    add_json_flag(t)
    t.set_defaults(_bench=_run_throughput)

    s = sub.add_parser(
        "sweep",
        help="run a benchmark sweep config",
        description="Run a sweep config (agentprm_gym.benchmarking.sweep.Sweep).",
    )
    s.add_argument("--config", required=True, help="sweep config file (YAML)")
    s.add_argument("--out", default=None, help="output directory (default: from the config)")
    add_executor_arguments(
        s,
        default_workers=None,
        workers_help="local worker processes (default: the config's `workers`, else 1)",
    )
    s.add_argument("--no-progress", action="store_true", help="no progress bars")
    s.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the tables, plots and report from the rows already in "
        "OUT/results.csv (for an interrupted sweep; the report says how many runs are missing)",
    )
    add_json_flag(s)
    s.set_defaults(_bench=_run_sweep)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen benchmark."""
    fn = getattr(args, "_bench", None)
    if fn is None:
        raise CLIError(
            "choose a benchmark: `agentprm-gym bench throughput ...` or `bench sweep ...`"
        )
    return int(fn(args) or 0)


def _run_sweep(args: argparse.Namespace) -> int:
    check_executor_args(args)
    try:
        importlib.import_module("agentprm_gym.benchmarking.sweep")
    except ModuleNotFoundError as e:
        if e.name == "agentprm_gym.benchmarking.sweep":
            raise CLIError("bench sweep is not available in this build") from e
        raise
    from agentprm_gym.commands.bench_sweep import run_sweep

    return int(run_sweep(args) or 0)


def _deps_missing(row: Any) -> str | None:
    """Why ``row`` cannot run here (a missing dependency), or None."""
    import importlib.util

    if row.needs_browser:
        for mod in ("playwright",):
            if importlib.util.find_spec(mod) is None:
                return f"needs {mod} (pip install 'agentprm-gym[browser]')"
    module = row.entry_point.split(":")[0]
    try:
        if importlib.util.find_spec(module) is None:
            return f"module {module} is not in this build"
    except ModuleNotFoundError as e:
        return f"module {e.name} is not in this build"
    return None


def _run_throughput(args: argparse.Namespace) -> int:
    import agentprm_gym  # noqa: F401
    from agentprm_gym.benchmarking.throughput import measure_throughput
    from agentprm_gym.progress import progress
    from agentprm_gym.registration import ENV_TABLE

    kwargs = parse_env_args(args.env_arg)
    rows = {r.id: r for r in ENV_TABLE}
    if args.all:
        ids = list(rows)
    else:
        if args.env not in rows:
            import gymnasium as gym

            if args.env not in gym.registry:
                raise CLIError(f"unknown env id {args.env!r}; run `agentprm-gym list`")
        ids = [args.env]
    if args.steps < 1 or args.browser_steps < 1:
        raise CLIError("--steps and --browser-steps must be >= 1")
    if args.max_seconds is not None and not (
        math.isfinite(args.max_seconds) and args.max_seconds > 0
    ):
        raise CLIError("--max-seconds must be a number > 0")
    if args.csv:
        _check_writable(args.csv)
    missing = {env_id: _deps_missing(rows[env_id]) for env_id in ids if env_id in rows}
    if kwargs:  # bad --env-arg keys: the one-line error of other commands, before any work
        for env_id in ids:
            if missing.get(env_id) is None:
                try:
                    make_env(env_id, **kwargs).close()
                except ImportError:  # --all skips it below, as without --env-arg
                    if not args.all:
                        raise

    results: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    quiet = args.no_progress or len(ids) < 2
    for env_id in progress(ids, desc="bench throughput", disable=quiet or None):
        row = rows.get(env_id)
        why = missing.get(env_id)
        if why is not None:
            skipped.append({"env": env_id, "reason": why})
            print(f"note: skipping {env_id}: {why}", file=sys.stderr)
            continue
        steps = args.browser_steps if row is not None and row.needs_browser else args.steps
        try:
            res = measure_throughput(
                env_id,
                steps=steps,
                seed=args.seed,
                env_kwargs=kwargs,
                fresh_process_make=not args.no_subprocess,
                max_seconds=args.max_seconds,
            )
        except ImportError as e:
            if not args.all:
                raise
            skipped.append({"env": env_id, "reason": f"missing dependency: {e}"})
            print(f"note: skipping {env_id}: missing dependency: {e}", file=sys.stderr)
            continue
        results.append(res.to_dict())

    _print_table(results)
    if args.csv:
        _write_csv(args.csv, results)
        print(f"wrote {args.csv}")
    if args.json:
        if args.all:
            emit_json({"results": results, "skipped": skipped})
        elif results:
            emit_json(results[0])
        else:
            emit_json({"env": args.env, "skipped": skipped[0]["reason"] if skipped else None})
    return 0


def _fmt(key: str, fmt: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "make_again_s":
        value = 1e3 * value
    return fmt.format(value)


def _print_table(results: list[dict[str, Any]]) -> None:
    if not results:
        print("no env measured")
        return
    header = [h for _, h, _ in _COLUMNS]
    body = [[_fmt(k, f, r.get(k)) for k, _, f in _COLUMNS] for r in results]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for b in body:
        print("  ".join(c.ljust(w) for c, w in zip(b, widths)))


def _check_writable(path: str) -> None:
    """Fail before the benchmark if ``path`` cannot be written (leaves no file behind).

    Raises:
        CLIError: If ``path`` is a directory or cannot be opened for writing.
    """
    p = Path(path)
    if p.is_dir():
        raise CLIError(f"--csv {path} is a directory")
    existed = p.exists()
    try:
        with p.open("a", encoding="utf-8"):
            pass
    except OSError as e:
        raise CLIError(f"cannot write --csv {path}: {e.strerror or e}") from None
    if not existed:
        p.unlink(missing_ok=True)


def _write_csv(path: str, results: list[dict[str, Any]]) -> None:
    if not results:
        return
    keys = list(results[0])
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in results:
            w.writerow(r)
