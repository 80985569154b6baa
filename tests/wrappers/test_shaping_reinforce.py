"""The REINFORCE shaping benchmark's machinery (features, determinism) on ALFWorld-v0.

The benchmark's comparison itself (shaped vs sparse success) is measured by
``benchmarks/shaping_reinforce.py``; in its measured runs the potential shaping
did not beat the sparse reward, so no test asserts that it does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "shaping_reinforce.py"
_spec = importlib.util.spec_from_file_location("shaping_reinforce", _PATH)
sr = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("shaping_reinforce", sr)  # dataclasses look their module up
_spec.loader.exec_module(sr)


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


def test_training_is_seeded_and_spends_the_budget():
    a = sr.train(True, 300, seed=3, batch=2)
    b = sr.train(True, 300, seed=3, batch=2)
    c = sr.train(False, 300, seed=3, batch=2)
    assert a.env_steps >= 300 and c.env_steps >= 300
    assert a.policy.theta.keys() == b.policy.theta.keys()
    for k in a.policy.theta:
        assert np.array_equal(a.policy.theta[k], b.policy.theta[k])
    # shaping gives a learning signal without any success; the sparse reward gives none
    assert any(np.abs(t).sum() > 0 for t in a.policy.theta.values())
    if c.train_success == 0:
        assert all(np.abs(t).sum() == 0 for t in c.policy.theta.values())
