"""benchmarks/prm_training_speed.py: training steps of both state-PRM layouts on the same batches."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from agentprm_gym.core.trajectory import write_trajectories
from agentprm_gym.prm.state_net import Candidate, Context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402

ts = load_benchmark("prm_training_speed")


def test_batch_shapes_count_states_and_observations_by_hand():
    # three contexts: 0 and 1 show the same observation after different past actions
    contexts = [Context(0, (5,), (1, 2)), Context(0, (6,), (1, 2)), Context(0, (), (3,))]
    candidates = [
        Candidate(0, 7, -1, 1, 4),
        Candidate(1, 7, -1, 1, 4),
        Candidate(1, 8, -1, 2, 3),
        Candidate(2, 7, -1, 0, 5),
    ]
    data = SimpleNamespace(offsets=np.array([0, 3, 4]), contexts=contexts, candidates=candidates)
    both = ts.batch_shapes(data, [[0, 1]])
    assert both == {"steps": 4.0, "states": 3.0, "observations": 2.0}
    # two batches: the first episode alone (2 states, 1 observation), then the second
    apart = ts.batch_shapes(data, [[0], [1]])
    assert apart == {"steps": 2.0, "states": 1.5, "observations": 1.0}


@pytest.fixture(scope="module")
def corridor_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "c.jsonl"
    write_trajectories(path, corridor_trajectories(range(4), 4, eps=0.5, seed=1))
    return path


def test_every_layout_trains_on_the_same_batches(corridor_file):
    corpus = ("You are in room 0 of 3. A pit lies beside the path.", "go[next] wait jump[pit]")
    res = ts.time_layouts(
        str(corridor_file),
        encoder="tiny",
        n_batches=2,
        rounds=1,
        batch_size=16,
        tiny_corpus=corpus,
    )
    assert set(res["layouts"]) == {"split", "in-context", "frozen"}
    assert res["layouts"]["frozen"]["kept_pairs"] > 0  # the frozen layout matched once, kept
    assert "kept_pairs" not in res["layouts"]["split"]
    for r in res["layouts"].values():
        assert r["ms_per_batch"] > 0 and len(r["rounds_ms"]) == 1
        assert r["epoch_seconds"] == pytest.approx(
            r["ms_per_batch"] * res["batches_per_epoch"] / 1000, abs=0.1
        )
    shape = res["shape"]
    # "wait" leaves the room as it was: the same observation after other past actions
    assert shape["observations"] < shape["states"] <= shape["steps"] <= 16


def test_bad_input_is_refused_plainly(corridor_file, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown layouts"):
        ts.time_layouts(str(corridor_file), encoder="tiny", layouts=("fast",))
    assert ts.main(["--data", str(corridor_file), "--layouts", "split,fast"]) == 2
    assert "unknown layouts ['fast']" in capsys.readouterr().err
    assert ts.main(["--data", str(corridor_file), "--layouts", " , "]) == 2
    assert "no layouts to time" in capsys.readouterr().err
    assert ts.main(["--data", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert ts.main(["--data", str(empty)]) == 2
    assert "holds no episodes" in capsys.readouterr().err
    assert ts.main(["--data", str(corridor_file), "--threads", "0"]) == 2
    assert "--threads must be >= 1" in capsys.readouterr().err
    assert ts.main(["--data", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err


def test_the_last_line_is_json(corridor_file, monkeypatch, capsys):
    real = ts.time_layouts

    def tiny(path, **kw):
        kw.update(encoder="tiny", tiny_corpus=("room pit path", "go next wait jump"))
        return real(path, **kw)

    monkeypatch.setattr(ts, "time_layouts", tiny)
    args = ["--data", str(corridor_file), "--batches", "1", "--rounds", "1", "--batch-size", "16"]
    assert ts.main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    res = json.loads(out[-1])
    assert res["batches"] == 1 and set(res["layouts"]) == {"split", "in-context", "frozen"}
    assert "ms/batch" in out[1]
    assert ts.main([*args, "--layouts", "split, frozen"]) == 0  # a chosen few
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert list(res["layouts"]) == ["split", "frozen"]
