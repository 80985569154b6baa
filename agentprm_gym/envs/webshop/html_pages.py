"""Real HTML pages of the shop (the ``html`` observation mode and the Browser env's site).

:func:`render_html` turns a :class:`~agentprm_gym.envs.webshop.pages.PageView`
into a complete, valid HTML5 document showing exactly the elements of
:func:`~agentprm_gym.envs.webshop.pages.page_elements`. All catalog and
instruction text is escaped with :func:`html.escape`.

Every clickable element carries its agent action in a ``data-action``
attribute (``click[next >]``, ``click[b07xk3j2qz]``, ``click[large]``...), and
the search form is ``<form data-action="search">`` with a text input named
``query``: a browser driver maps a click or a submitted query back to the text
action, and :func:`page_actions` reads the clickable actions back from a page
with the standard library's :mod:`html.parser`.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from agentprm_gym.envs.webshop.pages import (
    BACK_TO_SEARCH,
    BUY_NOW,
    NEXT_PAGE,
    PREV_PAGE,
    PageView,
)

__all__ = ["render_html", "page_actions", "STYLE"]

#: The stylesheet inlined in every page.
STYLE = (
    "body{font-family:sans-serif;margin:1em;max-width:60em}"
    "#instruction{background:#f4f4f4;padding:.5em}"
    "button{margin:.15em;cursor:pointer}"
    "button.clicked{background:#333;color:#fff}"
    ".result{border-bottom:1px solid #ddd;padding:.4em 0}"
    ".price{color:#b12704}"
)


def _e(s: str) -> str:
    return escape(s, quote=True)


def _button(label: str, cls: str = "btn", clicked: bool = False) -> str:
    action = _e(f"click[{label.lower()}]")
    pressed = ' aria-pressed="true"' if clicked else ""
    if clicked:
        cls += " clicked"
    return (
        f'<button type="button" class="{cls}" data-action="{action}"{pressed}>{_e(label)}</button>'
    )


def render_html(view: PageView, error: str | None = None) -> str:
    """A complete HTML document for ``view``.

    Args:
        view: The page to render.
        error: A message shown in an alert box at the top (an invalid action).

    Returns:
        The HTML text (``<!DOCTYPE html>`` ... ``</html>``).
    """
    k = view.kind
    body: list[str] = [
        '<div id="instruction"><span class="label">Instruction:</span> '
        f'<span class="instruction-text">{_e(view.instruction)}</span></div>'
    ]
    title = "WebShop"
    if k == "search":
        body.insert(0, "<h1>WebShop</h1>")
        body.append(
            '<form id="search-form" data-action="search" method="get" action="/search">'
            '<input type="text" id="search-input" name="query" aria-label="search query">'
            '<button type="submit" class="btn search-btn">Search</button></form>'
        )
    elif k == "results":
        title = f"WebShop results for {view.query}"
        nav = [_button(BACK_TO_SEARCH, "btn nav")]
        nav.append(
            f'<span class="page-info">Page {view.page_num} '
            f"(Total results: {len(view.results)})</span>"
        )
        if view.page_num > 1:
            nav.append(_button(PREV_PAGE, "btn nav"))
        if view.has_next:
            nav.append(_button(NEXT_PAGE, "btn nav"))
        body.append(f'<div class="nav">{"".join(nav)}</div>')
        items = []
        for p in view.page_results:
            items.append(
                f'<li class="result" data-asin="{_e(p.asin)}">'
                f"{_button(p.asin, 'btn product-link')}"
                f'<div class="product-title">{_e(p.name)}</div>'
                f'<div class="price">{_e(p.price_tag)}</div></li>'
            )
        body.append(f'<ul class="results">{"".join(items)}</ul>')
    else:
        p = view.product
        assert p is not None
        title = f"WebShop {p.asin}"
        if k == "done":
            body = [
                "<h1>Thank you for shopping with us!</h1>",
                f'<div class="purchased"><span class="label">Purchased</span> '
                f'<span class="asin">{_e(p.asin)}</span> '
                f'<span class="product-title">{_e(p.name)}</span></div>',
                '<div class="score"><span class="label">Your score (min 0.0, max 1.0)</span> '
                f'<span class="value">{(view.score or 0.0):.4f}</span></div>',
            ]
        else:
            body.append(
                f'<div class="nav">{_button(BACK_TO_SEARCH, "btn nav")}'
                f"{_button(PREV_PAGE, 'btn nav')}</div>"
            )
        if k == "item":
            chosen = dict(view.chosen)
            for name, values in p.options:
                vals = "".join(
                    _button(v, "btn option", clicked=(chosen.get(name) == v)) for v in values
                )
                body.append(
                    f'<div class="option-group" data-option="{_e(name)}">'
                    f'<h4 class="option-name">{_e(name)}</h4>{vals}</div>'
                )
            rating = p.rating if p.rating is not None else "N.A."
            body.append(
                f'<h2 class="product-title">{_e(p.name)}</h2>'
                f'<div class="price">Price: {_e(p.price_tag)}</div>'
                f'<div class="rating">Rating: {_e(str(rating))}</div>'
                f'<div class="tabs">{_button("Description")}{_button("Features")}'
                f"{_button('Reviews')}</div>"
                f'<div class="buy">{_button(BUY_NOW, "btn buy-now")}</div>'
            )
        elif k == "description":
            body.append(f'<div class="description"><p>{_e(p.description)}</p></div>')
        elif k == "features":
            bullets = "".join(f"<li>{_e(b)}</li>" for b in p.bullet_points)
            body.append(f'<ul class="features">{bullets}</ul>')
        elif k == "reviews":
            revs = [
                f'<div class="review"><h4>{_e(r.title)}</h4>'
                f'<div class="stars">{r.score} out of 5 stars</div><p>{_e(r.body)}</p></div>'
                for r in p.reviews
            ]
            body.append(f'<div class="reviews">{"".join(revs) or "<p>No reviews yet.</p>"}</div>')
    if error:
        body.insert(0, f'<div class="error" role="alert">Invalid action: {_e(error)}</div>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
        f'<body data-page="{_e(k)}">{"".join(body)}</body></html>'
    )


class _ActionCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.actions: list[str] = []
        self.has_search = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        act = a.get("data-action")
        if act is None:
            return
        if tag == "form" and act == "search":
            self.has_search = True
        else:
            self.actions.append(act)


def page_actions(html_text: str) -> tuple[list[str], bool]:
    """Read the actions back from a page made by :func:`render_html`.

    Args:
        html_text: The page.

    Returns:
        ``(click actions in page order, whether the page has the search form)``.
    """
    c = _ActionCollector()
    c.feed(html_text)
    c.close()
    return c.actions, c.has_search
