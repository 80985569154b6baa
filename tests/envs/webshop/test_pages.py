from html.parser import HTMLParser

import gymnasium as gym
import pytest

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.html_pages import page_actions, render_html
from agentprm_gym.envs.webshop.pages import PageView, page_elements, render_text_rich

ENV_ID = "AgentPRM/WebShop-v0"
VOID = {"meta", "input", "br", "img", "hr", "link"}


class StrictChecker(HTMLParser):
    """Checks that every non-void tag is closed in order (well-formed HTML)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.text = []
        self.doctype = False

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(doc):
    c = StrictChecker()
    c.feed(doc)
    c.close()
    assert c.doctype and not c.stack
    return "".join(c.text)


def _walk(env, u):
    """Yield (obs, info) on search, results, item, each sub-page and done pages."""
    obs, info = env.reset(seed=0, options={"split": "test", "task_id": 3})
    yield obs, info
    while u.state.page != "item":
        obs, *_, info = env.step(u.expert_action())
        yield obs, info
    for sub in ("description", "features", "reviews"):
        obs, *_, info = env.step(f"click[{sub}]")
        yield obs, info
        obs, *_, info = env.step("click[< prev]")
    while not u.done:
        obs, *_, info = env.step(u.expert_action())
        yield obs, info


def test_html_pages_valid_and_actions_match():
    env = gym.make(ENV_ID, observation_mode="html")
    u = env.unwrapped
    kinds = set()
    for obs, info in _walk(env, u):
        text = check_html(obs)
        assert info["instruction"] in text or u.state.page == "done"
        clicks, has_search = page_actions(obs)
        kinds.add(u.state.page)
        if u.state.page == "search":
            assert has_search and clicks == []
        elif not u.done:
            assert clicks == info["admissible_actions"]
    assert kinds == {"search", "results", "item", "sub", "done"}
    # an invalid action shows an alert in a still-valid page
    env.reset(seed=1)
    obs, *_, info = env.step("click[nothing]")
    assert info["action_error"] and 'role="alert"' in obs
    check_html(obs)


def test_html_escapes_catalog_text():
    p = Product(
        asin="B0ESCAPE01",
        name='Tee <b>bold</b> & "quoted"',
        category="fashion",
        product_category="A › B › C",
        query="tee",
        attributes=("x",),
        options=(("size", ("<small>", "a&b")),),
        price=1.0,
        price_tag="$1.00",
        bullet_points=("<script>alert(1)</script>",),
        description="5 < 6 & 7 > 3",
        rating=None,
        reviews=(),
    )
    view = PageView("item", "buy a <tee> & more", product=p, chosen=(("size", "a&b"),))
    doc = render_html(view)
    text = check_html(doc)
    assert "<b>" not in doc and "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in doc
    assert 'Tee <b>bold</b> & "quoted"' in text  # shows the original text
    assert "buy a <tee> & more" in text
    clicks, _ = page_actions(doc)
    assert "click[<small>]" in clicks and "click[a&b]" in clicks
    feats = render_html(view._replace(kind="features"))
    assert "<script>" not in feats
    check_html(feats)


def test_text_rich_marks_buttons_and_clicked_options():
    env = gym.make(ENV_ID, observation_mode="text_rich")
    u = env.unwrapped
    obs, info = env.reset(seed=0, options={"split": "test", "task_id": 0})
    assert obs.splitlines()[-1] == "[button] Search [button_]"
    while u.state.page != "item":
        obs, *_, info = env.step(u.expert_action())
    assert "[button] Buy Now [button_]" in obs and "[button] < Prev [button_]" in obs
    if u.goal.options:
        obs, *_, info = env.step(u.expert_action())
        v = u.state.options[0][1]
        assert f"[clicked button] {v} [clicked button_]" in obs


@pytest.mark.parametrize("mode", ["text", "text_rich", "html"])
def test_modes_share_state_and_rewards(mode):
    env = gym.make(ENV_ID, observation_mode=mode)
    u = env.unwrapped
    env.reset(seed=0, options={"split": "test", "task_id": 11})
    total = 0.0
    while not u.done:
        _, r, *_ = env.step(u.expert_action())
        total += r
    assert total == 1.0


def test_elements_and_rich_render_consistent():
    view = PageView("search", "find x")
    els = page_elements(view)
    assert render_text_rich(els).splitlines() == [
        "WebShop",
        "Instruction:",
        "find x",
        "[button] Search [button_]",
    ]


def test_html_page_available_in_any_mode():
    env = gym.make(ENV_ID)  # text mode
    u = env.unwrapped
    obs, info = env.reset(seed=4)
    obs, *_, info = env.step(info["admissible_actions"][0])
    doc = u.html_page()
    check_html(doc)
    clicks, has_search = page_actions(doc)
    assert clicks == info["admissible_actions"] and not has_search
    assert u.page_view().kind == "results"
