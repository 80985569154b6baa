"""Browser env speed: our MiniWoB env vs the ``miniwob`` package's Selenium env, plus Browser-v0.

Runs, in one process and one run, with warm browsers (launch and first page
load excluded):

1. ``AgentPRM/MiniWoB-click-button-v0`` (Playwright + Debian Chromium): reset,
   then one click on the right button (text observation built each time).
2. The ``miniwob`` package's own ``miniwob/click-button-v1`` (Selenium +
   chromedriver + the same Chromium, no screenshots): reset, then one
   ``CLICK_ELEMENT`` on the right button (its observation: utterance + DOM
   element list, built each time).
3. ``AgentPRM/Browser-v0`` with the playwright backend: reset and step medians
   over expert episodes (steps are page navigations or typing).
4. ``AgentPRM/Browser-v0`` with the static backend: steps/s of the same kind of
   rollouts, cold (pages parsed on first visit) and warm (pages cached).

Needs Chromium at /usr/bin/chromium and, for (2), chromedriver
(Debian: ``apt-get install -y chromium-driver``); (2) is skipped with a note
when chromedriver is missing.

Usage::

    .venv/bin/python benchmarks/browser_vs_miniwob.py [--episodes 60] [--out FILE.json]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np

import agentprm_gym  # noqa: F401

__all__ = ["bench_ours", "bench_miniwob_selenium", "bench_shop", "bench_static", "main"]


def _ms(xs: list[float]) -> float:
    return round(statistics.median(xs) * 1000, 2)


def bench_ours(episodes: int) -> dict[str, Any]:
    """Reset and click-step medians of our click-button env."""
    env = gym.make("AgentPRM/MiniWoB-click-button-v0")
    u = env.unwrapped
    resets: list[float] = []
    steps: list[float] = []
    wins = 0
    for i in range(episodes + 3):
        t0 = time.perf_counter()
        obs, info = env.reset(seed=i)
        t1 = time.perf_counter()
        action = u.expert_action()  # reads the page in Python; not timed
        t2 = time.perf_counter()
        obs, reward, term, trunc, info = env.step(action)
        t3 = time.perf_counter()
        if i >= 3:  # the first resets load the page and warm the browser
            resets.append(t1 - t0)
            steps.append(t3 - t2)
            wins += bool(info["won"])
    env.close()
    return {
        "env": "AgentPRM/MiniWoB-click-button-v0",
        "reset_ms_median": _ms(resets),
        "step_ms_median": _ms(steps),
        "success": wins / episodes,
        "episodes": episodes,
    }


def bench_miniwob_selenium(episodes: int) -> dict[str, Any]:
    """Reset and click-step medians of the ``miniwob`` package's Selenium env."""
    driver = shutil.which("chromedriver")
    if driver is None:
        return {"env": "miniwob/click-button-v1", "skipped": "chromedriver not installed"}
    os.environ.setdefault("MINIWOB_CHROME_BINARY", "/usr/bin/chromium")
    os.environ.setdefault("MINIWOB_CHROMEDRIVER", driver)
    import miniwob  # noqa: F401
    from miniwob.action import ActionTypes

    gym.register_envs(miniwob)
    env = gym.make("miniwob/click-button-v1")
    resets: list[float] = []
    steps: list[float] = []
    wins = 0
    try:
        for i in range(episodes + 3):
            t0 = time.perf_counter()
            obs, info = env.reset(seed=i)
            t1 = time.perf_counter()
            want = obs["utterance"].split('"')[1]
            ref = next(
                e["ref"] for e in obs["dom_elements"] if e["tag"] == "button" and e["text"] == want
            )
            action = env.unwrapped.create_action(ActionTypes.CLICK_ELEMENT, ref=ref)
            t2 = time.perf_counter()
            obs, reward, term, trunc, info = env.step(action)
            t3 = time.perf_counter()
            if i >= 3:
                resets.append(t1 - t0)
                steps.append(t3 - t2)
                wins += bool(reward > 0)
    finally:
        env.close()
    return {
        "env": "miniwob/click-button-v1 (selenium)",
        "reset_ms_median": _ms(resets),
        "step_ms_median": _ms(steps),
        "success": wins / episodes,
        "episodes": episodes,
    }


def bench_shop(episodes: int) -> dict[str, Any]:
    """Reset and step medians of Browser-v0 (playwright) over expert episodes."""
    env = gym.make("AgentPRM/Browser-v0", backend="playwright")
    u = env.unwrapped
    resets: list[float] = []
    steps: list[float] = []
    navs: list[float] = []
    wins = 0
    for i in range(episodes + 2):
        t0 = time.perf_counter()
        obs, info = env.reset(seed=i)
        if i >= 2:
            resets.append(time.perf_counter() - t0)
        while True:
            action = u.expert_action()
            t0 = time.perf_counter()
            obs, reward, term, trunc, info = env.step(action)
            dt = time.perf_counter() - t0
            if i >= 2:
                steps.append(dt)
                if action.startswith("click["):
                    navs.append(dt)
            if term or trunc:
                break
        wins += bool(info["won"]) if i >= 2 else 0
    env.close()
    return {
        "env": "AgentPRM/Browser-v0 (playwright)",
        "reset_ms_median": _ms(resets),
        "step_ms_median": _ms(steps),
        "click_step_ms_median": _ms(navs),
        "steps": len(steps),
        "success": wins / episodes,
        "episodes": episodes,
    }


def bench_static(episodes: int) -> dict[str, Any]:
    """Steps/s of Browser-v0 (static): cold page cache, then the same episodes replayed warm."""
    env = gym.make("AgentPRM/Browser-v0", backend="static")
    u = env.unwrapped
    rng = np.random.default_rng(0)
    plan: list[tuple[int, list[str]]] = []
    t0 = time.perf_counter()
    n_cold = 0
    for s in range(episodes):
        obs, info = env.reset(seed=1000 + s)
        acts: list[str] = []
        while True:
            if rng.random() < 0.7:
                a = u.expert_action()
            else:
                adm = info["admissible_actions"]
                a = adm[int(rng.integers(len(adm)))].replace("[...]", "[red]")
            acts.append(a)
            obs, r, term, trunc, info = env.step(a)
            n_cold += 1
            if term or trunc:
                break
        plan.append((1000 + s, acts))
    cold = n_cold / (time.perf_counter() - t0)
    best = 0.0
    for _ in range(3):
        n = 0
        t0 = time.perf_counter()
        for seed, acts in plan:
            env.reset(seed=seed)
            for a in acts:
                env.step(a)
                n += 1
        best = max(best, n / (time.perf_counter() - t0))
    env.close()
    return {
        "env": "AgentPRM/Browser-v0 (static)",
        "steps_per_s_cold": round(cold, 1),
        "steps_per_s_warm": round(best, 1),
        "steps": n_cold,
        "note": "cold includes expert planning and first-visit page parses; "
        "warm replays the same actions with parsed pages cached",
    }


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and print a table and one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=60)
    p.add_argument("--shop-episodes", type=int, default=20)
    p.add_argument("--out", default=None, help="also write the JSON to this file")
    args = p.parse_args(argv)
    ours = bench_ours(args.episodes)
    theirs = bench_miniwob_selenium(args.episodes)
    shop = bench_shop(args.shop_episodes)
    static = bench_static(args.shop_episodes * 5)
    result: dict[str, Any] = {"ours": ours, "miniwob_selenium": theirs, "shop": shop}
    result["static"] = static
    if "step_ms_median" in theirs:
        result["ratio_step_theirs_over_ours"] = round(
            theirs["step_ms_median"] / ours["step_ms_median"], 2
        )
        result["ratio_reset_theirs_over_ours"] = round(
            theirs["reset_ms_median"] / ours["reset_ms_median"], 2
        )
    for row in (ours, theirs, shop):
        print(
            f"{row['env']:42s} step {row.get('step_ms_median', '-'):>7} ms   "
            f"reset {row.get('reset_ms_median', '-'):>7} ms   {row.get('skipped', '')}"
        )
    print(
        f"{static['env']:42s} {static['steps_per_s_cold']} steps/s cold, "
        f"{static['steps_per_s_warm']} steps/s warm"
    )
    line = json.dumps(result)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
