"""The static backend's "browser": server-side pages parsed with BeautifulSoup, no Chromium.

A :class:`StaticPage` is what the page script and :mod:`.dom_text` would make
of a freshly loaded page that has no scripts and no hidden elements: the
interactive elements (``a[href]``, ``button``, ``input`` other than hidden,
``select``, ``textarea``) numbered from 1 in document order, the text lines,
and for each element where a click leads (a link's ``href``, a submit
button's form). Pages are cached per URL (they are a pure function of it).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, urljoin

from bs4 import BeautifulSoup, Tag

from agentprm_gym.envs.browser.dom_text import HTML_PARSER, Element, PageView, parse_soup

__all__ = [
    "StaticPage",
    "StaticPageCache",
    "render_lines",
    "load_page",
    "submit_url",
    "element",
    "marked_body",
]

_INTERACTIVE = ("a", "button", "input", "select", "textarea")


@dataclass(frozen=True)
class StaticPage:
    """One parsed page.

    Attributes:
        url: Its URL path.
        title: ``<title>`` text.
        view: Text lines and elements (values as loaded).
        source: The HTML as served (see :func:`marked_body` for the marked ``<body>``).
        hrefs: Element id -> absolute path a click navigates to.
        forms: Submit-button id -> (form action path, ((input id, input name), ...)).
        line_of: Element id -> index of its line in ``view.lines``.
    """

    url: str
    title: str
    view: PageView
    source: str
    hrefs: dict[str, str] = field(default_factory=dict)
    forms: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=dict)
    line_of: dict[str, int] = field(default_factory=dict)


def _mark(soup: BeautifulSoup) -> None:
    body = soup.body or soup
    n = 0
    for tag in body.find_all(True):
        tag["data-apvis"] = "1"
        if tag.name not in _INTERACTIVE:
            continue
        if tag.name == "a" and not tag.has_attr("href"):
            continue
        if tag.name == "input" and str(tag.get("type", "")).lower() == "hidden":
            continue
        n += 1
        tag["data-apid"] = str(n)
        if tag.name in ("input", "textarea"):
            tag["data-apval"] = str(tag.get("value", ""))


def load_page(url: str, html: str) -> StaticPage:
    """Parse and mark ``html`` served at ``url``."""
    soup = BeautifulSoup(html, HTML_PARSER)
    _mark(soup)
    view = parse_soup(soup)
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    hrefs: dict[str, str] = {}
    forms: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
    for tag in soup.find_all(attrs={"data-apid": True}):
        tid = str(tag["data-apid"])
        if tag.name == "a":
            href = str(tag["href"])
            if not href.startswith(("#", "javascript:")):
                hrefs[tid] = urljoin(url, href)
        elif tag.name == "button" and str(tag.get("type", "submit")).lower() == "submit":
            form = tag.find_parent("form")
            if isinstance(form, Tag) and str(form.get("method", "get")).lower() == "get":
                inputs = tuple(
                    (str(i["data-apid"]), str(i.get("name", "")))
                    for i in form.find_all("input", attrs={"data-apid": True})
                    if i.get("name")
                )
                forms[tid] = (urljoin(url, str(form.get("action") or url)), inputs)
    line_of = {}
    for i, line in enumerate(view.lines):
        if line.startswith("["):
            line_of[line[1 : line.index("]")]] = i
    return StaticPage(url, title, view, html, hrefs, forms, line_of)


def marked_body(page: StaticPage, values: dict[str, str]) -> str:
    """The page's ``<body>`` marked as the page script marks it, typed values filled in."""
    soup = BeautifulSoup(page.source, HTML_PARSER)
    _mark(soup)
    for tag in soup.find_all(attrs={"data-apid": True}):
        tid = str(tag["data-apid"])
        if tid in values:
            tag["data-apval"] = values[tid]
    return str(soup.body) if soup.body else ""


def submit_url(page: StaticPage, button_id: str, values: dict[str, str]) -> str | None:
    """Where submitting the form of ``button_id`` goes, given typed ``values``."""
    form = page.forms.get(button_id)
    if form is None:
        return None
    action, inputs = form
    query = urlencode([(name, values.get(iid, "")) for iid, name in inputs])
    return action.split("?", 1)[0] + "?" + query


def render_lines(page: StaticPage, values: dict[str, str]) -> list[str]:
    """The page's lines with typed values filled into their text boxes."""
    if not values:
        return page.view.lines
    lines = list(page.view.lines)
    for iid, val in values.items():
        el = page.view.elements.get(iid)
        if el is not None and iid in page.line_of:
            lines[page.line_of[iid]] = replace(el, value=val).line()
    return lines


class StaticPageCache:
    """A thread-safe LRU of parsed pages, filled by ``fetch(url) -> html``.

    Args:
        fetch: Returns the HTML served at a URL path (or raises ``KeyError``).
        size: Pages kept.
    """

    def __init__(self, fetch: Callable[[str], str], size: int = 8192) -> None:
        self._fetch = fetch
        self._size = size
        self._pages: OrderedDict[str, StaticPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, url: str) -> StaticPage:
        """The parsed page at ``url``."""
        with self._lock:
            page = self._pages.get(url)
            if page is not None:
                self._pages.move_to_end(url)
                return page
        page = load_page(url, self._fetch(url))
        with self._lock:
            self._pages[url] = page
            while len(self._pages) > self._size:
                self._pages.popitem(last=False)
        return page


def element(page: StaticPage, eid: str) -> Element | None:
    """Element ``eid`` of ``page`` (None when there is none)."""
    return page.view.elements.get(eid)
