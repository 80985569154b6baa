"""Async vector envs with Gymnasium's default shared memory, on every text id.

``AsyncVectorEnv`` writes each sub-env's observation into shared memory
through the observation space's charset. Every text id (and Browser-v0's
static backend) is stepped in lockstep as an async and a sync vector env with
valid, invalid, empty and hostile actions: nothing may raise, and every
observation, reward, flag and info must equal the sync env's. With Chromium,
the slow set adds Browser-v0 on a real browser and a MiniWoB task.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import agentprm_gym  # noqa: F401  (registers the ids)
from agentprm_gym.registration import env_ids

HOSTILE = [
    "\n\n\t",
    "\x00\x01\x02 nul and controls \x7f",
    "🙂🙃 ünïcödé ✓ 漢字 \u202eRTL\u202c",
    "\ud800 lone surrogate \udfff",
    "<script>alert(1)</script>\r\n",
    "click[<img src=x onerror=alert(1)>]",
    "search[" + "ä\n" * 3000 + "]",
    "x" * 20_000,  # past every env's max_action_length
    "[[[]]] {{7*7}} __import__('os')",
    "\U0010ffff\U000e0001",
]


def _have_chromium() -> bool:
    from agentprm_gym.commands.list_envs import browser_missing

    return browser_missing() is None


_BROWSER = [
    pytest.mark.slow,  # each sub-env drives its own Chromium
    pytest.mark.browser,
    pytest.mark.skipif(not _have_chromium(), reason="Chromium or Playwright missing"),
]

CASES = [pytest.param(i, {}, id=i.split("/")[-1]) for i in env_ids(include_browser=False)] + [
    pytest.param("AgentPRM/Browser-v0", {"backend": "static"}, id="Browser-v0-static"),
    pytest.param("AgentPRM/Browser-v0", {}, id="Browser-v0-chromium", marks=_BROWSER),
    pytest.param(
        "AgentPRM/MiniWoB-click-checkboxes-v0", {}, id="MiniWoB-click-checkboxes", marks=_BROWSER
    ),
]

NUM_ENVS = 4
STEPS = 14


def _norm(x: Any) -> Any:
    """Vector-env output as plain, comparable Python values."""
    if isinstance(x, dict):
        return {str(k): _norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, np.ndarray):
        return [_norm(v) for v in x.tolist()]
    if isinstance(x, list | tuple):
        return [_norm(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def _actions(t: int, info: dict[str, Any], rng: np.random.Generator) -> list[str]:
    """Per sub-env: valid, invalid, empty or hostile, rotating over the envs and steps."""
    out = []
    for i in range(NUM_ENVS):
        kind = (t + i) % 4
        acts = list(info["admissible_actions"][i]) if "admissible_actions" in info else []
        if kind == 0 and acts:
            out.append(acts[int(rng.integers(len(acts)))])
        elif kind == 1:
            out.append("bogus[action] that no env accepts")
        elif kind == 2:
            out.append("")
        else:
            out.append(HOSTILE[(t * NUM_ENVS + i) % len(HOSTILE)])
    return out


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_async_shared_memory_equals_sync(env_id: str, kwargs: dict[str, Any]) -> None:
    sync = gym.make_vec(env_id, num_envs=NUM_ENVS, vectorization_mode="sync", **kwargs)
    asyn = gym.make_vec(env_id, num_envs=NUM_ENVS, vectorization_mode="async", **kwargs)
    try:
        assert asyn.shared_memory  # the default, the case that used to crash
        s_obs, s_info = sync.reset(seed=3)
        a_obs, a_info = asyn.reset(seed=3)
        assert _norm(a_obs) == _norm(s_obs)
        assert _norm(a_info) == _norm(s_info)
        rng = np.random.default_rng(0)
        kinds_seen = set()
        for t in range(STEPS):
            actions = _actions(t, s_info, rng)
            kinds_seen.update((t + i) % 4 for i in range(NUM_ENVS))
            s_out = sync.step(actions)
            a_out = asyn.step(actions)
            for name, s, a in zip(("obs", "reward", "term", "trunc", "info"), s_out, a_out):
                assert _norm(a) == _norm(s), f"step {t}: {name} differs"
            assert all(asyn.single_observation_space.contains(o) for o in a_out[0])
            s_info = s_out[4]
        assert kinds_seen == {0, 1, 2, 3}
        # the hostile actions came back in the observations (through shared memory)
        errors = [e for e in _norm(s_info).get("action_error", []) if e]
        assert errors, "the last step had no invalid action"
    finally:
        sync.close()
        asyn.close()


def test_hostile_observation_round_trips_through_shared_memory() -> None:
    """An observation holding every hostile string, lone surrogates included, survives."""
    from gymnasium.vector.utils import (
        create_shared_memory,
        read_from_shared_memory,
        write_to_shared_memory,
    )

    from agentprm_gym.core.text_space import TextSpace

    space = TextSpace(max_length=40_000)
    mem = create_shared_memory(space, n=3)
    texts = ["\n".join(HOSTILE)[:40_000], "", "short\nline"]
    for i, text in enumerate(texts):
        write_to_shared_memory(space, i, text, mem)
    assert read_from_shared_memory(space, mem, n=3) == tuple(texts)
    # a shorter string overwrites a longer one cleanly
    write_to_shared_memory(space, 0, "ok", mem)
    assert read_from_shared_memory(space, mem, n=3)[0] == "ok"
    with pytest.raises(ValueError, match="does not fit"):
        write_to_shared_memory(space, 1, "y" * 40_001, mem)
