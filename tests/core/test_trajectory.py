import json

import pytest

from agentprm_gym.core.trajectory import (
    SCHEMA_VERSION,
    Step,
    Trajectory,
    TrajectoryFormatError,
    TrajectoryWriter,
    read_trajectories,
)


def _traj(i: int) -> Trajectory:
    return Trajectory(
        env_id="AgentPRM/Test-v0",
        task_id=i,
        split="train",
        policy="random",
        instruction=f"task {i} ✓",
        steps=[Step("o0", "a0", 0.0, None, ["a0", "a1"], "a0"), Step("o1", "bad", 1.0, "err")],
        final_observation="end",
        final_reward=1.0,
        won=True,
        seed=i,
    )


def test_roundtrip(tmp_path):
    p = tmp_path / "t.jsonl"
    with TrajectoryWriter(p) as w:
        for i in range(3):
            w.write(_traj(i))
    got = list(read_trajectories(p))
    assert got == [_traj(i) for i in range(3)]
    rec = json.loads(p.read_text().splitlines()[0])
    assert rec["schema"] == "agentprm-gym/trajectory" and rec["version"] == SCHEMA_VERSION


def test_partial_tail_is_skipped_and_repaired(tmp_path):
    p = tmp_path / "t.jsonl"
    with TrajectoryWriter(p) as w:
        w.write(_traj(0))
        w.write(_traj(1))
    with p.open("ab") as f:  # a writer killed mid-line
        f.write(_traj(2).to_json().encode()[:37])
    with pytest.warns(UserWarning, match="incomplete last line"):
        assert [t.task_id for t in read_trajectories(p)] == [0, 1]
    with TrajectoryWriter(p) as w:  # reopening cuts the partial line away
        w.write(_traj(3))
    assert [t.task_id for t in read_trajectories(p)] == [0, 1, 3]


def test_corrupt_middle_line_raises_with_line_number(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(_traj(0).to_json() + "\n{not json\n" + _traj(1).to_json() + "\n")
    with pytest.raises(TrajectoryFormatError, match=":2:"):
        list(read_trajectories(p))


def test_wrong_version_is_refused(tmp_path):
    d = _traj(0).to_dict()
    d["version"] = 99
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps(d) + "\n")
    with pytest.raises(TrajectoryFormatError, match="version"):
        list(read_trajectories(p))


def test_loads_with_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    p = tmp_path / "t.jsonl"
    with TrajectoryWriter(p) as w:
        for i in range(4):
            w.write(_traj(i))
    ds = datasets.Dataset.from_json(str(p))
    assert len(ds) == 4
    assert ds[0]["steps"][1]["action_error"] == "err"


@pytest.mark.parametrize(
    ("line", "kind"),
    [("[1, 2]", "an array"), ('"x"', "a string"), ("7", "a number"), ("null", "null")],
)
def test_a_line_that_is_not_an_object_names_what_it_is(tmp_path, line, kind):
    p = tmp_path / "t.jsonl"
    p.write_text(_traj(0).to_json() + "\n" + line + "\n")
    with pytest.raises(
        TrajectoryFormatError, match=f":2: a trajectory record is a JSON object .*not {kind}$"
    ):
        list(read_trajectories(p))


def test_bad_field_values_are_format_errors():
    rec = _traj(0).to_dict()
    rec["task_id"] = "seven"
    with pytest.raises(TrajectoryFormatError, match="malformed trajectory record"):
        Trajectory.from_dict(rec)
    del rec["steps"]
    with pytest.raises(TrajectoryFormatError, match="missing key 'steps'"):
        Trajectory.from_dict(rec)


def test_cut_off_line_warning_has_its_own_category(tmp_path):
    from agentprm_gym.core.trajectory import IncompleteLineWarning

    p = tmp_path / "t.jsonl"
    p.write_bytes(_traj(0).to_json().encode() + b"\n" + b'{"schema": "agentprm')
    with pytest.warns(IncompleteLineWarning, match="20 bytes; a writer was interrupted"):
        assert len(list(read_trajectories(p))) == 1
