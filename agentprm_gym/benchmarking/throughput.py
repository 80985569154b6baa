"""Env throughput benchmark: steps per second, snapshot cost, make time, step/reset latency.

:func:`measure_throughput` measures one registered id the same way for every
family (text or browser):

* ``make_first_s``: ``gym.make`` in a fresh Python subprocess (after
  ``import agentprm_gym``; includes importing the env module and building its
  data), so per-process caches cannot flatter it.
* ``make_again_s``: median ``gym.make`` time in this process after the first.
* ``steps_per_s``: a uniformly random admissible-action policy
  (:class:`~agentprm_gym.agents.RandomPolicy`) plays episodes back to back
  (reset when an episode ends) for ``steps`` steps; steps divided by the wall
  time of the whole loop (policy, steps and resets).
* ``step_ms_median`` / ``reset_ms_median``: medians of the individual
  ``step`` and ``reset`` call times of that loop.
* ``snapshot_us``: mean time of one ``get_state()`` + ``set_state()`` pair,
  taken at mid-episode states.

Browser helpers reuse it as is (pass a small ``steps`` and a ``max_seconds`` budget).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ThroughputResult", "measure_throughput", "measure_make_first", "RESULT_KEYS"]

#: The keys every result reports (the ``bench throughput --json`` contract).
RESULT_KEYS = (
    "env",
    "steps_per_s",
    "snapshot_us",
    "make_first_s",
    "make_again_s",
    "step_ms_median",
    "reset_ms_median",
)

_MAKE_SCRIPT = (
    "import json, sys, time\n"
    "import gymnasium as gym\n"
    "import agentprm_gym\n"
    "kw = json.loads(sys.argv[2])\n"
    "t = time.perf_counter()\n"
    "env = gym.make(sys.argv[1], **kw)\n"
    "dt = time.perf_counter() - t\n"
    "env.close()\n"
    "print(json.dumps({'make_first_s': dt}))\n"
)


@dataclass
class ThroughputResult:
    """Figures for one env id (times in the units their names say)."""

    env: str
    steps_per_s: float
    snapshot_us: float | None
    make_first_s: float | None
    make_again_s: float
    step_ms_median: float
    reset_ms_median: float
    steps: int
    episodes: int
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the :data:`RESULT_KEYS` first)."""
        return asdict(self)


def measure_make_first(
    env_id: str, env_kwargs: dict[str, Any] | None = None, timeout: float = 600.0
) -> float:
    """Seconds of the first ``gym.make(env_id)`` in a fresh Python process.

    Raises:
        RuntimeError: If the subprocess fails (its stderr tail is in the message).
    """
    proc = subprocess.run(
        [sys.executable, "-c", _MAKE_SCRIPT, env_id, json.dumps(env_kwargs or {})],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gym.make({env_id!r}) failed in a subprocess: {proc.stderr[-800:]}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["make_first_s"])


def measure_throughput(
    env_id: str,
    *,
    steps: int = 20_000,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    snapshot_reps: int = 2_000,
    make_repeats: int = 5,
    fresh_process_make: bool = True,
    max_seconds: float | None = None,
) -> ThroughputResult:
    """Measure one env id (see the module docstring for what each figure means).

    Args:
        env_id: A registered id.
        steps: Env steps of the random-policy loop.
        seed: Seed of the policy and of the resets (episode ``k`` uses ``seed + k``).
        env_kwargs: Extra ``gym.make`` kwargs.
        snapshot_reps: ``get_state``/``set_state`` pairs timed in total.
        make_repeats: ``gym.make`` calls timed for ``make_again_s``.
        fresh_process_make: Measure ``make_first_s`` in a subprocess (else None).
        max_seconds: Stop the step loop early after this much wall time.

    Returns:
        The figures.
    """
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)
    from agentprm_gym.agents import RandomPolicy

    kwargs = dict(env_kwargs or {})
    make_first = measure_make_first(env_id, kwargs) if fresh_process_make else None
    env = gym.make(env_id, **kwargs)
    again = []
    for _ in range(max(1, make_repeats)):
        t = time.perf_counter()
        e = gym.make(env_id, **kwargs)
        again.append(time.perf_counter() - t)
        e.close()

    policy = RandomPolicy(seed=seed)
    step_t: list[float] = []
    reset_t: list[float] = []
    episodes = 0
    pc = time.perf_counter
    t_start = pc()
    t0 = pc()
    obs, info = env.reset(seed=seed)
    reset_t.append(pc() - t0)
    n = 0
    while n < steps:
        action = policy.propose(obs, info, 1)[0]
        t0 = pc()
        obs, _, term, trunc, info = env.step(action)
        step_t.append(pc() - t0)
        n += 1
        if term or trunc:
            episodes += 1
            t0 = pc()
            obs, info = env.reset(seed=seed + episodes)
            reset_t.append(pc() - t0)
        if max_seconds is not None and n % 16 == 0 and pc() - t_start > max_seconds:
            break
    wall = pc() - t_start

    snapshot_us = _snapshot_us(env, seed, snapshot_reps, max_seconds)
    env.close()
    return ThroughputResult(
        env=env_id,
        steps_per_s=n / wall if wall > 0 else float("inf"),
        snapshot_us=snapshot_us,
        make_first_s=make_first,
        make_again_s=statistics.median(again),
        step_ms_median=1e3 * statistics.median(step_t) if step_t else float("nan"),
        reset_ms_median=1e3 * statistics.median(reset_t),
        steps=n,
        episodes=episodes,
        wall_s=wall,
    )


def _snapshot_us(env: Any, seed: int, reps: int, max_seconds: float | None) -> float | None:
    """Mean µs of get_state+set_state over mid-episode states (None if unsupported)."""
    try:
        get_state = env.get_wrapper_attr("get_state")
        set_state = env.get_wrapper_attr("set_state")
    except AttributeError:
        return None
    n_states = 10
    per = max(1, reps // n_states)
    total = 0.0
    count = 0
    t_budget = time.perf_counter()
    for k in range(n_states):
        obs, info = env.reset(seed=seed + 10_000 + k)
        for _ in range(1 + k % 3):  # a few steps in: a mid-episode state
            acts = info.get("admissible_actions") or []
            if not acts:
                break
            obs, _, term, trunc, info = env.step(acts[(k * 7) % len(acts)])
            if term or trunc:
                obs, info = env.reset(seed=seed + 20_000 + k)
                break
        try:
            t0 = time.perf_counter()
            for _ in range(per):
                set_state(get_state())
            total += time.perf_counter() - t0
            count += per
        except NotImplementedError:
            return None
        if max_seconds is not None and time.perf_counter() - t_budget > max_seconds:
            break
    return 1e6 * total / count if count else None
