"""Held-out step ranking of a sweep's learned PRMs on every env, beside the ``Q^π`` ceiling.

After ``agentprm-gym bench sweep``, this script asks how well each trained PRM
ranks steps on tasks it never saw. For every env of the config it

1. collects held-out episodes on test tasks with the env's policy (expert
   actions recorded; ``agentprm-gym collect --split test``), kept under
   ``SWEEP/heldout/ENV-testTxK.jsonl`` (T tasks, K per task) and resumed if there,
   in task order (parallel collection writes episodes as they finish, and the
   pair draws below go through the file in order);
2. ranks every learned PRM of the sweep (``SWEEP/prms/ENV/PRM``) on them:
   ``eval-prm``'s step ranking, the expert's action against one other
   admissible action, seed 0;
3. estimates the ceiling of the same pairs: how often a *perfect* ``Q^π`` of
   the data policy ranks the expert's action higher, from N Monte-Carlo
   rollouts per action (``benchmarks/ranking_ceiling.py``; finite N makes it an
   underestimate, as estimates tie or swap: on WebShop 4 rollouts gave 0.706 and
   16 gave 0.823 on the same pairs).

It writes ``ranking.json`` and ``ranking.md`` (a table: PRMs × envs, the
ceiling and the pair counts) into ``--out``.

Run (after the standard sweep)::

    .venv/bin/python benchmarks/sweep_ranking.py --config benchmarks/configs/standard.yaml \\
        --sweep runs/timed/standard --out OUT --tasks 50 --per-task 1 --rollouts 16
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["rank_env", "sort_episodes", "write_markdown", "main"]

_HERE = Path(__file__).resolve().parent


def _ceiling_module() -> Any:
    """``benchmarks/ranking_ceiling.py``, imported once."""
    mod = sys.modules.get("ranking_ceiling")
    if mod is None:
        spec = importlib.util.spec_from_file_location(
            "ranking_ceiling", _HERE / "ranking_ceiling.py"
        )
        assert spec is not None and spec.loader is not None
        mod = sys.modules["ranking_ceiling"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod


def sort_episodes(path: Path) -> bool:
    """Rewrite a trajectory file in (task, episode) order; True if it was out of order.

    The other action of each ranked pair is drawn with one seeded RNG going
    through the episodes in file order, so the same episodes in another order
    give other pairs. Collection workers write episodes as they finish; sorting
    makes the pairs, and every figure drawn from them, the same on every run.
    """
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def key(line: str) -> tuple[int, int]:
        rec = json.loads(line)
        return int(rec["task_id"]), int(rec.get("meta", {}).get("k", 0))

    ordered = sorted(lines, key=key)
    if ordered == lines:
        return False
    tmp = path.with_name(path.name + ".sorting")
    tmp.write_text("\n".join(ordered) + "\n", encoding="utf-8")
    tmp.replace(path)
    return True


def rank_env(
    env: Any,
    prm_dirs: dict[str, Path],
    heldout: Path,
    *,
    tasks: int,
    per_task: int,
    rollouts: int,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Held-out ranking of each PRM of one env, and the ceiling of the same pairs.

    Args:
        env: The env's :class:`~agentprm_gym.benchmarking.config.EnvConfig`.
        prm_dirs: PRM name → trained model directory.
        heldout: Trajectory file of the held-out episodes (collected if missing).
        tasks: Test tasks ``0..tasks-1``.
        per_task: Episodes per test task.
        rollouts: MC rollouts per action for the ceiling (0: skip the ceiling).
        seed: Seed of the collection, the pair draws and the rollouts.
        workers: Collection worker processes.
        progress: Progress bars on stderr.
    """
    from agentprm_gym.collection import collect
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.loading import load_prm
    from agentprm_gym.prm.metrics import ranking_accuracy
    from agentprm_gym.prm.steps import episode_steps

    t0 = time.perf_counter()
    heldout.parent.mkdir(parents=True, exist_ok=True)
    collect(
        env.id,
        env.policy,
        heldout,
        split="test",
        tasks=tasks,
        per_task=per_task,
        seed=seed,
        workers=workers,
        env_kwargs=env.kwargs,
        show_progress=progress,
    )
    sort_episodes(heldout)
    eps = episode_steps(read_trajectories(heldout))
    out: dict[str, Any] = {"env": env.id, "policy": env.policy, "episodes": len(eps), "prms": {}}
    for name, directory in prm_dirs.items():
        acc, n = ranking_accuracy(load_prm(directory), eps, seed=seed)
        out["prms"][name] = None if acc is None else round(float(acc), 4)
        out["pairs"] = n
    if rollouts > 0:
        rc = _ceiling_module()
        res = rc.ceiling(
            str(heldout), rollouts=rollouts, seed=seed, progress=progress, env_kwargs=env.kwargs
        )
        out["ceiling"] = {
            "accuracy": round(res["reward_q"]["accuracy"], 4),
            "stderr": round(res["reward_q"]["stderr"], 4),
            "rollouts": rollouts,
            "pairs": res["pairs"],
        }
    out["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def write_markdown(results: list[dict[str, Any]], path: Path, note: str = "") -> None:
    """A markdown table: one row per PRM, one column per env, the ceiling and pair counts."""
    envs = [r["env"].split("/")[-1] for r in results]
    prms: list[str] = []
    for r in results:
        prms += [p for p in r["prms"] if p not in prms]
    lines = [
        "| held-out step ranking | " + " | ".join(envs) + " |",
        "| --- |" + " ---: |" * len(envs),
    ]

    def cell(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    for p in prms:
        lines.append(f"| {p} | " + " | ".join(cell(r["prms"].get(p)) for r in results) + " |")
    if any("ceiling" in r for r in results):
        lines.append(
            "| perfect Q^π (ceiling) | "
            + " | ".join(cell(r.get("ceiling", {}).get("accuracy")) for r in results)
            + " |"
        )
        lines.append(
            "| ceiling: rollouts per action | "
            + " | ".join(str(r.get("ceiling", {}).get("rollouts", "–")) for r in results)
            + " |"
        )
    lines.append("| pairs | " + " | ".join(str(r.get("pairs", 0)) for r in results) + " |")
    path.write_text(
        "# Held-out step ranking of the sweep's PRMs\n\n"
        + (note + "\n\n" if note else "")
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, rank every env's PRMs, write ranking.json and ranking.md."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", required=True, help="the sweep's config (YAML)")
    p.add_argument("--sweep", required=True, help="the sweep's output directory (--out)")
    p.add_argument("--out", required=True, help="where ranking.json and ranking.md go")
    p.add_argument("--tasks", type=int, default=50, help="held-out test tasks per env")
    p.add_argument("--per-task", type=int, default=2, help="held-out episodes per task")
    p.add_argument("--rollouts", type=int, default=8, help="MC rollouts per action (0: none)")
    p.add_argument("--workers", type=int, default=1, help="collection worker processes")
    p.add_argument("--envs", default=None, help="comma-separated env names (default: all)")
    p.add_argument("--no-progress", action="store_true")
    a = p.parse_args(argv)
    if a.tasks < 1 or a.per_task < 1 or a.rollouts < 0 or a.workers < 1:
        p.error("--tasks, --per-task and --workers must be >= 1, --rollouts >= 0")
    from agentprm_gym.benchmarking.config import SweepConfigError, load_config

    try:
        cfg = load_config(a.config)
    except (OSError, SweepConfigError) as e:
        p.error(str(e))
    sweep = Path(a.sweep)
    envs = cfg.envs
    if not cfg.learned_prms:
        p.error(f"{a.config} trains no PRM (its prms are all oracle/random): nothing to rank")
    if a.envs:
        want = [x.strip() for x in a.envs.split(",") if x.strip()]
        unknown = sorted(set(want) - {e.short for e in envs})
        if unknown:
            p.error(f"--envs: unknown {unknown}; the config has {[e.short for e in envs]}")
        envs = [e for e in envs if e.short in want]
    dirs = {
        env.short: {q.name: sweep / "prms" / env.short / q.name for q in cfg.learned_prms}
        for env in envs
    }
    missing = [
        str(d) for ds in dirs.values() for d in ds.values() if not (d / "prm_config.json").exists()
    ]
    if missing:
        where = ", ".join(missing)
        print(f"error: no trained PRM at {where} (run the sweep first)", file=sys.stderr)
        return 2
    results = []
    for env in envs:
        held = sweep / "heldout" / f"{env.short}-test{a.tasks}x{a.per_task}.jsonl"
        try:
            r = rank_env(
                env,
                dirs[env.short],
                held,
                tasks=a.tasks,
                per_task=a.per_task,
                rollouts=a.rollouts,
                seed=cfg.seeds[0],
                workers=a.workers,
                progress=not a.no_progress,
            )
        except ValueError as e:  # e.g. a held-out file collected with another policy
            print(f"error: {env.short}: {e} (delete {held} to collect it again)", file=sys.stderr)
            return 2
        results.append(r)
        ceil = r.get("ceiling", {}).get("accuracy")
        shown = ", ".join(f"{k} {v}" for k, v in r["prms"].items())
        pairs, secs = r.get("pairs"), r["wall_seconds"]
        print(f"{env.short}: {shown}; ceiling {ceil} ({pairs} pairs, {secs} s)", flush=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "config": a.config,
        "tasks": a.tasks,
        "per_task": a.per_task,
        "rollouts": a.rollouts,
        "envs": results,
    }
    (out / "ranking.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_markdown(
        results,
        out / "ranking.md",
        note=(
            f"`benchmarks/sweep_ranking.py`: {a.per_task} episodes on each of test tasks "
            f"0–{a.tasks - 1} per env with the env's policy; the expert's action against one "
            f"other admissible action (`eval-prm`'s pairs, seed {cfg.seeds[0]}); the ceiling "
            "ranks the same pairs by Q^π estimated from Monte-Carlo rollouts of the policy "
            "(few rollouts make it an underestimate: estimates tie or swap)."
        ),
    )
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
