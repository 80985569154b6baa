"""Search results are identical in two fresh interpreters (same seeds)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = r"""
import hashlib, json, sys
import gymnasium as gym
import agentprm_gym
from agentprm_gym.agents import NoisyExpertPolicy
from agentprm_gym.prm import OraclePRM, RandomPRM
from agentprm_gym.search import beam_search, best_of_n

env_id, method, prm_name = sys.argv[1:4]
env = gym.make(env_id)
out = []
for task in range(3):
    prm = OraclePRM() if prm_name == "oracle" else RandomPRM()
    pol = NoisyExpertPolicy(0.5)
    if method == "beam":
        r = beam_search(env, pol, prm, beam=2, expand=3, seed=task, task_id=task, split="test")
    else:
        r = best_of_n(env, pol, prm, n=4, seed=task, task_id=task, split="test")
    t = r.trajectory
    out.append([r.reward, r.won, [(s.observation, s.action, s.reward) for s in t.steps],
                t.final_observation])
print(hashlib.sha256(json.dumps(out).encode()).hexdigest())
"""


def _hash(args: list[str], hashseed: str) -> str:
    import os

    env = dict(os.environ, PYTHONHASHSEED=hashseed)
    out = subprocess.run(
        [sys.executable, "-c", CODE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "args",
    [
        ["AgentPRM/WebShop-v0", "beam", "random"],
        ["AgentPRM/ALFWorld-v0", "beam", "oracle"],
        ["AgentPRM/WebShop-v0", "bon", "random"],
    ],
    ids=lambda a: "-".join(a).replace("AgentPRM/", ""),
)
def test_search_trajectory_hash_is_identical_across_processes(args):
    assert _hash(args, "1") == _hash(args, "2")
