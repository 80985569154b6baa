"""``load_prm``: PRM specs."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agentprm_gym.prm import OraclePRM, RandomPRM, load_prm


def test_names():
    env = gym.make("AgentPRM/WebShop-v0")
    p = load_prm("oracle", env=env)
    assert isinstance(p, OraclePRM) and p.env is env
    assert load_prm("oracle:0.5").decay == 0.5
    assert isinstance(load_prm("random"), RandomPRM) and load_prm("random").seed == 0
    assert load_prm("random:7").seed == 7


def test_bad_specs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no PRM directory"):
        load_prm(tmp_path / "missing")
    with pytest.raises(ValueError):
        load_prm("random:x")
    with pytest.raises(ValueError):
        load_prm("oracle:2")
