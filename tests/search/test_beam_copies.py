"""Beam search keeps the policy's distribution: copies, shared compute, tie-breaks, the prior."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import EnvSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CorridorEnv  # noqa: E402
from helpers.hash_prm import HashPRM  # noqa: E402

from agentprm_gym.agents import ExpertPolicy, Policy  # noqa: E402
from agentprm_gym.prm import PRM, OraclePRM, RandomPRM  # noqa: E402
from agentprm_gym.search import beam_search, best_of_n  # noqa: E402
from agentprm_gym.search.sampling import count_logprobs, sample_with_logprobs  # noqa: E402
from agentprm_gym.search.scoring import uses_candidate_scoring  # noqa: E402


class ConstantPRM(PRM):
    """The same value for every step: a PRM that tells nothing apart."""

    name = "constant"

    def _score(self, items):
        return np.full(len(items), 0.5)


class Mix(Policy):
    """Proposes ``go[next]`` ``k`` times in ``m`` and ``wait`` otherwise, in a random order.

    Every call of ``n = j·m`` samples holds exactly ``j·k`` ``go[next]``, so the
    policy's distribution is exact at every state.
    """

    name = "mix"

    def __init__(self, k: int, m: int, seed: int | None = None) -> None:
        super().__init__(seed)
        self.k, self.m = k, m

    def _propose(self, observation, info, n):
        if n % self.m:
            return ["go[next]" if self.rng.random() < self.k / self.m else "wait" for _ in range(n)]
        out = (["go[next]"] * self.k + ["wait"] * (self.m - self.k)) * (n // self.m)
        self.rng.shuffle(out)
        return out


class CountingCorridor(CorridorEnv):
    """The corridor, counting its steps."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.n_step = 0

    def step(self, action):
        self.n_step += 1
        return super().step(action)


def corridor(limit: int = 12) -> gym.Env:
    return gym.make(
        EnvSpec(
            id="AgentPRMTest/CopiesCorridor-v0",
            entry_point=CountingCorridor,
            max_episode_steps=limit,
            kwargs={"trap": False},
        )
    )


def _first_actions(policy_factory, prm, beam, expand, seeds, **kw):
    env = corridor()
    return Counter(
        beam_search(env, policy_factory(), prm, beam, expand, seed=s, task_id=0, split="test", **kw)
        .trajectory.steps[0]
        .action
        for s in seeds
    )


@pytest.mark.parametrize("prm_class", [ConstantPRM, RandomPRM])
@pytest.mark.parametrize(("beam", "expand"), [(1, 8), (4, 8)])
def test_copies_keep_their_multiplicity_under_a_constant_prm(beam, expand, prm_class):
    # 7 of the 8 samples are go[next]; the 8 copies of the first step tie and
    # each is a pool entry, so the kept first step is go[next] 7 times in 8
    # (deduplicated, as before: 1 in 2). One step, so the pick is among them.
    # The package's random PRM is this uninformative PRM.
    n = 400
    got = _first_actions(lambda: Mix(7, 8), prm_class(), beam, expand, range(n), max_steps=1)
    share = got["go[next]"] / n
    sd = (7 / 8 * 1 / 8 / n) ** 0.5
    assert abs(share - 7 / 8) < 4 * sd, got


def test_constant_prm_beam_plays_like_the_policy():
    # With a constant PRM, 1xM beam search is one policy sample per step: over
    # a whole episode the step counts match the policy's own geometric law.
    env = corridor(limit=30)
    lengths = []
    for s in range(200):
        res = beam_search(env, Mix(1, 2), ConstantPRM(), 1, 8, seed=s, task_id=0, split="test")
        assert res.won
        lengths.append(len(res.trajectory.steps))
    # 3 rooms at 1/2 per step: 3 + NegBin(3, 1/2) waits, mean 6
    assert np.mean(lengths) == pytest.approx(6.0, abs=0.6)


def test_identical_copies_cost_one_env_step_and_one_prm_item():
    env = corridor()
    base = env.unwrapped
    prm = ConstantPRM()
    res = beam_search(env, ExpertPolicy(), prm, 1, 8, seed=0, task_id=1, split="test")
    rooms = 4
    assert [s.action for s in res.trajectory.steps] == ["go[next]"] * rooms
    assert res.ledger.sampled_actions == 8 * rooms
    assert res.ledger.env_steps == base.n_step == rooms
    assert res.ledger.prm_items == prm.stats.items_scored == rooms
    # 4x4: after the first depth the beam holds 4 copies of one state; they are
    # expanded by one policy call of 16 samples, stepped and scored once.
    prm = ConstantPRM()
    res = beam_search(env, ExpertPolicy(), prm, 4, 4, seed=0, task_id=1, split="test")
    assert res.ledger.policy_calls == rooms
    assert res.ledger.sampled_actions == 4 + 16 * (rooms - 1)
    assert res.ledger.env_steps == res.ledger.prm_items == rooms


def test_two_distinct_actions_cost_two_steps_per_state():
    env = corridor()
    prm = RandomPRM()
    res = beam_search(env, Mix(7, 8), prm, 1, 8, seed=3, task_id=0, split="test")
    # one state expanded per depth, 8 samples, both actions present: 2 steps, 2 items
    depth = len(res.trajectory.steps)
    assert res.ledger.env_steps == res.ledger.prm_items == 2 * depth


def test_prior_picks_the_policys_mode_under_a_constant_prm():
    got = _first_actions(lambda: Mix(5, 8), ConstantPRM(), 1, 8, range(60), prior=1.0)
    assert got == {"go[next]": 60}
    got = _first_actions(lambda: Mix(5, 8), ConstantPRM(), 1, 8, range(60), prior=0.0)
    assert got["wait"] > 0  # without the prior, the minority is kept sometimes


class LogProbPolicy(Mix):
    """A policy that reports its own log π: ``wait`` far likelier than its sample count says."""

    def propose_with_logprobs(self, observation, info, n):
        acts = self.propose(observation, info, n)
        return acts, [-0.1 if a == "wait" else -5.0 for a in acts]


def test_prior_uses_the_policys_own_log_probabilities():
    got = _first_actions(lambda: LogProbPolicy(7, 8), ConstantPRM(), 1, 8, range(20), prior=1.0)
    assert got == {"wait": 20}


def test_sample_with_logprobs_falls_back_to_counts():
    pol = Mix(3, 4, seed=0)
    acts, lps = sample_with_logprobs(pol, "obs", {}, 4)
    assert sorted(acts) == ["go[next]"] * 3 + ["wait"]
    assert lps == count_logprobs(acts)
    assert sorted(lps) == pytest.approx([np.log(1 / 4)] + [np.log(3 / 4)] * 3)

    class NoNumbers(Mix):
        def propose_with_logprobs(self, observation, info, n):
            return self.propose(observation, info, n), None

    acts, lps = sample_with_logprobs(NoNumbers(1, 2, seed=0), "obs", {}, 2)
    assert lps == [np.log(1 / 2)] * 2


def _summary(res):
    return (
        [s.action for s in res.trajectory.steps],
        res.won,
        res.score,
        {k: v for k, v in res.ledger.to_dict().items() if k != "wall_seconds"},
    )


@pytest.mark.parametrize("prior", [0.0, 0.5])
def test_same_seed_same_search_with_ties(prior):
    env = corridor()
    runs = [
        [
            _summary(
                beam_search(env, Mix(1, 2), ConstantPRM(), 3, 4, seed=s, split="test", prior=prior)
            )
            for s in range(6)
        ]
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    assert len({tuple(r[0]) for r in runs[0]}) > 1


def test_best_of_n_breaks_ties_at_random_with_the_seed():
    env = corridor(limit=20)
    firsts = []
    for s in range(40):
        a = best_of_n(env, Mix(1, 2), ConstantPRM(), 8, seed=s, task_id=0, split="test")
        b = best_of_n(env, Mix(1, 2), ConstantPRM(), 8, seed=s, task_id=0, split="test")
        assert _summary(a) == _summary(b)
        firsts.append(len(a.trajectory.steps))
    # the pick is not always the first episode: with ties at random it is a uniform one
    plain = [
        len(
            best_of_n(
                env, Mix(1, 2), ConstantPRM(), 1, seed=s, task_id=0, split="test"
            ).trajectory.steps
        )
        for s in range(40)
    ]
    assert firsts != plain


class GroupedHashPRM(HashPRM):
    """A hash PRM with its own ``score_candidates``, recording each call's candidates."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.groups: list[list[str]] = []

    def score_candidates(self, state, actions):
        self.groups.append(list(actions))
        return super().score_candidates(state, actions)


def test_search_scores_a_states_distinct_candidates_together():
    env = corridor()
    grouped, plain = GroupedHashPRM(2), HashPRM(2)
    assert uses_candidate_scoring(grouped) and not uses_candidate_scoring(plain)
    assert not uses_candidate_scoring(OraclePRM())
    a = beam_search(env, Mix(1, 2), grouped, 2, 4, seed=1, task_id=2, split="test")
    b = beam_search(env, Mix(1, 2), plain, 2, 4, seed=1, task_id=2, split="test")
    assert [s.action for s in a.trajectory.steps] == [s.action for s in b.trajectory.steps]
    assert a.score == b.score and a.ledger.prm_items == b.ledger.prm_items
    assert grouped.groups and all(len(set(g)) == len(g) for g in grouped.groups)
    assert sum(len(g) for g in grouped.groups) == a.ledger.prm_items


def test_bad_prior():
    env = corridor()
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="prior"):
            beam_search(env, ExpertPolicy(), ConstantPRM(), 2, 2, prior=bad)
