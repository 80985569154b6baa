"""The sweep's beam rows in lockstep: every episode is the one it is alone."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

from agentprm_gym.benchmarking.config import parse_config
from agentprm_gym.benchmarking.sweep import Sweep, run_job, run_jobs
from agentprm_gym.prm import loading

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CORRIDOR_ID, registered_corridor  # noqa: E402
from helpers.hash_prm import HashPRM  # noqa: E402


def _alone_and_together(prm, jobs):
    """Each job's result alone and in one lockstep group, and the PRM calls of each way."""
    calls = prm.stats.calls
    alone = [run_job(j) for j in jobs]
    calls_alone, calls = prm.stats.calls - calls, prm.stats.calls
    together = run_jobs(jobs)
    return alone, together, calls_alone, prm.stats.calls - calls


def _plain(r):
    """A job's result without its seconds (lockstep splits a shared call's time)."""
    return {**r, "ledger": {k: v for k, v in r["ledger"].items() if k != "wall_seconds"}}


@pytest.mark.parametrize(
    ("method", "prm", "spec"),
    [
        ("beam@2x2", "random", "random"),  # every value 0.5: the tie-breaks choose
        ("beam@2x2", "random", "hash"),  # values that differ: a shared call's are dealt out
        ("beam+prior@2x2", "oracle", "oracle"),  # reads snapshots: one task at a time
    ],
)
def test_run_jobs_gives_each_job_what_run_job_gives(tmp_path, monkeypatch, method, prm, spec):
    if spec == "hash":
        hashed, real = HashPRM(7), loading.episode_prm
        monkeypatch.setattr(
            loading, "episode_prm", lambda s, key="prm": hashed if s == "hash" else real(s, key)
        )
    cfg = parse_config(
        {
            "envs": [{"id": CORRIDOR_ID, "policy": "noisy:0.6", "test_tasks": 8}],
            "prms": [prm],
            "methods": [method],
            "repeats": {prm: 2},
            "examples": 1,
        }
    )
    sweep, env = Sweep(cfg, tmp_path, show_progress=False), cfg.envs[0]
    jobs = sweep._jobs(env, env.id, spec, cfg.methods[0], 0, repeats=2)
    # tasks of both repeats in one group, some keeping their trajectory
    group = [replace(j, keep_trajectory=k % 3 == 0) for k, j in enumerate(jobs[3:14])]
    the_prm = loading.episode_prm(spec, "sweep-prm")  # the PRM the jobs use
    with registered_corridor(max_episode_steps=12):
        alone, together, calls_alone, calls_together = _alone_and_together(the_prm, group)
        assert [_plain(r) for r in run_jobs(group[:1])] == [_plain(alone[0])]
        with pytest.raises(ValueError, match="one row"):
            run_jobs([group[0], replace(group[1], n=3)])
    assert [_plain(r) for r in together] == [_plain(r) for r in alone]
    assert ["trajectory" in r for r in together] == [j.keep_trajectory for j in group]
    assert len({tuple(r["ledger"].values()) for r in together}) > 1  # the episodes differ
    if spec == "oracle":
        assert calls_together == calls_alone
    else:  # one call per depth for the whole group
        assert calls_together < calls_alone
    assert run_jobs([]) == []


def test_shared_best_of_n_jobs_in_lockstep_give_each_task_its_result(tmp_path, monkeypatch):
    hashed, real = HashPRM(7), loading.episode_prm
    monkeypatch.setattr(
        loading, "episode_prm", lambda s, key="prm": hashed if s == "hash" else real(s, key)
    )
    cfg = parse_config(
        {
            "envs": [{"id": CORRIDOR_ID, "policy": "noisy:0.6", "test_tasks": 8}],
            "prms": ["random"],
            "methods": ["bon@2", "bon@4"],
            "examples": 1,
        }
    )
    sweep, env = Sweep(cfg, tmp_path, show_progress=False), cfg.envs[0]
    specs = (("hash", "hash"), ("random", "random"), ("oracle", "oracle"))
    jobs = sweep._jobs(env, env.id, None, None, 0, specs, (2, 4))
    with registered_corridor(max_episode_steps=12):
        alone, together, calls_alone, calls_together = _alone_and_together(hashed, jobs)
        with pytest.raises(ValueError, match="one row"):
            run_jobs([jobs[0], replace(jobs[1], ns=(2,))])

    def plain(r):
        return {k: {**v, "ledger": _plain(v)["ledger"]} for k, v in r["bon"].items()}

    assert [plain(r) for r in together] == [plain(r) for r in alone]
    assert [r["task_id"] for r in together] == [j.task_id for j in jobs]
    assert (calls_alone, calls_together) == (16, 2)  # one call per N for all 8 tasks
