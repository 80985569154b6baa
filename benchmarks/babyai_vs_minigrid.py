"""Throughput of text BabyAI against bare minigrid, stepping the same primitive actions.

For each of the default levels, a fixed seeded sequence of primitive actions
is played in (a) the bare minigrid level (``env.step(int)``) and (b)
``AgentPRM/BabyAI-v0`` unwrapped (``env.step("turn left")`` ...), resetting
both on episode end with the same instance seeds, and steps per second are
compared. TextCraft's steps per second (random admissible commands) are
reported too, as well as the cost of a BabyAI snapshot.

Run: ``.venv/bin/python benchmarks/babyai_vs_minigrid.py [--steps N] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

__all__ = ["bench_minigrid", "bench_babyai", "bench_textcraft", "main"]


def _action_plan(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    # mostly moves and turns, as agents play; pick up / drop / toggle now and then
    return [int(a) for a in rng.choice(6, size=n, p=[0.25, 0.25, 0.35, 0.05, 0.05, 0.05])]


def bench_minigrid(levels: tuple[str, ...], actions: list[int]) -> float:
    """Steps/s of bare minigrid levels (round robin over levels per episode)."""
    from agentprm_gym.envs.babyai.levels import make_level_env, reset_level, task_spec

    envs = {lv: make_level_env(lv) for lv in levels}
    task = 0
    level, seed = task_spec(levels, "test", task)
    env = envs[level]
    reset_level(env, seed)
    t0 = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            task += 1
            level, seed = task_spec(levels, "test", task)
            env = envs[level]
            reset_level(env, seed)
    return len(actions) / (time.perf_counter() - t0)


def bench_babyai(levels: tuple[str, ...], actions: list[int]) -> tuple[float, float]:
    """Steps/s of the text env on the same primitive actions, and snapshot cost in µs."""
    from agentprm_gym.envs.babyai.dynamics import PRIMITIVE_NAMES
    from agentprm_gym.envs.babyai.env import BabyAIEnv

    env = BabyAIEnv(level=levels, split="test")
    task = 0
    env.reset(options={"task_id": task})
    names = [PRIMITIVE_NAMES[a] for a in actions]
    t0 = time.perf_counter()
    for a in names:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            task += 1
            env.reset(options={"task_id": task})
    sps = len(names) / (time.perf_counter() - t0)
    t1 = time.perf_counter()
    n = 200
    for _ in range(n):
        snap = env.get_state()
        env.set_state(snap)
    snap_us = (time.perf_counter() - t1) / n * 1e6
    return sps, snap_us


def bench_textcraft(steps: int, seed: int) -> float:
    """Steps/s of ``TextCraftEnv`` with random admissible commands."""
    from agentprm_gym.envs.textcraft.env import TextCraftEnv

    env = TextCraftEnv(split="test")
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    t0 = time.perf_counter()
    k = 0
    for _ in range(steps):
        acts = info["admissible_actions"]
        _, _, term, _, info = env.step(acts[int(rng.integers(len(acts)))])
        k += 1
        if term or k >= 50:
            _, info = env.reset()
            k = 0
    return steps / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures (``--json``: one JSON line)."""
    from agentprm_gym.envs.babyai.levels import DEFAULT_LEVELS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians reported")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    actions = _action_plan(args.steps, args.seed)
    bench_minigrid(DEFAULT_LEVELS, actions[:500])  # warm-up
    mgs, ourss, snaps = [], [], []
    for _ in range(args.rounds):  # alternate, so load changes hit both alike
        mgs.append(bench_minigrid(DEFAULT_LEVELS, actions))
        sps, snap = bench_babyai(DEFAULT_LEVELS, actions)
        ourss.append(sps)
        snaps.append(snap)
    mg, ours, snap_us = (float(np.median(x)) for x in (mgs, ourss, snaps))
    tc = bench_textcraft(min(args.steps, 5000), args.seed)
    result = {
        "minigrid_steps_per_s": round(mg, 1),
        "babyai_steps_per_s": round(ours, 1),
        "slowdown": round(mg / ours, 3),
        "babyai_snapshot_us": round(snap_us, 1),
        "textcraft_steps_per_s": round(tc, 1),
        "steps": args.steps,
        "rounds": args.rounds,
    }
    print(
        f"minigrid {mg:,.0f} steps/s | AgentPRM/BabyAI-v0 {ours:,.0f} steps/s "
        f"(slowdown {mg / ours:.2f}x) | snapshot {snap_us:.0f} us | "
        f"AgentPRM/TextCraft-v0 {tc:,.0f} steps/s"
    )
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
