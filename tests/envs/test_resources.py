"""Long reset/step/close cycles leave no memory growth and no open file descriptors.

Bounds (stated in the README): after a warm-up, 1,000 make/reset/step/close cycles
of a text env grow the process RSS by less than 32 MiB and leave the number of
open file descriptors unchanged. The fast set runs 150 cycles; `make test-all`
runs the full 1,000. Browser ids: 50 cycles (each launching and closing Chromium)
keep the same RSS and file-descriptor bounds for this process and leave no
Chromium process behind; the fast set runs 5 cycles of two ids.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import gymnasium as gym
import pytest

psutil = pytest.importorskip("psutil")

sys.path.insert(0, str(Path(__file__).parent))
from registry_cases import env_params  # noqa: E402

TEXT_IDS = [p for p in env_params() if not any(m.name == "browser" for m in p.marks)]
BROWSER_IDS = [p for p in env_params() if any(m.name == "browser" for m in p.marks)]
RSS_BOUND = 32 * 2**20


def _cycles(env_id: str, n: int) -> None:
    for i in range(n):
        env = gym.make(env_id)
        _, info = env.reset(seed=i)
        for _ in range(3):
            acts = info["admissible_actions"]
            if not acts:
                break
            _, _, term, trunc, info = env.step(acts[i % len(acts)])
            if term or trunc:
                break
        env.close()


def _chromium_pids() -> set[int]:
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in (p.name() or "").lower() and p.status() != psutil.STATUS_ZOMBIE:
                out.add(p.pid)
        except psutil.Error:
            continue
    return out


def _check(env_id: str, n: int, warmup: int = 30) -> None:
    proc = psutil.Process()
    _cycles(env_id, warmup)  # warm-up: caches, indexes, lazy imports
    gc.collect()
    rss0, fds0 = proc.memory_info().rss, proc.num_fds()
    _cycles(env_id, n)
    gc.collect()
    grown = proc.memory_info().rss - rss0
    assert grown < RSS_BOUND, f"RSS grew {grown / 2**20:.1f} MiB over {n} cycles"
    assert proc.num_fds() <= fds0, f"open fds {fds0} -> {proc.num_fds()}"


@pytest.mark.parametrize("env_id", TEXT_IDS)
def test_cycles_fast(env_id):
    _check(env_id, 150)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", TEXT_IDS)
def test_cycles_1000(env_id):
    _check(env_id, 1000)


def _check_browser(env_id: str, n: int) -> None:
    before = _chromium_pids()
    _check(env_id, n, warmup=3)
    left = _chromium_pids() - before
    assert not left, f"Chromium processes left behind: {sorted(left)}"


@pytest.mark.parametrize(
    "env_id", [p for p in BROWSER_IDS if not any(m.name == "slow" for m in p.marks)]
)
def test_browser_cycles_fast(env_id):
    _check_browser(env_id, 5)


@pytest.mark.slow
@pytest.mark.parametrize("env_id", BROWSER_IDS)
def test_browser_cycles_50(env_id):
    _check_browser(env_id, 50)
