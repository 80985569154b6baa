"""``AgentPRM/MiniWoB-<task>-v0``: MiniWoB++ tasks in real Chromium, as a text env.

The task pages are the HTML shipped in the ``miniwob`` package, served by the
in-process server (:mod:`.server`) and driven through Playwright
(:mod:`.page_driver`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from agentprm_gym.core.actions import ActionParseError
from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.browser.browser_actions import ACTION_HELP, parse_browser_action
from agentprm_gym.envs.browser.miniwob_solvers import solver_for
from agentprm_gym.envs.browser.miniwob_tasks import (
    MINIWOB_RELOAD_TASKS,
    MINIWOB_SKIP_IDS,
    MINIWOB_TASK_LIMITS,
    miniwob_html_root,
    page_seed,
)
from agentprm_gym.envs.browser.page_driver import PageDriver, PageRead
from agentprm_gym.envs.browser.server import shared_server

__all__ = ["MiniWoBEnv"]

_MOUNT = "/miniwob/"


class MiniWoBEnv(TextAgentEnv):
    """A MiniWoB++ task page in headless Chromium, observed as text.

    Description:
        One MiniWoB++ task (``task``), served from the ``miniwob`` package's
        HTML by a local HTTP server and run in a real headless Chromium through
        Playwright's sync API. An episode starts the way the ``miniwob``
        package's env starts one: ``Math.seedrandom(seed)`` with the numeric page
        seed, ``core.setDataMode("train")``, then ``core.startEpisodeReal()`` on the
        already loaded page (the page is loaded once per browser and reused
        across resets, about 15 ms a reset; it is loaded afresh when the
        previous episode navigated away or added history entries, and for
        every episode of the tasks in
        :data:`~agentprm_gym.envs.browser.miniwob_tasks.MINIWOB_RELOAD_TASKS`,
        whose widgets leave state behind; a test checks that a reused page
        shows what a fresh one shows). MiniWoB's 10-20 s wall-clock limit is lifted: the step
        limit of the registration bounds an episode instead, so that slow
        agents are not failed by the clock. Requests to any host other than the
        local server are aborted by the browser context.

    Observation:
        With ``observation_mode="text"`` (default): ``Task: <utterance>``, then
        ``Page: <title> (<url path>)`` (the path on the local server, whose
        port changes between processes), then the visible page in document order: one
        line per run of plain text and one per interactive element, e.g.
        ``[12] button "Submit"``, ``[7] textbox "Username" value=""``,
        ``[3] checkbox "xyz" unchecked``, ``[4] combobox "" value="Peru"
        options=[...]``. Ids are stable while an element lives. With
        ``observation_mode="html"``: the task line then the marked
        ``<body>`` HTML. ``render_mode="rgb_array"`` makes ``render()`` return
        a screenshot (numpy array, H x W x 3).

    Actions:
        ``click[id]``, ``type[id][text]`` (replaces the box's content),
        ``select[id][option]``, ``press[key]`` (``Enter``, ``Tab``, ``ArrowDown``,
        a character, ``Control+a``...), ``scroll[up|down]``, ``back``,
        ``goto[url]`` (local pages only) and ``stop[answer]``. Unknown or
        hidden element ids and malformed actions give ``info["action_error"]``
        and leave the page unchanged. ``admissible_actions`` lists
        ``click[id]`` for visible clickable elements, ``select[id][option]``
        per option and a ``type[id][...]`` template per text box.

    Rewards:
        MiniWoB's own page-side reward when the page ends the episode: the raw
        reward ``WOB_RAW_REWARD_GLOBAL`` (in [-1, 1], not scaled by time, so
        that it is deterministic); 0 on other steps. ``info`` holds
        ``raw_reward``, ``reward_reason`` and ``success`` (raw reward > 0,
        also ``won``). MiniWoB's time-scaled reward is left out: it depends on
        wall-clock time, and the env must be deterministic.

    Termination:
        When the page ends the episode (MiniWoB's ``WOB_DONE_GLOBAL``) or on
        ``stop[...]`` (reward 0); truncation by the registered step limit.

    Registered ids:
        ``AgentPRM/MiniWoB-<task>-v0`` for each task in
        :data:`agentprm_gym.registration.MINIWOB_TASKS`.

    Version history:
        v0: first version.

    Args:
        task: MiniWoB task name, e.g. ``"click-button"``.
        split: ``train`` (page seeds 0..99,999: train task ``i`` is the package's
            ``reset(seed=i)`` episode) or ``test`` (seeds 1,000,000..1,009,999).
        observation_mode: ``"text"`` or ``"html"``.
        render_mode: ``"ansi"``, ``"human"``, ``"rgb_array"`` or None.
        chromium_path: Chromium binary (default ``$AGENTPRM_CHROMIUM`` or ``/usr/bin/chromium``).
        max_action_length: Longer actions are rejected.

    Snapshots: the live page cannot be copied, so ``get_state`` records the
    episode's valid actions and ``set_state`` replays them from a fresh
    episode start: it costs one reset plus one step per recorded action
    (about 15-20 ms each with a warm browser on a busy 2-core machine).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["ansi", "human", "rgb_array"],
        "render_fps": 4,
    }
    #: Tasks per split (each task id is one page seed).
    split_sizes: ClassVar[dict[str, int]] = {"train": 100_000, "test": 10_000}

    def __init__(
        self,
        task: str = "click-button",
        split: str = "train",
        observation_mode: str = "text",
        render_mode: str | None = None,
        chromium_path: str | None = None,
        max_action_length: int = 2_000,
    ) -> None:
        if task not in MINIWOB_TASK_LIMITS:
            raise ValueError(f"unknown MiniWoB task {task!r}; known: {sorted(MINIWOB_TASK_LIMITS)}")
        if observation_mode not in ("text", "html"):
            raise ValueError("observation_mode must be 'text' or 'html'")
        super().__init__(split=split, render_mode=render_mode, max_action_length=max_action_length)
        self.task = task
        self.observation_mode = observation_mode
        self._server = shared_server()
        self._server.mount(_MOUNT, miniwob_html_root())
        self.task_url = self._server.url(f"{_MOUNT}miniwob/{task}.html")
        self._driver = PageDriver(
            self._server.origin, chromium=chromium_path, skip_ids=MINIWOB_SKIP_IDS
        )
        self._solver = solver_for(task)
        self._read: PageRead | None = None
        self._history: list[str] = []
        self._stopped = False
        self._utterance = ""

    # ----------------------------------------------------------------- hooks
    def num_tasks(self, split: str) -> int:
        """Number of page seeds in ``split``."""
        return self.split_sizes[split]

    def _begin_task(self, split: str, task_id: int) -> str:
        arg = {
            "op": "wobstart",
            "seed": page_seed(split, task_id),
            "skip": list(MINIWOB_SKIP_IDS),
            "read": True,
        }
        try:
            out = self._start_page(arg)
        except Exception:
            # The browser died between episodes: start a new one and try once more.
            self._driver.close()
            out = self._start_page(arg)
        self._read = self._driver.to_read(out["read"])
        self._utterance = self._read.utterance or ""
        self._history = []
        self._stopped = False
        return self._observation()

    def _start_page(self, arg: dict[str, Any]) -> dict[str, Any]:
        fresh = self._driver.ensure()
        if not fresh and self.task not in MINIWOB_RELOAD_TASKS:
            # Reuse the loaded document: MiniWoB's own episode restart. The page script
            # refuses (``reload``) when the page navigated or added history entries.
            out = self._driver.call(dict(arg, url=self.task_url))
            if not out.get("reload"):
                return out
        # Tasks in MINIWOB_RELOAD_TASKS leave state behind that a restarted episode on
        # the same document would inherit (same seed, different page): load them afresh.
        self._driver.goto(self.task_url)
        return self._driver.call(arg)

    def _apply(self, action: str) -> Transition:
        try:
            cmd = parse_browser_action(action)
        except ActionParseError as exc:
            return self._invalid(str(exc))
        if cmd.op == "stop":
            self._history.append(action)
            self._stopped = True
            return Transition(self._observation(), 0.0, True)
        if cmd.op == "goto":
            url = cmd.target
            if "://" not in url:
                url = self._server.url(url if url.startswith("/") else "/" + url)
            if not self._driver.session.is_local(url):
                return self._invalid(f"goto only reaches local pages ({self._server.origin}/...)")
            cmd = type(cmd)("goto", url)
        err, read = self._driver.run(cmd)
        self._read = read
        if err is not None:
            return self._invalid(err)
        self._history.append(action)
        wob = read.wob or {}
        done = bool(wob.get("done"))
        reward = float(wob.get("raw") or 0.0) if done else 0.0
        return Transition(self._observation(), reward, done)

    def _invalid(self, message: str) -> Transition:
        return Transition(self._error_observation(message), 0.0, False, message)

    def _error_observation(self, message: str) -> str:
        return f"Invalid action: {message} ({ACTION_HELP})\n{self._view_obs}"

    def admissible_actions(self) -> list[str]:
        """Clicks on visible clickable elements, one select per option, a type template per box."""
        if self._read is None:
            return []
        acts: list[str] = []
        for el in self._read.view.elements.values():
            if el.is_textbox:
                acts.append(f"type[{el.id}][...]")
            elif el.role == "combobox" and el.options:
                acts.extend(f"select[{el.id}][{o}]" for o in el.options)
            else:
                acts.append(f"click[{el.id}]")
        return acts

    @property
    def instruction(self) -> str:
        """MiniWoB's utterance for the current episode."""
        return self._utterance

    @property
    def won(self) -> bool:
        """Whether the page ended the episode with a positive raw reward."""
        wob = (self._read.wob if self._read else None) or {}
        return bool(wob.get("done")) and float(wob.get("raw") or 0.0) > 0 and not self._stopped

    def _extra_info(self) -> dict[str, Any]:
        wob = (self._read.wob if self._read else None) or {}
        done = bool(wob.get("done"))
        return {
            "task": self.task,
            "url": self._local(self._read.url) if self._read else "",
            "raw_reward": float(wob.get("raw") or 0.0) if done else 0.0,
            "reward_reason": wob.get("reason") if done else None,
            "success": self.won,
        }

    def _data_key(self) -> str:
        return f"miniwob:{self.task}"

    def _get_payload(self) -> Any:
        return (self._task_split, self._task_id, tuple(self._history))

    def _set_payload(self, payload: Any) -> None:
        split, task_id, history = payload
        obs, steps, done = self._obs, self._steps, self._done
        self._begin_task(split, task_id)
        for action in history:
            self._apply(action)
        self._obs, self._steps, self._done = obs, steps, done

    def expert_action(self) -> str:
        """The scripted solver's next action, read from the live page (privileged)."""
        if self._read is None:
            raise RuntimeError("call reset() before expert_action()")
        return self._solver(self._utterance, self._read)

    def expert_steps_left(self) -> int | None:
        """Unknown for MiniWoB pages (None)."""
        return None

    # ------------------------------------------------------------- rendering
    def _observation(self) -> str:
        r = self._read
        assert r is not None
        if self.observation_mode == "html":
            return f"Task: {self._utterance}\n{r.html}"
        head = [f"Task: {self._utterance}", f"Page: {r.title} ({self._local(r.url)})"]
        return "\n".join(head + r.view.lines)

    def _local(self, url: str) -> str:
        """``url`` without the local server's origin (its port differs between processes)."""
        origin = self._server.origin
        return url[len(origin) :] if url.startswith(origin) else url

    def render(self) -> Any:
        """``rgb_array``: a screenshot; ``ansi``/``human``: the observation."""
        if self.render_mode == "rgb_array":
            return self._driver.screenshot()
        return super().render()

    def close(self) -> None:
        """Close the browser; no Chromium process stays behind."""
        self._driver.close()
        super().close()

    @property
    def browser_pid(self) -> int | None:
        """Pid of this env's Chromium (None when not running)."""
        return self._driver.session.pid
