"""``AgentPRM/BabyAI-v0``: text BabyAI over minigrid's BabyAI levels."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.babyai.dynamics import (
    PRIMITIVE_NAMES,
    PRIMITIVES,
    execute,
    high_level_actions,
    parse_command,
    plan_command,
)
from agentprm_gym.envs.babyai.expert import BotExpert, CarriedExpert
from agentprm_gym.envs.babyai.levels import (
    TASKS_PER_LEVEL,
    copy_level,
    make_level_env,
    normalize_levels,
    reset_level,
    task_spec,
)
from agentprm_gym.envs.babyai.render import (
    VisibleObject,
    assign_names,
    describe,
    name_of,
    visible_objects,
)
from agentprm_gym.envs.babyai.verifier import build_subgoals, subgoal_done

__all__ = ["BabyAIEnv"]

_PRIMITIVE_LIST = tuple(PRIMITIVES)


class BabyAIEnv(TextAgentEnv):
    """BabyAI grid-world missions as text, on minigrid's BabyAI levels.

    Description:
        Each task is an instance of a minigrid BabyAI level (Chevalier-Boisvert
        et al., 2019): a grid of rooms with doors, keys, balls and boxes, and a
        mission such as ``"pick up the red ball"``, ``"open the blue door"`` or
        ``"put the green key next to the grey box"``. The level's own code
        generates the world and its verifier decides success. The default level
        mix has the GoTo, Pickup, Open, Unlock and PutNext families
        (``BabyAI-GoToObjMazeS4-v0``, ``PickupLoc``, ``OpenDoorDebug``,
        ``UnlockPickup``, ``BlockedUnlockPickup``, ``PutNextLocal``,
        ``PutNextS7N4``; see :data:`.levels.DEFAULT_LEVELS`); task ``i`` of a split
        is level ``levels[i % len(levels)]`` with minigrid seed
        ``base + i // len(levels)``, where ``base`` is 0 for ``train``
        (100,000 instances per level) and 10,000,000 for ``test`` (10,000 per
        level), so the splits never share an instance. Minigrid's RNG is
        seeded from that seed, so a task is the same episode in any process.

    Observation:
        A ``str``: a line saying what the last action did, then ``"Your goal:
        <mission>"``, the objects in the agent's 7×7 partial view (walls block
        sight) one per line with their position relative to the agent, e.g.
        ``"There is a closed blue door 1 3 steps in front of you and 1 step to
        your left."``, the nearest walls ahead and to either side (``"You are
        facing a wall 2 steps away."``) and ``"You are carrying a yellow key
        1."`` or ``"You are not carrying anything."``. Objects are named by
        colour, type and a number that stays fixed for the episode.

    Actions:
        A ``str``. Primitive minigrid actions: ``turn left``, ``turn right``,
        ``move forward``, ``pick up``, ``drop``, ``toggle`` (always valid, as in
        minigrid, where a useless one only costs a step). High-level actions
        on a visible object: ``go to <obj>`` (face it), ``pick up <obj>``,
        ``go through <door>`` (an open door) and ``toggle and go through
        <door>`` (open it first; a locked door needs its key). A high-level
        action is planned on the level's grid (shortest path over position and
        heading) and executed as several primitive minigrid steps, stopping
        when the episode ends; if it cannot be planned it is invalid and
        changes nothing. ``info["admissible_actions"]`` lists the six
        primitives and the high-level actions that are valid now.

    Rewards:
        Minigrid's: ``1 - 0.9 * primitive_steps / level_max_steps`` on success,
        else 0. ``info["subgoal_fraction"]`` is the fraction of the mission's
        subgoals done so far (see :mod:`.verifier`).

    Termination:
        Terminates when minigrid's verifier reports success (``info["won"]``)
        or failure (e.g. the wrong object moved in a strict level). One text
        step counts as one step of the registered ``max_episode_steps`` (64)
        even when it runs several primitive steps; the level's own budget of
        primitive steps (minigrid's ``max_steps``) also applies and ends the
        episode with ``truncated=True``. The expert plays primitive actions,
        one per text step.

    Registered ids:
        ``AgentPRM/BabyAI-v0``. Kwargs: ``level`` (a BabyAI level id, a
        comma-separated string or a sequence of ids; ``"GoToLocal"`` means
        ``"BabyAI-GoToLocal-v0"``; default the seven-level mix), ``split``
        (``"train"`` or ``"test"``), ``render_mode``. ``info`` also holds
        ``level``, ``mission``, ``subgoal_fraction``, ``subgoals_done``,
        ``subgoals_total``, ``primitive_steps`` and ``carrying``. Levels
        needing long explorations (e.g. ``GoTo``, ``Unlock``) want a larger
        ``max_episode_steps`` in ``gym.make``.

    Version history:
        v0: first version.
    """

    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(
        self,
        level: str | tuple[str, ...] | list[str] | None = None,
        split: str = "train",
        render_mode: str | None = None,
    ) -> None:
        self.levels = normalize_levels(level)
        super().__init__(split=split, render_mode=render_mode)
        self._level_envs: dict[str, Any] = {}
        self._mg: Any = None
        # True while a snapshot may hold self._mg too: copy it before stepping (copy on write)
        self._mg_shared = False
        self._level_id = ""
        self._instance_seed = -1
        self._image: np.ndarray | None = None
        self._visible: list[VisibleObject] = []
        self._history: list[int] = []
        self._subgoals: tuple = ()
        self._subgoal_flags: list[bool] = []
        self._won = False
        self._level_truncated = False
        self._expert: BotExpert | None = None
        self._expert_shared = False  # True while a snapshot holds self._expert too
        # snapshot points (history, level) since the live expert was last asked
        self._expert_points: tuple[tuple[tuple[int, ...], Any], ...] = ()
        self._expert_from: CarriedExpert | None = None  # the snapshot it was restored from

    # ------------------------------------------------------------------ hooks
    def num_tasks(self, split: str) -> int:
        """Number of tasks in ``split`` (instances per level × levels)."""
        return TASKS_PER_LEVEL[split] * len(self.levels)

    def _begin_task(self, split: str, task_id: int) -> str:
        level_id, seed = task_spec(self.levels, split, task_id)
        mg = self._level_envs.get(level_id)
        if mg is None:
            mg = self._level_envs[level_id] = make_level_env(level_id)
        obs = reset_level(mg, seed)
        assign_names(mg)
        self._mg, self._mg_shared = mg, False
        self._level_id = level_id
        self._instance_seed = seed
        self._history = []
        self._won = False
        self._level_truncated = False
        self._subgoals = build_subgoals(mg)
        self._subgoal_flags = [False] * len(self._subgoals)
        self._expert, self._expert_shared = BotExpert(level_id, seed), False
        self._expert_points, self._expert_from = (), None
        self._observe(obs)
        return self._text("You are in the level.")

    def _observe(self, obs: dict[str, Any]) -> None:
        self._image = obs["image"]
        self._image.setflags(write=False)  # snapshots share it
        self._visible = visible_objects(self._mg, self._image)
        ids = {id(v.obj) for v in self._visible}
        flags = self._subgoal_flags
        for i, sg in enumerate(self._subgoals):
            if not flags[i] and subgoal_done(self._mg, sg, ids):
                flags[i] = True

    def _text(self, feedback: str) -> str:
        view = describe(self._mg.mission, self._mg, self._image, self._visible)
        return f"{feedback}\n{view}"

    def _apply(self, action: str) -> Transition:
        cmd = parse_command(action)
        if cmd is None:
            msg = (
                f"unknown action {action.strip()[:60]!r}; use a primitive "
                f"({', '.join(_PRIMITIVE_LIST)}) or one of info['admissible_actions']"
            )
            return Transition(self._error_observation(msg), 0.0, False, msg)
        plan, err = plan_command(self._mg, cmd, self._visible)
        if err is not None or plan is None:
            msg = err or "cannot do that"
            return Transition(self._error_observation(msg), 0.0, False, msg)
        if self._mg_shared:
            self._mg, self._mg_shared = copy_level(self._mg), False
        before = (
            tuple(int(v) for v in self._mg.agent_pos),
            self._mg.carrying,
            self._mg.grid.get(*self._mg.front_pos),
        )
        res = execute(self._mg, plan)
        self._history.extend(plan[: res.primitive_steps])
        self._observe(res.obs)
        if res.terminated and res.reward > 0:
            self._won = True
        self._level_truncated = res.truncated and not res.terminated
        if cmd.kind == "prim":
            feedback = self._primitive_feedback(int(cmd.arg), *before)
        else:
            verb = {
                "goto": "go to",
                "pickup": "pick up",
                "through": "go through",
                "toggle_through": "toggle and go through",
            }[cmd.kind]
            feedback = f"You {verb} the {cmd.arg} ({res.primitive_steps} primitive steps)."
        if self._won:
            feedback += " Mission complete."
        return Transition(self._text(feedback), res.reward, res.terminated)

    def _primitive_feedback(self, action: int, pos: tuple, carried: Any, front: Any) -> str:
        mg = self._mg
        if action == 0:
            return "You turn left."
        if action == 1:
            return "You turn right."
        if action == 2:
            moved = tuple(int(v) for v in mg.agent_pos) != pos
            return "You move forward." if moved else "You cannot move forward: the way is blocked."
        if action == 3:
            if carried is None and mg.carrying is not None:
                return f"You pick up the {name_of(mg.carrying)}."
            return "There is nothing you can pick up in front of you."
        if action == 4:
            if carried is not None and mg.carrying is None:
                return f"You drop the {name_of(carried)}."
            return "You cannot drop anything here."
        if front is not None and front.type == "door":
            state = "open" if front.is_open else ("locked" if front.is_locked else "closed")
            return f"You toggle the {name_of(front)}; it is {state}."
        if front is not None and front.type == "box" and mg.grid.get(*mg.front_pos) is not front:
            return f"You open the {name_of(front)}."
        return "Nothing happens."

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Take one text action (see the class docstring); level budget ends with truncation."""
        obs, reward, terminated, truncated, info = super().step(action)
        if self._level_truncated and not terminated:
            self._done = True
            truncated = True
            info["admissible_actions"] = []
        return obs, reward, terminated, truncated, info

    def admissible_actions(self) -> list[str]:
        """The six primitives and the high-level actions valid now."""
        if self._mg is None:
            return []
        return [*_PRIMITIVE_LIST, *high_level_actions(self._mg, self._visible)]

    @property
    def instruction(self) -> str:
        """The mission, e.g. ``"pick up the red ball"``."""
        return str(self._mg.mission) if self._mg is not None else ""

    @property
    def won(self) -> bool:
        """Whether minigrid's verifier reported success."""
        return self._won

    @property
    def minigrid_env(self) -> Any:
        """The live minigrid level (privileged; do not step it directly)."""
        return self._mg

    def _get_payload(self) -> Any:
        history = tuple(self._history)
        if self._mg is self._level_envs.get(self._level_id):
            level = copy_level(self._mg)  # the level reset() reuses: the snapshot needs its own
        else:
            # The snapshot takes the level, and this env copies it before its next step.
            level, self._mg_shared = self._mg, True
        return (
            level,
            self._level_id,
            self._instance_seed,
            self._subgoals,
            tuple(self._subgoal_flags),
            history,
            self._won,
            self._level_truncated,
            self._image,
            self._carry_expert(history, level),
        )

    def _carry_expert(self, history: tuple[int, ...], level: Any) -> CarriedExpert | None:
        """The expert for a snapshot: shared with it, not copied (see :class:`.CarriedExpert`)."""
        ex = self._expert
        if ex is None or not ex.in_use:
            return None  # nobody asked it anything: a restore can start a fresh one for free
        # The expert catches up with this point when it is next asked, as if synced now.
        self._expert_points = (*self._expert_points, (history, level))
        self._expert_shared = True  # the snapshot holds it now: copy it before it changes
        return CarriedExpert(ex, self._expert_points)

    def _payload_key(self, payload: Any) -> Any:
        """The payload without the level, its view, its subgoals and the expert.

        Minigrid's steps are deterministic, so the level (and the view it
        gives) is determined by the level id, the instance seed and the
        primitive actions taken since reset, which the key holds; the subgoals
        by the level id and seed. The carried expert is a cache, not state.
        """
        _, level_id, seed, _, flags, history, won, trunc, _, _ = payload
        return (level_id, seed, flags, history, won, trunc)

    def _set_payload(self, payload: Any) -> None:
        mg, level_id, seed, subgoals, flags, history, won, trunc, image, carried = payload
        self._mg, self._mg_shared = mg, True  # copied before its next step
        self._level_id, self._instance_seed = level_id, seed
        self._subgoals, self._subgoal_flags = subgoals, list(flags)
        self._history = list(history)
        self._won, self._level_truncated = won, trunc
        ex = self._expert
        if carried is not None and carried.expert is not None:
            # shared until the expert is asked something (a snapshot may be restored many times)
            self._expert, self._expert_points = carried.expert, carried.points
            self._expert_shared, self._expert_from = True, carried
        elif ex is None or (ex.level_id, ex.seed) != (level_id, seed):
            self._expert, self._expert_shared = BotExpert(level_id, seed), False
            self._expert_points, self._expert_from = (), None
        self._image = image  # the view the snapshot's state gave (never mutated)
        self._visible = visible_objects(self._mg, self._image)

    def _own_expert(self) -> BotExpert:
        """The live expert, ready to be asked: a private copy, caught up with its snapshot points.

        It is copied first if a snapshot shares it, then synced at each snapshot
        point it has not seen, in order, with that point's level to recover on:
        the same expert an eager sync at every snapshot would have made.
        """
        if self._expert is None:
            raise RuntimeError("call reset() before asking the expert")
        points, origin = self._expert_points, self._expert_from
        self._expert_from = None
        if self._expert_shared:
            self._expert, self._expert_shared = self._expert.copy(), False
        for history, level in points:
            self._expert.sync(list(history), level)
        self._expert_points = ()
        if points and origin is not None and origin.points is points:
            # Caught up with exactly the restored snapshot's points: let the snapshot keep
            # this expert, so its next restores (and the snapshots taken after them) start
            # from here instead of replaying the same points again.
            origin.expert, origin.points = self._expert, ()
            self._expert = self._expert.copy()
        return self._expert

    def _data_key(self) -> str:
        return f"{type(self).__qualname__}:{','.join(self.levels)}"

    def _extra_info(self) -> dict[str, Any]:
        mg = self._mg
        total = len(self._subgoals)
        done = sum(self._subgoal_flags)
        return {
            "level": self._level_id,
            "mission": str(mg.mission) if mg is not None else "",
            "subgoal_fraction": done / total if total else 0.0,
            "subgoals_done": done,
            "subgoals_total": total,
            "primitive_steps": int(mg.step_count) if mg is not None else 0,
            "carrying": name_of(mg.carrying) if mg is not None and mg.carrying else None,
        }

    def expert_action(self) -> str:
        """The BabyAI bot's next primitive action (privileged; see :mod:`.expert`)."""
        if self._expert is None:
            raise RuntimeError("call reset() before expert_action()")
        return PRIMITIVE_NAMES[self._own_expert().next_action(self._history, self._mg)]

    def expert_steps_left(self) -> int | None:
        """Primitive steps the bot needs to succeed from here (0 once won; None if it fails).

        Computed by letting the bot play on a copy of its shadow level, within
        the level's remaining primitive budget.
        """
        if self._expert is None:
            return None
        if self._won:
            return 0
        limit = int(self._mg.max_steps - self._mg.step_count)
        return self._own_expert().steps_left(self._history, self._mg, max(limit, 0))
