"""``AgentPRM/ALFWorld-v0``: procedurally generated ALFWorld-style household tasks."""

from __future__ import annotations

from typing import Any, ClassVar

from agentprm_gym.core.base_env import TextAgentEnv, Transition
from agentprm_gym.envs.alfworld.admissible import admissible_commands
from agentprm_gym.envs.alfworld.dynamics import apply_command, intro_text
from agentprm_gym.envs.alfworld.expert import expert_action, expert_plan
from agentprm_gym.envs.alfworld.generation import generate
from agentprm_gym.envs.alfworld.splits import SPLITS, TASKS_PER_TYPE, canonical_split
from agentprm_gym.envs.alfworld.tasks import TASK_TYPES, Task
from agentprm_gym.envs.alfworld.verifier import goal_satisfied
from agentprm_gym.envs.alfworld.world import Layout, WorldState

__all__ = ["ALFWorldEnv"]


class ALFWorldEnv(TextAgentEnv):
    """ALFWorld-style household tasks in one generated room, with no data download.

    Description:
        A text household in the manner of ALFWorld (Shridhar et al., 2021),
        generated from the task id: a room type (kitchen, living room, bedroom,
        bathroom) with numbered receptacles (``cabinet 3``, ``countertop 1``,
        ``fridge 1``, ``sinkbasin 1``, ``desk 1``...; cabinets, drawers,
        fridge, microwave and safe start closed) and numbered objects placed
        where such objects plausibly are, with affordances (what can be picked
        up, cleaned, heated, cooled, switched on, and where it may go). Tasks
        come in ALFWorld's six types and phrasings:
        ``pick_and_place_simple`` ("put some X on Y"), ``look_at_obj_in_light``
        ("look at X under the desklamp"), ``pick_clean_then_place_in_recep``
        ("clean some X and put it in Y"), ``pick_heat_then_place_in_recep``,
        ``pick_cool_then_place_in_recep`` and ``pick_two_obj_and_place`` ("put
        two X in Y"). Goals are checked on the world state. Splits: ``train``
        (12,000 tasks), ``valid_seen`` (360), ``valid_unseen`` (600) and
        ``test`` (an alias of ``valid_unseen``); unseen tasks use
        (object, receptacle, room) combinations that never occur in ``train``.
        Each split has equally many tasks of each type; task ``i`` has type
        ``TASK_TYPES[i % 6]``, unless ``task_type`` restricts the env to one
        type, when task ``i`` is that type's ``i``-th task.

    Observation:
        A ``str`` in ALFWorld's voice. After reset: the welcome line, the
        receptacles of the room and ``"Your task is to: <goal>"``; after a
        command: its outcome, e.g. ``"You arrive at cabinet 1. The cabinet 1
        is closed."``, ``"On the countertop 1, you see a apple 1, and a knife
        2."``, ``"You pick up the apple 1 from the countertop 1."``; an
        invalid command gives ``"Nothing happens."``.

    Actions:
        A ``str`` command: ``go to R``, ``open R``, ``close R``, ``take O from
        R``, ``move O to R`` (also ``put O in R`` / ``put O on R``), ``clean O
        with R`` (a sinkbasin or bathtubbasin), ``heat O with R`` (a
        microwave), ``cool O with R`` (a fridge), ``use L`` (a desklamp),
        ``examine X``, ``look``, ``inventory``. The agent holds one object at a
        time and must stand at a receptacle (and have it open) to use it.
        ``info["admissible_actions"]`` lists every valid command. Invalid
        commands change nothing and set ``info["action_error"]``.

    Rewards:
        1.0 on the step that achieves the goal, else 0.0.

    Termination:
        Terminates when the goal holds (``info["won"]`` is True); truncated
        after 50 steps by the registered ``max_episode_steps``.

    Registered ids:
        ``AgentPRM/ALFWorld-v0``. Kwargs: ``split`` (default ``"train"``),
        ``task_type`` (None: all six types; a type name: only that type),
        ``render_mode`` (``"ansi"``/``"human"``). ``info`` also holds
        ``task_type``, ``room`` and ``holding``.

    Version history:
        v0: first version.
    """

    splits: ClassVar[tuple[str, ...]] = SPLITS

    def __init__(
        self,
        split: str = "train",
        task_type: str | None = None,
        render_mode: str | None = None,
    ) -> None:
        if task_type is not None and task_type not in TASK_TYPES:
            raise ValueError(f"unknown task_type {task_type!r}; choose one of {list(TASK_TYPES)}")
        super().__init__(split=split, render_mode=render_mode)
        self.task_type = task_type
        self._task: Task | None = None
        self._layout: Layout | None = None
        self._state: WorldState | None = None
        self._won = False

    # ------------------------------------------------------------------ hooks
    def num_tasks(self, split: str) -> int:
        """Number of tasks in ``split`` (of ``task_type`` only, when set)."""
        per_type = TASKS_PER_TYPE[canonical_split(split)]
        return per_type if self.task_type is not None else per_type * len(TASK_TYPES)

    def task_spec(self, split: str, task_id: int) -> tuple[str, int]:
        """The ``(task type, index within type)`` that ``task_id`` of ``split`` names."""
        if self.task_type is not None:
            return self.task_type, task_id
        n = len(TASK_TYPES)
        return TASK_TYPES[task_id % n], task_id // n

    def _begin_task(self, split: str, task_id: int) -> str:
        ttype, index = self.task_spec(split, task_id)
        self._task, self._layout, self._state = generate(split, ttype, index)
        self._won = False
        return intro_text(self._layout, self._task)

    def _apply(self, action: str) -> Transition:
        obs, err = apply_command(self._layout, self._state, action)
        if err is not None:
            return Transition(obs, 0.0, False, err)
        if goal_satisfied(self._task, self._layout, self._state):
            self._won = True
            return Transition(obs, 1.0, True)
        return Transition(obs, 0.0, False)

    def admissible_actions(self) -> list[str]:
        """Every valid command in the current state."""
        if self._state is None:
            return []
        return admissible_commands(self._layout, self._state)

    @property
    def instruction(self) -> str:
        """The goal text, e.g. ``"put a clean mug in cabinet."``."""
        return self._task.goal if self._task is not None else ""

    @property
    def won(self) -> bool:
        """Whether the goal has been achieved."""
        return self._won

    @property
    def task(self) -> Task | None:
        """The current task (None before the first reset)."""
        return self._task

    @property
    def layout(self) -> Layout | None:
        """The current world's immutable layout."""
        return self._layout

    @property
    def world_state(self) -> WorldState | None:
        """The current world state (live; copy it before changing it)."""
        return self._state

    def _get_payload(self) -> Any:
        return (self._task, self._layout, self._state.copy(), self._won)

    def _set_payload(self, payload: Any) -> None:
        task, layout, state, won = payload
        self._task, self._layout, self._state, self._won = task, layout, state.copy(), won

    def _data_key(self) -> str:
        return f"{type(self).__qualname__}:{self.task_type}"

    def _extra_info(self) -> dict[str, Any]:
        task = self._task
        st = self._state
        return {
            "task_type": task.task_type if task is not None else None,
            "room": task.room if task is not None else None,
            "holding": st.holding if st is not None else None,
        }

    def expert_action(self) -> str:
        """The privileged expert's next command (see :mod:`.expert`)."""
        if self._state is None:
            raise RuntimeError("call reset() before expert_action()")
        return expert_action(self._task, self._layout, self._state)

    def expert_steps_left(self) -> int | None:
        """Exact number of expert steps from here to success (0 once won)."""
        if self._state is None:
            return None
        return len(expert_plan(self._task, self._layout, self._state))
