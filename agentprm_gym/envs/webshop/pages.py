"""What each WebShop page shows, and its text renderings.

A page is described once, as a :class:`PageView` (the data) and its list of
:class:`Element` s (texts and buttons, in reading order, as WebShop's text
environment walks the HTML). The ``text`` observation joins elements with
``" [SEP] "`` (WebShop's ``text`` mode); ``text_rich`` marks buttons with
``[button] ... [button_]`` and chosen options with
``[clicked button] ... [clicked button_]``, one element per line. The HTML
pages of :mod:`agentprm_gym.envs.webshop.html_pages` render the same views.

Buttons carry their action: ``click[<label in lower case>]`` (WebShop lower-cases
clickables, so an asin button ``B07XK3J2QZ`` is ``click[b07xk3j2qz]``).
"""

from __future__ import annotations

from typing import NamedTuple

from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.search_engine import MAX_RESULTS

__all__ = [
    "PageView",
    "Element",
    "page_elements",
    "render_text",
    "render_text_rich",
    "button_actions",
    "RESULTS_PER_PAGE",
    "BACK_TO_SEARCH",
    "NEXT_PAGE",
    "PREV_PAGE",
    "BUY_NOW",
]

#: Results shown per page (WebShop: 10).
RESULTS_PER_PAGE = 10
BACK_TO_SEARCH = "Back to Search"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BUY_NOW = "Buy Now"
_SUB_LABELS = {"description": "Description", "features": "Features", "reviews": "Reviews"}


class PageView(NamedTuple):
    """The data one page shows.

    Attributes:
        kind: "search", "results", "item", "description", "features", "reviews" or "done".
        instruction: The task instruction (shown on every page).
        query: The search query (results pages).
        page_num: Results page number, from 1.
        results: All results of the query (the page shows its slice).
        product: The product (item pages, sub-pages and the done page).
        chosen: Chosen options ``((name, value), ...)``.
        score: The purchase reward (done page).
    """

    kind: str
    instruction: str
    query: str = ""
    page_num: int = 1
    results: tuple[Product, ...] = ()
    product: Product | None = None
    chosen: tuple[tuple[str, str], ...] = ()
    score: float | None = None

    @property
    def page_results(self) -> tuple[Product, ...]:
        """The results on this page."""
        start = (self.page_num - 1) * RESULTS_PER_PAGE
        return self.results[start : start + RESULTS_PER_PAGE]

    @property
    def has_next(self) -> bool:
        """Whether a next results page exists."""
        return self.page_num * RESULTS_PER_PAGE < min(len(self.results), MAX_RESULTS)


class Element(NamedTuple):
    """One thing on a page: ``kind`` is "text", "button" or "clicked" (a chosen option)."""

    kind: str
    text: str

    @property
    def action(self) -> str | None:
        """The action of a button (``click[<text lower-cased>]``), None for text."""
        return None if self.kind == "text" else f"click[{self.text.lower()}]"


def _t(s: str) -> Element:
    return Element("text", s)


def _b(s: str) -> Element:
    return Element("button", s)


def page_elements(view: PageView) -> list[Element]:
    """The page's elements in reading order."""
    k = view.kind
    if k == "search":
        return [_t("WebShop"), _t("Instruction:"), _t(view.instruction), _b("Search")]
    out = [_t("Instruction:"), _t(view.instruction)]
    if k == "results":
        out.append(_b(BACK_TO_SEARCH))
        out.append(_t(f"Page {view.page_num} (Total results: {len(view.results)})"))
        if view.page_num > 1:
            out.append(_b(PREV_PAGE))
        if view.has_next:
            out.append(_b(NEXT_PAGE))
        for p in view.page_results:
            out += [_b(p.asin), _t(p.name), _t(p.price_tag)]
        return out
    p = view.product
    assert p is not None
    if k == "done":
        return [
            _t("Thank you for shopping with us!"),
            _t("Purchased"),
            _t(p.asin),
            _t(p.name),
            _t("Your score (min 0.0, max 1.0)"),
            _t(f"{view.score or 0.0:.4f}"),
        ]
    out += [_b(BACK_TO_SEARCH), _b(PREV_PAGE)]
    if k == "item":
        chosen = dict(view.chosen)
        for name, values in view.product.options:
            out.append(_t(name))
            sel = chosen.get(name)
            out += [Element("clicked" if v == sel else "button", v) for v in values]
        out += [_t(p.name), _t(f"Price: {p.price_tag}")]
        out.append(_t(f"Rating: {p.rating if p.rating is not None else 'N.A.'}"))
        out += [_b("Description"), _b("Features"), _b("Reviews"), _b(BUY_NOW)]
    elif k == "description":
        out.append(_t(p.description))
    elif k == "features":
        out += [_t(b) for b in p.bullet_points]
    elif k == "reviews":
        if not p.reviews:
            out.append(_t("No reviews yet."))
        for r in p.reviews:
            out += [_t(r.title), _t(f"{r.score} out of 5 stars"), _t(r.body)]
    else:
        raise ValueError(f"unknown page kind {k!r}")
    return out


def render_text(elements: list[Element]) -> str:
    """WebShop's ``text`` observation: elements joined by ``" [SEP] "``."""
    return " [SEP] ".join(e.text for e in elements)


def render_text_rich(elements: list[Element]) -> str:
    """WebShop's ``text_rich`` observation: one element per line, buttons marked."""
    lines = []
    for e in elements:
        if e.kind == "button":
            lines.append(f"[button] {e.text} [button_]")
        elif e.kind == "clicked":
            lines.append(f"[clicked button] {e.text} [clicked button_]")
        else:
            lines.append(e.text)
    return "\n".join(lines)


def button_actions(elements: list[Element]) -> list[str]:
    """The click actions of the page's buttons (chosen options stay clickable), in order."""
    return [f"click[{e.text.lower()}]" for e in elements if e.kind != "text"]
