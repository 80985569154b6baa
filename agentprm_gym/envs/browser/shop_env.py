"""``AgentPRM/Browser-v0``: the WebShop shop as a real web site, in Chromium or parsed."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from agentprm_gym.core.actions import ActionParseError
from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.browser.browser_actions import (
    ACTION_HELP,
    BrowserCommand,
    parse_browser_action,
)
from agentprm_gym.envs.browser.dom_text import Element
from agentprm_gym.envs.browser.server import shared_server
from agentprm_gym.envs.browser.shop_site import SHOP_PREFIX, ShopSite
from agentprm_gym.envs.browser.static_pages import (
    StaticPageCache,
    marked_body,
    render_lines,
    submit_url,
)
from agentprm_gym.envs.webshop import expert as expert_mod
from agentprm_gym.envs.webshop.env import DEFAULT_NUM_PRODUCTS
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.shop_data import ShopData, get_shop_data
from agentprm_gym.envs.webshop.state import ShopState, initial_state

__all__ = ["BrowserShopEnv", "BACKENDS"]

#: Backends (kwarg ``backend``).
BACKENDS = ("playwright", "static")

_SITES: dict[str, tuple[ShopSite, StaticPageCache]] = {}


def _site_for(shop: ShopData, default: bool) -> tuple[ShopSite, StaticPageCache]:
    prefix = SHOP_PREFIX if default else f"/shop-{hashlib.sha1(shop.key.encode()).hexdigest()[:8]}/"
    hit = _SITES.get(prefix)
    if hit is None:
        site = ShopSite(shop, prefix)

        def fetch(url: str) -> str:
            status, _, body = site.handle(*_split(url, prefix))
            if status != 200:
                raise KeyError(url)
            return body.decode("utf-8")

        hit = _SITES[prefix] = (site, StaticPageCache(fetch))
        shared_server().mount(prefix, site.handle)
    return hit


def _split(url: str, prefix: str) -> tuple[str, dict[str, list[str]]]:
    from urllib.parse import parse_qs

    parts = urlsplit(url)
    return parts.path[len(prefix) :], parse_qs(parts.query, keep_blank_values=True)


class BrowserShopEnv(TextAgentEnv):
    """The WebShop task on the shop's web site, driven with browser actions.

    Description:
        The same catalog, instructions (goals, splits) and reward as
        ``AgentPRM/WebShop-v0``, but the agent browses a web site: WebShop's
        HTML pages (:mod:`agentprm_gym.envs.webshop.html_pages`) served by the
        local HTTP server, each page at its own URL
        (:mod:`agentprm_gym.envs.browser.shop_site`), with a search form, and
        links for results, options, tabs, paging and "Buy Now". Backend
        ``"playwright"`` (default) runs the site in a real headless Chromium
        (outside requests blocked); backend ``"static"`` parses the same pages
        server-side with BeautifulSoup, without a browser, for fast rollouts.
        Both give the same observations, rewards and infos for the same
        actions.

    Observation:
        ``observation_mode="text"``: ``Task: <instruction>``, ``Page: <title>
        (<url path>)``, then the page: text lines and interactive elements with
        ids, e.g. ``[1] textbox "search query" value=""``, ``[2] button
        "Search"``, ``[5] button "Buy Now"``; chosen options are marked
        ``selected``. ``"html"``: the task line, then the page's marked
        ``<body>``. ``render_mode="rgb_array"`` (playwright) returns a
        screenshot.

    Actions:
        ``click[id]``, ``type[id][text]``, ``press[key]`` (``press[Enter]`` in
        the search box submits it), ``select[id][option]``, ``scroll[up|down]``,
        ``back``, ``goto[url]`` (pages of this task only) and ``stop[answer]``.
        Searching takes two steps: ``type[<box>][query]`` then ``click[<Search>]``
        (or ``press[Enter]``). Invalid actions set ``info["action_error"]`` and
        change nothing.

    Rewards:
        WebShop's purchase reward when "Buy Now" is followed, else 0; ``info``
        has ``r_att``, ``r_option``, ``r_price``, ``r_type`` (None before
        buying) as in WebShop-v0.

    Termination:
        On buying (or ``stop[...]``, reward 0); truncated after 20 steps by the
        registration (WebShop-v0 allows 15; a search costs two steps here).

    Registered ids:
        ``AgentPRM/Browser-v0`` (kwargs ``backend``, ``observation_mode``,
        ``num_products``, ``catalog_seed``, ``data_dir``, ``split``,
        ``render_mode``, ``chromium_path``).

    Version history:
        v0: first version.

    Snapshots: the static backend copies its small state (URL, typed values,
    back stack). The playwright backend records the episode's valid actions and
    ``set_state`` replays them from reset: one page load plus one step per
    action (about 15-25 ms each with a warm browser on a busy 2-core machine).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["ansi", "human", "rgb_array"],
        "render_fps": 4,
    }

    def __init__(
        self,
        backend: str = "playwright",
        observation_mode: str = "text",
        num_products: int | None = None,
        catalog_seed: int = 0,
        data_dir: str | Path | None = None,
        split: str = "train",
        render_mode: str | None = None,
        chromium_path: str | None = None,
        max_action_length: int = 2_000,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if observation_mode not in ("text", "html"):
            raise ValueError("observation_mode must be 'text' or 'html'")
        if backend == "static" and render_mode == "rgb_array":
            raise ValueError("render_mode='rgb_array' needs backend='playwright'")
        super().__init__(split=split, render_mode=render_mode, max_action_length=max_action_length)
        default = num_products is None and data_dir is None and catalog_seed == 0
        if num_products is None and data_dir is None:
            num_products = DEFAULT_NUM_PRODUCTS
        self.backend = backend
        self.observation_mode = observation_mode
        self.shop = get_shop_data(num_products, catalog_seed, data_dir)
        self.site, self._pages = _site_for(self.shop, default)
        self._server = shared_server()
        self._driver: Any = None
        if backend == "playwright":
            from agentprm_gym.envs.browser.page_driver import PageDriver

            self._driver = PageDriver(self._server.origin, chromium=chromium_path, inplace=True)
        self._goal: Goal | None = None
        # page state (both backends): current URL path, typed values, back stack
        self._url = ""
        self._values: dict[str, str] = {}
        self._focus = ""
        self._stack: list[str] = []
        self._history: list[str] = []
        self._stopped = False
        self._reward: tuple[float, float, float, float | None, float] | None = None
        # what the last look at the page showed
        self._title = ""
        self._lines: list[str] = []
        self._elements: dict[str, Element] = {}
        self._html = ""

    # ---------------------------------------------------------------- hooks
    def num_tasks(self, split: str) -> int:
        """Number of goals in ``split`` (WebShop-v0's splits)."""
        return self.shop.goals.num_tasks(split)

    def _begin_task(self, split: str, task_id: int) -> str:
        self._goal = self.shop.goals.get(split, task_id)
        self._stack, self._history, self._values, self._focus = [], [], {}, ""
        self._stopped, self._reward = False, None
        url = self.site.path(split, task_id, initial_state())
        if self._driver is not None:
            try:
                self._driver.ensure()
                _, read = self._driver.follow(self._server.url(url))
            except Exception:
                self._driver.close()  # the browser died: start a new one
                self._driver.ensure()
                self._driver.goto(self._server.url(url))
                read = self._driver.read()
            self._look(read)
        else:
            self._url = url
            self._look_static()
        return self._observation()

    def _apply(self, action: str) -> Transition:
        try:
            cmd = parse_browser_action(action)
        except ActionParseError as exc:
            return self._invalid(str(exc))
        if cmd.op == "stop":
            self._history.append(action)
            self._stopped = True
            return Transition(self._observation(), 0.0, True)
        if cmd.op == "goto":
            path = self._local_path(cmd.target)
            if path is None:
                return self._invalid("goto only reaches this task's pages of the local shop")
            cmd = BrowserCommand("goto", path)
        if cmd.op == "back" and not self._stack:
            return self._invalid("there is no page to go back to")
        err = self._run_playwright(cmd) if self._driver is not None else self._run_static(cmd)
        if err is not None:
            return self._invalid(err)
        self._history.append(action)
        parsed = self.site.parse(self._url)
        if parsed is not None and parsed[2].page == "done":
            st = parsed[2]
            self._reward = self.site.purchase(self.goal, st)
            return Transition(self._observation(), self._reward[0], True)
        return Transition(self._observation(), 0.0, False)

    # --------------------------------------------------------------- backends
    def _run_playwright(self, cmd: BrowserCommand) -> str | None:
        before = self._url
        if cmd.op == "goto":
            cmd = BrowserCommand("goto", self._server.url(cmd.target))
        elif cmd.op == "back":  # pages load in place: back loads the previous URL again
            err, read = self._driver.follow(self._server.url(self._stack[-1]))
            if err is not None:
                return err
            self._look(read)
            self._stack.pop()
            return None
        err, read = self._driver.run(cmd)
        if err is not None:
            return err
        self._look(read)
        if self._url != before:
            self._stack.append(before)
        return None

    def _run_static(self, cmd: BrowserCommand) -> str | None:
        page = self._pages.get(self._url)
        op = cmd.op
        target: str | None = None
        if op in ("click", "type", "select"):
            el = page.view.elements.get(cmd.target)
            if el is None:
                return f"no element with id {cmd.target} on the page"
            if op == "type":
                if not el.is_textbox:
                    return f"element {cmd.target} is not a text box"
                self._values[cmd.target] = cmd.text
                self._focus = cmd.target
                self._look_static()
                return None
            if op == "select":
                return f"element {cmd.target} is not a list box"
            self._focus = cmd.target if el.is_textbox else ""
            target = page.hrefs.get(cmd.target) or submit_url(page, cmd.target, self._values)
        elif op == "press":
            if cmd.target == "Enter" and self._focus:
                for bid in page.forms:
                    if any(iid == self._focus for iid, _ in page.forms[bid][1]):
                        target = submit_url(page, bid, self._values)
                        break
        elif op == "goto":
            target = cmd.target
        elif op == "back":
            self._url = self._stack.pop()
            self._values, self._focus = {}, ""
            self._look_static()
            return None
        if target is not None:
            self._pages.get(target)  # 404s raise here, before any state changes
            if target != self._url:  # like a browser, a load of the same URL adds no history
                self._stack.append(self._url)
            self._url, self._values, self._focus = target, {}, ""
        self._look_static()
        return None

    def _look(self, read: Any) -> None:
        parts = urlsplit(read.url)
        self._url = parts.path + ("?" + parts.query if parts.query else "")
        self._title = read.title
        self._lines = read.view.lines
        self._elements = read.view.elements
        self._html = read.html

    def _look_static(self) -> None:
        page = self._pages.get(self._url)
        self._title = page.title
        self._lines = render_lines(page, self._values)
        if self._values:
            from dataclasses import replace

            self._elements = {
                k: (replace(e, value=self._values[k]) if k in self._values else e)
                for k, e in page.view.elements.items()
            }
        else:
            self._elements = page.view.elements
        self._html = marked_body(page, self._values) if self.observation_mode == "html" else ""

    def _local_path(self, url: str) -> str | None:
        parts = urlsplit(url)
        if (parts.scheme or parts.netloc) and (
            f"{parts.scheme}://{parts.netloc}" != self._server.origin
        ):
            return None
        path = parts.path + ("?" + parts.query if parts.query else "")
        parsed = self.site.parse(path)
        if parsed is None or (parsed[0], parsed[1]) != (self._task_split, self._task_id):
            return None
        return path

    # ---------------------------------------------------------------- views
    def _observation(self) -> str:
        if self.observation_mode == "html":
            return f"Task: {self.instruction}\n{self._html}"
        head = [f"Task: {self.instruction}", f"Page: {self._title} ({self._url})"]
        return "\n".join(head + self._lines)

    def _invalid(self, message: str) -> Transition:
        return Transition(self._error_observation(message), 0.0, False, message)

    def _error_observation(self, message: str) -> str:
        return f"Invalid action: {message} ({ACTION_HELP})\n{self._view_obs}"

    def admissible_actions(self) -> list[str]:
        """A click per link/button, a ``type[id][...]`` template per text box."""
        out = []
        for el in self._elements.values():
            if el.is_textbox:
                out.append(f"type[{el.id}][...]")
            elif el.role == "combobox":
                out.extend(f"select[{el.id}][{o}]" for o in el.options)
            else:
                out.append(f"click[{el.id}]")
        return out

    @property
    def goal(self) -> Goal:
        """The current goal (privileged)."""
        if self._goal is None:
            raise RuntimeError("call reset() first")
        return self._goal

    @property
    def shop_state(self) -> ShopState:
        """The WebShop state of the current page (decoded from its URL)."""
        parsed = self.site.parse(self._url)
        return parsed[2] if parsed is not None else initial_state()

    @property
    def instruction(self) -> str:
        """The WebShop instruction."""
        return "" if self._goal is None else self._goal.instruction

    @property
    def won(self) -> bool:
        """Whether the purchase earned reward 1."""
        return self._reward is not None and self._reward[0] >= 1.0 - 1e-9

    def _extra_info(self) -> dict[str, Any]:
        r = self._reward
        info: dict[str, Any] = {"url": self._url, "backend": self.backend}
        if r is None:
            info.update(r_att=None, r_option=None, r_price=None, r_type=None)
        else:
            info.update(r_att=r[2], r_option=r[3], r_price=r[4], r_type=r[1])
        return info

    def _data_key(self) -> str:
        return f"browser-shop:{self.shop.key}|{self.observation_mode}"

    def _get_payload(self) -> Any:
        if self._driver is None:
            return (
                self._goal,
                self._url,
                dict(self._values),
                self._focus,
                list(self._stack),
                list(self._history),
                self._stopped,
                self._reward,
            )
        return (self._task_split, self._task_id, tuple(self._history))

    def _set_payload(self, payload: Any) -> None:
        if self._driver is None:
            (goal, self._url, values, self._focus, stack, hist, self._stopped, self._reward) = (
                payload
            )
            self._goal, self._values, self._stack, self._history = (
                goal,
                dict(values),
                list(stack),
                list(hist),
            )
            self._look_static()
            return
        split, task_id, history = payload
        obs, steps, done = self._obs, self._steps, self._done
        self._begin_task(split, task_id)
        for action in history:
            self._apply(action)
        self._obs, self._steps, self._done = obs, steps, done

    # --------------------------------------------------------------- expert
    def expert_action(self) -> str:
        """WebShop's expert, mapped to browser actions on the current page (privileged)."""
        if self._goal is None or self._done:
            raise RuntimeError("no expert action: the episode has not started or has ended")
        act = expert_mod.expert_action(self.shop, self._goal, self.shop_state)
        if act.startswith("search["):
            query = act[len("search[") : -1]
            box = next((e for e in self._elements.values() if e.is_textbox), None)
            if box is None:
                raise RuntimeError("no search box on the page")
            if box.value != query:
                return f"type[{box.id}][{query}]"
            return f"click[{self._find('search').id}]"
        return f"click[{self._find(act[len('click[') : -1]).id}]"

    def _find(self, label: str) -> Element:
        want = " ".join(label.lower().split())
        for e in self._elements.values():
            if e.role == "button" and " ".join(e.label.lower().split()) == want:
                return e
        raise RuntimeError(f"no button {label!r} on the page")

    def expert_steps_left(self) -> int | None:
        """WebShop's expert step count plus one per search still to type (None if unknown)."""
        if self._goal is None:
            return None
        st = self.shop_state
        if st.page == "done":
            return 0 if self.won else None
        n = expert_mod.expert_steps_left(self.shop, self._goal, st)
        if n is None:
            return None
        plan = expert_mod.expert_action(self.shop, self._goal, st)
        if plan.startswith("search[") or plan == "click[back to search]":
            # a search still to come costs two browser steps (type, then click Search)
            box = next((e for e in self._elements.values() if e.is_textbox), None)
            typed = box is not None and plan.startswith("search[") and box.value == plan[7:-1]
            return n if typed else n + 1
        return n

    # ------------------------------------------------------------- lifecycle
    def render(self) -> Any:
        """``rgb_array``: a screenshot (playwright); ``ansi``/``human``: the observation."""
        if self.render_mode == "rgb_array":
            return self._driver.screenshot()
        return super().render()

    def close(self) -> None:
        """Close the browser (playwright backend); no Chromium process stays behind."""
        if self._driver is not None:
            self._driver.close()
        super().close()
