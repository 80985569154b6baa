"""The shaping benchmark on ALFWorld-v0: features, GAE, determinism, and shaped > sparse.

The comparison test trains the same learner (GAE(λ) policy gradient, learner γ =
shaping γ = 0.9) on the sparse and on the oracle-potential-shaped reward for the
same number of env steps, and checks the shaped policy's test success beats the
sparse one's at the same λ and at λ = 1 (plain REINFORCE, the sparse reward's
better setting in ``benchmarks/shaping_reinforce.py``). Measured 2026-11-25 at
its budget (12 000 env steps, seeds 0 and 1): shaped 0.82 / 0.58, sparse
0.00 / 0.00 (λ 0.5) and 0.08 / 0.08 (λ 1); it took 186 s at load average 12 and
56 s (21 s CPU) at load average 8 on 2 cores; about 25 s on an idle machine, so it
stays in the fast set (``make test``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

sr = load_benchmark("shaping_reinforce")

TASK = "pick_and_place_simple"


def test_goal_parts_and_features():
    assert sr.goal_parts("put a clean apple in fridge.") == ({"apple"}, {"fridge"})
    acts = ["go to fridge 1", "take apple 1 from countertop 1", "move apple 1 to fridge 1", "look"]
    phi = sr.action_features(acts, "put a clean apple in fridge.", True, {"fridge 1"})
    phi = phi.reshape(len(acts), len(sr.VERBS), sr.N_INDICATORS)
    v = sr.VERBS.index
    # bias, object, place, holding, holding*object, holding*place, new place
    assert phi[0, v("go")].tolist() == [1, 0, 1, 1, 0, 1, 0]
    assert phi[1, v("take")].tolist() == [1, 1, 0, 1, 1, 0, 0]
    assert phi[2, v("move")].tolist() == [1, 1, 1, 1, 1, 1, 0]
    assert phi[3, v("look")].tolist() == [1, 0, 0, 1, 0, 0, 0]
    assert phi.sum() == phi[[0, 1, 2, 3], [v("go"), v("take"), v("move"), v("look")]].sum()


def test_advantages_by_hand():
    rewards, value, g = [0.0, -0.25, 1.0], np.array([0.2, 0.4, 0.6, 9.0]), 0.5
    # λ = 1: return-to-go minus V(t); returns 0.125, 0.25, 1
    adv, ret = sr.advantages(rewards, value, g, 1.0)
    assert ret == pytest.approx([0.125, 0.25, 1.0])
    assert adv == pytest.approx([0.125 - 0.2, 0.25 - 0.4, 1.0 - 0.6])
    # λ = 0: one-step TD errors, V = 0 after the last step (value[3] is never read)
    adv0, _ = sr.advantages(rewards, value, g, 0.0)
    assert adv0 == pytest.approx([0.0 + 0.5 * 0.4 - 0.2, -0.25 + 0.5 * 0.6 - 0.4, 1.0 - 0.6])
    # λ = 0.5: Σ (γλ)^k δ_{t+k}
    adv5, _ = sr.advantages(rewards, value, g, 0.5)
    d = adv0
    assert adv5 == pytest.approx([d[0] + 0.25 * d[1] + 0.0625 * d[2], d[1] + 0.25 * d[2], d[2]])


def test_training_is_seeded_and_spends_the_budget():
    a = sr.train(True, 300, seed=3, batch=2, lam=0.5, task_type=TASK)
    b = sr.train(True, 300, seed=3, batch=2, lam=0.5, task_type=TASK)
    c = sr.train(False, 300, seed=3, batch=2, lam=0.5, task_type=TASK)
    assert a.env_steps >= 300 and c.env_steps >= 300
    assert a.policy.theta.keys() == b.policy.theta.keys()
    for k in a.policy.theta:
        assert np.array_equal(a.policy.theta[k], b.policy.theta[k])
    # shaping gives a learning signal without any success; the sparse reward gives none
    assert any(np.abs(t).sum() > 0 for t in a.policy.theta.values())
    if c.train_success == 0:
        assert all(np.abs(t).sum() == 0 for t in c.policy.theta.values())


def test_shaped_beats_sparse_on_a_small_budget():
    steps, seeds, n_eval = 12_000, (0, 1), 50

    def success(shaped: bool, lam: float, seed: int) -> float:
        tr = sr.train(shaped, steps, seed=seed, gamma=0.9, lam=lam, task_type=TASK)
        return sr.evaluate(tr.policy, n_eval, seed=seed + 1, task_type=TASK)

    shaped = [success(True, 0.5, s) for s in seeds]
    sparse_same = [success(False, 0.5, s) for s in seeds]
    sparse_mc = [success(False, 1.0, s) for s in seeds]
    best_sparse = max(np.mean(sparse_same), np.mean(sparse_mc))
    assert np.mean(shaped) >= best_sparse + 0.25, (shaped, sparse_same, sparse_mc)
    assert all(x > max(y, z) for x, y, z in zip(shaped, sparse_same, sparse_mc))
