"""benchmarks/prm_value_fit.py: PRM value against the data's return, per kind of state and step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory, write_trajectories

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

vf = load_benchmark("prm_value_fit")


class _ByAction:
    """Scores each item by its action from a table."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def score(self, items):
        return np.asarray([self.values[it.action] for it in items])


def _traj(steps: list[tuple[str, str | None]], reward: float) -> Trajectory:
    return Trajectory(
        "E",
        0,
        "train",
        "noisy:0.5",
        "buy it",
        [  # WebShop's reward is sparse: the outcome on the last step
            Step(f"o{i}", a, reward=reward if i == len(steps) - 1 else 0.0, expert_action=e)
            for i, (a, e) in enumerate(steps)
        ],
        final_reward=reward,
    )


def test_groups_by_expert_and_taken_kind_with_hand_worked_means(tmp_path):
    data = tmp_path / "d.jsonl"
    write_trajectories(
        data,
        [
            # a "next" state where the result was clicked (return 0.2), then an unrecorded step
            _traj([("click[b0aaa1]", "click[next >]"), ("click[buy now]", None)], 0.2),
            _traj([("click[b0bbb2]", "click[next >]")], 0.4),
            _traj([("click[next >]", "click[next >]")], 0.9),
        ],
    )
    prm = _ByAction(
        {"click[b0aaa1]": 0.5, "click[b0bbb2]": 0.7, "click[next >]": 0.3, "click[buy now]": 0.1}
    )
    rows = vf.value_fit(prm, str(data))
    by = {(r["expert"], r["taken"]): r for r in rows}
    assert set(by) == {("click[…]", "click[<id>]"), ("click[…]", "click[…]")}
    clicked = by[("click[…]", "click[<id>]")]  # 'next >' is too rare here to be its own kind
    assert clicked["steps"] == 2
    assert clicked["prm_mean"] == pytest.approx(0.6)
    assert clicked["return_mean"] == pytest.approx(0.3)
    # GAE targets (γ = 1, λ = 0.95) from the PRM's own values, by hand. The first episode:
    # M = (0.5, 0.1), r = (0, 0.2): δ = (0.1 − 0.5, 0.2 − 0.1) = (−0.4, 0.1),
    # Â_0 = −0.4 + 0.95·0.1 = −0.305, Q̂_0 = 0.195 (the unrecorded step's value counts).
    # The second: one step, Q̂_0 = r_0 = 0.4.
    assert clicked["target_mean"] == pytest.approx((0.195 + 0.4) / 2)
    # λ = 0: Q̂_0 = r_0 + M_1 = 0.1 in the first episode
    td0 = vf.value_fit(prm, str(data), lam=0.0)
    assert td0[0]["target_mean"] == pytest.approx((0.1 + 0.4) / 2)
    paged = by[("click[…]", "click[…]")]
    assert (paged["steps"], paged["prm_mean"], paged["return_mean"]) == (1, 0.3, 0.9)
    assert paged["target_mean"] == pytest.approx(0.9)  # one step: the outcome
    assert vf.value_fit(prm, str(data), min_steps=2) == [clicked]
    assert vf.value_fit(prm, str(data), episodes=1)[0]["steps"] == 1


def test_episodes_without_expert_actions_leave_the_others_aligned(tmp_path):
    """An episode with no recorded expert action between two kept ones shifts nothing.

    Each kept step's value and target must come from its own episode's slice of the
    one ``score`` call; the middle episode is dropped before that call.
    """
    data = tmp_path / "d.jsonl"
    write_trajectories(
        data,
        [
            _traj([("click[b0aaa1]", "click[next >]")], 0.2),
            _traj([("click[buy now]", None), ("click[next >]", None)], 0.7),
            _traj([("click[next >]", "click[next >]"), ("click[buy now]", None)], 0.9),
        ],
    )
    prm = _ByAction({"click[b0aaa1]": 0.5, "click[next >]": 0.3, "click[buy now]": 0.1})
    by = {(r["expert"], r["taken"]): r for r in vf.value_fit(prm, str(data))}
    assert sum(r["steps"] for r in by.values()) == 2
    clicked = by[("click[…]", "click[<id>]")]
    assert (clicked["prm_mean"], clicked["target_mean"]) == (0.5, 0.2)
    # the third episode: M = (0.3, 0.1), r = (0, 0.9): δ = (−0.2, 0.8),
    # Â_0 = −0.2 + 0.95·0.8 = 0.56, Q̂_0 = 0.86
    paged = by[("click[…]", "click[…]")]
    assert paged["prm_mean"] == 0.3
    assert paged["target_mean"] == pytest.approx(0.86)
    assert paged["return_mean"] == 0.9


def test_main_prints_a_json_line_and_refuses_a_missing_prm(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    write_trajectories(data, [_traj([("click[next >]", "click[next >]")], 1.0)])
    assert vf.main(["--prm", "random", "--data", str(data), "--min-steps", "1"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["groups"][0]["prm_mean"] == 0.5 and out["groups"][0]["return_mean"] == 1.0
    assert out["groups"][0]["target_mean"] == 1.0  # one step: its target is the outcome
    assert vf.main(["--prm", str(tmp_path / "nope"), "--data", str(data)]) == 2
    assert "prm_value_fit:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        vf.main(["--prm", "random", "--data", str(data), "--lam", "1.5"])
    assert "--lam and --gamma" in capsys.readouterr().err
