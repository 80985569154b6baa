"""The base class that implements the agentprm-gym env contract once.

Every text environment in the suite subclasses :class:`TextAgentEnv` and fills
in a few hooks (task count, task start, action application, admissible
actions, expert). The base class owns what the contract demands of all of
them: text spaces that accept any ``str``; seeded task choice from one
per-env RNG; the ``info`` keys ``instruction``, ``admissible_actions``,
``action_error`` and ``won``; a clear ``TypeError`` for a non-``str`` action; a
clear error when stepping after the episode ended; and ``get_state`` /
``set_state`` snapshots.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym

from agentprm_gym.core.snapshot import EnvSnapshot, SnapshotError
from agentprm_gym.core.text_space import TextSpace

__all__ = ["TextAgentEnv", "Transition", "EpisodeEndedError"]


class EpisodeEndedError(RuntimeError):
    """Raised by ``step`` after the episode terminated and before ``reset``."""


@dataclass(frozen=True)
class Transition:
    """What a family's ``_apply`` hook returns for one action.

    Attributes:
        observation: The next observation.
        reward: The reward for this step.
        terminated: Whether the episode ended (success or failure).
        error: None for a valid action; otherwise a message saying what was
            wrong (the env state must then be unchanged).
    """

    observation: str
    reward: float = 0.0
    terminated: bool = False
    error: str | None = None


class TextAgentEnv(gym.Env[str, str]):
    """Base class of every text environment in agentprm-gym.

    Subclasses implement the hooks ``num_tasks``, ``_begin_task``, ``_apply``,
    ``admissible_actions``, ``instruction``, ``won``, ``_get_payload``,
    ``_set_payload``, ``expert_action`` and ``expert_steps_left``, and may
    extend ``_extra_info``.

    Args:
        split: Default task split for ``reset`` (``options["split"]`` overrides it).
        render_mode: ``"ansi"`` (``render()`` returns the observation) or
            ``"human"`` (prints it), or None.
        max_action_length: Longer actions are rejected as invalid (not raised).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    #: Splits this family offers.
    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(
        self,
        split: str = "train",
        render_mode: str | None = None,
        max_action_length: int = 10_000,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; "
                f"choose one of {self.metadata['render_modes']}"
            )
        self._check_split(split)
        self.split = split
        self.render_mode = render_mode
        self.max_action_length = int(max_action_length)
        self.observation_space = TextSpace()
        self.action_space = TextSpace()
        self._task_split = split
        self._task_id = -1
        self._steps = 0
        self._done = True
        self._started = False
        self._obs = ""
        self._view_obs = ""  # the last observation that was not an error message

    # ------------------------------------------------------------------ hooks
    def num_tasks(self, split: str) -> int:
        """Number of tasks in ``split``."""
        raise NotImplementedError

    def _begin_task(self, split: str, task_id: int) -> str:
        """Set up the episode for task ``task_id`` of ``split``; return the first observation."""
        raise NotImplementedError

    def _apply(self, action: str) -> Transition:
        """Apply one action (already checked to be a str of acceptable length)."""
        raise NotImplementedError

    def admissible_actions(self) -> list[str]:
        """The valid actions in the current state."""
        raise NotImplementedError

    @property
    def instruction(self) -> str:
        """The current task's goal text."""
        raise NotImplementedError

    @property
    def won(self) -> bool:
        """Whether the current episode has been solved."""
        raise NotImplementedError

    def _get_payload(self) -> Any:
        """Return the family's mutable state for a snapshot, never to be mutated afterwards.

        A private copy, or state the env shares with the snapshot and copies
        before it next changes it (copy on write).
        """
        raise NotImplementedError

    def _payload_key(self, payload: Any) -> Any:
        """A smaller stand-in for ``payload`` when snapshots are compared (None: the payload).

        Override when the payload is large but determined by something small:
        equal keys must mean equal payloads (see :meth:`.EnvSnapshot.identity`).
        """
        return None

    def _set_payload(self, payload: Any) -> None:
        """Restore the family's mutable state from ``payload``.

        Alias it only if the env copies it before mutating it (copy on write).
        """
        raise NotImplementedError

    def _data_key(self) -> str:
        """Identity of the env's immutable data; snapshots only restore into equal keys."""
        return type(self).__qualname__

    def _extra_info(self) -> dict[str, Any]:
        """Family-specific info keys added on every reset/step."""
        return {}

    def expert_action(self) -> str:
        """Next action of a planner that solves the task (privileged)."""
        raise NotImplementedError

    def expert_steps_left(self) -> int | None:
        """Expert steps from here to success (privileged); None where unknown."""
        return None

    # ---------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode.

        The seed picks the task deterministically from the split;
        ``options={"task_id": int, "split": str}`` picks it explicitly.

        Args:
            seed: Seeds the env's RNG (``self.np_random``).
            options: Optional ``task_id`` and ``split``.

        Returns:
            The first observation and the info dict.
        """
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - self._known_options()
        if unknown:
            raise ValueError(
                f"unknown reset option(s) {sorted(unknown)}; known: {sorted(self._known_options())}"
            )
        split = options.get("split", self.split)
        self._check_split(split)
        n = self.num_tasks(split)
        if n <= 0:
            raise ValueError(f"split {split!r} has no tasks")
        task_id = options.get("task_id")
        if task_id is None:
            task_id = int(self.np_random.integers(n))
        elif isinstance(task_id, bool) or not isinstance(task_id, numbers.Integral):
            raise TypeError(f"options['task_id'] must be an int, got {type(task_id).__name__}")
        task_id = int(task_id)
        if not 0 <= task_id < n:
            raise ValueError(f"task_id {task_id} is out of range for split {split!r} (0..{n - 1})")
        self._task_split = split
        self._task_id = task_id
        self._steps = 0
        self._done = False
        self._started = True
        self._obs = self._view_obs = self._begin_task(split, task_id, **self._task_kwargs(options))
        return self._obs, self._info(None)

    def _known_options(self) -> set[str]:
        return {"task_id", "split"}

    def _task_kwargs(self, options: dict[str, Any]) -> dict[str, Any]:
        """Extra keyword arguments for ``_begin_task`` taken from reset options."""
        return {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Take one action.

        Invalid or unparsable actions never raise: the observation says what
        went wrong, the state is unchanged and ``info["action_error"]`` holds
        the message.

        Raises:
            TypeError: If ``action`` is not a ``str``.
            EpisodeEndedError: If the episode has terminated (call ``reset``).
        """
        if not isinstance(action, str):
            raise TypeError(
                f"{type(self).__name__}.step expects the action as a str "
                f"(e.g. one of info['admissible_actions']), got {type(action).__name__}"
            )
        if not self._started:
            raise EpisodeEndedError("call reset() before step()")
        if self._done:
            raise EpisodeEndedError("the episode has ended; call reset() to start a new one")
        if len(action) > self.max_action_length:
            msg = f"action is {len(action)} characters long; the limit is {self.max_action_length}"
            t = Transition(self._error_observation(msg), 0.0, False, msg)
        else:
            t = self._apply(action)
        self._steps += 1
        self._obs = t.observation
        if t.error is None:
            self._view_obs = t.observation
        self._done = bool(t.terminated)
        return t.observation, float(t.reward), bool(t.terminated), False, self._info(t.error)

    def _error_observation(self, message: str) -> str:
        """The observation shown for an invalid action (default: message + current view).

        The view is the last observation that was not an error, so after several
        invalid actions in a row the observation shows only the latest message.
        """
        return f"Invalid action: {message}\n{self._view_obs}"

    def _info(self, error: str | None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "instruction": self.instruction,
            "admissible_actions": [] if self._done else self.admissible_actions(),
            "action_error": error,
            "won": bool(self.won),
            "task_id": self._task_id,
            "split": self._task_split,
            "steps": self._steps,
        }
        info.update(self._extra_info())
        return info

    def render(self) -> str | None:
        """Return (``"ansi"``) or print (``"human"``) the current observation."""
        if self.render_mode == "ansi":
            return self._obs
        if self.render_mode == "human":
            print(self._obs)
        return None

    # -------------------------------------------------------------- snapshots
    def get_state(self) -> EnvSnapshot:
        """Snapshot the episode: immutable task data shared, mutable state copied.

        (Or shared, when the env copies it before changing it: copy on write.)
        """
        if not self._started:
            raise EpisodeEndedError("call reset() before get_state()")
        rng = self._np_random.bit_generator.state if self._np_random is not None else None
        payload = self._get_payload()
        return EnvSnapshot(
            env_class=type(self).__qualname__,
            data_key=self._data_key(),
            split=self._task_split,
            task_id=self._task_id,
            steps=self._steps,
            done=self._done,
            observation=self._obs,
            view=self._view_obs,
            rng_state=rng,
            payload=payload,
            payload_key=self._payload_key(payload),
        )

    def set_state(self, snapshot: EnvSnapshot) -> None:
        """Restore a snapshot from :meth:`get_state` exactly.

        Raises:
            SnapshotError: If the snapshot came from another env class or data.
        """
        if not isinstance(snapshot, EnvSnapshot):
            raise SnapshotError(
                f"set_state expects a snapshot from get_state(), got {type(snapshot).__name__}"
            )
        if snapshot.env_class != type(self).__qualname__:
            raise SnapshotError(
                f"snapshot is from {snapshot.env_class}, not {type(self).__qualname__}"
            )
        if snapshot.data_key != self._data_key():
            raise SnapshotError(
                "snapshot was taken on different task data "
                f"({snapshot.data_key!r} != {self._data_key()!r})"
            )
        if snapshot.rng_state is not None:
            self.np_random.bit_generator.state = snapshot.rng_state
        self._task_split = snapshot.split
        self._task_id = snapshot.task_id
        self._steps = snapshot.steps
        self._done = snapshot.done
        self._obs = snapshot.observation
        self._view_obs = snapshot.observation if snapshot.view is None else snapshot.view
        self._started = True
        self._set_payload(snapshot.payload)

    # ------------------------------------------------------------------ misc
    @property
    def task_id(self) -> int:
        """Index of the current task within its split (-1 before the first reset)."""
        return self._task_id

    @property
    def task_split(self) -> str:
        """Split of the current task."""
        return self._task_split

    @property
    def done(self) -> bool:
        """Whether the current episode has terminated."""
        return self._done

    def _check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; choose one of {list(self.splits)}")
