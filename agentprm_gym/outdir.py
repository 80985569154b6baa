"""Output directories replaced only when the new model is complete, so a failed run loses nothing.

``train-prm`` and ``sft`` save a model into a directory the user names with
``--out``, which may already hold an earlier model. :class:`StagedDir` gives the
run a directory to write into and puts the new model in ``--out`` only when it
is complete: a run that fails or is interrupted leaves the earlier model byte
for byte as it was. Creating it also checks, before any work, that ``--out`` can
be written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "ASIDE_PREFIX",
    "OutputDirError",
    "StagedDir",
    "earlier_output",
    "shown_entries",
    "visible_entries",
]

#: Where an earlier model's entries wait inside ``out`` while they are replaced.
ASIDE_PREFIX = ".replaced-"


class OutputDirError(ValueError):
    """An output directory that cannot be written, or that holds what must not be replaced."""


def visible_entries(directory: Path) -> list[str]:
    """The sorted names in ``directory`` that do not start with a dot ([] if it is missing)."""
    if not directory.is_dir():
        return []
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


def shown_entries(entries: list[str], most: int = 4) -> str:
    """The first ``most`` names of ``entries`` for a message, with "..." for the rest."""
    return ", ".join(entries[:most]) + (", ..." if len(entries) > most else "")


def earlier_output(directory: Path, marker: str, owned: Callable[[str], bool]) -> bool:
    """Whether ``directory`` holds an earlier output whose complete form has ``marker``.

    It holds ``marker``; or only entries that ``owned`` names (besides hidden ones)
    next to an ``ASIDE_PREFIX`` folder that holds ``marker``: a run killed outright
    while it wrote into the directory itself leaves it so (:class:`StagedDir`).
    """
    if (directory / marker).is_file():
        return True
    names = os.listdir(directory)
    return all(owned(n) for n in names if not n.startswith(".")) and any(
        n.startswith(ASIDE_PREFIX) and (directory / n / marker).is_file() for n in names
    )


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new, empty directory ``parent/prefix<random>``."""
    while True:
        p = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            p.mkdir()
        except FileExistsError:
            continue
        return p


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold back Ctrl-C and ``SIGTERM`` while files move; they take effect when the block ends.

    A signal that arrives during a rename would otherwise surface just after it,
    before the caller could record it, or cut a rollback short. Python runs signal
    handlers in the main thread whichever thread the signal reaches, so handlers
    that only note the signal hold it back; the earlier handlers are put back at
    the end and the noted signal is raised again. Elsewhere than in the main
    thread (where handlers cannot be set) nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    noted: list[int] = []
    earlier: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        earlier[sig] = signal.signal(sig, lambda n, _frame: noted.append(n))
    try:
        yield
    finally:
        for sig, handler in earlier.items():  # None: a handler not set from Python
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(noted):
            signal.raise_signal(sig)


def _move_back(moved: list[str], src: Path, dst: Path) -> None:
    """Rename ``src/name`` to ``dst/name`` for each moved name that is still in ``src``."""
    for n in reversed(moved):
        if os.path.lexists(src / n) and not os.path.lexists(dst / n):
            os.rename(src / n, dst / n)


def _reason(e: OSError) -> str:
    """A short reason for ``e`` (``shutil`` errors carry lists, not a ``strerror``)."""
    if e.strerror:
        return e.strerror
    text = str(e)
    return text if len(text) <= 200 else text[:200] + "..."


class StagedDir:
    """A directory to write a model into; it takes the place of ``out``'s model when done.

    Where it can, the new model is written into a fresh hidden directory beside
    ``out`` (``.NAME.partial-*``, in the same parent: paths a saved model records
    relative to its own directory stay valid after the move), and :meth:`commit`
    moves its entries into ``out``: a missing ``out`` is renamed into place at
    once; in an existing one the entries that ``owned`` names (the earlier
    model's files) and those the new model also writes are moved aside first and
    deleted last, while every other entry stays as it was. The entries named in
    ``last`` (the file that marks a complete model) are moved in after all others.

    Where the parent cannot take that directory (it is not writable, or ``out``
    is a mount point of its own, such as a container volume) the earlier model's
    entries are moved aside into a hidden directory inside ``out``
    (``.replaced-*``) and the new model is written into ``out`` itself;
    :meth:`discard` then deletes what the run wrote and moves them back.

    :meth:`discard` leaves ``out`` as it was in both cases. Used as a context
    manager, it commits when the block ends normally and discards when it raises
    (an interrupt included). A process killed outright (``SIGKILL``, ``SIGTERM``
    outside a move, power loss) can leave the hidden directory behind; the earlier
    model is then either still in ``out`` or in ``out/.replaced-*``.

    Args:
        out: The output directory.
        owned: Whether an entry name of an existing ``out`` belongs to the model
            being replaced (moved out and deleted) rather than to someone else (kept).
        last: Entry names moved into ``out`` after all others.

    Raises:
        OutputDirError: If ``out`` is an existing file, or ``out`` cannot be
            created or written; the message names the directory and the reason.
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        owned: Callable[[str], bool],
        last: frozenset[str] = frozenset(),
    ) -> None:
        self.target = Path(out).resolve()
        self.owned = owned
        self.last = last
        self._made: list[Path] = []  # directories this object created, deepest first
        self._aside: Path | None = None  # in-place mode: the earlier model's entries
        self._before: set[str] = set()  # in-place mode: the entries ``out`` held
        self._was_missing = False  # ``out`` did not exist: the staged directory becomes it
        if self.target.exists() and not self.target.is_dir():
            raise OutputDirError(f"{out} is an existing file, not a directory")
        self._make_dirs(out)
        if not os.access(self.target, os.W_OK | os.X_OK):
            self._remove_made()
            raise OutputDirError(f"{out} is not writable (permission denied)")
        parent = self.target.parent
        beside = os.access(parent, os.W_OK | os.X_OK) and (
            parent.stat().st_dev == self.target.stat().st_dev
        )
        try:
            if beside:
                self.path = _fresh_dir(parent, f".{self.target.name}.partial-")
                if self.target in self._made:  # renamed into place at commit
                    self.target.rmdir()
                    self._made.remove(self.target)
                    self._was_missing = True
                elif self._renames_into_target():
                    os.chmod(self.path, self.target.stat().st_mode & 0o7777)
                else:  # a bind mount: the same device, yet renames across it fail
                    self.path.rmdir()
                    self._stage_in_place()
            else:
                self._stage_in_place()
        except OSError as e:
            if getattr(self, "path", self.target) != self.target:
                shutil.rmtree(self.path, ignore_errors=True)
            self._remove_made()
            raise OutputDirError(f"{out} is not writable: {_reason(e)}") from None

    def _renames_into_target(self) -> bool:
        """Whether an entry of the staged directory can be renamed into ``out`` and back."""
        probe = _fresh_dir(self.path, "probe-")
        inside = self.target / f".{probe.name}"
        with _signals_held():
            try:
                os.rename(probe, inside)
            except OSError:
                probe.rmdir()
                return False
            try:
                os.rename(inside, probe)
            finally:
                for left in (inside, probe):
                    if left.exists():
                        left.rmdir()
        return True

    def _make_dirs(self, out: str | os.PathLike[str]) -> None:
        """Create ``out`` and its missing parents, remembering which were made."""
        missing = []
        p = self.target
        while not p.exists():
            missing.append(p)
            p = p.parent
        if not p.is_dir():
            raise OutputDirError(f"{out} is not writable: {p} is a file, not a directory")
        for d in reversed(missing):
            try:
                d.mkdir()
            except OSError as e:
                self._remove_made()
                raise OutputDirError(
                    f"{out} is not writable: cannot create {d} ({_reason(e)})"
                ) from None
            self._made.insert(0, d)

    def _stage_in_place(self) -> None:
        """Move the earlier model's entries aside inside ``out``; the run writes ``out``."""
        self.path = self.target
        names = set(os.listdir(self.target))
        old = sorted(n for n in names if self.owned(n))
        if old:
            aside = self._aside = _fresh_dir(self.target, ASIDE_PREFIX)
            moved: list[str] = []
            try:
                with _signals_held():
                    for n in old:
                        moved.append(n)
                        os.rename(self.target / n, aside / n)
            except BaseException:
                with _signals_held():
                    _move_back(moved, aside, self.target)
                    aside.rmdir()
                self._aside = None
                raise
        self._before = names - set(old)

    def _remove_made(self) -> None:
        for p in self._made:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break
        self._made = []

    def discard(self) -> None:
        """Delete what the run wrote and leave ``out`` as it was.

        In place, "what the run wrote" is every entry that appeared in ``out``
        after this object was made (a file another program put there meanwhile
        too); entries that were there before are never deleted.
        """
        if self.path != self.target:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            aside = self._aside
            for n in set(os.listdir(self.target)) - self._before - {aside and aside.name}:
                p = self.target / n
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
            if aside is not None:
                with _signals_held():
                    for n in os.listdir(aside):
                        os.rename(aside / n, self.target / n)
                    aside.rmdir()
        self._remove_made()

    def commit(self) -> Path:
        """Put the new model in ``out``; returns ``out``.

        An interrupt while the files move (``KeyboardInterrupt``) puts the
        earlier model back, deletes the new one and is raised again.

        Raises:
            OutputDirError: If the files cannot be moved; ``out`` is then as it
                was and the new files are kept where the message says.
        """
        target = self.target
        if self.path == target:
            if self._aside is not None:
                shutil.rmtree(self._aside, ignore_errors=True)
            return target
        if self._was_missing:
            try:
                os.rename(self.path, target)
                return target
            except OSError:
                if not target.is_dir() or visible_entries(target):
                    raise OutputDirError(
                        f"cannot move the new files into {target}: it was made meanwhile and "
                        f"is no empty directory; they are in {self.path}"
                    ) from None
        moved_out: list[str] = []
        moved_in: list[str] = []
        aside: Path | None = None
        try:
            with _signals_held():
                new = set(os.listdir(self.path))
                old = [n for n in os.listdir(target) if n in new or self.owned(n)]
                if old:
                    aside = _fresh_dir(target, ASIDE_PREFIX)
                    for n in old:
                        moved_out.append(n)
                        os.rename(target / n, aside / n)
                for n in sorted(new, key=lambda n: (n in self.last, n)):
                    moved_in.append(n)
                    os.rename(self.path / n, target / n)
        except BaseException as e:
            with _signals_held():  # back to the staged directory, then the old files back
                _move_back(moved_in, target, self.path)
                if aside is not None:
                    _move_back(moved_out, aside, target)
                    aside.rmdir()
                if not isinstance(e, OSError):  # interrupted: as if the run never saved
                    self.discard()
            if not isinstance(e, OSError):
                raise
            raise OutputDirError(
                f"cannot move the new files into {target} ({_reason(e)}); it is as it "
                f"was, and the new files are in {self.path}"
            ) from None
        self.path.rmdir()
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return target

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()
