"""``agentprm_gym.progress``: tqdm on a terminal, plain periodic lines in a log, heartbeats."""

from __future__ import annotations

import io
import time

import pytest

from agentprm_gym import progress as prog


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_gets_plain_lines_start_periodic_and_end(monkeypatch):
    monkeypatch.setenv("AGENTPRM_PROGRESS_SECONDS", "0.05")
    # lines from updates only: the ticker's (a slow item's) lines are tested below
    monkeypatch.setattr(prog._TICKER, "bar_opened", lambda: None)
    log = io.StringIO()
    bar = prog.progress(total=4, desc="collect noisy:0.5", file=log)
    assert isinstance(bar, prog.PlainProgress)
    assert log.getvalue() == "collect noisy:0.5: 0/4 (0.0%) | started\n"  # at once
    for _ in range(4):
        time.sleep(0.06)
        bar.update(1)
        bar.set_postfix(success="0.500")
    bar.close()
    bar.close()  # closing twice prints the end once
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[1].startswith("collect noisy:0.5: 1/4 (25.0%) | ") and "left" in lines[1]
    # once the caller sets a postfix after each update, each line carries the fresh one
    assert lines[2].startswith("collect noisy:0.5: 2/4 (50.0%) | ")
    assert lines[2].endswith("| success=0.500")
    assert lines[-1].startswith("collect noisy:0.5: 4/4 (100.0%) | done in ")
    assert len(lines) == 6 and sum("done" in x for x in lines) == 1


def test_plain_lines_are_rate_limited(monkeypatch):
    monkeypatch.setenv("AGENTPRM_PROGRESS_SECONDS", "60")
    log = io.StringIO()
    for _ in prog.progress(range(10_000), desc="fast", file=log):
        pass
    lines = log.getvalue().splitlines()
    assert lines == [lines[0], lines[1]] and lines[0].endswith("started")
    assert lines[1].startswith("fast: 10000/10000 (100.0%) | done in ")


def test_terminal_gets_a_tqdm_bar_and_disable_prints_nothing():
    from tqdm import tqdm

    term = FakeTerminal()
    bar = prog.progress(range(3), desc="eval", file=term)
    assert isinstance(bar, tqdm)
    list(bar)
    assert "\r" in term.getvalue() and "eval" in term.getvalue()
    for stream in (FakeTerminal(), io.StringIO()):
        quiet = prog.progress(range(3), desc="x", file=stream, disable=True)
        assert list(quiet) == [0, 1, 2]
        quiet.set_postfix(a=1)
        quiet.close()
        assert stream.getvalue() == ""


def _ticker_ends(timeout: float = 10.0) -> bool:
    import threading

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "agentprm-progress" not in {t.name for t in threading.enumerate()}:
            return True
        time.sleep(0.05)
    return False


def test_a_slow_item_still_gets_its_lines_on_time_and_the_ticker_ends():
    log = io.StringIO()
    bar = prog.PlainProgress(total=3, desc="epoch 1/1", file=log, interval=0.2)
    time.sleep(0.75)  # the first item runs long: the ticker prints the bar's line for it
    bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert lines[0] == "epoch 1/1: 0/3 (0.0%) | started"
    waiting = [x for x in lines[1:-1] if x.startswith("epoch 1/1: 0/3 (0.0%) | ")]
    assert waiting, lines  # due every 0.2 s of the 0.75 s (none without the ticker)
    assert lines[-1].startswith("epoch 1/1: 1/3 (33.3%) | done in ")
    # a bar whose interval has not passed gets no extra line
    quiet = io.StringIO()
    with prog.PlainProgress(total=2, desc="slow", file=quiet, interval=60):
        time.sleep(0.3)
    assert [x.split(" | ")[1][:4] for x in quiet.getvalue().splitlines()] == ["star", "done"]
    assert _ticker_ends()  # no bar open: the ticker's thread ends


def test_a_bar_dropped_without_close_is_not_kept_open_by_the_ticker():
    import gc
    import weakref

    bar = prog.PlainProgress(total=2, desc="dropped", file=io.StringIO(), interval=0.05)
    time.sleep(0.3)  # the ticker has ticked it
    ref = weakref.ref(bar)
    del bar
    deadline = time.monotonic() + 10.0
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.05)
    assert ref() is None
    assert _ticker_ends()


def test_bad_interval_falls_back_to_the_default(monkeypatch):
    for raw in ("", "abc", "-1", "0"):
        monkeypatch.setenv("AGENTPRM_PROGRESS_SECONDS", raw)
        assert prog.interval_seconds() == prog.DEFAULT_INTERVAL
    monkeypatch.setenv("AGENTPRM_PROGRESS_SECONDS", "2.5")
    assert prog.interval_seconds() == 2.5


def test_heartbeat_speaks_after_a_silence_and_not_while_a_bar_reports():
    log = io.StringIO()
    with prog.heartbeat("train-prm: computing targets", first=0.2, interval=0.2, file=log):
        time.sleep(0.5)
    beats = log.getvalue().splitlines()
    assert len(beats) >= 1 and beats[0].startswith("train-prm: computing targets (0.")
    log = io.StringIO()
    with prog.heartbeat("quick", first=5.0, file=log):
        time.sleep(0.05)
    assert log.getvalue() == ""  # a block shorter than `first` prints nothing
    log, bar_log = io.StringIO(), io.StringIO()
    with prog.heartbeat("waiting", first=0.15, interval=0.15, file=log):
        bar = prog.PlainProgress(total=2, desc="epoch", file=bar_log, interval=60)
        time.sleep(0.5)  # the open bar holds the heartbeat back
        assert log.getvalue() == ""
        bar.close()
        time.sleep(0.4)  # silence again: the heartbeat speaks
    assert log.getvalue().startswith("waiting (")


@pytest.mark.parametrize("stream", [io.StringIO(), FakeTerminal()])
def test_is_terminal(stream):
    assert prog.is_terminal(stream) == isinstance(stream, FakeTerminal)
