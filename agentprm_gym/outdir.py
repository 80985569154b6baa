"""Output directories written beside and moved into place, so a failed run loses nothing.

``train-prm`` and ``sft`` save a model into a directory the user names with
``--out``, which may already hold an earlier model. :class:`StagedDir` writes the
new model into a fresh directory beside it and moves the files in only when the
model is complete: a run that fails or is interrupted leaves the earlier model
byte for byte as it was. Creating it also checks, before any work, that ``--out``
can be written.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["OutputDirError", "StagedDir", "visible_entries"]


class OutputDirError(ValueError):
    """An output directory that cannot be written, or that holds what must not be replaced."""


def visible_entries(directory: Path) -> list[str]:
    """The sorted names in ``directory`` that do not start with a dot ([] if it is missing)."""
    if not directory.is_dir():
        return []
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


class StagedDir:
    """A fresh directory beside ``out`` to write a model into; it replaces ``out`` when done.

    Creating it checks up front that ``out`` can be written (its parents are
    created). :meth:`commit` then moves the new files into ``out``: a missing
    ``out`` is renamed into place at once; in an existing one, the entries that
    ``owned`` names (the earlier model's files) and those the new model also
    writes are moved aside first and deleted last, while every other entry stays
    as it was. :meth:`discard` deletes the staged files and leaves ``out``
    untouched, so a run that fails or is interrupted never damages an earlier
    model there. Used as a context manager, it commits when the block ends
    normally and discards when it raises.

    The staged directory sits in the same parent as ``out``, so paths that a
    saved model records relative to its own directory stay valid after the move.

    Args:
        out: The output directory.
        owned: Whether an entry name of an existing ``out`` belongs to the model
            being replaced (moved out and deleted) rather than to someone else (kept).

    Raises:
        OutputDirError: If ``out`` is an existing file, or ``out`` (or the
            directory beside it) cannot be created or written; the message names
            the directory and the system's reason.
    """

    def __init__(self, out: str | os.PathLike[str], owned: Callable[[str], bool]) -> None:
        self.target = Path(out).resolve()
        self.owned = owned
        if self.target.exists() and not self.target.is_dir():
            raise OutputDirError(f"{out} is an existing file, not a directory")
        if self.target.is_dir() and not os.access(self.target, os.W_OK | os.X_OK):
            raise OutputDirError(f"{out} is not writable (permission denied)")
        self._made_parents: list[Path] = []
        parent = self.target.parent
        while not parent.exists():
            self._made_parents.append(parent)
            parent = parent.parent
        if not parent.is_dir():
            raise OutputDirError(f"{out} is not writable: {parent} is a file, not a directory")
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            self._remove_made_parents()
            raise OutputDirError(
                f"{out} is not writable: cannot create {e.filename or self.target.parent} "
                f"({e.strerror or e})"
            ) from None
        try:
            self.path = self._fresh_dir(self.target.parent, f".{self.target.name}.partial-")
        except OSError as e:
            self._remove_made_parents()
            raise OutputDirError(
                f"{out} is not writable: cannot create a directory in {self.target.parent} "
                f"({e.strerror or e})"
            ) from None
        if self.target.is_dir():
            os.chmod(self.path, self.target.stat().st_mode & 0o7777)

    @staticmethod
    def _fresh_dir(parent: Path, prefix: str) -> Path:
        while True:
            p = parent / f"{prefix}{secrets.token_hex(4)}"
            try:
                p.mkdir()
            except FileExistsError:
                continue
            return p

    def _remove_made_parents(self) -> None:
        for p in self._made_parents:  # deepest first
            try:
                p.rmdir()
            except OSError:
                break

    def discard(self) -> None:
        """Delete the staged files (and the parents this object created, if empty)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._remove_made_parents()

    def commit(self) -> Path:
        """Move the staged files into ``out``; returns ``out``.

        Raises:
            OutputDirError: If the files cannot be moved; ``out`` is then as it
                was and the new files are kept where the message says.
        """
        target = self.target
        if not target.exists():
            try:
                os.rename(self.path, target)
                return target
            except OSError:
                pass  # created meanwhile: move the entries
        moved_out: list[str] = []
        moved_in: list[str] = []
        aside: Path | None = None
        try:
            new = set(os.listdir(self.path))
            old = [n for n in os.listdir(target) if n in new or self.owned(n)]
            if old:
                aside = self._fresh_dir(target, ".replaced-")
                for n in old:
                    os.rename(target / n, aside / n)
                    moved_out.append(n)
            for n in sorted(new):
                shutil.move(str(self.path / n), str(target / n))
                moved_in.append(n)
        except OSError as e:
            for n in moved_in:  # back to the staged directory, then the old files back
                shutil.move(str(target / n), str(self.path / n))
            for n in moved_out:
                os.rename(aside / n, target / n)  # type: ignore[operator]
            if aside is not None:
                aside.rmdir()
            raise OutputDirError(
                f"cannot move the new files into {target} ({e.strerror or e}); it is as it "
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
