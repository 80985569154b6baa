"""Launching, reusing and closing one headless Chromium through Playwright's sync API.

A :class:`BrowserSession` owns one Chromium process, one browser context and
one page; the Playwright driver is shared by the sessions of a thread (the sync
API allows one per thread) and stops with the last of them.

Isolation: the browser context is given a proxy that refuses every connection
(a port of ours that is bound but never listens) for every request but those
to the local server's origin, which bypass it; Playwright makes loopback
addresses go through the proxy too (``<-loopback>``), so other local ports are
refused as well. HTTP(S), WebSockets, IP literals, subresources, frames and
fetches to any other origin therefore fail at the network level, and each such
failed request is recorded in :attr:`BrowserSession.blocked`. Chromium is
additionally started with a host-resolver rule that maps every other host name
to nothing.

Why not ``context.route``: once any route is installed, Playwright pauses
*every* request of the context (local ones included) for an interception
round trip through its driver and turns the HTTP cache off; measured on this
busy 2-core machine that added about 9 ms to each local fetch (15 ms against
6 ms), a third of a shop page step.

The Chromium binary is ``/usr/bin/chromium`` unless the ``chromium_path``
argument or the ``AGENTPRM_CHROMIUM`` environment variable says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import psutil

__all__ = [
    "DEFAULT_CHROMIUM",
    "CHROMIUM_ARGS",
    "BrowserSession",
    "BrowserUnavailableError",
    "chromium_path",
]

#: Where Debian installs Chromium.
DEFAULT_CHROMIUM = "/usr/bin/chromium"

#: Flags every launch uses (headless is set by Playwright).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


_DRIVERS = threading.local()


def _acquire_driver() -> Any:
    """The thread's Playwright driver (sync API allows one per thread), reference-counted."""
    st = getattr(_DRIVERS, "state", None)
    if st is None:
        from playwright.sync_api import sync_playwright

        st = _DRIVERS.state = [sync_playwright().start(), 0]
    st[1] += 1
    return st[0]


def _release_driver() -> None:
    st = getattr(_DRIVERS, "state", None)
    if st is None:
        return
    st[1] -= 1
    if st[1] <= 0:
        _DRIVERS.state = None
        with contextlib.suppress(Exception):
            st[0].stop()


class BrowserUnavailableError(RuntimeError):
    """Raised when Chromium or Playwright cannot be found or started."""


def chromium_path(explicit: str | None = None) -> str:
    """The Chromium binary to use: ``explicit``, ``$AGENTPRM_CHROMIUM`` or ``/usr/bin/chromium``.

    Raises:
        BrowserUnavailableError: If the chosen binary does not exist.
    """
    path = explicit or os.environ.get("AGENTPRM_CHROMIUM") or DEFAULT_CHROMIUM
    if not os.path.exists(path):
        found = shutil.which(path)
        if not found:
            raise BrowserUnavailableError(
                f"Chromium not found at {path!r}; install it (Debian: apt-get install -y chromium) "
                "or pass chromium_path=... / set AGENTPRM_CHROMIUM"
            )
        path = found
    return path


class BrowserSession:
    """One Chromium with one page, whose network only reaches ``allowed_origin``.

    Attributes:
        blocked: URLs of requests to other origins, which failed (in order).

    Args:
        allowed_origin: ``http://127.0.0.1:PORT`` of the local server; the only
            origin requests may go to.
        chromium: Path of the Chromium binary (see :func:`chromium_path`).
        viewport: Page size in CSS pixels.
        init_scripts: Scripts the context runs in every new document before the
            page's own scripts (``BrowserContext.add_init_script``).
    """

    def __init__(
        self,
        allowed_origin: str,
        chromium: str | None = None,
        viewport: tuple[int, int] = (800, 600),
        init_scripts: tuple[str, ...] = (),
    ) -> None:
        self.allowed_origin = allowed_origin.rstrip("/")
        parts = urlsplit(self.allowed_origin)
        self._allowed_netloc = parts.netloc
        self._allowed_host = parts.hostname or "127.0.0.1"
        self.chromium = chromium_path(chromium)
        self.viewport = viewport
        self.init_scripts = init_scripts
        self.blocked: list[str] = []
        self._pw: Any = None
        self._browser: Any = None
        self._context: Any = None
        self.page: Any = None
        self._pid: int | None = None
        self._sink: socket.socket | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Start Playwright, Chromium, the context and the page (no-op when alive)."""
        if self.alive():
            return
        self.close()
        before = _chromium_children()
        try:
            self._pw = _acquire_driver()
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BrowserUnavailableError(
                "playwright is not installed; pip install 'agentprm-gym[browser]'"
            ) from exc
        args = list(CHROMIUM_ARGS)
        args.append(f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {self._allowed_host}")
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=self.chromium, headless=True, args=args
            )
        except Exception as exc:
            self.close()
            raise BrowserUnavailableError(f"could not launch Chromium: {exc}") from exc
        new = _chromium_children() - before
        self._pid = min(new) if new else None
        w, h = self.viewport
        # The proxy: a port bound here that never listens, so connections to it are refused.
        self._sink = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sink.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{self._sink.getsockname()[1]}"
        self._context = self._browser.new_context(
            viewport={"width": w, "height": h},
            proxy={"server": dead, "bypass": self._allowed_netloc},
        )
        self._context.on("requestfailed", self._failed)
        for script in self.init_scripts:
            self._context.add_init_script(script=script)
        self.page = self._context.new_page()
        self.page.set_default_timeout(10_000)

    def alive(self) -> bool:
        """Whether the browser and its page are up."""
        if self._browser is None or self.page is None:
            return False
        try:
            if not self._browser.is_connected() or self.page.is_closed():
                return False
        except Exception:
            return False
        if self._pid is not None:
            try:
                if psutil.Process(self._pid).status() == psutil.STATUS_ZOMBIE:
                    return False
            except psutil.Error:
                return False
        return True

    def close(self) -> None:
        """Close the page, context, browser and driver; kill a Chromium left behind."""
        for obj in (self._context, self._browser):
            if obj is None:
                continue
            with contextlib.suppress(Exception):
                obj.close()
        if self._pw is not None:
            _release_driver()
        self._context = self._browser = self._pw = self.page = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._pid is not None:
            _kill_tree(self._pid)
            self._pid = None

    @property
    def pid(self) -> int | None:
        """Process id of the Chromium main process (None when not running)."""
        return self._pid

    # ------------------------------------------------------------------ routing
    def is_local(self, url: str) -> bool:
        """Whether ``url`` points at the local server (the only allowed origin)."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.scheme in ("http", "https") and parts.netloc == self._allowed_netloc

    def _failed(self, request: Any) -> None:
        url = request.url
        if not self.is_local(url):
            self.blocked.append(url)

    def kill_for_test(self) -> None:
        """Kill the Chromium process abruptly (for tests of crash recovery)."""
        if self._pid is not None:
            _kill_tree(self._pid)


def _chromium_children() -> set[int]:
    """Pids of Chromium-like processes that are descendants of this process."""
    me = psutil.Process()
    out: set[int] = set()
    for p in me.children(recursive=True):
        try:
            name = (p.name() or "").lower()
        except psutil.Error:
            continue
        if "chrom" in name or "headless" in name:
            try:
                parent = p.parent()
                pname = (parent.name() or "").lower() if parent else ""
            except psutil.Error:
                pname = ""
            if "chrom" not in pname and "headless" not in pname:
                out.add(p.pid)
    return out


def _kill_tree(pid: int) -> None:
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    procs = [root]
    with contextlib.suppress(psutil.Error):
        procs += root.children(recursive=True)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=3)
