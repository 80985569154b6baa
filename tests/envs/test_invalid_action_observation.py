"""After invalid actions, the observation shows the last error only, not a growing pile."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import pytest

import agentprm_gym  # noqa: F401  (registers the ids)
from agentprm_gym.registration import env_ids

from .registry_cases import HAVE_CHROMIUM

CASES = [pytest.param(i, {}, id=i.split("/")[-1]) for i in env_ids(include_browser=False)] + [
    pytest.param("AgentPRM/Browser-v0", {"backend": "static"}, id="Browser-v0-static"),
    pytest.param(
        "AgentPRM/MiniWoB-click-button-v0",
        {},
        id="MiniWoB-click-button-v0",
        marks=[
            pytest.mark.browser,
            pytest.mark.skipif(not HAVE_CHROMIUM, reason="Chromium not installed"),
        ],
    ),
]


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_repeated_invalid_actions_show_only_the_last_error(env_id: str, kwargs: dict[str, Any]):
    env = gym.make(env_id, **kwargs)
    try:
        first, _ = env.reset(seed=0)
        snap = env.get_wrapper_attr("get_state")()
        once, *_ = env.step("bogus[one]")
        for k in range(4):
            obs, r, term, trunc, info = env.step(f"bogus[{k}] again")
            assert info["action_error"] and r == 0.0 and not term
        obs, *_ = env.step("bogus[one]")
        assert obs == once  # the same message on the same page: the same observation
        assert len(obs) < len(first) + 600
        assert obs.count("Invalid action") <= 1
        # the view survives a snapshot taken after an error
        mid = env.get_wrapper_attr("get_state")()
        env.step("bogus[x]")
        env.get_wrapper_attr("set_state")(mid)
        assert env.step("bogus[one]")[0] == once
        env.get_wrapper_attr("set_state")(snap)
        assert env.step("bogus[one]")[0] == once
    finally:
        env.close()
