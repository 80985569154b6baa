"""What each PRMReward mode adds to a return (``benchmarks/shaping_identities.py``), and the default."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.prm import OraclePRM
from agentprm_gym.wrappers import PRMReward

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

si = load_benchmark("shaping_identities")


def test_the_default_mode_keeps_optimal_policies():
    env = PRMReward(gym.make("AgentPRM/WebShop-v0"), OraclePRM())
    assert env.mode == "potential" and env.gamma == 1.0 and env.coef == 1.0 and not env.replace


def test_six_webshop_episodes():
    gamma = 0.9
    res = si.measure("AgentPRM/WebShop-v0", "noisy:0.5", "oracle", 6, gamma)
    eps = res["episodes"]
    assert len(eps) == 6 and {e["terminated"] for e in eps} == {True, False}
    for e in eps:
        # progress telescopes to the PRM's value of the last step
        assert e["progress_sum"] == pytest.approx(e["q_last"], abs=1e-12)
        # discounted potential shaping: 0 when terminated, gamma^T * Phi(h_T) when truncated
        want = 0.0 if e["terminated"] else gamma ** e["steps"] * e["q_last"]
        assert e["potential_discounted_sum"] == pytest.approx(want, abs=1e-12)
    # promise pays every step: the longest episodes collect the most
    longest = max(eps, key=lambda e: e["steps"])
    shortest = min(eps, key=lambda e: e["steps"])
    assert longest["promise_sum"] > shortest["promise_sum"] + 1.0
    assert res["max_abs_potential_sum_terminated"] < 1e-12
