"""benchmarks/prm_scoring_speed.py: the beam rows replay a real beam search's PRM calls."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from agentprm_gym.prm.state_model import StatePRM

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

speed = load_benchmark("prm_scoring_speed")


def test_beam_calls_are_the_searchs_calls_and_replay_to_the_same_scores():
    states = speed.beam_states(1, 4, seed=0)
    corpus = [f"{i.instruction} {i.history[-1]} {' '.join(c)}" for i, c in states]
    prm = StatePRM.create("tiny", tiny_corpus=corpus, d=32, heads=4, seed=0)
    calls = speed.beam_calls(prm, tasks=1, beam=2, expand=2, seed=0)
    assert calls and all(calls)
    # one call per depth of the search, each holding that depth's children
    depths = [{len(i.history) for i in c} for c in calls]
    assert all(len(d) == 1 for d in depths), depths
    assert [d.pop() for d in depths] == list(range(1, len(calls) + 1))  # the states scored
    assert prm.stats.items_scored == sum(len(c) for c in calls)
    first = [prm.score(c) for c in calls]
    res = speed.time_calls(prm, calls)
    assert res["candidates"] == sum(len(c) for c in calls) and res["calls"] == len(calls)
    assert 1 <= res["states"] <= res["candidates"]
    again = [prm.score(c) for c in calls]  # the replay cleared and refilled the caches
    for a, b in zip(first, again, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_lockstep_calls_hold_each_depth_of_every_tasks_search():
    states = speed.beam_states(2, 4, seed=0)
    corpus = [f"{i.instruction} {i.history[-1]} {' '.join(c)}" for i, c in states]
    prm = StatePRM.create("tiny", tiny_corpus=corpus, d=32, heads=4, seed=0)
    per_task = speed.beam_calls_by_task(prm, tasks=2, beam=2, expand=2, seed=0)
    assert len(per_task) == 2 and all(per_task)
    flat = [c for calls in per_task for c in calls]
    assert speed.beam_calls(prm, tasks=2, beam=2, expand=2, seed=0) == flat
    merged = speed.lockstep_search_calls(prm, tasks=2, beam=2, expand=2, seed=0)
    # call d holds depth d of every search still running: the per-task calls merged
    depth = max(len(calls) for calls in per_task)
    by_depth = [[i for calls in per_task if d < len(calls) for i in calls[d]] for d in range(depth)]
    assert [list(map(repr, c)) for c in merged] == [list(map(repr, c)) for c in by_depth]
    assert [{len(i.history) for i in c} for c in merged] == [{d + 1} for d in range(depth)]
    assert any(len({i.instruction for i in c}) == 2 for c in merged)  # both tasks in one call
    # a state's scores do not depend on its batch-mates (other tasks' states)
    prm.clear_cache()
    alone = np.concatenate([prm.score(c) for c in flat])
    prm.clear_cache()
    together = np.concatenate([prm.score(c) for c in merged])
    order = {repr(i): k for k, i in enumerate(i for c in merged for i in c)}
    by_item = [together[order[repr(i)]] for c in flat for i in c]
    assert np.ptp(alone) > 1e-3  # the scores differ, so the comparison can fail
    np.testing.assert_allclose(alone, by_item, atol=1e-6)
    res = speed.time_calls(prm, merged)
    assert res["calls"] == len(merged) and res["candidates"] == len(alone)
