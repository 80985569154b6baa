import json
import warnings

import pytest

from agentprm_gym.core.trajectory import (
    SCHEMA_VERSION,
    Step,
    Trajectory,
    TrajectoryFormatError,
    TrajectoryWriter,
    read_trajectories,
    write_trajectories,
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


USER_FILES = [
    b'{"important": "notes", "n": 1}',  # one JSON object, no newline
    b'{"important": "notes", "n": 1}\n',
    b"# notes\nline two\n",
    b"# notes\nno newline at the end",
    b"[1, 2]\n" + _traj(0).to_json().encode() + b"\n",
    b"\n\n# notes after blank lines\n",
]


@pytest.mark.parametrize("data", USER_FILES)
def test_writer_refuses_a_file_that_is_not_a_trajectory_file(tmp_path, data):
    p = tmp_path / "notes.json"
    p.write_bytes(data)
    with pytest.raises(TrajectoryFormatError, match=r"refusing to write to .*notes\.json: .*not a"):
        TrajectoryWriter(p)
    assert p.read_bytes() == data


def test_writer_refuses_a_trajectory_file_that_ends_in_other_text(tmp_path):
    p = tmp_path / "t.jsonl"
    data = _traj(0).to_json().encode() + b"\nmy note, typed without a newline"
    p.write_bytes(data)
    with pytest.raises(TrajectoryFormatError, match="its last line: neither valid JSON"):
        TrajectoryWriter(p)
    assert p.read_bytes() == data


def test_write_trajectories_refuses_a_user_file_too(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("# notes\n")
    with pytest.raises(TrajectoryFormatError, match="line 1: not valid JSON"):
        write_trajectories(p, [_traj(0)])
    assert p.read_text() == "# notes\n"


@pytest.mark.parametrize("cut", [1, 5, 37, 200])
def test_writer_repairs_a_torn_last_line_cut_anywhere(tmp_path, cut):
    p = tmp_path / "t.jsonl"
    whole = _traj(0).to_json().encode() + b"\n"
    p.write_bytes(whole + _traj(1).to_json().encode()[:cut])
    with TrajectoryWriter(p) as w:
        w.write(_traj(2))
    assert p.read_bytes() == whole + _traj(2).to_json().encode() + b"\n"


def test_writer_repairs_a_torn_first_and_only_line(tmp_path):
    """A writer killed during its first record leaves no complete line: still ours to cut."""
    p = tmp_path / "t.jsonl"
    p.write_bytes(_traj(0).to_json().encode()[:50])
    with TrajectoryWriter(p) as w:
        w.write(_traj(1))
    assert [t.task_id for t in read_trajectories(p)] == [1]


def test_writer_accepts_other_json_formatting_of_records(tmp_path):
    """Records re-written by other JSON writers (spaces, escaped slashes) are still records."""
    p = tmp_path / "t.jsonl"
    spaced = json.dumps(_traj(0).to_dict())
    torn = json.dumps(_traj(1).to_dict()).replace("/", "\\/")[:60]
    p.write_text(spaced + "\n" + torn)
    with TrajectoryWriter(p) as w:
        w.write(_traj(2))
    assert [t.task_id for t in read_trajectories(p)] == [0, 2]


@pytest.mark.parametrize("data", [b"", b"\n", b"\n" + _traj(0).to_json().encode() + b"\n"])
def test_writer_appends_to_an_empty_file_or_after_blank_lines(tmp_path, data):
    p = tmp_path / "t.jsonl"
    p.write_bytes(data)
    write_trajectories(p, [_traj(1)])
    assert [t.task_id for t in read_trajectories(p)][-1] == 1


def test_reader_reports_a_last_line_that_is_no_record_instead_of_skipping_it(tmp_path):
    p = tmp_path / "notes.json"
    p.write_text('{"important": "notes", "n": 1}')
    with pytest.raises(TrajectoryFormatError, match=r"notes\.json:1: not a trajectory record"):
        list(read_trajectories(p))
    p.write_text(_traj(0).to_json() + "\nplain text")
    with pytest.raises(TrajectoryFormatError, match=r":2: neither valid JSON nor the start"):
        list(read_trajectories(p))


def test_a_whole_last_record_lacking_only_its_newline_is_kept(tmp_path):
    """Neither the reader nor the writer drops a complete record whose newline is missing."""
    p = tmp_path / "t.jsonl"
    p.write_bytes(_traj(0).to_json().encode() + b"\n" + _traj(1).to_json().encode())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "incomplete last line" warning either
        assert [t.task_id for t in read_trajectories(p)] == [0, 1]
    with TrajectoryWriter(p) as w:
        w.write(_traj(2))
    assert [t.task_id for t in read_trajectories(p)] == [0, 1, 2]
    assert p.read_bytes().count(b"\n") == 3


@pytest.mark.parametrize("tail", [b"\x00" * 300, b'{"schema":"agentprm-gym/tra' + b"\x00" * 40])
def test_nul_bytes_left_by_a_power_failure_count_as_a_cut_off_line(tmp_path, tail):
    p = tmp_path / "t.jsonl"
    whole = _traj(0).to_json().encode() + b"\n"
    p.write_bytes(whole + tail)
    with pytest.warns(UserWarning, match="incomplete last line"):
        assert [t.task_id for t in read_trajectories(p)] == [0]
    with TrajectoryWriter(p) as w:
        w.write(_traj(1))
    assert p.read_bytes() == whole + _traj(1).to_json().encode() + b"\n"


def test_a_whole_record_before_nul_bytes_is_kept_and_a_file_of_nul_bytes_refused(tmp_path):
    p = tmp_path / "t.jsonl"
    whole = _traj(0).to_json().encode()
    p.write_bytes(whole + b"\x00" * 64)  # the power cut fell on the newline
    assert [t.task_id for t in read_trajectories(p)] == [0]
    with TrajectoryWriter(p) as w:
        w.write(_traj(1))
    assert p.read_bytes() == whole + b"\n" + _traj(1).to_json().encode() + b"\n"
    blank = tmp_path / "preallocated.jsonl"
    blank.write_bytes(b"\x00" * 4096)
    with pytest.raises(TrajectoryFormatError, match="line 1: only NUL bytes"):
        TrajectoryWriter(blank)
    assert blank.read_bytes() == b"\x00" * 4096
