"""Scripted solvers for the MiniWoB tasks: read the page, return the next action.

Every solver is stateless: it looks at the utterance and the current page (the
element table and, where it needs classes or ARIA state, the marked HTML) and
returns one action in the browser action language. Being stateless, a solver
also works after ``set_state`` or from a half-played episode. They are the
``expert_action`` of :class:`~.miniwob_env.MiniWoBEnv` (privileged only in
that they are scripts written for each task).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bs4 import BeautifulSoup, Tag

from agentprm_gym.envs.browser.dom_text import Element
from agentprm_gym.envs.browser.page_driver import PageRead

__all__ = ["Solver", "SOLVERS", "solver_for", "SolverError"]

#: A solver: (utterance, page) -> action.
Solver = Callable[[str, PageRead], str]


class SolverError(RuntimeError):
    """Raised when a solver cannot find what it needs on the page."""


def _quoted(utterance: str) -> list[str]:
    return re.findall(r'"([^"]*)"', utterance)


def _els(page: PageRead, role: str | None = None) -> list[Element]:
    return [e for e in page.view.elements.values() if role is None or e.role == role]


def _by_label(page: PageRead, label: str, roles: tuple[str, ...] | None = None) -> Element | None:
    for e in page.view.elements.values():
        if e.label == label and (roles is None or e.role in roles):
            return e
    return None


def _button(page: PageRead, label: str) -> Element:
    for e in page.view.elements.values():
        if e.role == "button" and e.label == label:
            return e
    for e in page.view.elements.values():
        if e.role == "button" and e.label.lower() == label.lower():
            return e
    raise SolverError(f"no button {label!r} on the page")


def _tags(page: PageRead) -> dict[str, Tag]:
    soup = BeautifulSoup(page.html, "html.parser")
    return {
        str(t["data-apid"]): t
        for t in soup.find_all(attrs={"data-apid": True})
        if t.get("data-apvis") != "0"
    }


def _classes(tag: Tag) -> list[str]:
    c = tag.get("class") or []
    return list(c) if not isinstance(c, str) else c.split()


# ------------------------------------------------------------------ solvers
def solve_click_button(utt: str, page: PageRead) -> str:
    """Click the button whose text the utterance quotes."""
    return f"click[{_button(page, _quoted(utt)[0]).id}]"


def solve_click_link(utt: str, page: PageRead) -> str:
    """Click the in-text link whose text the utterance quotes."""
    want = _quoted(utt)[0]
    el = _by_label(page, want)
    if el is None:
        raise SolverError(f"no link {want!r}")
    return f"click[{el.id}]"


def _fill_then_submit(page: PageRead, wants: list[tuple[Element, str]], submit: str) -> str:
    for el, text in wants:
        if el.value != text:
            return f"type[{el.id}][{text}]"
    return f"click[{_button(page, submit).id}]"


def solve_enter_text(utt: str, page: PageRead) -> str:
    """Type the quoted text into the box, then Submit."""
    box = _els(page, "textbox")[0]
    return _fill_then_submit(page, [(box, _quoted(utt)[0])], "submit")


def solve_enter_password(utt: str, page: PageRead) -> str:
    """Type the quoted password into both boxes, then Submit."""
    pw = _quoted(utt)[0]
    return _fill_then_submit(page, [(b, pw) for b in _els(page, "textbox")], "submit")


def solve_login_user(utt: str, page: PageRead) -> str:
    """Fill username and password (by their labels), then Login."""
    user, pw = _quoted(utt)[:2]
    boxes = _els(page, "textbox")
    by = {b.label.lower(): b for b in boxes}
    u = by.get("username", boxes[0])
    p = by.get("password", boxes[1])
    return _fill_then_submit(page, [(u, user), (p, pw)], "login")


def solve_click_checkboxes(utt: str, page: PageRead) -> str:
    """Make each checkbox's state match the list, then Submit."""
    m = re.match(r"Select (.*) and click Submit\.", utt)
    if m is None:
        raise SolverError(f"unexpected utterance {utt!r}")
    names = [] if m.group(1) == "nothing" else [n.strip() for n in m.group(1).split(",")]
    for box in _els(page, "checkbox"):
        if bool(box.checked) != (box.label in names):
            return f"click[{box.id}]"
    return f"click[{_button(page, 'submit').id}]"


def solve_click_option(utt: str, page: PageRead) -> str:
    """Check the named radio button, then Submit."""
    m = re.match(r"Select (.*) and click Submit\.", utt)
    if m is None:
        raise SolverError(f"unexpected utterance {utt!r}")
    want = m.group(1).strip()
    for r in _els(page, "radio"):
        if r.label == want:
            if not r.checked:
                return f"click[{r.id}]"
            return f"click[{_button(page, 'submit').id}]"
    raise SolverError(f"no radio button {want!r}")


def solve_click_dialog(utt: str, page: PageRead) -> str:
    """Click the dialog's close button."""
    for tid, tag in _tags(page).items():
        if "ui-dialog-titlebar-close" in _classes(tag):
            return f"click[{tid}]"
    raise SolverError("no dialog close button")


def solve_choose_list(utt: str, page: PageRead) -> str:
    """Select the named option, then Submit."""
    m = re.match(r"Select (.*) from the list and click Submit\.", utt)
    if m is None:
        raise SolverError(f"unexpected utterance {utt!r}")
    want = m.group(1)
    box = _els(page, "combobox")[0]
    if box.value != want:
        return f"select[{box.id}][{want}]"
    return f"click[{_button(page, 'submit').id}]"


def solve_navigate_tree(utt: str, page: PageRead) -> str:
    """Click the named item when visible; otherwise expand the next collapsed folder."""
    want = _quoted(utt)[0]
    tags = _tags(page)
    for tid, tag in tags.items():
        span = tag.find("span", recursive=False) if tag.name == "li" else None
        if span is not None and " ".join(span.get_text().split()) == want:
            return f"click[{tid}]"
    for tid, tag in tags.items():
        if "expandable-hitarea" in _classes(tag):
            return f"click[{tid}]"
    raise SolverError(f"{want!r} not found and nothing left to expand")


def solve_use_autocomplete(utt: str, page: PageRead) -> str:
    """Type the prefix, open the menu, pick a matching item, Submit."""
    q = _quoted(utt)
    start, end = q[0], (q[1] if len(q) > 1 else "")
    box = _els(page, "textbox")[0]
    val = box.value or ""
    matches = val.startswith(start) and val.endswith(end)
    if matches and (end or val != start):
        return f"click[{_button(page, 'submit').id}]"
    # a prefix may end in a space ("Sri "), which the observed value does not show
    if val.strip() != start.strip():
        return f"type[{box.id}][{start}]"
    items: list[tuple[str, str]] = []
    for tid, tag in _tags(page).items():
        if "ui-menu-item" in _classes(tag):
            items.append((tid, " ".join(tag.get_text().split())))
    if items:
        for tid, text in items:
            if text.startswith(start) and text.endswith(end) and (end or text != start):
                return f"click[{tid}]"
        if not end and any(text == start for _, text in items):
            return f"click[{_button(page, 'submit').id}]"
    return "press[ArrowDown]"


def solve_click_tab_2(utt: str, page: PageRead) -> str:
    """Click the link when the open tab shows it; otherwise open the next tab."""
    want = _quoted(utt)[0]
    el = _by_label(page, want, ("clickable",))
    if el is not None:
        return f"click[{el.id}]"
    tabs: list[tuple[str, bool]] = []
    for tid, tag in _tags(page).items():
        li = tag.find_parent("li")
        if tag.name == "a" and li is not None and li.get("role") == "tab":
            tabs.append((tid, li.get("aria-selected") == "true"))
    if not tabs:
        raise SolverError("no tabs")
    active = next((i for i, (_, sel) in enumerate(tabs) if sel), -1)
    return f"click[{tabs[(active + 1) % len(tabs)][0]}]"


_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th) search result")


def solve_search_engine(utt: str, page: PageRead) -> str:
    """Search the quoted text, go to the result's page, click the Nth result."""
    want = _quoted(utt)[0]
    m = _ORDINAL.search(utt)
    if m is None:
        raise SolverError(f"unexpected utterance {utt!r}")
    n = int(m.group(1)) - 1
    box = _els(page, "textbox")[0]
    if box.value != want:
        return f"type[{box.id}][{want}]"
    tags = _tags(page)
    results = [tid for tid, t in tags.items() if "search-title" in _classes(t)]
    if not results:
        return f"click[{_button(page, 'search').id}]"
    target_page = n // 3 + 1
    current = None
    pages: dict[int, str] = {}
    for tid, t in tags.items():
        li = t.find_parent("li")
        text = t.get_text().strip()
        if t.name == "a" and li is not None and text.isdigit():
            pages[int(text)] = tid
            if "active" in _classes(li):
                current = int(text)
    if current != target_page:
        if target_page not in pages:
            raise SolverError(f"no link to result page {target_page}")
        return f"click[{pages[target_page]}]"
    return f"click[{results[n % 3]}]"


#: Task -> solver.
SOLVERS: dict[str, Solver] = {
    "click-button": solve_click_button,
    "click-link": solve_click_link,
    "click-checkboxes": solve_click_checkboxes,
    "click-option": solve_click_option,
    "click-dialog": solve_click_dialog,
    "enter-text": solve_enter_text,
    "enter-password": solve_enter_password,
    "login-user": solve_login_user,
    "choose-list": solve_choose_list,
    "navigate-tree": solve_navigate_tree,
    "use-autocomplete": solve_use_autocomplete,
    "click-tab-2": solve_click_tab_2,
    "search-engine": solve_search_engine,
}


def solver_for(task: str) -> Solver:
    """The solver of ``task``."""
    try:
        return SOLVERS[task]
    except KeyError:
        raise KeyError(f"no solver for MiniWoB task {task!r}") from None
