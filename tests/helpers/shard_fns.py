"""Module-level shard functions for executor tests (worker processes import them by name)."""

from __future__ import annotations

import os
import time

from agentprm_gym.parallel import worker_cache

__all__ = ["square_with_pid", "cached_token", "die_on_3", "sleep_unless_0", "torch_threads"]


def square_with_pid(x: int) -> tuple[int, int, int]:
    """``(x, x*x, pid of the process that ran it)``."""
    return x, x * x, os.getpid()


def cached_token(_: int) -> int:
    """A per-process token built once through :func:`worker_cache`."""
    return worker_cache("made-once", lambda: os.getpid() * 1000 + time.perf_counter_ns() % 1000)


def die_on_3(x: int) -> int:
    """Kill the worker process on shard 3; return ``x`` otherwise."""
    if x == 3:
        os._exit(7)
    return x


def sleep_unless_0(x: int) -> int:
    """Fail on shard 0 at once; sleep a minute on any other (a long shard to cut short)."""
    if x == 0:
        raise ValueError("shard 0 failed")
    time.sleep(60)
    return x


def torch_threads(_: int) -> tuple[int, str | None]:
    """The worker's torch intra-op threads and its ``OMP_NUM_THREADS``."""
    import torch

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
