"""Run ``train-prm`` under jemalloc where it is installed: glibc's malloc slows training down.

On Linux, PyTorch's CPU tensors come from the C library's ``malloc``. A training
run allocates and frees tensors of ever-changing sizes (each batch holds other
texts), and under glibc's allocator its steps grow slower as the process ages:
on the paper-sized WebShop data a step took about 108 ms at the start and 146 ms
1,200 steps later, while a fresh process loading the same weights and optimiser
state ran at about 111 ms again. Allocation itself (``aten::empty``) became 4.6×
slower, and the products that write into new memory 1.5× slower;
``malloc_trim``, one arena and fixed glibc thresholds did not help. Under
jemalloc the late steps ran at 106 ms (docs/prm.md has the figures).

A library can only replace ``malloc`` before the process starts, so the
``agentprm-gym`` command re-runs itself once, the same command line with
jemalloc in ``LD_PRELOAD``, for the subcommands in :data:`JEMALLOC_COMMANDS`
when the library is found (Debian's ``libjemalloc2``, which ``make setup``
installs where it can). Nothing changes where it is missing, or where the user
already preloads a library (another allocator, a sanitizer): the command runs
as before. ``AGENTPRM_ALLOCATOR=system`` turns the re-run off. The variable is
kept for the command's own worker processes (``train-prm --members K``), which
then use jemalloc too. Other commands that train (``demo``, ``bench`` sweeps,
``sft``) run in-process on the system allocator.
"""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "JEMALLOC_COMMANDS",
    "allocator_name",
    "find_jemalloc",
    "jemalloc_environment",
    "jemalloc_paths",
    "reexec_with_jemalloc",
]

#: Subcommands re-run under jemalloc (those that train a network for many steps).
JEMALLOC_COMMANDS = frozenset({"train-prm"})
_LIBRARY = "libjemalloc.so.2"
#: Set in the re-run process, so it never re-runs again.
_GUARD = "AGENTPRM_JEMALLOC_REEXEC"
#: ``system`` keeps the C library's allocator.
_SWITCH = "AGENTPRM_ALLOCATOR"


def jemalloc_paths() -> tuple[str, ...]:
    """Where distributions install the library for this machine's architecture.

    Debian's multiarch directory of this interpreter first (``x86_64-linux-gnu``
    on x86-64, ``aarch64-linux-gnu`` on ARM), then the usual library folders.
    """
    arch = sysconfig.get_config_var("MULTIARCH") or f"{platform.machine()}-linux-gnu"
    dirs = [f"/usr/lib/{arch}", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    return tuple(f"{d}/{_LIBRARY}" for d in dirs)


def find_jemalloc(paths: Sequence[str] | None = None) -> str | None:
    """The first of ``paths`` (default :func:`jemalloc_paths`) that is a file, or None."""
    for p in jemalloc_paths() if paths is None else paths:
        if Path(p).is_file():
            return p
    return None


def allocator_name(maps: str | os.PathLike[str] = "/proc/self/maps") -> str:
    """``"jemalloc"`` if this process has jemalloc loaded, else ``"system"``.

    Reads the process's memory map (Linux) for a mapped ``libjemalloc.so*``;
    elsewhere, or if the map cannot be read, the answer is ``"system"``.
    """
    try:
        text = Path(maps).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "system"
    for line in text.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and Path(fields[5].strip()).name.startswith("libjemalloc.so"):
            return "jemalloc"
    return "system"


def jemalloc_environment(env: Mapping[str, str], library: str) -> dict[str, str]:
    """A copy of ``env`` with ``LD_PRELOAD`` set to ``library`` and the re-run guard set."""
    out = dict(env)
    out["LD_PRELOAD"] = library
    out[_GUARD] = "1"
    return out


def reexec_with_jemalloc(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    paths: Sequence[str] | None = None,
    maps: str | os.PathLike[str] = "/proc/self/maps",
) -> bool:
    """Run this process's command line again under jemalloc, if it helps.

    The same interpreter runs ``sys.orig_argv[1:]``: the same script or module,
    with the same interpreter flags.

    Does nothing (returns False) unless: the platform is Linux and Python is
    not a frozen build, the subcommand (``argv[0]``) is in
    :data:`JEMALLOC_COMMANDS` and asks for no help (``-h``), ``LD_PRELOAD``
    is empty (a library the user preloads stays in charge),
    ``AGENTPRM_ALLOCATOR`` is not ``system``, this is not already the re-run,
    jemalloc is not loaded yet and the library is found. On success it does
    not return. If the new process cannot be started the command goes on here
    (returns False).

    Args:
        argv: The command's arguments, without the program name.
        env: The environment (default ``os.environ``).
        paths: Where to look for the library (default :func:`jemalloc_paths`).
        maps: This process's memory map (to see whether jemalloc is loaded).
    """
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or getattr(sys, "frozen", False):
        return False
    if not argv or argv[0] not in JEMALLOC_COMMANDS or {"-h", "--help"} & set(argv):
        return False
    if env.get("LD_PRELOAD", "").strip() or env.get(_GUARD):
        return False
    if env.get(_SWITCH, "").strip().lower() == "system" or allocator_name(maps) == "jemalloc":
        return False
    library = find_jemalloc(paths)
    if library is None:
        return False
    cmd = [sys.executable, *sys.orig_argv[1:]]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, cmd, jemalloc_environment(env, library))
    except OSError:
        return False
    return True  # pragma: no cover - execve does not return
