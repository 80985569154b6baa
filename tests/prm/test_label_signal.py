"""benchmarks/prm_label_signal.py: expert-imitation labels and one run of every variant kind."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.webshop_episodes import write_noisy_test_episodes  # noqa: E402

ls = load_benchmark("prm_label_signal")


def _traj(actions, experts):
    steps = [Step(f"obs {i}", a, expert_action=e) for i, (a, e) in enumerate(zip(actions, experts))]
    return Trajectory("AgentPRM/WebShop-v0", 0, "train", "noisy:0.5", "buy it", steps)


def test_expert_labels_mark_the_steps_that_took_the_experts_action():
    t = _traj(
        ["search[a]", "click[b]", "click[buy now]"], ["search[a]", "click[c]", "click[buy now]"]
    )
    assert ls.expert_labels(t) == [1.0, 0.0, 1.0]
    (labelled,) = ls.with_expert_labels([t])
    assert labelled.meta["mc_soft"] == [1.0, 0.0, 1.0] and "mc_soft" not in t.meta


def test_goal_titles_name_the_webshop_goal_product():
    env = gym.make("AgentPRM/WebShop-v0")
    env.reset(seed=0, options={"task_id": 3, "split": "test"})
    title = env.unwrapped.goal.name
    t = Trajectory("AgentPRM/WebShop-v0", 3, "test", "noisy:0.5", "buy it", [Step("o", "a")])
    (named,) = ls.with_goal_titles([t])
    assert named.instruction == f"buy it [goal product] {title}" and t.instruction == "buy it"
    other = Trajectory("AgentPRM/TextCraft-v0", 0, "test", "noisy:0.5", "craft", [Step("o", "a")])
    with pytest.raises(ValueError, match="no goal product"):
        ls.with_goal_titles([other])


def test_expert_labels_need_recorded_expert_actions():
    with pytest.raises(ValueError, match="no expert action"):
        ls.expert_labels(_traj(["search[a]", "click[b]"], ["search[a]", None]))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_noisy_test_episodes(tmp_path_factory.mktemp("signal") / "eps.jsonl")


def test_every_variant_trains_and_ranks_the_same_pairs(data, capsys):
    argv = ["--train", str(data), "--test", str(data), "--variants", "pvm,expert"]
    argv += ["--epochs", "1", "--encoder", "tiny", "--no-progress"]
    assert ls.main(argv) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    pvm, expert = out["variants"]["pvm"], out["variants"]["expert"]
    assert expert["labels"] == "mc" and pvm["labels"] == "pvm"
    assert pvm["pairs"] == expert["pairs"] > 0
    for v in (pvm, expert):
        assert 0.0 <= v["held_out_ranking"] <= 1.0 and v["epochs"] == 1


def test_first_per_task_keeps_the_first_episodes_of_each_task_in_file_order():
    trajs = [
        Trajectory("E", task, "train", "p", "i", [Step("o", "a")], seed=k)
        for k, task in enumerate([0, 1, 0, 0, 1])
    ]
    trajs.insert(1, Trajectory("E", 0, "train", "p", "i", [], seed=9))  # empty: skipped
    assert [t.seed for t in ls.first_per_task(trajs, 2)] == [0, 1, 2, 4]


def test_q_pi_states_label_every_admissible_action_with_its_rollout_value(data):
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.steps import episode_steps

    (traj,) = list(read_trajectories(data))[:1]
    states, values = ls.q_pi_states([traj], rollouts=2, progress=False)
    assert len(states) == sum(1 for s in traj.steps if s.admissible_actions)
    for t, st in enumerate(states):
        assert [it.action for it in st.items] == list(traj.steps[t].admissible_actions)
        assert list(st.mc_soft) == [values[(0, t)][a] for a in traj.steps[t].admissible_actions]
    # buying ends the episode: its value is the reward itself, with no rollout
    last = len(traj.steps) - 1
    assert values[(0, last)][traj.steps[last].action] == traj.final_reward
    # the labels rank pairs as their own values say
    choices = ls.labelled_choices(episode_steps([traj]), values)
    assert choices and 0.0 <= ls.label_ranking(choices, values) <= 1.0


def test_label_ranking_counts_wins_ties_and_skips_unvalued_pairs(data):
    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.metrics import ranking_choices
    from agentprm_gym.prm.steps import episode_steps

    eps = episode_steps(list(read_trajectories(data))[:1])
    choices = ranking_choices(eps, 0)
    first, second = choices[0], choices[1]
    values = {
        (first.episode, first.step): {first.expert: 1.0, first.other: 0.0},
        (second.episode, second.step): {second.expert: 0.5, second.other: 0.5},
    }
    kept = ls.labelled_choices(eps, values)
    assert kept == [first, second]  # every other pair has no values
    assert ls.label_ranking(kept, values) == 0.75


def test_the_qpi_variant_reports_how_its_labels_rank_the_training_pairs(data, capsys):
    argv = ["--train", str(data), "--test", str(data), "--variants", "qpi"]
    argv += ["--epochs", "1", "--encoder", "tiny", "--no-progress", "--qpi-rollouts", "2"]
    assert ls.main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    got = json.loads(out[-1])["variants"]["qpi"]
    assert got["labels"] == "mc" and got["qpi_rollouts"] == 2 and got["qpi_episodes"] == 4
    assert got["qpi_items"] > got["qpi_states"] > 0
    assert 0.0 <= got["label_train_ranking"] <= 1.0 and got["label_train_pairs"] > 0
    assert 0.0 <= got["fit_on_labelled_pairs"] <= 1.0
    assert f"of the {got['label_train_pairs']} with labels both" in out[0]


@pytest.mark.parametrize(
    "bad",
    [["--variants", "nope"], ["--variants", "gae+x"], ["--epochs", "0"], ["--qpi-rollouts", "0"]],
)
def test_bad_arguments_exit_with_a_message(data, bad, capsys):
    with pytest.raises(SystemExit) as e:
        ls.main(["--train", str(data), "--test", str(data), *bad])
    assert e.value.code == 2 and "error:" in capsys.readouterr().err
