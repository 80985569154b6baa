from __future__ import annotations

import numpy as np
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory
from agentprm_gym.prm.base import PRM
from agentprm_gym.prm.metrics import (
    auc,
    evaluate_prm,
    mse_vs_mc,
    outcome_auc,
    ranking_accuracy,
    ranking_choices,
)
from agentprm_gym.prm.steps import episode_steps


class TablePRM(PRM):
    """Q looked up by action name."""

    def __init__(self, table, default=0.5):
        super().__init__()
        self.table, self.default = table, default

    def _score(self, items):
        return np.array([self.table.get(it.action, self.default) for it in items])


def test_auc_hand_examples():
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert auc([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    assert auc([0.1, 0.8, 0.9], [1, 0, 0]) == 0.0
    # Ties count one half: all equal scores give 0.5.
    assert auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]) == 0.5
    # One positive tied with one of two negatives: (0.5 + 1) / 2.
    assert auc([0.5, 0.5, 0.2], [1, 0, 0]) == pytest.approx(0.75)
    assert auc([0.3, 0.4], [1, 1]) is None
    assert auc([], []) is None


def test_auc_matches_pairwise_definition():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 5, 40).astype(float)
    y = rng.integers(0, 2, 40)
    pos, neg = s[y == 1], s[y == 0]
    pair = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auc(s, y) == pytest.approx(pair)


def _traj(actions, expert, admissible, won, mc=None):
    steps = [Step(f"obs{t}", a, 0.0, None, admissible, expert) for t, a in enumerate(actions)]
    meta = {"mc_soft": mc} if mc is not None else {}
    return Trajectory(
        "T-v0", 0, "test", "p", "do it", steps, "end", float(won), won, False, 0, meta
    )


def test_ranking_accuracy_with_ties_and_skips():
    eps = episode_steps(
        [
            _traj(["a", "b"], "good", ["good", "bad"], True),
            _traj(["a"], "good", ["good", "meh"], False),
            _traj(["a"], None, ["good", "bad"], False),  # no expert: skipped
            _traj(["a"], "good", ["good"], False),  # one admissible: skipped
        ]
    )
    prm = TablePRM({"good": 0.9, "bad": 0.1, "meh": 0.9})
    acc, n = ranking_accuracy(prm, eps, seed=0)
    assert n == 3
    assert acc == pytest.approx((1 + 1 + 0.5) / 3)
    worse = TablePRM({"good": 0.1, "bad": 0.9, "meh": 0.9})
    assert ranking_accuracy(worse, eps)[0] == 0.0
    assert ranking_accuracy(prm, episode_steps([_traj(["a"], None, ["x", "y"], False)])) == (
        None,
        0,
    )


def test_ranking_accuracy_other_action_is_seeded():
    eps = episode_steps([_traj(["a"] * 30, "good", ["good", "b1", "b2", "b3"], True)])
    prm = TablePRM({"good": 0.5, "b1": 0.9, "b2": 0.1, "b3": 0.1})
    a0 = ranking_accuracy(prm, eps, seed=1)
    assert a0 == ranking_accuracy(prm, eps, seed=1)
    assert 0.0 < a0[0] < 1.0  # some b1 (lost) and some b2/b3 (won) draws
    assert ranking_accuracy(prm, eps, seed=1, max_steps=5)[1] == 5


def test_ranking_choices_are_the_pairs_ranking_accuracy_scores():
    eps = episode_steps(
        [
            _traj(["a"] * 12, "good", ["good", "b1", "b2", "b3"], True),
            _traj(["a"], None, ["good", "b1"], False),  # no expert: skipped
            _traj(["a"] * 9, "good", ["good", "b1", "b2"], False),
        ]
    )
    prm = TablePRM({"good": 0.5, "b1": 0.9, "b2": 0.1, "b3": 0.5})
    for max_steps in (None, 7):
        choices = ranking_choices(eps, seed=3, max_steps=max_steps)
        assert len(choices) == (21 if max_steps is None else 7)
        assert all(c.episode in (0, 2) and c.expert == "good" != c.other for c in choices)
        assert all(c.step < len(eps[c.episode]) for c in choices)
        wins = [
            1.0 if prm.table[c.other] < 0.5 else 0.5 if prm.table[c.other] == 0.5 else 0.0
            for c in choices
        ]
        assert ranking_accuracy(prm, eps, seed=3, max_steps=max_steps) == (
            pytest.approx(np.mean(wins)),
            len(choices),
        )


def test_mse_vs_mc_and_outcome_auc():
    eps = episode_steps(
        [
            _traj(["x", "y"], "x", ["x", "y"], True, mc=[0.5, 1.0]),
            _traj(["x"], "x", ["x", "y"], False, mc=[0.0]),
        ]
    )
    prm = TablePRM({"x": 0.5, "y": 0.8})
    mse, n = mse_vs_mc(prm, eps)
    assert n == 3
    assert mse == pytest.approx((0.0 + 0.04 + 0.25) / 3)
    # Final steps: y (won) scored 0.8 vs x (lost) 0.5.
    assert outcome_auc(prm, eps) == 1.0
    no_mc = episode_steps([_traj(["x"], "x", ["x", "y"], True)])
    assert mse_vs_mc(prm, no_mc) == (None, 0)
    res = evaluate_prm(prm, no_mc)
    assert res["mse_vs_mc"] is None and res["auc"] is None and res["steps"] == 1
