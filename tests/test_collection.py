"""Rollout collection: deterministic seeds, worker-count independence, resume, datasets loading."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from agentprm_gym.collection import (
    ResumeMismatchError,
    collect,
    episode_seed,
    mc_label_file,
    plan_episodes,
)
from agentprm_gym.core.trajectory import read_trajectories

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.chain_env import CORRIDOR_ID, corridor_env_spec  # noqa: E402

SPEC = corridor_env_spec(max_episode_steps=10)


def _lines(path):
    return set(Path(path).read_text().splitlines())


def _collect(out, **kw):
    args = dict(env=SPEC, tasks=4, per_task=3, seed=7, show_progress=False, fsync=False)
    args.update(kw)
    return collect(CORRIDOR_ID, "noisy:0.5", out, **args)


def test_plan_seeds_are_deterministic_and_distinct():
    jobs = plan_episodes(SPEC, "random", "train", range(5), per_task=4, seed=3)
    assert len(jobs) == 20
    assert [j.seed for j in jobs] == [
        j.seed for j in plan_episodes(SPEC, "random", "train", range(5), 4, 3)
    ]
    assert len({j.seed for j in jobs}) == 20
    assert len({j.policy_seed for j in jobs} | {j.seed for j in jobs}) == 40
    assert jobs[5].seed == episode_seed(3, 1, 1)
    assert episode_seed(4, 1, 1) != episode_seed(3, 1, 1)
    with pytest.raises(ValueError):
        plan_episodes(SPEC, "random", "train", range(2), per_task=0)


def test_records_keys_and_meta(tmp_path):
    res = _collect(tmp_path / "a.jsonl")
    assert res.episodes_written == 12 and res.episodes_skipped == 0
    trajs = list(read_trajectories(tmp_path / "a.jsonl"))
    assert sorted((t.task_id, t.meta["k"]) for t in trajs) == [
        (t, k) for t in range(4) for k in range(3)
    ]
    assert res.env_steps == sum(len(t.steps) for t in trajs)
    for t in trajs:
        assert t.env_id == CORRIDOR_ID and t.split == "train" and t.policy == "noisy:0.5"
        assert t.seed == episode_seed(7, t.task_id, t.meta["k"])
        assert set(t.meta) == {"k", "collect_seed", "policy_seed"}
        assert all(s.expert_action == "go[next]" for s in t.steps)
    noexp = _collect(tmp_path / "b.jsonl", record_expert=False)
    assert noexp.episodes_written == 12
    assert all(
        s.expert_action is None for t in read_trajectories(tmp_path / "b.jsonl") for s in t.steps
    )
    # Same records apart from the expert column.
    assert _lines(tmp_path / "a.jsonl") != _lines(tmp_path / "b.jsonl")


def test_same_records_with_two_worker_processes(tmp_path):
    _collect(tmp_path / "one.jsonl", mc_rollouts=3)
    res = _collect(tmp_path / "two.jsonl", mc_rollouts=3, workers=2)
    assert res.executor == "processes:2"
    assert _lines(tmp_path / "one.jsonl") == _lines(tmp_path / "two.jsonl")


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path):
    full = tmp_path / "full.jsonl"
    _collect(full)
    part = tmp_path / "part.jsonl"
    lines = full.read_text().splitlines()
    # A killed writer: 5 complete records and a torn sixth.
    part.write_text("\n".join(lines[:5]) + "\n" + lines[5][: len(lines[5]) // 2])
    with pytest.warns(UserWarning, match="incomplete last line"):
        res = _collect(part)
    assert res.episodes_skipped == 5 and res.episodes_written == 7
    assert _lines(part) == _lines(full)
    again = _collect(part)
    assert again.episodes_written == 0 and again.episodes_skipped == 12
    assert len(part.read_text().splitlines()) == 12


def test_resume_refuses_other_meta_settings(tmp_path):
    out = tmp_path / "a.jsonl"
    _collect(out, tasks=1, per_task=1)
    with pytest.raises(ResumeMismatchError, match="meta keys"):
        _collect(out, tasks=1, per_task=1, mc_rollouts=2)


def test_mc_meta_and_cost_summary(tmp_path):
    out = tmp_path / "mc.jsonl"
    res = _collect(out, mc_rollouts=4)
    trajs = list(read_trajectories(out))
    for t in trajs:
        assert len(t.meta["mc_soft"]) == len(t.meta["mc_hard"]) == len(t.steps)
        assert t.meta["mc_rollouts"] == 4
        assert all(h >= s for s, h in zip(t.meta["mc_soft"], t.meta["mc_hard"]))
        # The last step of a finished episode is labelled with its own outcome.
        if not t.truncated:
            assert t.meta["mc_soft"][-1] == (1.0 if t.won else 0.0)
    d = res.to_dict()
    assert d["mc_extra_env_steps"] == sum(t.meta["mc_env_steps"] for t in trajs)
    assert d["labelled_steps"] == d["rollout_env_steps"] == res.env_steps
    assert d["td_extra_env_steps"] == 0
    assert d["mc_over_td_env_steps"] > 1
    json.dumps(d)


def test_mc_label_file_matches_labels_made_while_collecting(tmp_path):
    plain = tmp_path / "plain.jsonl"
    _collect(plain)
    labelled = tmp_path / "labelled.jsonl"
    res = mc_label_file(plain, labelled, "noisy:0.5", 3, seed=1, env=SPEC, show_progress=False)
    assert res.episodes_written == 12
    again = mc_label_file(plain, labelled, "noisy:0.5", 3, seed=1, env=SPEC, show_progress=False)
    assert again.episodes_written == 0 and again.episodes_skipped == 12
    by_key = {t.key: t for t in read_trajectories(labelled)}
    src = {t.key: t for t in read_trajectories(plain)}
    assert by_key.keys() == src.keys()
    for k, t in by_key.items():
        assert t.steps == src[k].steps
        assert len(t.meta["mc_soft"]) == len(t.steps)
    assert res.mc_cost.env_steps == sum(t.meta["mc_env_steps"] for t in by_key.values())


@pytest.mark.parametrize("mc", [0, 2])
def test_datasets_loads_collected_file_without_conversion(tmp_path, mc):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "d.jsonl"
    _collect(out, mc_rollouts=mc, record_expert=mc == 0)
    ds = datasets.Dataset.from_json(str(out), cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == 12
    row = ds[0]
    assert row["schema"] == "agentprm-gym/trajectory" and row["env_id"] == CORRIDOR_ID
    assert isinstance(row["steps"], list) and "action" in row["steps"][0]
    if mc:
        assert len(row["meta"]["mc_soft"]) == len(row["steps"])


@pytest.mark.parametrize(
    "other,msg",
    [
        (dict(seed=8), "--seed 7, not 8"),
        (dict(record_expert=False), "--no-expert"),
    ],
)
def test_resume_refuses_another_seed_or_expert_setting(tmp_path, other, msg):
    out = tmp_path / "a.jsonl"
    _collect(out, tasks=2, per_task=1)
    before = out.read_text()
    with pytest.raises(ResumeMismatchError, match=msg):
        _collect(out, tasks=2, per_task=1, **other)
    assert out.read_text() == before  # nothing appended


def test_resume_refuses_expert_actions_into_a_no_expert_file(tmp_path):
    out = tmp_path / "a.jsonl"
    _collect(out, tasks=2, per_task=1, record_expert=False)
    with pytest.raises(ResumeMismatchError, match="add --no-expert"):
        _collect(out, tasks=2, per_task=1)


def test_resume_refuses_another_mc_n(tmp_path):
    out = tmp_path / "a.jsonl"
    _collect(out, tasks=1, per_task=1, mc_rollouts=2)
    with pytest.raises(ResumeMismatchError, match="--mc 2, not 3"):
        _collect(out, tasks=1, per_task=1, mc_rollouts=3)
    # More tasks and episodes with the same settings extend the collection.
    assert _collect(out, tasks=2, per_task=2, mc_rollouts=2).episodes_skipped == 1


def _label(data, out, policy="noisy:0.5", n=2, **kw):
    args = dict(seed=1, env=SPEC, show_progress=False, fsync=False)
    args.update(kw)
    return mc_label_file(data, out, policy, n, **args)


@pytest.fixture
def plain(tmp_path):
    path = tmp_path / "plain.jsonl"
    _collect(path, tasks=2, per_task=1)
    return path


@pytest.mark.parametrize(
    "other,msg",
    [
        (dict(n=3), "N=2, not N=3"),
        (dict(policy="random"), "policy 'noisy:0.5', not 'random'"),
        (dict(policy="expert"), "policy 'noisy:0.5', not 'expert'"),
        (dict(seed=2), "another --seed"),
    ],
)
def test_mc_label_resume_refuses_other_labelling_settings(plain, tmp_path, other, msg):
    out = tmp_path / "mc.jsonl"
    assert _label(plain, out).episodes_written == 2
    before = out.read_text()
    with pytest.raises(ResumeMismatchError, match=msg):
        _label(plain, out, **other)
    assert out.read_text() == before
    assert all(t.meta["mc_policy"] == "noisy:0.5" for t in read_trajectories(out))
    again = _label(plain, out, policy="noisy:0.50")  # the same policy: resumed
    assert again.episodes_written == 0 and again.executor == "none"


def test_mc_label_resume_refuses_episodes_of_another_input(plain, tmp_path):
    out = tmp_path / "mc.jsonl"
    _label(plain, out)
    other = tmp_path / "other.jsonl"  # the same keys (seed, tasks), another policy
    collect(CORRIDOR_ID, "random", other, env=SPEC, tasks=2, per_task=1, seed=7)
    with pytest.raises(ResumeMismatchError, match="not in"):
        _label(other, out)


def test_mc_label_resumes_a_file_written_before_mc_policy(plain, tmp_path):
    out = tmp_path / "mc.jsonl"
    _label(plain, out)
    lines = out.read_text().splitlines()
    old = []
    for line in lines[:1]:  # a file from before the key existed, cut short
        rec = json.loads(line)
        del rec["meta"]["mc_policy"]
        old.append(json.dumps(rec))
    out.write_text("\n".join(old) + "\n")
    res = _label(plain, out)
    assert res.episodes_written == 1
    assert all("mc_policy" not in t.meta for t in read_trajectories(out))  # keys stay uniform


def test_mc_label_refuses_empty_input_same_file_and_another_env(plain, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ValueError, match="holds no episodes"):
        _label(empty, tmp_path / "mc.jsonl")
    with pytest.raises(ValueError, match="both the input and the output"):
        _label(plain, plain)
    with pytest.raises(ResumeMismatchError, match="not 'AgentPRM/BabyAI-v0'"):
        _label(plain, tmp_path / "mc.jsonl", env_id="AgentPRM/BabyAI-v0")
    assert not (tmp_path / "mc.jsonl").exists()
