"""MiniWoB tasks in real Chromium: solvers, determinism, snapshots, invalid actions."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import agentprm_gym  # noqa: F401  (registers the ids)
from agentprm_gym.envs.browser.miniwob_tasks import (
    MINIWOB_RELOAD_TASKS,
    MINIWOB_TASK_LIMITS,
    page_seed,
)
from agentprm_gym.registration import MINIWOB_TASKS

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("needs_chromium")]


def _solve(env: gym.Env, seed: int) -> tuple[bool, float, dict]:
    obs, info = env.reset(seed=seed)
    for _ in range(env.spec.max_episode_steps):
        action = env.unwrapped.expert_action()
        obs, reward, term, trunc, info = env.step(action)
        assert info["action_error"] is None, (action, info["action_error"], obs)
        if term or trunc:
            break
    return bool(info["won"]), float(reward), info


def test_task_table_matches_registration() -> None:
    assert MINIWOB_TASKS == MINIWOB_TASK_LIMITS
    assert len(MINIWOB_TASKS) >= 12


@pytest.mark.parametrize("task", sorted(MINIWOB_TASKS))
def test_solver_solves_task(task: str) -> None:
    env = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    try:
        for seed in (0, 1):
            won, reward, info = _solve(env, seed)
            assert won and reward == 1.0 and info["success"] and info["raw_reward"] == 1.0
    finally:
        env.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(MINIWOB_TASKS))
def test_solver_success_on_50_seeds(task: str) -> None:
    env = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    try:
        wins = sum(_solve(env, seed)[0] for seed in range(50))
    finally:
        env.close()
    assert wins / 50 >= 0.9


@pytest.fixture(scope="module")
def env():
    e = gym.make("AgentPRM/MiniWoB-login-user-v0")
    yield e
    e.close()


def test_observation_lists_elements_with_ids(env) -> None:
    obs, info = env.reset(seed=3)
    assert obs.startswith("Task: Enter the username")
    assert "Page: Login User Task (/miniwob/miniwob/login-user.html)" in obs
    assert '[1] textbox "Username" value=""' in obs
    assert '[2] textbox "Password" value=""' in obs
    assert '[3] button "Login"' in obs
    assert info["admissible_actions"] == ["type[1][...]", "type[2][...]", "click[3]"]
    assert info["instruction"] == obs.splitlines()[0][len("Task: ") :]
    obs, *_, info = env.step("type[1][hello world]")
    assert '[1] textbox "Username" value="hello world"' in obs


@pytest.mark.parametrize(
    "action, fragment",
    [
        ("click[99]", "no element with id 99"),
        ("click[abc]", "element id must be a number"),
        ("type[3]", "type takes 2 argument"),
        ("fly[1]", "unknown action"),
        ("click[1", "unclosed"),
        ("press[NotAKey]", "unknown key"),
        ("select[1][x]", "not a list box"),
        ("type[3][x]", "not a text box"),
        ("goto[http://example.com/]", "local pages"),
        ("scroll[left]", "up or down"),
    ],
)
def test_invalid_actions_are_errors_not_exceptions(env, action: str, fragment: str) -> None:
    obs0, _ = env.reset(seed=5)
    obs, reward, term, trunc, info = env.step(action)
    assert fragment in info["action_error"]
    assert obs.startswith("Invalid action:") and obs0 in obs
    assert reward == 0.0 and not term
    # state unchanged: the expert still solves it from here
    while True:
        obs, reward, term, trunc, info = env.step(env.unwrapped.expert_action())
        if term:
            break
    assert info["won"]


def test_hidden_element_is_an_error() -> None:
    env = gym.make("AgentPRM/MiniWoB-navigate-tree-v0")
    try:
        env.reset(seed=0)
        page = env.unwrapped._driver.page
        hidden = page.evaluate(
            "() => { const e = document.querySelector('#tree li'); e.style.display = 'none';"
            " return e.getAttribute('data-apid'); }"
        )
        obs, reward, term, trunc, info = env.step(f"click[{hidden}]")
        assert "not visible" in info["action_error"] and not term
    finally:
        env.close()


def test_same_seed_same_episode_and_snapshot_replay(env) -> None:
    u = env.unwrapped
    obs_a, _ = env.reset(seed=11)
    first = u.expert_action()
    obs_a1, *_ = env.step(first)
    snap = u.get_state()
    obs_a2, r_a2, *_ = env.step(u.expert_action())
    obs_b, _ = env.reset(seed=11)
    assert obs_b == obs_a
    env.reset(seed=12)
    u.set_state(snap)
    obs_c2, r_c2, *_ = env.step(u.expert_action())
    assert (obs_c2, r_c2) == (obs_a2, r_a2)


def test_stop_ends_without_reward(env) -> None:
    env.reset(seed=1)
    obs, reward, term, trunc, info = env.step("stop[done]")
    assert term and reward == 0.0 and not info["won"]


def test_splits_use_different_seeds() -> None:
    e = gym.make("AgentPRM/MiniWoB-enter-text-v0")
    try:
        a, _ = e.reset(options={"task_id": 0, "split": "train"})
        b, _ = e.reset(options={"task_id": 0, "split": "test"})
        c, _ = e.reset(options={"task_id": 0, "split": "train"})
        assert a == c and a != b
    finally:
        e.close()


def test_html_mode_and_screenshot() -> None:
    e = gym.make(
        "AgentPRM/MiniWoB-click-button-v0", observation_mode="html", render_mode="rgb_array"
    )
    try:
        obs, _ = e.reset(seed=0)
        assert obs.startswith("Task: Click on the") and "<body" in obs and "data-apid" in obs
        img = e.render()
        assert isinstance(img, np.ndarray) and img.ndim == 3 and img.shape[2] == 3
        assert img.shape[0] > 100 and img.std() > 0
    finally:
        e.close()


def _played_then_fresh(task: str, seeds: list[int]) -> None:
    """Episodes on one reused page give the observations a freshly loaded page gives."""
    reused = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    fresh = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    rng = np.random.default_rng(0)
    try:
        for seed in seeds:
            fresh.unwrapped._driver.ensure()
            fresh.unwrapped._driver.goto("about:blank")  # forces a load of the task page
            a, info = reused.reset(seed=seed)
            b, _ = fresh.reset(seed=seed)
            assert a == b, (task, seed)
            for _ in range(reused.spec.max_episode_steps):
                if rng.random() < 0.6:
                    action = reused.unwrapped.expert_action()
                elif rng.random() < 0.2:
                    action = str(rng.choice(["press[Tab]", "scroll[down]", "press[Enter]"]))
                else:
                    acts = info["admissible_actions"]
                    action = acts[int(rng.integers(len(acts)))].replace("[...]", "[ab]")
                step_a, step_b = reused.step(action), fresh.step(action)
                assert step_a == step_b, (task, seed, action)
                info = step_a[4]
                if step_a[2] or step_a[3]:
                    break
    finally:
        reused.close()
        fresh.close()


def test_reset_reuses_the_page_and_matches_a_fresh_load() -> None:
    _played_then_fresh("click-button", [3, 4, 3, 5])
    e = gym.make("AgentPRM/MiniWoB-click-button-v0")
    try:
        e.reset(seed=0)
        page = e.unwrapped._driver.page
        page.evaluate("() => { window.__probe = 1; }")
        e.step(e.unwrapped.expert_action())
        e.reset(seed=1)
        assert page.evaluate("() => window.__probe") == 1  # restarted in place, not reloaded
        e.step("goto[/miniwob/miniwob/click-link.html]")
        obs, _ = e.reset(seed=1)  # the page navigated away: loaded afresh
        assert "Click Button Task" in obs and page.evaluate("() => window.__probe") is None
    finally:
        e.close()


def test_reload_tasks_load_the_page_for_every_episode() -> None:
    task = sorted(MINIWOB_RELOAD_TASKS)[0]
    e = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    try:
        e.reset(seed=0)
        page = e.unwrapped._driver.page
        page.evaluate("() => { window.__probe = 1; }")
        e.reset(seed=1)
        assert page.evaluate("() => window.__probe") is None
    finally:
        e.close()


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(set(MINIWOB_TASKS) - MINIWOB_RELOAD_TASKS))
def test_reused_page_matches_a_fresh_load(task: str) -> None:
    _played_then_fresh(task, [5, 17, 5, 123, 17, 42, 7, 8])


def test_autocomplete_menu_shows_right_after_typing_whatever_the_timing() -> None:
    # jQuery UI's autocomplete searches on a 300 ms timer; the page script makes it search at
    # once, so the observation after typing never depends on how busy the machine is.
    env = gym.make("AgentPRM/MiniWoB-use-autocomplete-v0")
    try:
        obs, info = env.reset(seed=3)
        u = env.unwrapped
        typed = u.expert_action()
        assert typed.startswith("type[")
        obs, *_ = env.step(typed)
        page = u._driver.page
        shown = "() => [...document.querySelectorAll('.ui-menu-item')].map(e => e.textContent)"
        items = page.evaluate(shown)
        assert items and all(i.startswith(typed.split("][")[1][:-1]) for i in items)
        assert items[0] in obs
        page.wait_for_timeout(400)  # past jQuery UI's delay: nothing else arrives
        assert page.evaluate(shown) == items
    finally:
        env.close()


_PACKAGE = json.loads(
    (Path(__file__).parent / "fixtures" / "miniwob_package_utterances.json").read_text("utf-8")
)["utterances"]
_CHECKED_FAST = ("click-button", "enter-text", "click-checkboxes")


def _utterances(task: str, n: int) -> list[str]:
    e = gym.make(f"AgentPRM/MiniWoB-{task}-v0")
    try:
        out = []
        for seed in range(n):
            e.reset(options={"task_id": seed, "split": "train"})
            out.append(e.unwrapped.instruction)
        return out
    finally:
        e.close()


@pytest.mark.parametrize("task", _CHECKED_FAST)
def test_train_task_n_is_the_miniwob_package_seed_n_episode(task: str) -> None:
    # Recorded from the package's own Selenium env: reset(seed=N) for N = 0..29.
    assert _utterances(task, 30) == _PACKAGE[task]


@pytest.mark.slow
@pytest.mark.parametrize("task", sorted(set(_PACKAGE) - set(_CHECKED_FAST)))
def test_every_task_matches_the_miniwob_package_seeds(task: str) -> None:
    assert _utterances(task, 30) == _PACKAGE[task]


def test_page_seeds_are_numbers_and_a_string_seed_is_refused() -> None:
    assert page_seed("train", 7) == 7 and isinstance(page_seed("train", 7), int)
    assert page_seed("test", 7) == 1_000_007
    e = gym.make("AgentPRM/MiniWoB-click-button-v0")
    try:
        e.reset(options={"task_id": 0, "split": "train"})
        out = e.unwrapped._driver.call({"op": "wobstart", "seed": "7", "skip": [], "url": ""})
        assert "integer seed" in out["error"]
    finally:
        e.close()
