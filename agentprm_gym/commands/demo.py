"""``agentprm-gym demo``: the main job end to end on built-in defaults.

Collects noisy-expert rollouts on WebShop-v0, trains an AgentPRM (TD + GAE
labels) and a PVM baseline on them with the same trainer, then compares the
policy alone (one sample per step), Best-of-N and step-level beam search on
held-out test tasks, printing a table
and writing a plot and an HTML report. It is a small sweep
(:mod:`agentprm_gym.benchmarking.sweep`) with the config embedded here, so it
resumes where it stopped when run again.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

from agentprm_gym.commands.common import CLIError, add_json_flag, emit_json

HELP = "the main job on built-in defaults: collect, train, search, compare"
DESCRIPTION = """Run the main job on built-in defaults, offline, in a few minutes on 2 cores:

  1. collect noisy-expert rollouts (noisy:0.5) on AgentPRM/WebShop-v0 train tasks
  2. train an AgentPRM (TD+GAE labels, loss L_Q + L_A) and a PVM baseline
  3. compare the policy alone (1 sample per step), Best-of-N, beam search and beam search
     with the policy prior (beam+prior) with each PRM on held-out test tasks

Outputs (table, plot, HTML report, CSV) go to --out (default runs/demo).
Run it again to resume; delete --out to start over.
"""

#: The embedded demo configuration (a sweep config, see benchmarks/configs/).
DEMO_CONFIG: dict[str, Any] = {
    "name": "demo",
    "description": "make demo: AgentPRM vs PVM on WebShop-v0 with noisy:0.5",
    "seed": 0,
    "envs": [{"id": "AgentPRM/WebShop-v0", "policy": "noisy:0.5"}],
    "collection": {"train_tasks": 40, "per_task": 4, "mc_rollouts": 0},
    "test_tasks": 40,
    # the default state PRM (frozen MiniLM, cached token states); no time budget, so the
    # trained PRMs (and the table) do not depend on the machine's load
    "train": {"args": ["--epochs", "8", "--batch-size", "32"]},
    "prms": ["agentprm", "pvm"],
    "methods": [
        "policy",
        "bon@2",
        "bon@4",
        "bon@8",
        "beam@2x2",
        "beam@4x4",
        "beam+prior@2x2",
        "beam+prior@4x4",
    ],
    "examples": 2,
    "torch_threads": 1,
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    p.add_argument("--out", default="runs/demo", help="output directory (default runs/demo)")
    p.add_argument("--test-tasks", type=int, default=None, help="held-out test tasks (default 40)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_json_flag(p)


#: Column headers of the methods without a PRM (their row is the policy's).
_SHORT = {"policy (1 sample)": "1 sample", "greedy (temperature 0)": "greedy"}


def _table(csv_path: Path) -> tuple[str, dict[str, Any]]:
    from agentprm_gym.benchmarking.results import read_rows

    rows = read_rows(csv_path)
    by: dict[tuple[str, str], float] = {}
    samples: dict[str, list[float]] = defaultdict(list)
    methods: list[str] = []
    prms: list[str] = []
    for r in rows:
        m, p = r["method"], r["prm"]
        if m not in methods:
            methods.append(m)
        if p not in prms:
            prms.append(p)
        by[(p, m)] = float(r["success"])
        samples[m].append(float(r["samples"]))
    names = [_SHORT.get(m, m) for m in methods]
    widths = [max(10, len(n) + 2) for n in names]
    head = f"{'PRM':18s}" + "".join(f"{n:>{w}s}" for n, w in zip(names, widths, strict=True))
    lines = [head, "-" * len(head)]
    for p in prms:
        cells = "".join(
            f"{100 * by[(p, m)]:{w - 1}.1f}%" if (p, m) in by else " " * w
            for m, w in zip(methods, widths, strict=True)
        )
        lines.append(f"{(p if p != '-' else 'policy (1 sample)'):18s}{cells}")
    mean_samples = "".join(
        f"{sum(samples[m]) / len(samples[m]):{w}.1f}" for m, w in zip(methods, widths, strict=True)
    )
    lines.append(f"{'samples/ep':18s}{mean_samples}")
    summary = {f"{p}/{m}": v for (p, m), v in by.items()}
    return "\n".join(lines), summary


def run(args: argparse.Namespace) -> int:
    """Run the embedded sweep and print the comparison."""
    from agentprm_gym.benchmarking.config import SweepConfigError, parse_config
    from agentprm_gym.benchmarking.sweep import Sweep
    from agentprm_gym.commands.bench_sweep import train_prm_job

    if args.workers < 1:
        raise CLIError("--workers must be >= 1")
    data = dict(DEMO_CONFIG)
    if args.test_tasks is not None:
        if args.test_tasks < 1:
            raise CLIError("--test-tasks must be >= 1")
        data["test_tasks"] = args.test_tasks
    try:
        cfg = parse_config(data, name="demo", source="agentprm_gym.commands.demo")
    except SweepConfigError as e:  # pragma: no cover - the embedded config is tested
        raise CLIError(str(e)) from None
    out = Path(args.out)
    print(f"agentprm-gym demo -> {out}/ (resumes if run again)")
    sweep = Sweep(
        cfg,
        out,
        workers=args.workers,
        show_progress=not args.no_progress,
        train_runner=train_prm_job,
    )
    summary = sweep.run()
    table, success = _table(out / "results.csv")
    print()
    print(
        f"Success rate on {cfg.envs[0].test_tasks} held-out WebShop-v0 test tasks "
        f"(policy {cfg.envs[0].policy}):"
    )
    print(table)
    print()
    for name in ("tables.md", "report.html"):
        if (out / name).exists():
            print(f"  {out / name}")
    for png in sorted(out.glob("*.png")):
        print(f"  {png}")
    print(f"done in {summary['wall_seconds']:.0f} s")
    if args.json:
        emit_json({"out": str(out), "success": success, "wall_seconds": summary["wall_seconds"]})
    return 0
