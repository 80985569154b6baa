"""Searches in lockstep: every task gets what it gets alone, with fewer, larger PRM calls."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CorridorEnv  # noqa: E402
from helpers.hash_prm import HashPRM  # noqa: E402
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402

from agentprm_gym.agents import NoisyExpertPolicy  # noqa: E402
from agentprm_gym.prm import OraclePRM  # noqa: E402
from agentprm_gym.prm.state_model import StatePRM  # noqa: E402
from agentprm_gym.prm.steps import episode_steps  # noqa: E402
from agentprm_gym.search import (  # noqa: E402
    beam_search,
    beam_search_lockstep,
    best_of_n,
    best_of_n_lockstep,
)
from agentprm_gym.search.beam import beam_steps  # noqa: E402
from agentprm_gym.search.driver import can_lockstep, run_lockstep  # noqa: E402
from agentprm_gym.search.handle import EnvHandle  # noqa: E402

SEEDS = list(range(6))


def _corridor() -> gym.Env:
    spec = EnvSpec(
        id="AgentPRMTest/LockstepCorridor-v0", entry_point=CorridorEnv, max_episode_steps=10
    )
    return gym.make(spec)


def _what(res):
    """What a search chose and spent, but its seconds (lockstep splits shared calls' time).

    Its PRM calls stay: a search takes part in one shared call per round, as many as
    the calls it makes alone.
    """
    led = res.ledger.to_dict()
    del led["wall_seconds"]
    steps = [(s.action, s.observation, s.reward) for s in res.trajectory.steps]
    return steps, res.reward, res.won, res.score, led


def _alone(method, prm, policy, **kw):
    env = _corridor()
    out = []
    for s in SEEDS:
        if method == "beam":
            out.append(beam_search(env, policy, prm, 3, 2, seed=s, split="test", **kw))
        else:
            out.append(best_of_n(env, policy, prm, 4, seed=s, split="test", **kw))
    return out


def _together(method, prm, policy, **kw):
    env = _corridor()  # one env for all the searches
    if method == "beam":
        return beam_search_lockstep(env, policy, prm, 3, 2, seeds=SEEDS, split="test", **kw)
    return best_of_n_lockstep(env, policy, prm, 4, seeds=SEEDS, split="test", **kw)


@pytest.mark.parametrize("method", ["beam", "bon"])
def test_lockstep_gives_each_task_what_it_gets_alone(method):
    prm_a, prm_b = HashPRM(3), HashPRM(3)
    alone = _alone(method, prm_a, NoisyExpertPolicy(0.6))
    t0 = time.perf_counter()
    together = _together(method, prm_b, NoisyExpertPolicy(0.6))
    elapsed = time.perf_counter() - t0
    assert [_what(r) for r in together] == [_what(r) for r in alone]
    assert len({tuple(a for a, _, _ in _what(r)[0]) for r in alone}) > 1  # tasks differ
    # fewer, larger calls: one per round, each holding several tasks' steps
    assert prm_b.stats.items_scored == prm_a.stats.items_scored
    rounds = max(r.ledger.prm_calls for r in together)
    assert prm_b.stats.calls == rounds < prm_a.stats.calls
    if method == "bon":
        assert prm_b.stats.calls == 1 and all(r.ledger.prm_calls == 1 for r in together)
    # each search's seconds: its own work plus its items' share of the shared calls
    assert 0 < sum(r.ledger.wall_seconds for r in together) <= elapsed


def test_lockstep_with_the_state_prm_matches_alone_up_to_rounding():
    eps = episode_steps(corridor_trajectories(range(6), 3, eps=0.5, seed=3))
    corpus = [f"{i.history[-1]} {i.action} {i.instruction}" for e in eps for i in e.items]

    def prm():
        return StatePRM.create("tiny", tiny_corpus=corpus, seed=0, step_limit=10, d=32, heads=4)

    alone = _alone("beam", prm(), NoisyExpertPolicy(0.6))
    together = _together("beam", prm(), NoisyExpertPolicy(0.6))
    assert [_what(r)[0] for r in together] == [_what(r)[0] for r in alone]
    np.testing.assert_allclose(
        [r.score for r in together], [r.score for r in alone], rtol=0, atol=1e-6
    )


def test_per_task_policy_seeds_and_task_ids():
    env = _corridor()
    pol = NoisyExpertPolicy(0.6)
    kw = {"split": "test", "task_ids": [2, 2, 5], "policy_seeds": [7, 8, 7]}
    together = beam_search_lockstep(env, pol, HashPRM(1), 2, 3, seeds=[0, 1, 2], **kw)
    for r, s, t, p in zip(together, [0, 1, 2], [2, 2, 5], [7, 8, 7]):
        one = beam_search(
            env, pol, HashPRM(1), 2, 3, seed=s, task_id=t, policy_seed=p, split="test"
        )
        assert _what(r) == _what(one)
        assert r.trajectory.task_id == t


class SeedOnly:
    """A policy that can be seeded but keeps its randomness out of lockstep's reach."""

    name = "seed-only"

    def __init__(self) -> None:
        self._rng = np.random.default_rng(0)

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def propose(self, observation, info, n):
        acts = info["admissible_actions"]
        return [acts[int(i)] for i in self._rng.integers(0, len(acts), size=n)]


class Deterministic:
    """No randomness at all, and nothing to seed."""

    name = "always-next"

    def propose(self, observation, info, n):
        return ["go[next]" if len(info.get("history", ())) % 3 else "wait"] * n


class OwnCandidates(HashPRM):
    """A PRM with its own ``score_candidates`` (search calls it once per state)."""

    def score_candidates(self, state, actions):
        return super().score_candidates(state, actions)


def test_what_cannot_share_calls_runs_alone_with_the_same_results():
    assert not can_lockstep(NoisyExpertPolicy(0.5), OraclePRM())  # reads each snapshot
    assert not can_lockstep(SeedOnly(), HashPRM(0))
    assert can_lockstep(NoisyExpertPolicy(0.5), HashPRM(0))
    assert can_lockstep(Deterministic(), HashPRM(0))  # nothing to keep apart
    for prm_a, prm_b, pol in [
        (OraclePRM(), OraclePRM(), NoisyExpertPolicy(0.6)),
        (HashPRM(2), HashPRM(2), SeedOnly()),
    ]:
        alone = _alone("beam", prm_a, pol)
        together = _together("beam", prm_b, pol)
        assert [_what(r) for r in together] == [_what(r) for r in alone]
        assert prm_b.stats.calls == prm_a.stats.calls  # nothing was merged


def test_bad_arguments():
    env, pol = _corridor(), NoisyExpertPolicy(0.5)
    with pytest.raises(ValueError, match="one entry per task"):
        beam_search_lockstep(env, pol, HashPRM(0), seeds=[0, 1], task_ids=[0])
    with pytest.raises(ValueError, match="beam and expand"):
        beam_search_lockstep(env, pol, HashPRM(0), 0, 2, seeds=[0])
    with pytest.raises(ValueError, match="n must be"):
        best_of_n_lockstep(env, pol, HashPRM(0), 0, seeds=[0])
    assert beam_search_lockstep(env, pol, HashPRM(0), seeds=[]) == []


def test_a_policy_with_nothing_to_seed_and_a_prm_scoring_per_state():
    prm_a, prm_b = HashPRM(4), HashPRM(4)
    alone = _alone("beam", prm_a, Deterministic())
    together = _together("beam", prm_b, Deterministic())
    assert [_what(r) for r in together] == [_what(r) for r in alone]
    assert prm_b.stats.calls < prm_a.stats.calls  # shared
    prm_a, prm_b = OwnCandidates(4), OwnCandidates(4)
    alone = _alone("beam", prm_a, NoisyExpertPolicy(0.6))
    together = _together("beam", prm_b, NoisyExpertPolicy(0.6))
    assert [_what(r) for r in together] == [_what(r) for r in alone]
    # one call per state either way: nothing to merge, each search's calls its own
    assert prm_b.stats.calls == prm_a.stats.calls == sum(r.ledger.prm_calls for r in together)


def test_the_policy_ends_with_the_last_searchs_generator():
    # the last search ends first (one depth), while the others still run
    kw = {"seeds": [0, 2, 1], "task_ids": [3, 0, 7], "split": "test"}
    pol_a, pol_b = NoisyExpertPolicy(0.6), NoisyExpertPolicy(0.6)
    env = _corridor()
    for s, t in zip(kw["seeds"], kw["task_ids"]):
        beam_search(env, pol_a, HashPRM(1), 2, 2, seed=s, task_id=t, split="test")
    got = beam_search_lockstep(env, pol_b, HashPRM(1), 2, 2, **kw)
    depths = [r.ledger.prm_calls for r in got]
    assert depths[-1] < max(depths)  # so the last search to advance was another one
    assert pol_a.rng.random() == pol_b.rng.random()


def test_unseeded_searches_draw_from_generators_of_their_own():
    """An unseeded search's draws do not depend on the searches beside it."""

    def run(k):
        pol = NoisyExpertPolicy(0.6, seed=5)
        got = beam_search_lockstep(
            _corridor(), pol, HashPRM(1), 2, 3, seeds=[None] * k, task_ids=[1] * k, split="test"
        )
        return [[s.action for s in r.trajectory.steps] for r in got]

    two, four = run(2), run(4)
    assert four[:2] == two  # a shared generator would interleave the four searches' draws
    assert len({tuple(t) for t in four}) > 1  # the same task, each search its own draws


def test_an_error_closes_every_search():
    class Failing(HashPRM):
        def _score(self, items):
            raise RuntimeError("the PRM broke")

    env, pol = _corridor(), NoisyExpertPolicy(0.6)
    searches = []
    for seed in range(3):
        handle = EnvHandle(env)
        steps = beam_steps(handle, pol, 2, 2, 0.0, seed, None, "test", 10, None)
        searches.append((steps, handle))
    with pytest.raises(RuntimeError, match="the PRM broke"):
        run_lockstep(searches, pol, Failing(0))
    assert all(steps.gi_frame is None for steps, _ in searches)  # closed, none left hanging
    assert pol.rng is not None
