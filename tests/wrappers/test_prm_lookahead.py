"""PRMLookahead: candidates, scoring, simulation depth, ledgers and check_env."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import corridor_env_spec  # noqa: E402

from agentprm_gym.agents import NoisyExpertPolicy, RandomPolicy  # noqa: E402
from agentprm_gym.prm import OraclePRM, RandomPRM  # noqa: E402
from agentprm_gym.prm.base import PRM  # noqa: E402
from agentprm_gym.wrappers import PRMLookahead  # noqa: E402


class PreferWait(PRM):
    """A text-only PRM that likes 'wait' (to see that the PRM, not the order, decides)."""

    def _score(self, items):
        return np.array([0.9 if it.action == "wait" else 0.2 for it in items])


def test_list_of_candidates_oracle_picks_the_good_one_and_matches_plain_env():
    env = PRMLookahead(gym.make(corridor_env_spec()), OraclePRM())
    twin = gym.make(corridor_env_spec())
    obs, info = env.reset(seed=2)
    twin.reset(seed=2)
    obs, r, term, trunc, info = env.step(["jump[pit]", "wait", "go[next]", "wait"])
    la = info["lookahead"]
    assert la["candidates"] == ["jump[pit]", "wait", "go[next]"]
    assert la["choice"] == "go[next]"
    assert la["scores"][0] == 0.0 and la["scores"][2] == max(la["scores"])
    led = la["ledger"]
    # 3 simulated + 1 executed; snapshots: get + 2 set (candidates) + restore, plus the oracle's
    assert led["env_steps"] == 4 and led["prm_calls"] == 1 and led["prm_items"] == 3
    assert led["snapshots"] >= 4 and "wall_seconds" not in led
    o2, r2, t2, _, i2 = twin.step("go[next]")
    assert (obs, r, term) == (o2, r2, t2)
    assert info["admissible_actions"] == i2["admissible_actions"]
    assert env.ledger.env_steps == 4 and env.ledger.wall_seconds > 0


def test_single_str_is_executed_and_scored():
    env = PRMLookahead(gym.make(corridor_env_spec()), OraclePRM())
    env.reset(seed=0)
    *_, info = env.step("wait")
    assert info["lookahead"]["choice"] == "wait" and len(info["lookahead"]["scores"]) == 1


def test_empty_action_uses_admissible_or_policy_and_text_prm_steps_nothing():
    env = PRMLookahead(gym.make(corridor_env_spec()), PreferWait())
    _, info0 = env.reset(seed=0)
    *_, info = env.step("")
    assert info["lookahead"]["candidates"] == info0["admissible_actions"]
    assert info["lookahead"]["choice"] == "wait"
    assert info["lookahead"]["ledger"]["env_steps"] == 1  # text PRM at depth 0: no simulation
    assert info["lookahead"]["ledger"]["snapshots"] == 0
    pol = RandomPolicy(seed=0)
    env = PRMLookahead(gym.make(corridor_env_spec()), PreferWait(), policy=pol, n=5)
    env.reset(seed=0)
    *_, info = env.step([])
    assert info["lookahead"]["ledger"]["sampled_actions"] == 5
    assert info["lookahead"]["ledger"]["policy_calls"] == 1
    assert set(info["lookahead"]["candidates"]) <= set(info0["admissible_actions"])


def test_depth_simulation_sees_past_a_myopic_prm():
    """A PRM that loves 'wait' steps; with depth, 'go[next]' leads to a winning leaf (oracle)."""
    env = PRMLookahead(gym.make(corridor_env_spec()), OraclePRM(), depth=1)
    env.reset(seed=0, options={"task_id": 0, "split": "train"})  # 2 rooms
    *_, info = env.step(["wait", "go[next]"])
    la = info["lookahead"]
    assert la["choice"] == "go[next]"
    # go[next] then PRM-greedy go[next] wins (leaf value 1); wait then go[next] does not
    assert la["scores"] == [pytest.approx(0.9), 1.0]
    # PRM-greedy simulation tries every admissible action (3 in room 0, 4 later) and takes one
    assert la["ledger"]["env_steps"] == (1 + 3 + 1) + (1 + 4 + 1) + 1
    # with a policy for simulation the policy is called once per simulated step
    pol = NoisyExpertPolicy(0.0)
    env = PRMLookahead(gym.make(corridor_env_spec()), OraclePRM(), policy=pol, depth=3)
    env.reset(seed=0, options={"task_id": 3, "split": "train"})  # 5 rooms
    *_, info = env.step(["wait", "go[next]"])
    assert info["lookahead"]["ledger"]["policy_calls"] == 6
    assert info["lookahead"]["ledger"]["env_steps"] == 2 * 4 + 1


def test_whole_episodes_solve_alfworld_with_admissible_candidates():
    env = PRMLookahead(gym.make("AgentPRM/ALFWorld-v0"), OraclePRM())
    for seed in range(2):
        env.reset(seed=seed)
        done = False
        steps = 0
        while not done:
            _, r, term, trunc, info = env.step([])
            done = term or trunc
            steps += 1
        assert info["won"] and r == 1.0


def test_step_limit_respected_in_simulation():
    pol = NoisyExpertPolicy(0.0)
    env = PRMLookahead(gym.make(corridor_env_spec(max_episode_steps=3)), OraclePRM(), pol, depth=10)
    env.reset(seed=0, options={"task_id": 3, "split": "test"})  # 6 rooms: unreachable in 3
    *_, info = env.step(["go[next]"])
    assert info["lookahead"]["ledger"]["env_steps"] == 3 + 1  # 1 + 2 simulated, then executed
    assert info["lookahead"]["ledger"]["policy_calls"] == 2
    *_, info = env.step(["go[next]"])  # one step used: 2 left, 1 simulated
    assert info["lookahead"]["ledger"]["env_steps"] == 2 + 1


def test_bad_actions_and_args():
    env = PRMLookahead(gym.make(corridor_env_spec()), RandomPRM())
    with pytest.raises(gym.error.ResetNeeded):
        env.step("wait")
    env.reset(seed=0)
    with pytest.raises(TypeError):
        env.step(3)
    with pytest.raises(ValueError):
        PRMLookahead(gym.make(corridor_env_spec()), RandomPRM(), n=0)
    with pytest.raises(ValueError):
        PRMLookahead(gym.make(corridor_env_spec()), RandomPRM(), depth=-1)


def test_check_env():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(
            PRMLookahead(gym.make("AgentPRM/WebShop-v0"), OraclePRM()), skip_render_check=True
        )
        check_env(
            PRMLookahead(gym.make(corridor_env_spec()), RandomPRM(), depth=2),
            skip_render_check=True,
        )
