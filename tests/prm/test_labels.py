"""Hand-worked examples for every formula in agentprm_gym.prm.labels."""

from __future__ import annotations

import numpy as np
import pytest

from agentprm_gym.prm.labels import (
    LABEL_KINDS,
    LabelCost,
    discounted_returns,
    gae_advantages,
    gae_targets,
    mc_labels,
    outcome_labels,
    pvm_labels,
    td0_targets,
)

# A 3-step episode: M = model values of (s_t, a_t), sparse reward 1 at the end.
M = [0.2, 0.5, 0.7]
R = [0.0, 0.0, 1.0]


def test_three_step_example_by_hand_gamma_09_lambda_05():
    # delta_t = r_t + 0.9 M_{t+1} - M_t with M_3 = 0:
    #   delta_2 = 1 - 0.7 = 0.3; delta_1 = 0.63 - 0.5 = 0.13; delta_0 = 0.45 - 0.2 = 0.25
    # gamma*lambda = 0.45:
    #   A_2 = 0.3; A_1 = 0.13 + 0.45*0.3 = 0.265; A_0 = 0.25 + 0.45*0.265 = 0.36925
    adv = gae_advantages(M, R, gamma=0.9, lam=0.5)
    np.testing.assert_allclose(adv, [0.36925, 0.265, 0.3], atol=1e-12)
    # Q_t = M_t + A_t; the same numbers as the recursive lambda-return
    # Q_t = r_t + g((1-l) M_{t+1} + l Q_{t+1}): Q_1 = 0.9*(0.35 + 0.5) = 0.765,
    # Q_0 = 0.9*(0.25 + 0.3825) = 0.56925.
    np.testing.assert_allclose(gae_targets(M, R, 0.9, 0.5), [0.56925, 0.765, 1.0], atol=1e-12)


def test_gae_lambda_0_is_td0():
    np.testing.assert_allclose(td0_targets(M, R, gamma=0.9), [0.45, 0.63, 1.0], atol=1e-12)
    np.testing.assert_allclose(gae_targets(M, R, 0.9, 0.0), td0_targets(M, R, 0.9), atol=1e-12)


def test_gae_lambda_1_is_monte_carlo_return():
    np.testing.assert_allclose(discounted_returns(R, 0.9), [0.81, 0.9, 1.0], atol=1e-12)
    np.testing.assert_allclose(gae_targets(M, R, 0.9, 1.0), [0.81, 0.9, 1.0], atol=1e-12)
    # gamma = 1 (the default): every step's MC return is the outcome.
    np.testing.assert_allclose(gae_targets(M, R, 1.0, 1.0), [1.0, 1.0, 1.0], atol=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.95, 1.0])
@pytest.mark.parametrize("gamma", [0.9, 1.0])
def test_last_target_is_last_reward(lam, gamma):
    rng = np.random.default_rng(0)
    values = rng.random(6)
    rewards = np.zeros(6)
    rewards[-1] = 0.37
    assert gae_targets(values, rewards, gamma, lam)[-1] == pytest.approx(0.37)
    assert td0_targets(values, rewards, gamma)[-1] == pytest.approx(0.37)


def test_default_gamma_1_lambda_095():
    # gamma=1, lambda=0.95 on M, R: deltas 0.3, 0.2, 0.3; A_2 = 0.3, A_1 = 0.2 + 0.95*0.3 = 0.485,
    # A_0 = 0.3 + 0.95*0.485 = 0.76075.
    np.testing.assert_allclose(gae_advantages(M, R), [0.76075, 0.485, 0.3], atol=1e-12)


def test_consecutive_targets_differ_by_a_share_of_the_advantage():
    """The progress targets of L_A, by hand: Q̂_t − Q̂_{t−1} = (1−γ)·M_t + (1−γλ)·Â_t − r_{t−1}.

    From Q̂_{t−1} = M_{t−1} + Â_{t−1} and Â_{t−1} = r_{t−1} + γ·M_t − M_{t−1} + γλ·Â_t.
    With γ = 1 and sparse rewards it is (1 − λ)·Â_t: at λ = 0.95, 5% of the advantage,
    so L_A asks consecutive values to be nearly equal (docs/prm.md).
    """
    # the default example above: Q̂ = M + Â = (0.96075, 0.985, 1.0)
    q = gae_targets(M, R)
    np.testing.assert_allclose(q, [0.96075, 0.985, 1.0], atol=1e-12)
    np.testing.assert_allclose(np.diff(q), [0.05 * 0.485, 0.05 * 0.3], atol=1e-12)
    # γ = 0.9, λ = 0.5 (the first example): 0.1·0.5 + 0.55·0.265 = 0.19575 and
    # 0.1·0.7 + 0.55·0.3 = 0.235, the differences of (0.56925, 0.765, 1.0)
    np.testing.assert_allclose(np.diff(gae_targets(M, R, 0.9, 0.5)), [0.19575, 0.235], atol=1e-12)
    rng = np.random.default_rng(1)
    values, rewards = rng.random(7), rng.random(7)
    for gamma, lam in [(1.0, 0.95), (0.9, 0.5), (0.99, 0.0), (1.0, 1.0)]:
        q = gae_targets(values, rewards, gamma, lam)
        adv = gae_advantages(values, rewards, gamma, lam)
        want = (1 - gamma) * values[1:] + (1 - gamma * lam) * adv[1:] - rewards[:-1]
        np.testing.assert_allclose(np.diff(q), want, atol=1e-12)


def test_single_step_and_empty_episodes():
    np.testing.assert_allclose(gae_targets([0.4], [1.0]), [1.0])
    np.testing.assert_allclose(td0_targets([0.4], [0.0]), [0.0])
    assert gae_targets([], []).shape == (0,)


def test_shape_errors():
    with pytest.raises(ValueError, match="differ in length"):
        gae_targets([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="1-D"):
        td0_targets([[0.1]], [[1.0]])


def test_pvm_labels_every_step_gets_final_reward():
    np.testing.assert_array_equal(pvm_labels(0.75, 3), [0.75, 0.75, 0.75])
    assert pvm_labels(1.0, 0).shape == (0,)


def test_outcome_labels_and_mask():
    targets, mask = outcome_labels(0.6, 4)
    np.testing.assert_array_equal(targets, [0.0, 0.0, 0.0, 0.6])
    np.testing.assert_array_equal(mask, [False, False, False, True])
    assert mask.dtype == bool
    t0, m0 = outcome_labels(1.0, 0)
    assert t0.shape == m0.shape == (0,)


def test_mc_hard_and_soft():
    # 3 steps x 4 rollouts of final rewards; success = reward >= 1.
    outcomes = [[0, 0, 1, 0], [1, 1, 0, 1], [0, 0.5, 0, 0]]
    np.testing.assert_array_equal(mc_labels(outcomes, "hard"), [1.0, 1.0, 0.0])
    np.testing.assert_allclose(mc_labels(outcomes, "soft"), [0.25, 0.75, 0.0])
    # A lower threshold counts the partial reward 0.5 as a success.
    np.testing.assert_allclose(mc_labels(outcomes, "soft", threshold=0.5), [0.25, 0.75, 0.25])


def test_mc_errors():
    with pytest.raises(ValueError, match="shape"):
        mc_labels([1.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        mc_labels(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="mode"):
        mc_labels([[1.0]], mode="median")


def test_label_cost_arithmetic():
    a = LabelCost(labelled_steps=4, env_steps=40, policy_samples=36, snapshots=16)
    b = LabelCost(
        labelled_steps=6, env_steps=20, policy_samples=24, snapshots=8, rollout_env_steps=6
    )
    c = a + b
    assert c == LabelCost(10, 60, 60, 24, 6)
    assert c.env_steps_per_label == pytest.approx(6.0)
    assert c.policy_samples_per_label == pytest.approx(6.0)
    assert a.env_steps_per_label == pytest.approx(10.0)
    # TD/GAE: labels come from the rollouts themselves.
    td = LabelCost(labelled_steps=10, rollout_env_steps=10)
    assert td.env_steps_per_label == 0.0 and td.policy_samples_per_label == 0.0
    assert LabelCost().env_steps_per_label == 0.0


def test_label_kinds():
    assert set(LABEL_KINDS) == {"gae", "td0", "mc", "pvm", "outcome"}
