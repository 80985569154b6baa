"""The WebShop shop as a web site: URLs <-> shop states, pages from WebShop's own renderer.

Every page of an episode has its own URL under ``/shop/<split>/<task_id>/``,
and the URL holds the whole page state (query, results page, product, chosen
options, sub-page), so the site is stateless: back, reload and ``goto`` work
like on any site, and the static backend and the browser see the same thing.

Pages are :func:`agentprm_gym.envs.webshop.html_pages.render_html` of the
WebShop env's :class:`~agentprm_gym.envs.webshop.pages.PageView`, with two
rewrites that make them a navigable site: every ``data-action`` button becomes
a link (``<a role="button" href=...>``) to the page that action leads to, and
the search form submits (GET) to this task's ``search`` URL. Catalog and
instruction text stays escaped exactly as WebShop's renderer escapes it.

The page transitions mirror ``WebShopEnv._apply`` (``next >``, ``< prev``,
``back to search``, a product, an option, a sub-page, ``buy now``); the test
suite checks them against the WebShop env action for action.
"""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.html_pages import render_html
from agentprm_gym.envs.webshop.pages import RESULTS_PER_PAGE, PageView
from agentprm_gym.envs.webshop.reward import get_reward
from agentprm_gym.envs.webshop.search_engine import MAX_RESULTS
from agentprm_gym.envs.webshop.shop_data import ShopData
from agentprm_gym.envs.webshop.state import SUB_PAGES, ShopState, initial_state

__all__ = ["ShopSite", "SHOP_PREFIX", "state_path", "parse_state_path", "PurchaseResult"]

#: Where the site is mounted on the local server.
SHOP_PREFIX = "/shop/"

_BUTTON_RE = re.compile(
    r'<button type="button" class="([^"]*)" data-action="([^"]*)"([^>]*)>(.*?)</button>'
)

#: (reward, r_type, r_att, r_option, r_price) of a purchase.
PurchaseResult = tuple[float, float, float, "float | None", float]


def state_path(split: str, task_id: int, st: ShopState, prefix: str = SHOP_PREFIX) -> str:
    """The URL path (with query) of shop state ``st`` of task ``task_id`` in ``split``."""
    base = f"{prefix}{split}/{task_id}/"
    if st.page == "search":
        return base
    params: list[tuple[str, str]] = [("q", st.query), ("n", str(st.page_num))]
    if st.page in ("item", "sub", "done"):
        params.append(("asin", st.bought or st.asin))
        params.extend(("o", f"{name}:{value}") for name, value in st.options)
    if st.page == "sub":
        params.append(("sub", st.sub_page))
    page = {"results": "results", "item": "item", "sub": "sub", "done": "bought"}[st.page]
    return base + page + "?" + urlencode(params, quote_via=quote)


def parse_state_path(path: str, prefix: str = SHOP_PREFIX) -> tuple[str, int, ShopState] | None:
    """Invert :func:`state_path` (also accepts the search form's ``search?query=`` URLs).

    Returns:
        ``(split, task_id, state)`` or None when ``path`` is not a shop page.
        The state of a ``bought`` page has ``reward`` None (the site computes it).
    """
    parts = urlsplit(path)
    segs = parts.path[len(prefix) :].split("/") if parts.path.startswith(prefix) else []
    if len(segs) != 3 or not segs[1].isdigit():
        return None
    split, task_id, page = segs[0], int(segs[1]), segs[2]
    q = parse_qs(parts.query, keep_blank_values=True)

    def one(k: str, default: str = "") -> str:
        return q.get(k, [default])[0]

    if page == "":
        return split, task_id, initial_state()
    if page == "search":
        query = " ".join(one("query").lower().split())
        if not query:
            return split, task_id, initial_state()
        return split, task_id, ShopState(page="results", query=query, page_num=1)
    try:
        n = max(1, int(one("n", "1")))
    except ValueError:
        return None
    base = ShopState(page="results", query=one("q"), page_num=n)
    if page == "results":
        return split, task_id, base
    opts = tuple(sorted(tuple(o.split(":", 1)) for o in q.get("o", []) if ":" in o))
    asin = one("asin")
    if page == "item":
        return split, task_id, base._replace(page="item", asin=asin, options=opts)
    if page == "sub" and one("sub") in SUB_PAGES:
        return (
            split,
            task_id,
            base._replace(page="sub", asin=asin, options=opts, sub_page=one("sub")),
        )
    if page == "bought":
        return split, task_id, base._replace(page="done", asin=asin, bought=asin, options=opts)
    return None


class ShopSite:
    """Serves one shop's pages and answers what a click on each of them leads to.

    Args:
        shop: The WebShop data (catalog, goals, search index) shared with WebShop-v0.
        prefix: Where the site is mounted (``/shop/`` for the default shop).
    """

    def __init__(self, shop: ShopData, prefix: str = SHOP_PREFIX) -> None:
        self.shop = shop
        self.prefix = prefix

    def path(self, split: str, task_id: int, st: ShopState) -> str:
        """URL path of ``st`` on this site."""
        return state_path(split, task_id, st, self.prefix)

    def parse(self, path: str) -> tuple[str, int, ShopState] | None:
        """Inverse of :meth:`path` (None for a path that is not a page of this site)."""
        return parse_state_path(path, self.prefix)

    # ---------------------------------------------------------------- states
    def goal(self, split: str, task_id: int) -> Goal:
        """The goal of task ``task_id`` of ``split``."""
        return self.shop.goals.get(split, task_id)

    def purchase(self, goal: Goal, st: ShopState) -> PurchaseResult:
        """WebShop's reward of buying ``st.bought`` with ``st.options``."""
        product = self.shop.catalog.by_asin(st.bought)
        if product is None:
            raise ValueError(f"unknown product {st.bought!r}")
        res = get_reward(product, goal, product.price, [v for _, v in st.options])
        return (res.reward, res.r_type, res.r_att, res.r_option, res.r_price)

    def click(self, st: ShopState, button: str) -> ShopState | None:
        """The state after ``click[button]`` in ``st`` (None: no such button).

        Mirrors the WebShop env's rules; ``buy now`` gives the ``done`` state
        (its reward is computed by :meth:`purchase`).
        """
        button = " ".join(button.lower().split())
        if st.page in ("search", "done"):
            return None
        if button == "back to search":
            return initial_state()
        if st.page == "results":
            results = self.shop.index.search(st.query)
            if button == "next >":
                if st.page_num * RESULTS_PER_PAGE < min(len(results), MAX_RESULTS):
                    return st._replace(page_num=st.page_num + 1)
                return None
            if button == "< prev":
                return st._replace(page_num=st.page_num - 1) if st.page_num > 1 else None
            start = (st.page_num - 1) * RESULTS_PER_PAGE
            products = self.shop.catalog.products
            for i in results[start : start + RESULTS_PER_PAGE]:
                if products[i].asin.lower() == button:
                    return st._replace(page="item", asin=products[i].asin, options=())
            return None
        if st.page == "sub":
            return st._replace(page="item", sub_page="") if button == "< prev" else None
        product = self.shop.catalog.by_asin(st.asin)
        if product is None:
            return None
        if button == "< prev":
            return st._replace(page="results", asin="", options=())
        if button in SUB_PAGES:
            return st._replace(page="sub", sub_page=button)
        if button == "buy now":
            return st._replace(page="done", bought=product.asin, sub_page="")
        name = product.option_of(button)
        if name is not None:
            return st.with_option(name, button)
        return None

    # ----------------------------------------------------------------- pages
    def view(self, goal: Goal, st: ShopState, score: float | None = None) -> PageView:
        """The WebShop page data of ``st`` (as ``WebShopEnv`` builds it)."""
        instr = goal.instruction
        if st.page == "search":
            return PageView("search", instr)
        if st.page == "results":
            cat = self.shop.catalog.products
            results = tuple(cat[i] for i in self.shop.index.search(st.query))
            return PageView("results", instr, st.query, st.page_num, results)
        product = self.shop.catalog.by_asin(st.bought or st.asin)
        if st.page == "done":
            return PageView(
                "done", instr, st.query, product=product, chosen=st.options, score=score
            )
        kind = st.sub_page if st.page == "sub" else "item"
        return PageView(kind, instr, st.query, st.page_num, product=product, chosen=st.options)

    def page(self, split: str, task_id: int, st: ShopState) -> str:
        """The HTML of state ``st``: WebShop's page, its buttons made links to their pages."""
        goal = self.goal(split, task_id)
        score = self.purchase(goal, st)[0] if st.page == "done" else None
        html = render_html(self.view(goal, st, score))
        html = html.replace(
            'action="/search"', f'action="{self.prefix}{split}/{task_id}/search"', 1
        )

        def link(m: re.Match[str]) -> str:
            cls, action, rest, label = m.groups()
            act = unescape(action)
            target = self.click(st, act[len("click[") : -1]) if act.startswith("click[") else None
            if target is None:
                return m.group(0)
            href = escape(self.path(split, task_id, target), quote=True)
            return (
                f'<a role="button" class="{cls}" data-action="{action}" href="{href}"{rest}>'
                f"{label}</a>"
            )

        return _BUTTON_RE.sub(link, html)

    def handle(self, rest: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        """The server's handler for ``/shop/...`` (``rest`` is the path below the prefix)."""
        path = self.prefix + rest
        if query:
            path += "?" + urlencode(
                [(k, v) for k, vs in query.items() for v in vs], quote_via=quote
            )
        parsed = self.parse(path)
        if parsed is None:
            return 404, "text/plain; charset=utf-8", b"no such page"
        split, task_id, st = parsed
        try:
            html = self.page(split, task_id, st)
        except (KeyError, IndexError, ValueError, AssertionError):
            return 404, "text/plain; charset=utf-8", b"no such page"
        return 200, "text/html; charset=utf-8", html.encode("utf-8")
