"""The ranking-ceiling benchmark (``benchmarks/ranking_ceiling.py``) on WebShop-v0."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentprm_gym.core.trajectory import read_trajectories
from agentprm_gym.prm.loading import load_prm
from agentprm_gym.prm.metrics import (
    action_kind,
    common_arguments,
    ranking_accuracy,
    ranking_by_action,
    ranking_choices,
)
from agentprm_gym.prm.steps import episode_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.hash_prm import HashPRM  # noqa: E402
from helpers.webshop_episodes import write_noisy_test_episodes  # noqa: E402

rc = load_benchmark("ranking_ceiling")


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> Path:
    return write_noisy_test_episodes(tmp_path_factory.mktemp("ceiling") / "test.jsonl")


def test_action_kind_folds_ids_and_rare_arguments():
    common = {"next >"}
    assert action_kind("click[B0ABC12345]", common) == "click[<id>]"
    assert action_kind("click[Next >]", common) == "click[next >]"
    assert action_kind("search[red shoes]", common) == "search[…]"
    assert action_kind("look", common) == "look"
    acts = ["click[next >]"] * 20 + ["click[rare]"] * 3
    assert common_arguments(acts) == {"next >"}


def test_ranking_by_action_splits_the_same_pairs(held_out):
    eps = episode_steps(read_trajectories(held_out))
    prm = HashPRM(1)
    by = ranking_by_action(prm, eps, seed=0)
    acc, n = ranking_accuracy(prm, eps, seed=0)
    assert sum(r["pairs"] for r in by.values()) == n
    mean = sum(r["pairs"] * r["accuracy"] for r in by.values()) / n
    assert mean == pytest.approx(acc)


def test_ceiling_ranks_eval_prm_pairs(held_out):
    res = rc.ceiling(str(held_out), rollouts=3, progress=False)
    pairs = ranking_choices(episode_steps(read_trajectories(held_out)))
    assert res["pairs"] == len(pairs) > 0
    assert res["policy"] == "noisy:0.5" and res["episodes"] == 4
    assert sum(g["pairs"] for g in res["by_expert_action"].values()) == res["pairs"]
    for key in ("reward_q", "success_q"):
        assert 0.0 <= res[key]["accuracy"] <= 1.0
    assert res["env_steps"] > res["policy_samples"] > 0
    # Rolled out by the expert, the expert's action always succeeds, so it never loses
    # a pair on success (the other action can tie when the expert recovers).
    exp = rc.ceiling(str(held_out), rollouts=2, policy="expert", progress=False)
    assert exp["success_q"]["accuracy"] >= 0.5
    # A PRM ranked on the same pairs gets eval-prm's accuracy.
    with_prm = rc.ceiling(str(held_out), rollouts=1, progress=False, prm="random")
    acc, n = ranking_accuracy(load_prm("random"), episode_steps(read_trajectories(held_out)))
    assert with_prm["prm"]["accuracy"] == pytest.approx(acc, abs=1e-4) and n == res["pairs"]
    assert all("prm" in g for g in with_prm["by_expert_action"].values())
    # the same pairs split by both actions' kinds: every pair once, the same ceilings
    for r in (res, with_prm):
        groups = r["by_pair"].values()
        assert sum(g["pairs"] for g in groups) == r["pairs"]
        for key in ("reward_q", "success_q"):
            mean = sum(g["pairs"] * g[key] for g in groups) / r["pairs"]
            assert mean == pytest.approx(r[key]["accuracy"], abs=1e-3)
        assert all(g["median_gap"] >= 0 and len(g["mean_q"]) == 2 for g in groups)
    mean = sum(g["pairs"] * g["prm"] for g in with_prm["by_pair"].values()) / n
    assert mean == pytest.approx(acc, abs=1e-3)
    assert all(" vs " in k for k in res["by_pair"])
    assert rc.ceiling(str(held_out), rollouts=3, progress=False) == {
        **res,
        "wall_seconds": pytest.approx(res["wall_seconds"], abs=1e9),
    }


def test_noisy_accuracy_by_hand():
    # gaps of 1.0 survive a tiny error; equal values tie at 0.5 without one
    pairs = {"a": [(1.0, 0.0), (0.0, 1.0)], "b": [(0.5, 0.5)]}
    assert rc._noisy_accuracy(pairs, 0.0) == pytest.approx((1 + 0 + 0.5) / 3)
    assert rc._noisy_accuracy(pairs, 1e-6) == pytest.approx(0.5, abs=0.1)  # the tie: a coin
    assert rc._noisy_accuracy({"a": [(1.0, 0.0)]}, 1e-6) == 1.0
    # a large error leaves a coin flip
    many = {"a": [(0.51, 0.5)] * 2000}
    assert rc._noisy_accuracy(many, 10.0) == pytest.approx(0.5, abs=0.02)


def test_ceiling_reports_gaps_and_noisy_rankings(held_out):
    res = rc.ceiling(str(held_out), rollouts=3, progress=False, noise=(0.0, 0.05))
    # no error: the reward-valued ceiling itself
    assert res["noisy"]["0"] == pytest.approx(res["reward_q"]["accuracy"], abs=1e-4)
    for g in res["by_expert_action"].values():
        assert g["median_gap"] >= 0.0
        assert g["noisy_0"] == pytest.approx(g["reward_q"], abs=1e-4)
        assert 0.0 <= g["noisy_0.05"] <= 1.0


def test_ceiling_cli_rejects_bad_noise(held_out, capsys):
    for bad, says in (("x", "comma-separated numbers"), ("-0.1", "finite"), ("nan", "finite")):
        with pytest.raises(SystemExit):
            rc.main(["--data", str(held_out), "--rollouts", "1", "--noise", bad])
        assert says in capsys.readouterr().err


def test_ceiling_cli_prints_the_noisy_rankings(held_out, capsys):
    assert (
        rc.main(["--data", str(held_out), "--rollouts", "2", "--noise", "0.05", "--no-progress"])
        == 0
    )
    out = capsys.readouterr().out
    assert "with Gaussian errors of sd 0.05 on every reward-valued Q:" in out
    assert "sd 0.05  median gap" in out


def test_ceiling_cli_prints_the_pairs_by_both_actions(held_out, capsys):
    argv = ["--data", str(held_out), "--rollouts", "1", "--no-progress", "--prm", "random"]
    assert rc.main([*argv, "--by-pair"]) == 0
    out = capsys.readouterr().out
    assert "by both actions (expert's vs other's):" in out
    res = rc.ceiling(str(held_out), rollouts=1, progress=False, prm="random")
    for k, g in res["by_pair"].items():
        assert f"{k[:48]:48s} {g['pairs']:6d}  {g['reward_q']:8.3f}  {g['prm']:.3f}" in out
    assert rc.main(argv) == 0  # without the flag, no such table
    assert "by both actions" not in capsys.readouterr().out


def test_by_pair_groups_name_both_actions_with_their_values(held_out, monkeypatch):
    """With every expert action worth 0.8 and every other 0.3, each group's mean values,
    gap and ceiling are known, and its key names the pair's two action kinds."""
    import numpy as np

    from agentprm_gym.prm import mc
    from agentprm_gym.prm.labels import LabelCost

    def fake_values(env, policy, trajectory, queries, rollouts, seed):
        return {t: [np.full(rollouts, 0.8), np.full(rollouts, 0.3)] for t in queries}, LabelCost()

    monkeypatch.setattr(mc, "mc_action_values", fake_values)
    res = rc.ceiling(str(held_out), rollouts=2, progress=False)
    choices = ranking_choices(episode_steps(read_trajectories(held_out)))
    common = common_arguments([c.expert for c in choices])
    want: dict[str, int] = {}
    for c in choices:
        key = f"{action_kind(c.expert, common)} vs {action_kind(c.other, common)}"
        want[key] = want.get(key, 0) + 1
    assert {k: g["pairs"] for k, g in res["by_pair"].items()} == want
    for g in res["by_pair"].values():
        assert g["mean_q"] == [0.8, 0.3]
        assert g["median_gap"] == pytest.approx(0.5)
        assert g["reward_q"] == 1.0
