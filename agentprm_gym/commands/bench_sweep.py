"""``agentprm-gym bench sweep --config FILE``: run a benchmark sweep from the CLI.

The sweep itself is :class:`agentprm_gym.benchmarking.sweep.Sweep`; this module
reads the config, checks its env ids, prints where the outputs went and trains
the sweep's PRMs with ``agentprm-gym train-prm`` run in process
(:func:`train_prm_job`, which the ``demo`` command uses too).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from agentprm_gym.commands.common import CLIError, emit_json

__all__ = ["run_sweep", "train_prm_job"]


def train_prm_job(argv: list[str]) -> dict[str, Any]:
    """Run ``agentprm-gym ARGV`` (a ``train-prm`` command); returns argv, exit code, seconds.

    A module-level function, so that worker processes can run it.
    """
    from agentprm_gym.cli import main as cli_main

    t0 = time.perf_counter()
    rc = cli_main(list(argv))
    return {"argv": list(argv), "rc": int(rc or 0), "seconds": time.perf_counter() - t0}


def run_sweep(args: argparse.Namespace) -> int:
    """Entry point for ``agentprm-gym bench sweep``.

    Reads ``args.config`` and, when present, ``out``, ``workers``, ``ray``,
    ``ray_cpus``, ``report_only``, ``json`` and ``no_progress``.
    """
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)
    from agentprm_gym.benchmarking.config import SweepConfigError, load_config
    from agentprm_gym.benchmarking.sweep import Sweep

    try:
        cfg = load_config(args.config)
    except SweepConfigError as e:
        raise CLIError(str(e)) from None
    missing = [e.id for e in cfg.envs if e.id not in gym.registry]
    if missing:
        raise CLIError(f"{args.config}: unknown env id(s) {missing}; run `agentprm-gym list`")
    out = Path(getattr(args, "out", None) or Path("benchmarks") / "results" / cfg.name)
    workers = getattr(args, "workers", None) or cfg.workers
    sweep = Sweep(
        cfg,
        out,
        workers=int(workers),
        ray_address=getattr(args, "ray", None),
        ray_num_cpus=getattr(args, "ray_cpus", None),
        show_progress=not getattr(args, "no_progress", False),
        train_runner=train_prm_job,
    )
    if getattr(args, "report_only", False):
        if not sweep.csv_path.exists():
            raise CLIError(f"--report-only: {sweep.csv_path} does not exist (nothing has run)")
        summary = sweep.write_outputs(0.0, report_only=True)
        summary.update(rows_written=0, wall_seconds=0.0)
    else:
        summary = sweep.run()
    print(f"wrote {out}/: " + ", ".join(summary["files"]))
    print(f"{summary['rows']} rows ({summary['rows_written']} new) in {summary['wall_seconds']} s")
    if getattr(args, "json", False):
        emit_json({k: v for k, v in summary.items() if k != "efficiency"})
    return 0
