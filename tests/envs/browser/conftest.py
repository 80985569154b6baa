"""Shared fixtures and skip rules of the browser env tests."""

from __future__ import annotations

import psutil
import pytest

from agentprm_gym.envs.browser.launcher import BrowserUnavailableError, chromium_path


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium is available."""
    try:
        chromium_path()
    except BrowserUnavailableError as exc:
        return str(exc)
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def chromium_processes() -> list[psutil.Process]:
    """Chromium processes descended from this test process."""
    out = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in (p.name() or "").lower() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:
            continue
    return out


@pytest.fixture(scope="session")
def needs_chromium() -> None:
    """Skip the test when Chromium or Playwright is missing."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
