"""Progress reporting for long work: a bar on a terminal, plain lines in a log.

:func:`progress` is what every long loop of the package (collection, PRM
training, SFT, sweeps) and the CLI uses. On a terminal it is a ``tqdm`` bar
on stderr. Anywhere else (a file, a pipe, a CI log) a ``tqdm`` bar would fill
the log with carriage-return redraws, so it prints plain lines instead: one
when the work starts, one every ``AGENTPRM_PROGRESS_SECONDS`` seconds (default
10) while it runs, and one when it ends. A line is due also while one item
takes longer than that (a slow first batch, a long episode): a background
ticker, running while any plain bar is open, prints the bar's line for it.

:func:`heartbeat` covers work with no loop to count (loading a model, a pass
inside a library call): while its ``with`` block runs it prints a line saying
what is being done and for how long, after a second without progress output
and then every ``AGENTPRM_PROGRESS_SECONDS`` seconds. It stays silent while a
progress bar of this module (or any ``tqdm`` bar) is open, since the bar then
shows the progress. For this, open bars register in a process-wide set and
every line written notes the time: with the ticker, the only state this module
keeps, shared by the whole process as stderr is.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["PlainProgress", "heartbeat", "interval_seconds", "is_terminal", "progress", "say"]

#: Seconds between plain progress lines unless ``AGENTPRM_PROGRESS_SECONDS`` says otherwise.
DEFAULT_INTERVAL = 10.0

#: Open plain progress bars (the heartbeat keeps quiet while any is open).
_OPEN_BARS: weakref.WeakSet[PlainProgress] = weakref.WeakSet()


class _OutputClock:
    """When this module last wrote a line (the heartbeat speaks after a silence).

    Its ``lock`` makes each line a whole write: the ticker and the work both write.
    """

    def __init__(self) -> None:
        self.last_line = time.monotonic()
        self.lock = threading.Lock()


_CLOCK = _OutputClock()

#: Seconds between the ticker's looks at the open bars.
_TICK_SECONDS = 0.1


class _Ticker:
    """Prints the line of an open plain bar that is due while its item is still running.

    A bar prints on ``update``; an item that takes longer than the bar's
    interval would leave the log silent. One daemon thread, started when a bar
    opens and ended when none is open, prints such a bar's line on time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def bar_opened(self) -> None:
        """Make sure the thread runs (called after a bar joined ``_OPEN_BARS``)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="agentprm-progress", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(_TICK_SECONDS)
            if not self._tick_all():
                return

    def _tick_all(self) -> bool:
        """Tick every open bar; False (and the thread is done) when none is open.

        The bars are held only during this call, so that a bar its caller drops
        without closing it can still leave ``_OPEN_BARS`` (a weak set).
        """
        with self._lock:
            try:
                bars = list(_OPEN_BARS)
            except RuntimeError:  # the set changed while it was read: look again
                return True
            if not bars:
                self._thread = None
                return False
        for bar in bars:
            bar._tick()
        return True

    def after_fork(self) -> None:
        """In a forked child: the thread did not come along, and a lock may be held."""
        self._lock = threading.Lock()
        self._thread = None


_TICKER = _Ticker()


def _after_fork_in_child() -> None:
    _CLOCK.lock = threading.Lock()
    _TICKER.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def interval_seconds() -> float:
    """Seconds between plain progress lines (``AGENTPRM_PROGRESS_SECONDS``, default 10)."""
    raw = os.environ.get("AGENTPRM_PROGRESS_SECONDS", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_INTERVAL
    return value if value > 0 else DEFAULT_INTERVAL


def is_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stderr) is an interactive terminal."""
    s = sys.stderr if stream is None else stream
    try:
        return bool(s.isatty())
    except (AttributeError, ValueError):
        return False


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    disable: bool | None = None,
    file: TextIO | None = None,
    **kw: Any,
) -> Any:
    """Report progress over ``iterable`` (or ``total`` units counted with ``update``).

    Args:
        iterable: What to iterate over (None: call ``update(n)`` yourself).
        total: Number of units (default ``len(iterable)`` where it has one).
        desc: What is being done, shown first on every line.
        disable: True: report nothing. None or False: report (a bar on a
            terminal, plain lines elsewhere).
        file: Where to write (default stderr).
        **kw: Further ``tqdm`` arguments (used on a terminal only).

    Returns:
        An object with tqdm's ``update``, ``set_postfix``, ``set_description``
        and ``close`` (and iteration, when ``iterable`` is given).
    """
    stream = sys.stderr if file is None else file
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if disable or not is_terminal(stream):
        return PlainProgress(iterable, total=total, desc=desc, file=stream, disable=bool(disable))
    from tqdm import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        file=stream,
        dynamic_ncols=True,
        mininterval=0.5,
        **kw,
    )


class PlainProgress:
    """Progress as plain, timestamp-free lines: at the start, periodically, at the end.

    A line reads ``desc: 120/4800 (2.5%) | 12 s, 9.8/s, about 8 min left | success=0.412``.

    Args:
        iterable: What to iterate over, or None.
        total: Number of units, or None when unknown.
        desc: What is being done.
        file: Where to write (default stderr).
        disable: Write nothing (but count).
        interval: Seconds between lines (default :func:`interval_seconds`).
    """

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        file: TextIO | None = None,
        disable: bool = False,
        interval: float | None = None,
    ) -> None:
        self.iterable = iterable
        self.total = total
        self.desc = desc
        self.n = 0
        self.disable = disable
        self._file = file
        self._interval = interval_seconds() if interval is None else float(interval)
        self._postfix = ""
        self._uses_postfix = False  # the caller sets a postfix after each update
        self._start = time.monotonic()
        self._last_line = self._start
        self._closed = False
        self._lock = threading.Lock()  # the ticker's line and the work's, one at a time
        if not disable:
            _OPEN_BARS.add(self)
            self._line("started")
            _TICKER.bar_opened()

    # -------------------------------------------------------------- tqdm API
    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("this progress bar has no iterable; call update(n) instead")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __len__(self) -> int:
        return int(self.total or 0)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done (a line is printed when the interval has passed)."""
        with self._lock:
            self.n += n
            # A caller that sets a postfix after each update gets its line printed
            # there, so that the line shows the postfix of this update.
            if self._due() and not self._uses_postfix and not self._closed:
                self._line()

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, **kw: Any) -> None:
        """Show ``key=value`` pairs at the end of the lines from now on."""
        items = dict(ordered_dict or {}, **kw)
        self.set_postfix_str(", ".join(f"{k}={v}" for k, v in items.items()))

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Show ``s`` at the end of the lines from now on."""
        with self._lock:
            self._postfix = str(s)
            self._uses_postfix = True
            if self._due() and not self._closed:
                self._line()

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Change what the lines say is being done."""
        self.desc = desc or ""

    def refresh(self) -> None:
        """Nothing to redraw: lines are printed as the work goes."""

    def close(self) -> None:
        """Print the final line (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            _OPEN_BARS.discard(self)
            if not self.disable:
                self._line("done")

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------- internals
    def _due(self) -> bool:
        return not self.disable and time.monotonic() - self._last_line >= self._interval

    def _tick(self) -> None:
        """The ticker's call: print the line if one is due (the current item runs long)."""
        with self._lock:
            if not self._closed and self._due():
                self._line()

    def _line(self, state: str = "") -> None:
        now = time.monotonic()
        self._last_line = now
        elapsed = now - self._start
        head = f"{self.desc}: " if self.desc else ""
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        if self.total:
            count += f" ({100.0 * self.n / self.total:.1f}%)"
        parts = [f"{head}{count}"]
        if state == "started":
            parts.append("started")
        else:
            timing = f"{_duration(elapsed)}"
            if self.n and elapsed > 0:
                rate = self.n / elapsed
                timing += f", {rate:.3g}/s" if rate >= 1 else f", {1 / rate:.3g} s each"
                if self.total and state != "done" and self.n < self.total:
                    timing += f", about {_duration((self.total - self.n) / rate)} left"
            parts.append(f"{state} in {timing}" if state else timing)
        if self._postfix:
            parts.append(self._postfix)
        _write(self._file, " | ".join(parts))


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def say(line: str, file: TextIO | None = None) -> None:
    """Print one progress line (to stderr by default), flushed at once."""
    _write(file, line)


def _write(file: TextIO | None, line: str) -> None:
    stream = sys.stderr if file is None else file
    # a closed or broken stream must not break the work
    with _CLOCK.lock, contextlib.suppress(OSError, ValueError):
        _CLOCK.last_line = time.monotonic()
        stream.write(line + "\n")
        stream.flush()


def _bar_open() -> bool:
    if len(_OPEN_BARS):
        return True
    tqdm_cls = sys.modules.get("tqdm.std")
    instances = getattr(getattr(tqdm_cls, "tqdm", None), "_instances", None)
    return bool(instances)


@contextmanager
def heartbeat(
    desc: str,
    *,
    first: float = 1.0,
    interval: float | None = None,
    file: TextIO | None = None,
    disable: bool = False,
) -> Iterator[None]:
    """Print ``desc (12 s)`` lines while the block runs and nothing else reports progress.

    A line is printed after ``first`` seconds without any progress output (and
    then every ``interval`` seconds), never while a progress bar is open; the
    time in brackets is how long the output has been silent, i.e. how long the
    current phase of the block has run.

    Args:
        desc: What the block does (``"loading the backbone"``).
        first: Seconds of silence before the first line (a quicker block prints nothing).
        interval: Seconds between later lines (default :func:`interval_seconds`).
        file: Where to write (default stderr).
        disable: Print nothing.
    """
    if disable:
        yield
        return
    every = interval_seconds() if interval is None else float(interval)
    stop = threading.Event()
    start = time.monotonic()

    def beat() -> None:
        quiet_since = start  # when the current silence began
        own_lines = 0  # heartbeat lines printed during this silence
        own_last = -1.0  # the clock right after this heartbeat's last line
        while not stop.wait(0.1):
            now = time.monotonic()
            if _bar_open():  # the bar reports; a silence starts when it closes
                quiet_since, own_lines = now, 0
                continue
            other = _CLOCK.last_line
            if other > quiet_since and other != own_last:  # someone else printed
                quiet_since, own_lines = other, 0
            if now >= quiet_since + first + own_lines * every:
                _write(file, f"{desc} ({_duration(now - quiet_since)})")
                own_last = _CLOCK.last_line
                own_lines += 1

    thread = threading.Thread(target=beat, name="agentprm-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
