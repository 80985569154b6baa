"""Runs browser commands on a live page and reads the page back.

:class:`PageDriver` is the playwright side shared by the MiniWoB envs and the
shop site: it owns a :class:`~.launcher.BrowserSession` (one Chromium, reused
across episodes, restarted when it died) and turns each
:class:`~.browser_actions.BrowserCommand` into as few round trips as possible:
a click, select or scroll is one ``page.evaluate`` that acts, marks and reads
the page (and, on an in-place site, also loads the page a link leads to);
typing is three (focus, ``insert_text``, then an evaluate that fires the
end-of-typing events and reads); following a link on a page with scripts is a
``goto`` and a read. ``press[Enter]`` in a text field of a GET form submits
that form (``requestSubmit``) and follows it; other keys go to the keyboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentprm_gym.envs.browser.browser_actions import BrowserCommand
from agentprm_gym.envs.browser.dom_text import PageView, parse_page
from agentprm_gym.envs.browser.launcher import BrowserSession
from agentprm_gym.envs.browser.page_script import (
    PAGE_SCRIPT,
    PAGE_SCRIPT_CALL,
    PAGE_SCRIPT_INSTALL,
    RESET_MARKS_SCRIPT,
)

__all__ = ["PageDriver", "PageRead"]


@dataclass
class PageRead:
    """One reading of the page.

    Attributes:
        html: ``document.body.outerHTML`` after marking.
        title: Page title.
        url: Page URL.
        utterance: MiniWoB's ``core.getUtterance()`` where the page has one.
        wob: MiniWoB's reward globals (``done``, ``reward``, ``raw``, ``reason``) or None.
        view: The parsed text lines and element table.
    """

    html: str
    title: str
    url: str
    utterance: str | None
    wob: dict[str, Any] | None
    view: PageView


class PageDriver:
    """Acts on one page and reads it back.

    Args:
        origin: The local server's origin (the only one requests may reach).
        chromium: Chromium binary (default: see :func:`.launcher.chromium_path`).
        skip_ids: DOM ids whose subtrees are left out of observations.
        viewport: Page size.
        inplace: Follow links and forms by loading the target page in place,
            inside the same ``page.evaluate`` as the click (see
            :data:`~.page_script.PAGE_SCRIPT`: an HTTP fetch, then the body
            swapped in; the address is kept in the page, not in the session
            history) instead of a full Chromium navigation. For script-free
            sites only; it saves the browser's per-navigation process work
            (60-250 ms on a busy 2-core machine, about 25 ms on an idle one)
            and two round trips.
    """

    def __init__(
        self,
        origin: str,
        chromium: str | None = None,
        skip_ids: tuple[str, ...] = (),
        viewport: tuple[int, int] = (800, 600),
        inplace: bool = False,
    ) -> None:
        self.session = BrowserSession(
            origin, chromium=chromium, viewport=viewport, init_scripts=(PAGE_SCRIPT_INSTALL,)
        )
        self.skip_ids = list(skip_ids)
        self.inplace = inplace

    @property
    def page(self) -> Any:
        """The Playwright page (starting the browser when needed)."""
        self.session.start()
        return self.session.page

    def ensure(self) -> bool:
        """Start the browser if it is not running; True when a new one was started."""
        if self.session.alive():
            return False
        self.session.start()
        return True

    def goto(self, url: str) -> None:
        """Load ``url`` and wait for its ``load`` event."""
        self.page.goto(url, wait_until="load")

    def follow(self, url: str) -> tuple[str | None, PageRead]:
        """Go to ``url`` as a click on a link would (in place when ``inplace``), then read.

        Returns:
            (None or an error message, e.g. an in-place load that got an HTTP
            error, in which case the page is unchanged; the page read after it).
        """
        if not self.inplace:
            self.goto(url)
            return None, self.read()
        return self._after(self.call(self._arg({"op": "load", "url": url})))

    def evaluate(self, script: str, arg: Any = None) -> Any:
        """Run a script in the page."""
        return self.page.evaluate(script, arg)

    def call(self, arg: dict[str, Any]) -> dict[str, Any]:
        """Run :data:`~.page_script.PAGE_SCRIPT` with ``arg`` (installed copy when there)."""
        out = self.page.evaluate(PAGE_SCRIPT_CALL, arg)
        if out.get("missing"):
            out = self.page.evaluate(PAGE_SCRIPT, arg)
        return out

    def reset_marks(self) -> None:
        """Forget element ids (numbering restarts at 1)."""
        self.page.evaluate(RESET_MARKS_SCRIPT)

    def read(self) -> PageRead:
        """Mark and read the page."""
        return self.to_read(self.call(self._arg({"op": "observe"}))["read"])

    def _arg(self, arg: dict[str, Any]) -> dict[str, Any]:
        """``arg`` plus what every page-script call carries (skip ids, read, in-place)."""
        arg.update(skip=self.skip_ids, read=True, inplace=self.inplace)
        arg["origin"] = self.session.allowed_origin
        return arg

    def _after(self, out: dict[str, Any]) -> tuple[str | None, PageRead]:
        """Finish a page-script call: load the page it navigates to, or take its read."""
        if out.get("navigate"):  # not done in place: a real navigation
            self.goto(out["navigate"])
            return out.get("error"), self.read()
        return out.get("error"), self.to_read(out["read"])

    def run(self, cmd: BrowserCommand) -> tuple[str | None, PageRead]:
        """Execute ``cmd`` (not ``stop``/``goto`` checks: the env does those).

        Returns:
            (error message or None, the page read after the command).
        """
        page = self.page
        if cmd.op in ("click", "type", "select", "scroll"):
            arg = {"op": cmd.op, "id": cmd.target, "text": cmd.text or cmd.target}
            out = self.call(self._arg(arg))
            if out.get("focus"):
                if cmd.text:
                    page.keyboard.insert_text(cmd.text)
                else:
                    page.keyboard.press("Delete")
                return self._after(self.call(self._arg({"op": "typed"})))
            return self._after(out)
        if cmd.op == "press":
            if cmd.target == "Enter":
                out = self.call(self._arg({"op": "enter"}))
                if out.get("handled"):
                    return self._after(out)
            page.keyboard.press(cmd.target)
            return None, self.read()
        if cmd.op == "back":
            resp = page.go_back(wait_until="load")
            if resp is None and page.url == "about:blank":
                return "there is no page to go back to", self.read()
            return None, self.read()
        if cmd.op == "goto":
            return self.follow(cmd.target)
        raise ValueError(f"PageDriver cannot run {cmd.op!r}")

    def screenshot(self) -> Any:
        """The page as an RGB numpy array (H, W, 3)."""
        import io

        import numpy as np
        from PIL import Image

        png = self.page.screenshot(type="png")
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def close(self) -> None:
        """Close the browser (no Chromium process stays behind)."""
        self.session.close()

    def to_read(self, r: dict[str, Any]) -> PageRead:
        """Turn the page script's ``read`` result into a :class:`PageRead` (parses the HTML)."""
        return PageRead(
            html=r["html"],
            title=r["title"],
            url=r["url"],
            utterance=r.get("utterance"),
            wob=r.get("wob"),
            view=parse_page(r["html"]),
        )
