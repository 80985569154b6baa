"""DOM -> text: BeautifulSoup over the marked page, giving the observation and element table.

The page script (:mod:`.page_script`) has marked interactive elements with
``data-apid``, visibility with ``data-apvis`` and live values with
``data-apval``/``data-apchk``/``data-apsel``. This module walks the marked
HTML in document order and writes one line per interactive element,
``[12] button "Submit"`` or ``[7] textbox "Username" value=""``, and one line
per run of visible plain text, skipping hidden subtrees, scripts, styles and
subtrees whose root has ``data-apskip``. Text is always text: markup that
arrived as text (``&lt;script&gt;``) is shown literally, never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment

__all__ = [
    "Element",
    "PageView",
    "parse_page",
    "parse_soup",
    "format_observation",
    "HTML_PARSER",
]


def _best_parser() -> str:
    try:
        import lxml  # noqa: F401
    except ImportError:
        return "html.parser"
    return "lxml"


#: BeautifulSoup's tree builder: ``lxml`` when installed (several times faster), else the
#: standard library's ``html.parser``. Both backends use the same one.
HTML_PARSER = _best_parser()

_BLOCK = frozenset(
    (
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
        "body",
    )
)
_SKIP = frozenset(("script", "style", "noscript", "template", "head", "title", "canvas", "svg"))
_TEXT_INPUTS = frozenset(("text", "password", "email", "search", "tel", "url", "number", ""))
_LABEL_LIMIT = 80


@dataclass(frozen=True)
class Element:
    """One interactive, visible element of the page.

    Attributes:
        id: The stable ``data-apid`` (what actions name).
        role: ``button``, ``link``, ``textbox``, ``checkbox``, ``radio``,
            ``combobox``, an ARIA role, or ``clickable``.
        label: Its visible text or accessible name (may be empty).
        value: Live value for text boxes and lists; None otherwise.
        checked: For checkboxes and radios; None otherwise.
        options: The option texts of a list box.
        tag: The lower-case tag name.
        hint: For elements without a label: their DOM id or class names (shown in
            parentheses), so that icon buttons can be told apart.
        selected: Whether it (or its list item) is the active/selected one
            (``aria-selected="true"`` or an ``active`` class), e.g. the open tab.
    """

    id: str
    role: str
    label: str
    value: str | None = None
    checked: bool | None = None
    options: tuple[str, ...] = ()
    tag: str = ""
    hint: str = ""
    selected: bool = False

    @property
    def is_textbox(self) -> bool:
        """Whether ``type[id][...]`` applies."""
        return self.role in ("textbox", "searchbox")

    def line(self) -> str:
        """The observation line for this element."""
        s = f"[{self.id}] {self.role} {_quote(self.label)}"
        if self.hint and not self.label:
            s += f" ({self.hint})"
        if self.selected:
            s += " selected"
        if self.checked is not None:
            s += " checked" if self.checked else " unchecked"
        if self.value is not None:
            s += f" value={_quote(self.value)}"
        if self.options:
            s += " options=[" + ", ".join(_quote(o) for o in self.options) + "]"
        return s


@dataclass
class PageView:
    """What one look at the page gives: text lines and the element table."""

    lines: list[str] = field(default_factory=list)
    elements: dict[str, Element] = field(default_factory=dict)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _clean(s: str) -> str:
    return " ".join(s.split())


def parse_page(body_html: str) -> PageView:
    """Parse the marked ``<body>`` HTML into text lines and visible interactive elements."""
    return parse_soup(BeautifulSoup(body_html, HTML_PARSER))


def parse_soup(soup: BeautifulSoup) -> PageView:
    """:func:`parse_page` on an already parsed (and marked) document."""
    view = PageView()
    labels = _label_index(soup)
    buf: list[str] = []

    def flush() -> None:
        if buf:
            text = _clean(" ".join(buf))
            if text:
                view.lines.append(text)
            buf.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                t = str(child)
                if t.strip():
                    buf.append(t)
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _SKIP or child.get("data-apvis") == "0" or child.get("data-apskip"):
                continue
            block = name in _BLOCK
            if block:
                flush()
            apid = child.get("data-apid")
            if apid is not None:
                flush()
                el = _element(child, str(apid), labels)
                view.elements[el.id] = el
                view.lines.append(el.line())
                if _has_interactive_descendant(child) or len(_own_text(child)) > _LABEL_LIMIT:
                    walk(child)
                    flush()
                continue
            if name == "label" and _has_interactive_descendant(child):
                # The label's text names the control inside it: show the control only.
                flush()
                for inner in child.find_all(attrs={"data-apid": True}):
                    if inner.get("data-apvis") != "0":
                        el = _element(inner, str(inner["data-apid"]), labels)
                        view.elements[el.id] = el
                        view.lines.append(el.line())
                continue
            walk(child)
            if block:
                flush()

    root = soup.body or soup
    walk(root)
    flush()
    return view


def _has_interactive_descendant(tag: Tag) -> bool:
    return tag.find(attrs={"data-apid": True}) is not None


def _visible_text(tag: Tag, stop_at_interactive: bool) -> str:
    parts: list[str] = []

    def rec(node: Tag) -> None:
        for c in node.children:
            if isinstance(c, Comment):
                continue
            if isinstance(c, NavigableString):
                parts.append(str(c))
            elif isinstance(c, Tag):
                if c.name in _SKIP or c.get("data-apvis") == "0" or c.get("data-apskip"):
                    continue
                if stop_at_interactive and c.get("data-apid") is not None:
                    continue
                rec(c)

    rec(tag)
    return _clean(" ".join(parts))


def _own_text(tag: Tag) -> str:
    return _visible_text(tag, stop_at_interactive=True)


def _label_index(soup: BeautifulSoup) -> dict[str, str]:
    out: dict[str, str] = {}
    for lab in soup.find_all("label"):
        target = lab.get("for")
        if target:
            out[str(target)] = _clean(lab.get_text(" "))
    return out


def _element(tag: Tag, apid: str, labels: dict[str, str]) -> Element:
    name = tag.name
    aria = tag.get("aria-label")
    value: str | None = None
    checked: bool | None = None
    options: tuple[str, ...] = ()
    label = ""
    if name == "input":
        typ = str(tag.get("type", "text")).lower()
        if typ in ("checkbox", "radio"):
            role = typ
            checked = tag.get("data-apchk") == "1"
            label = _wrapping_label(tag) or labels.get(str(tag.get("id", "")), "")
        elif typ in ("button", "submit", "reset", "image"):
            role = "button"
            label = str(tag.get("data-apval") or tag.get("value") or typ)
        else:
            role = "textbox" if typ in _TEXT_INPUTS else typ
            value = str(tag.get("data-apval", ""))
            label = labels.get(str(tag.get("id", "")), "") or _wrapping_label(tag)
            label = (
                label
                or _previous_label(tag)
                or str(tag.get("placeholder") or tag.get("name") or "")
            )
    elif name == "textarea":
        role = "textbox"
        value = str(tag.get("data-apval", ""))
        label = labels.get(str(tag.get("id", "")), "") or str(tag.get("placeholder") or "")
    elif name == "select":
        role = "combobox"
        value = str(tag.get("data-apsel", ""))
        options = tuple(_clean(o.get_text(" ")) for o in tag.find_all("option"))
        label = labels.get(str(tag.get("id", "")), "")
    else:
        role = str(tag.get("role") or "")
        if not role:
            role = {"a": "link", "button": "button", "summary": "button"}.get(name, "clickable")
        label = _own_text(tag)
        if role == "textbox" or tag.get("contenteditable") is not None:
            role = "textbox"
            value = label
            label = ""
    if aria:
        label = str(aria)
    label = _clean(label)
    if len(label) > _LABEL_LIMIT:
        label = label[: _LABEL_LIMIT - 3] + "..."
    hint = ""
    if not label:
        hint = str(tag.get("id") or " ".join(_classes(tag)[:3]))
    return Element(apid, role, label, value, checked, options, name, hint, _is_selected(tag))


def _is_selected(tag: Tag) -> bool:
    for t in (tag, tag.parent):
        if not isinstance(t, Tag):
            continue
        if t.get("aria-selected") == "true" or t.get("aria-pressed") == "true":
            return True
        if {"active", "ui-tabs-active", "selected"} & set(_classes(t)):
            return True
    return False


def _classes(tag: Tag) -> list[str]:
    c = tag.get("class") or []
    return c.split() if isinstance(c, str) else list(c)


def _previous_label(tag: Tag) -> str:
    prev = tag.find_previous_sibling()
    if isinstance(prev, Tag) and prev.name == "label" and not prev.get("for"):
        return _clean(prev.get_text(" "))
    return ""


def _wrapping_label(tag: Tag) -> str:
    parent = tag.find_parent("label")
    if parent is None:
        return ""
    return _visible_text(parent, stop_at_interactive=True)


def format_observation(
    task: str, title: str, url: str, view: PageView, extra: list[str] | None = None
) -> str:
    """The text observation: task, page title and URL, then the page's lines."""
    head = [f"Task: {task}", f"Page: {title} ({url})"]
    return "\n".join(head + list(extra or []) + view.lines)
