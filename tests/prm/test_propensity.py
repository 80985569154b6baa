"""Inverse-propensity weights of the data policy, against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentprm_gym.core.trajectory import Step, Trajectory
from agentprm_gym.prm.propensity import action_propensity, trajectory_weights
from agentprm_gym.prm.training import prm_loss

ACTS = ["click[a]", "click[b]", "click[c]", "click[d]"]


def test_noisy_expert_propensity_by_hand():
    # the expert's action: 0.5 from the expert + 0.5 * 1/4 from the random choice
    assert action_propensity("noisy:0.5", "click[a]", ACTS, "click[a]") == pytest.approx(0.625)
    # any other admissible action: the random choice only
    assert action_propensity("noisy:0.5", "click[b]", ACTS, "click[a]") == pytest.approx(0.125)
    # eps 0.2, an action listed twice among 5: 0.2 * 2/5
    five = [*ACTS, "click[b]"]
    assert action_propensity("noisy:0.2", "click[b]", five, "click[a]") == pytest.approx(0.08)
    # an expert action outside the admissible list (a refined query) has no random share
    assert action_propensity("noisy:0.5", "search[x y]", ACTS, "search[x y]") == pytest.approx(0.5)
    # case and spacing of button names do not matter, as in the env
    assert action_propensity("noisy:0.5", "Click[ A ]", ACTS, "click[a]") == pytest.approx(0.625)


def test_random_and_expert_and_unknown_policies():
    assert action_propensity("random", "click[c]", ACTS, None) == pytest.approx(0.25)
    assert action_propensity("expert", "click[c]", ACTS, "click[c]") == 1.0
    assert action_propensity("expert", "click[b]", ACTS, "click[c]") == 0.0
    # what cannot be known: an LM policy, a noisy step without its expert action,
    # a random step without admissible actions, a malformed spec
    assert action_propensity("hf:smollm2", "click[a]", ACTS, "click[a]") is None
    assert action_propensity("noisy:0.5", "click[a]", ACTS, None) is None
    assert action_propensity("random", "click[a]", [], None) is None
    assert action_propensity("noisy:x", "click[a]", ACTS, "click[a]") is None


def _traj(policy: str, steps: list[tuple[str, str | None]]) -> Trajectory:
    return Trajectory(
        env_id="E",
        task_id=0,
        split="train",
        policy=policy,
        instruction="i",
        steps=[
            Step(observation="o", action=a, reward=0.0, admissible_actions=ACTS, expert_action=e)
            for a, e in steps
        ],
        final_reward=0.0,
        won=False,
    )


def test_trajectory_weights_are_inverse_propensities_clipped_and_1_when_unknown():
    tr = _traj("noisy:0.5", [("click[a]", "click[a]"), ("click[b]", "click[a]"), ("x", "click[a]")])
    # 1/0.625, 1/0.125, and 1 for an action the policy could not have taken
    np.testing.assert_allclose(trajectory_weights(tr), [1.6, 8.0, 1.0])
    np.testing.assert_allclose(trajectory_weights(tr, max_weight=4.0), [1.6, 4.0, 1.0])
    lm = _traj("hf:model", [("click[a]", "click[a]"), ("click[b]", None)])
    np.testing.assert_allclose(trajectory_weights(lm), [1.0, 1.0])


def test_weighted_fit_undoes_a_privileged_policys_confounding():
    """One page the PRM reads, two hidden states it cannot tell apart (equally likely).

    The goal is on the page (h1: clicking earns 1.0) or not (h2: clicking earns 0).
    Leaving earns 0.6 in both. The noisy:0.5 expert clicks in h1 and leaves in h2,
    so the data hold, per 8 episodes: h1 click ×3, h1 leave ×1, h2 click ×1,
    h2 leave ×3. Unweighted, the fit learns click 0.75 > leave 0.6: it ranks
    clicking first even on the wrong page. Weighted by 1/π it learns click 0.5
    (its value averaged over the two states) < leave 0.6, as ``Q^π`` ranks them
    where the expert leaves.
    """
    acts = ["click[item]", "leave[page]"]
    episodes = [("click[item]", "click[item]", 1.0)] * 3 + [("leave[page]", "click[item]", 0.6)]
    episodes += [("click[item]", "leave[page]", 0.0)] + [("leave[page]", "leave[page]", 0.6)] * 3
    trajs = [
        Trajectory(
            env_id="E",
            task_id=0,
            split="train",
            policy="noisy:0.5",
            instruction="i",
            steps=[Step("page", a, g, admissible_actions=acts, expert_action=e)],
            final_reward=g,
            won=g == 1.0,
        )
        for a, e, g in episodes
    ]
    which = torch.tensor([acts.index(a) for a, _, _ in episodes])
    target = torch.tensor([g for _, _, g in episodes])
    weight = torch.tensor(np.concatenate([trajectory_weights(t) for t in trajs]))
    np.testing.assert_allclose(weight.numpy(), [4 / 3] * 3 + [4.0, 4.0] + [4 / 3] * 3)

    def fit(w: torch.Tensor | None) -> list[float]:
        q = torch.zeros(2, requires_grad=True)
        opt = torch.optim.SGD([q], lr=1.0)
        mask = torch.ones(len(target), dtype=torch.bool)
        for _ in range(200):
            loss, _, _ = prm_loss(q[which], target, mask, ~mask, 0.0, weight=w)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return q.detach().tolist()

    assert fit(None) == pytest.approx([0.75, 0.6], abs=1e-4)
    assert fit(weight.float()) == pytest.approx([0.5, 0.6], abs=1e-4)


def test_search_records_and_impossible_policies_have_no_propensity():
    from agentprm_gym.prm.propensity import known_share

    assert action_propensity("noisy:1.5", "click[a]", ACTS, "click[a]") is None
    assert action_propensity("noisy:nan", "click[a]", ACTS, "click[a]") is None
    rollout = _traj("noisy:0.5", [("click[b]", "click[a]")])
    beam = _traj("noisy:0.5", [("click[b]", "click[a]")])
    beam.meta["search"] = "beam4x4"  # the PRM chose this action, not the policy
    plain = _traj("noisy:0.5", [("click[b]", "click[a]")])
    plain.meta["search"] = "policy"  # plain decoding: still the policy's own choice
    np.testing.assert_allclose(trajectory_weights(beam), [1.0])
    np.testing.assert_allclose(trajectory_weights(plain), trajectory_weights(rollout))
    assert known_share([rollout, beam]) == 0.5 and known_share([]) == 0.0
