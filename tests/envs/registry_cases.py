"""Parametrization helpers shared by the registry-driven env tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import agentprm_gym  # noqa: F401  (registers ids)
from agentprm_gym.registration import ENV_TABLE


def _have_chromium() -> bool:
    from agentprm_gym.envs.browser.launcher import BrowserUnavailableError, chromium_path

    try:
        chromium_path()
    except BrowserUnavailableError:
        return False
    return True


HAVE_CHROMIUM = _have_chromium()


#: Browser ids whose registry tests run in the fast set.
FAST_BROWSER_IDS = ("AgentPRM/Browser-v0", "AgentPRM/MiniWoB-click-button-v0")


def env_params() -> list[Any]:
    """One pytest param per registered id (browser ids marked and skipped without Chromium)."""
    out = []
    for row in ENV_TABLE:
        marks = []
        if row.needs_browser:
            marks += [pytest.mark.browser]
            # A real browser makes each registry test take seconds: the fast set
            # covers the shop site and one MiniWoB task, `make test-all` every id.
            if row.id not in FAST_BROWSER_IDS:
                marks.append(pytest.mark.slow)
            if not HAVE_CHROMIUM:
                marks.append(pytest.mark.skip(reason="Chromium not installed"))
        out.append(pytest.param(row.id, marks=marks, id=row.id.split("/")[-1]))
    return out


def _norm(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, list | tuple):
        return [_norm(v) for v in x]
    if isinstance(x, np.ndarray):
        return _norm(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float):
        return round(x, 9)
    return x if isinstance(x, str | int | bool | type(None)) else repr(x)


def rollout_record(env_id: str, seed: int, steps: int = 20) -> list[Any]:
    """A rollout with a seeded random admissible policy; every obs/reward/info recorded."""
    env = gym.make(env_id)
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    rec: list[Any] = [_norm([obs, info])]
    for _ in range(steps):
        acts = info["admissible_actions"]
        a = acts[int(rng.integers(len(acts)))] if acts and rng.random() < 0.9 else "bogus[act]"
        obs, r, term, trunc, info = env.step(a)
        rec.append(_norm([a, obs, r, term, trunc, info]))
        if term or trunc:
            obs, info = env.reset()
            rec.append(_norm([obs, info]))
    env.close()
    return rec


def rollout_hash(env_id: str, seed: int, steps: int = 20) -> str:
    """sha256 of :func:`rollout_record` as canonical JSON."""
    blob = json.dumps(rollout_record(env_id, seed, steps), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
