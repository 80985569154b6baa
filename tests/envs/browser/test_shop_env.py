"""Browser-v0: the shop site on both backends (expert, parity, transitions, safety)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.browser.shop_site import ShopSite
from agentprm_gym.envs.browser.static_pages import load_page
from agentprm_gym.envs.webshop.env import WebShopEnv
from agentprm_gym.envs.webshop.html_pages import render_html
from agentprm_gym.envs.webshop.pages import PageView

_EVIL = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> mug'


def _play_expert(env: gym.Env, seed: int) -> tuple[float, dict, int]:
    obs, info = env.reset(seed=seed)
    steps = 0
    predicted = env.unwrapped.expert_steps_left()
    while True:
        obs, reward, term, trunc, info = env.step(env.unwrapped.expert_action())
        steps += 1
        assert info["action_error"] is None
        if term or trunc:
            return reward, info, steps if predicted is None else predicted - steps


@pytest.fixture(scope="module")
def static_env():
    e = gym.make("AgentPRM/Browser-v0", backend="static")
    yield e
    e.close()


def test_static_expert_solves_with_reward_one(static_env) -> None:
    for seed in range(5):
        reward, info, left = _play_expert(static_env, seed)
        assert reward == 1.0 and info["won"] and info["r_type"] == 1.0
        assert left == 0  # expert_steps_left predicted the episode length


def test_static_observation_and_search_flow(static_env) -> None:
    obs, info = static_env.reset(seed=0)
    assert obs.startswith("Task: " + info["instruction"])
    assert "Page: WebShop (/shop/train/" in obs
    assert '[1] textbox "search query" value=""' in obs and '[2] button "Search"' in obs
    assert info["admissible_actions"] == ["type[1][...]", "click[2]"]
    obs, *_, info = static_env.step("type[1][red mug]")
    assert '[1] textbox "search query" value="red mug"' in obs
    obs, *_, info = static_env.step("press[Enter]")
    assert "Page: WebShop results for red mug" in obs and '[1] button "Back to Search"' in obs
    obs, *_, info = static_env.step("back")
    assert "Page: WebShop (/shop/train/" in obs and info["action_error"] is None


@pytest.mark.parametrize(
    "action, fragment",
    [
        ("click[99]", "no element with id 99"),
        ("type[2][x]", "not a text box"),
        ("select[1][x]", "not a list box"),
        ("back", "no page to go back to"),
        ("goto[/shop/train/1/]", "this task's pages"),
        ("goto[http://example.com/]", "this task's pages"),
        ("click[", "unclosed"),
    ],
)
def test_static_invalid_actions(static_env, action: str, fragment: str) -> None:
    obs0, _ = static_env.reset(seed=2)
    obs, reward, term, trunc, info = static_env.step(action)
    assert fragment in info["action_error"] and obs0 in obs and not term


def test_static_snapshot_is_exact(static_env) -> None:
    u = static_env.unwrapped
    static_env.reset(seed=4)
    for _ in range(3):
        static_env.step(u.expert_action())
    snap = u.get_state()
    tail = []
    while True:
        out = static_env.step(u.expert_action())
        tail.append(out[:3])
        if out[2]:
            break
    static_env.reset(seed=9)
    u.set_state(snap)
    again = []
    while True:
        out = static_env.step(u.expert_action())
        again.append(out[:3])
        if out[2]:
            break
    assert again == tail


def test_site_transitions_match_webshop_env() -> None:
    ws = WebShopEnv()
    site = ShopSite(ws.shop)
    rng = np.random.default_rng(0)
    checked = 0
    for seed in range(6):
        obs, info = ws.reset(seed=seed)
        for _ in range(15):
            if rng.random() < 0.6 or not info["admissible_actions"]:
                action = ws.expert_action()
            else:
                action = info["admissible_actions"][rng.integers(len(info["admissible_actions"]))]
            before = ws.state
            obs, reward, term, trunc, info = ws.step(action)
            if action.startswith("click["):
                nxt = site.click(before, action[6:-1])
                if info["action_error"] is not None:
                    assert nxt is None
                else:
                    assert nxt == ws.state._replace(reward=None)
                    if term:
                        assert site.purchase(ws.goal, nxt)[0] == reward
                    path = site.path(ws.task_split, ws.task_id, nxt)
                    assert site.parse(path)[2] == nxt
                    checked += 1
            if term:
                break
    assert checked > 20


def test_catalog_markup_is_text_in_static_pages() -> None:
    html = render_html(PageView("search", _EVIL))
    page = load_page("/x/", html)
    assert any(_EVIL.strip() in line for line in page.view.lines)


# ------------------------------------------------------------------ playwright


@pytest.fixture(scope="module")
def pw_env():
    e = gym.make("AgentPRM/Browser-v0", backend="playwright")
    yield e
    e.close()


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_playwright_expert_solves_with_reward_one(pw_env) -> None:
    for seed in (0, 1):
        reward, info, left = _play_expert(pw_env, seed)
        assert reward == 1.0 and info["won"] and left == 0


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_backends_agree_on_the_same_actions(pw_env, static_env) -> None:
    rng = np.random.default_rng(1)
    extra = ["back", "press[Enter]", "click[99]", "type[1][red mug]", "scroll[down]"]
    for seed in (3, 5):
        oa, ia = static_env.reset(seed=seed)
        ob, ib = pw_env.reset(seed=seed)
        assert oa == ob
        for _ in range(18):
            if rng.random() < 0.6:
                act = static_env.unwrapped.expert_action()
            else:
                acts = ia["admissible_actions"] + extra
                act = acts[rng.integers(len(acts))].replace("[...]", "[blue]")
            oa, ra, ta, _, ia = static_env.step(act)
            ob, rb, tb, _, ib = pw_env.step(act)
            assert ia.pop("backend") == "static" and ib.pop("backend") == "playwright"
            assert (oa, ra, ta, ia) == (ob, rb, tb, ib), act
            if ta:
                break


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_playwright_snapshot_replays(pw_env) -> None:
    u = pw_env.unwrapped
    pw_env.reset(seed=6)
    pw_env.step(u.expert_action())
    pw_env.step(u.expert_action())
    snap = u.get_state()
    a = pw_env.step(u.expert_action())[:3]
    pw_env.reset(seed=7)
    u.set_state(snap)
    assert pw_env.step(u.expert_action())[:3] == a


@pytest.mark.browser
@pytest.mark.usefixtures("needs_chromium")
def test_catalog_markup_is_text_in_chromium(pw_env) -> None:
    from agentprm_gym.envs.browser.server import shared_server

    html = render_html(PageView("search", _EVIL)).encode()
    shared_server().mount("/evil/", lambda path, q: (200, "text/html; charset=utf-8", html))
    pw_env.reset(seed=0)
    driver = pw_env.unwrapped._driver
    driver.goto(shared_server().url("/evil/page"))
    read = driver.read()
    assert any(_EVIL.strip() in line for line in read.view.lines)
    assert driver.page.evaluate("() => window.__pwned === undefined")
