"""DOM -> text and the action language, without a browser."""

from __future__ import annotations

import pytest

from agentprm_gym.core.actions import ActionParseError
from agentprm_gym.envs.browser.browser_actions import BrowserCommand, parse_browser_action
from agentprm_gym.envs.browser.dom_text import parse_page


def test_parse_page_lists_visible_elements_and_text() -> None:
    html = (
        '<body><div data-apvis="1">Hello <b data-apvis="1">there</b></div>'
        '<p data-apvis="1"><label data-apvis="1" for="u">Name</label>'
        '<input data-apvis="1" data-apid="1" id="u" data-apval="bob"></p>'
        '<div data-apvis="0"><button data-apid="2">Hidden</button></div>'
        '<button data-apvis="1" data-apid="3">Go &lt;now&gt;</button>'
        '<select data-apvis="1" data-apid="4" data-apsel="B"><option>A</option><option>B</option>'
        "</select>"
        '<label data-apvis="1"><input type="checkbox" data-apvis="1" data-apid="5" data-apchk="1">'
        "tick</label>"
        "<script>var x = 1;</script></body>"
    )
    view = parse_page(html)
    assert view.lines == [
        "Hello there",
        "Name",
        '[1] textbox "Name" value="bob"',
        '[3] button "Go <now>"',
        '[4] combobox "" value="B" options=["A", "B"]',
        '[5] checkbox "tick" checked',
    ]
    assert set(view.elements) == {"1", "3", "4", "5"}


@pytest.mark.parametrize(
    "text, cmd",
    [
        ("click[12]", BrowserCommand("click", "12")),
        ("type[7][hello [world]]", BrowserCommand("type", "7", "hello [world]")),
        ("select[3][Peru]", BrowserCommand("select", "3", "Peru")),
        ("press[Control+a]", BrowserCommand("press", "Control+a")),
        ("scroll[DOWN]", BrowserCommand("scroll", "down")),
        ("back", BrowserCommand("back")),
        ("goto[/x.html]", BrowserCommand("goto", "/x.html")),
        ("stop[42]", BrowserCommand("stop", "42")),
    ],
)
def test_parse_browser_action(text: str, cmd: BrowserCommand) -> None:
    assert parse_browser_action(text) == cmd


@pytest.mark.parametrize(
    "text",
    ["", "click", "click[x]", "type[1]", "press[Hyper+a]", "scroll[left]", "eval[1]", "back[1]"],
)
def test_parse_browser_action_rejects(text: str) -> None:
    with pytest.raises(ActionParseError):
        parse_browser_action(text)
