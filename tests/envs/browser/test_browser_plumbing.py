"""Browser plumbing: request blocking, process lifecycle, crash recovery, text safety."""

from __future__ import annotations

import gymnasium as gym
import pytest

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.browser.server import LocalServer, shared_server

from .conftest import chromium_processes

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_chromium")]

_PAGE = b"""<!DOCTYPE html><html><head><title>Leak test</title>
<link rel="stylesheet" href="http://example.com/x.css"></head><body>
<div id="query">leak test</div>
<p>&lt;script&gt;alert(1)&lt;/script&gt; shown as text</p>
<img src="http://example.com/pixel.png">
<iframe src="https://example.org/frame"></iframe>
<button>Hello</button>
</body></html>"""

_PROBE = """async () => {
  const out = {};
  try { await fetch('http://example.com/data'); out.fetch = 'through'; }
  catch (e) { out.fetch = 'blocked'; }
  try { await fetch('http://8.8.8.8/x'); out.ip = 'through'; } catch (e) { out.ip = 'blocked'; }
  out.xhr = await new Promise(res => { const x = new XMLHttpRequest();
    x.onload = () => res('through'); x.onerror = () => res('blocked');
    x.open('GET', 'https://example.net/xhr'); x.send(); });
  out.img = await new Promise(res => { const i = new Image();
    i.onload = () => res('through'); i.onerror = () => res('blocked');
    i.src = 'http://example.com/img.png?' + Math.random(); });
  out.ws = await new Promise(res => { try { const w = new WebSocket('ws://example.com/ws');
    w.onopen = () => res('through'); w.onerror = () => res('blocked'); }
    catch (e) { res('blocked'); } });
  out.local = (await (await fetch('/leaktest/page.html')).text()).length > 0 ? 'ok' : 'empty';
  return out;
}"""


@pytest.fixture(scope="module")
def env():
    srv = shared_server()
    srv.mount("/leaktest/", lambda path, q: (200, "text/html; charset=utf-8", _PAGE))
    e = gym.make("AgentPRM/MiniWoB-click-button-v0")
    e.reset(seed=0)
    yield e
    e.close()


def test_outside_requests_are_blocked(env) -> None:
    u = env.unwrapped
    obs, reward, term, trunc, info = env.step("goto[/leaktest/page.html]")
    assert info["action_error"] is None
    assert "Page: Leak test" in obs
    result = u._driver.page.evaluate(_PROBE)
    assert result == {
        "fetch": "blocked",
        "ip": "blocked",
        "xhr": "blocked",
        "img": "blocked",
        "ws": "blocked",
        "local": "ok",
    }
    blocked = " ".join(u._driver.session.blocked)
    for url in (
        "example.com/x.css",
        "example.com/pixel.png",
        "example.org/frame",
        "example.com/data",
        "8.8.8.8/x",
        "example.net/xhr",
    ):
        assert url in blocked


def test_other_local_ports_are_blocked(env) -> None:
    other = LocalServer()  # another server on 127.0.0.1, another port
    other.mount("/x/", lambda path, q: (200, "text/plain; charset=utf-8", b"hello"))
    try:
        env.step("goto[/leaktest/page.html]")
        probe = "async (u) => { try { await fetch(u); return 'through'; } catch (e) { return 'blocked'; } }"
        page = env.unwrapped._driver.page
        for url in (other.url("/x/a"), f"http://localhost:{other.port}/x/a"):
            assert page.evaluate(probe, url) == "blocked"
            assert url in env.unwrapped._driver.session.blocked
        assert page.evaluate(probe, shared_server().url("/leaktest/page.html")) == "through"
    finally:
        other.close()


def test_markup_in_text_is_shown_as_text(env) -> None:
    obs, *_ = env.step("goto[/leaktest/page.html]")
    assert "<script>alert(1)</script> shown as text" in obs
    assert '[1] button "Hello"' in obs


def test_goto_outside_refused_and_back(env) -> None:
    env.reset(seed=0)
    obs, reward, term, trunc, info = env.step("goto[https://example.com/]")
    assert "local pages" in info["action_error"]
    obs, *_, info = env.step("goto[/leaktest/page.html]")
    obs, *_, info = env.step("back")
    assert info["action_error"] is None and "Click Button Task" in obs


def _pids() -> set[int]:
    return {p.pid for p in chromium_processes()}


def test_browser_reused_across_resets_and_restarted_after_crash() -> None:
    before = _pids()
    e = gym.make("AgentPRM/MiniWoB-click-button-v0")
    try:
        e.reset(seed=0)
        pid = e.unwrapped.browser_pid
        assert pid is not None
        e.reset(seed=1)
        assert e.unwrapped.browser_pid == pid
        e.unwrapped._driver.session.kill_for_test()
        obs, info = e.reset(seed=2)
        assert e.unwrapped.browser_pid not in (None, pid)
        assert obs.startswith("Task: Click on the")
    finally:
        e.close()
    assert _pids() <= before


def _cycles(n: int) -> None:
    before = _pids()
    for i in range(n):
        e = gym.make("AgentPRM/MiniWoB-click-button-v0")
        e.reset(seed=i)
        e.step(e.unwrapped.expert_action())
        e.close()
        assert _pids() <= before, f"Chromium left after cycle {i}"


def test_no_chromium_left_after_reset_close_cycles() -> None:
    _cycles(3)


@pytest.mark.slow
def test_no_chromium_left_after_50_reset_close_cycles() -> None:
    _cycles(50)
