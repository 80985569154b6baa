"""``agentprm-gym bench throughput``: options checked before the benchmark runs."""

from __future__ import annotations

import pytest

from agentprm_gym.cli import main
from agentprm_gym.commands import bench

WS = "AgentPRM/WebShop-v0"


@pytest.fixture
def no_benchmark(monkeypatch):
    """Fail the test if the benchmark itself starts."""

    def refuse(*a, **k):
        raise AssertionError("the benchmark ran before the options were checked")

    monkeypatch.setattr("agentprm_gym.benchmarking.throughput.measure_throughput", refuse)


@pytest.mark.parametrize(
    "extra,msg",
    [
        (["--max-seconds", "-1"], "--max-seconds must be a number > 0"),
        (["--max-seconds", "0"], "--max-seconds must be a number > 0"),
        (["--max-seconds", "nan"], "--max-seconds must be a number > 0"),
        (["--env-arg", "foo=1"], "cannot make AgentPRM/WebShop-v0: "),
        (["--csv", "/proc/agentprm-x/t.csv"], "cannot write --csv /proc/agentprm-x/t.csv"),
    ],
)
def test_bad_options_are_one_line_rc2_before_the_benchmark(capsys, no_benchmark, extra, msg):
    assert main(["bench", "throughput", "--env", WS, "--no-subprocess", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("agentprm-gym bench: error: "), err
    assert msg in err[0] and "TypeError" not in err[0].split("cannot make")[0]


def test_csv_directory_is_refused_and_a_new_csv_left_absent_on_error(tmp_path, capsys):
    assert main(["bench", "throughput", "--env", WS, "--csv", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    out = tmp_path / "t.csv"
    args = ["bench", "throughput", "--env", WS, "--csv", str(out), "--max-seconds", "-1"]
    assert main(args) == 2
    assert not out.exists()
    bench._check_writable(str(out))  # a writable path passes and leaves no file
    assert not out.exists()


def test_throughput_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "t.csv"
    args = ["bench", "throughput", "--env", WS, "--steps", "50", "--no-subprocess"]
    assert main([*args, "--csv", str(out), "--max-seconds", "5"]) == 0
    assert out.read_text().startswith("env,")
