"""The expert of text BabyAI: minigrid's BabyAI bot, run on a shadow copy of the level.

Minigrid's :class:`~minigrid.utils.baby_ai_bot.BabyAIBot` must see every
state of the episode (it maps what it has seen and keeps a plan stack). The
env's own stepping never runs the bot, so the env stays as fast as bare
minigrid; instead the expert keeps a *shadow* copy of the level as it was at
reset (regenerated from the level id and seed) and, when asked for an action,
replays on it the primitive actions the env has taken since it last looked
(``bot.replan(action_taken)`` after each),
then returns the bot's suggestion. After a snapshot restore that is not a
continuation of what the shadow has seen, the shadow is rebuilt from the
reset copy and the whole primitive history is replayed, unless the snapshot
carries the expert (:class:`CarriedExpert`, whenever the expert is in use):
then a copy of it goes on from where it was (the few primitive actions it has
not seen are replayed), so Monte-Carlo rollouts and search from a snapshot do
not pay one bot replan per past action at every restore. The snapshot shares
the expert and the env copies it only when it is next asked something, so a
snapshot that is never restored and asked costs no copy.

Expert actions are primitive text actions (``"turn left"``, ``"move forward"``,
``"pick up"``, ``"drop"``, ``"toggle"``). :meth:`BotExpert.steps_left` copies
the shadow and its bot and lets the bot play to the end: the number of
primitive steps it needs, or None if it does not succeed within the limit.

If the bot cannot go on (it raises, e.g. after the agent opened a box, or
says ``done`` before success) the expert restarts a fresh bot on a copy of
the current state; if that fails too it answers ``"turn left"``, and on later
questions along the same path it tries one fresh bot on the state it is asked
about instead of replaying the history again (minigrid's bot can spend tens of
milliseconds on one re-plan, and noisy rollouts kept it failing at every step).

One re-plan may push at most :data:`MAX_SUBGOAL_PUSHES` subgoals: minigrid's bot
re-plans in a loop until a subgoal yields an action, and in some states (carrying
an object into a blocked spot) that loop never ends. Past the bound it counts as
the bot failing (:class:`BotLoopError`), with the recovery above.
"""

from __future__ import annotations

from typing import Any

from agentprm_gym.envs.babyai.levels import (
    copy_level,
    deep_copy,
    level_memo,
    make_level_env,
    observations_skipped,
    reset_level,
)

__all__ = ["BotExpert", "BotLoopError", "CarriedExpert", "FALLBACK_ACTION", "MAX_SUBGOAL_PUSHES"]

#: Minigrid action used when the bot has no answer (turn left).
FALLBACK_ACTION = 0
_DONE = 6
#: Most subgoals one bot re-plan may push. Minigrid's bot re-plans in a loop until
#: a subgoal yields an action; carrying an object into a blocked spot, it can push
#: subgoals without end (seen in noisy PutNextLocal rollouts: one re-plan ran for
#: minutes). Past this bound the bot gives up.
MAX_SUBGOAL_PUSHES = 1000


class BotLoopError(RuntimeError):
    """The bot pushed more than :data:`MAX_SUBGOAL_PUSHES` subgoals in one re-plan."""


class _BoundedStack(list):
    """The bot's subgoal stack, counting pushes since :meth:`reset_budget`."""

    pushes = 0

    def reset_budget(self) -> None:
        self.pushes = 0

    def append(self, item: Any) -> None:
        self.pushes += 1
        if self.pushes > MAX_SUBGOAL_PUSHES:
            raise BotLoopError(f"the bot pushed over {MAX_SUBGOAL_PUSHES} subgoals in one re-plan")
        super().append(item)


def _replan(bot: Any, action: int | None = None) -> int:
    """``bot.replan`` with the subgoal budget renewed (raises :class:`BotLoopError` past it)."""
    bot.stack.reset_budget()
    return int(bot.replan() if action is None else bot.replan(action))


class CarriedExpert:
    """An env snapshot's reference to the expert in use when it was taken.

    The snapshot shares the expert instead of copying it, and the env copies it
    before the expert next changes (copy on write). Nor is the expert synced at
    the snapshot: the snapshot also carries the snapshot points the expert has
    not caught up with, each a primitive history and the level (the snapshot's
    own, never mutated) to recover on, and the expert is synced at each of them
    in order when it is next asked, giving the answer an eager sync at every
    snapshot would give. The first question after a restore hands the caught-up
    expert back to the snapshot (``points`` becomes empty), so later restores of
    it replay nothing. In a beam search most snapshots are of children that are
    never expanded, and their expert is then never copied or synced.

    The carried expert is a cache, not part of the env state: a pickled (or
    deep-copied) snapshot leaves it out, so two snapshots of the same env state
    pickle to the same bytes (beam search merges children by those bytes), and
    restoring such a copy rebuilds the expert from the history.

    Attributes:
        expert: The shared expert (None once pickled or copied), never mutated
            (replaced by its caught-up copy after the first restore that asks it).
        points: ``(primitive history, level)`` snapshot points it has not synced at.
    """

    __slots__ = ("expert", "points")

    def __init__(
        self, expert: BotExpert | None, points: tuple[tuple[tuple[int, ...], Any], ...] = ()
    ) -> None:
        self.expert = expert
        self.points = points

    def __reduce__(self) -> tuple[type[CarriedExpert], tuple[None]]:
        return (CarriedExpert, (None,))


class BotExpert:
    """Minigrid's BabyAI bot kept in step with an episode's primitive actions.

    Args:
        level_id: The minigrid level id of the episode.
        seed: Its instance seed. The level right after reset is regenerated
            from these (deterministically) the first time the expert is asked,
            so an episode the expert never sees costs nothing.
    """

    def __init__(self, level_id: str, seed: int) -> None:
        self.level_id = level_id
        self.seed = int(seed)
        self._initial: Any = None
        self._shadow: Any = None
        self._bot: Any = None
        self._fed: list[int] = []
        self._suggestion: int | None = None

    @property
    def initial(self) -> Any:
        """The level as it was right after reset (built on first use, never mutated)."""
        if self._initial is None:
            env = make_level_env(self.level_id)
            reset_level(env, self.seed)
            self._initial = env
        return self._initial

    def _restart(self, start: Any, fed: list[int]) -> None:
        from minigrid.utils.baby_ai_bot import BabyAIBot

        self._shadow = copy_level(start)
        self._bot = BabyAIBot(self._shadow)
        self._bot.stack = _BoundedStack(self._bot.stack)
        self._fed = list(fed)
        self._suggestion = _replan(self._bot)

    def sync(self, history: list[int], current: Any) -> None:
        """Bring the bot up to ``history`` (``current``, the live level, only to recover on)."""
        self._sync(history, current)

    def _sync(self, history: list[int], current: Any) -> None:
        n = len(self._fed)
        on_path = n <= len(history) and history[:n] == self._fed
        if self._bot is None and self._fed and on_path:
            # The bot gave up at an earlier state of this very path; replaying the
            # history from the reset level would only fail again (one replan per
            # action), so try a fresh bot on the current state once, if it moved.
            if n < len(history):
                self._recover(history, current)
            return
        if self._bot is None or not on_path:
            try:
                self._restart(self.initial, [])
            except Exception:  # noqa: BLE001 - the bot raises bare AssertionErrors
                self._recover(history, current)
                return
        try:
            with observations_skipped(self._shadow):  # the bot builds its own view
                for a in history[len(self._fed) :]:
                    self._shadow.step(a)
                    self._fed.append(a)
                    self._suggestion = _replan(self._bot, a)
        except Exception:  # noqa: BLE001
            self._recover(history, current)

    def _recover(self, history: list[int], current: Any) -> None:
        try:
            self._restart(current, history)
        except Exception:  # noqa: BLE001
            self._bot = None
            self._fed = list(history)
            self._suggestion = None

    def next_action(self, history: list[int], current: Any) -> int:
        """The bot's next primitive action (minigrid index) after ``history``.

        Args:
            history: The primitive actions taken since reset.
            current: The env's live minigrid level (used only to recover).
        """
        self._sync(history, current)
        if self._bot is not None and (self._suggestion is None or self._suggestion == _DONE):
            self._recover(history, current)
        if self._suggestion is None or self._suggestion == _DONE:
            return FALLBACK_ACTION
        return self._suggestion

    def steps_left(self, history: list[int], current: Any, limit: int) -> int | None:
        """Primitive steps the bot needs from here to success (None: fails within ``limit``)."""
        first = self.next_action(history, current)
        if self._bot is None:
            return None
        shadow, bot = self._copy_bot()
        a = first
        with observations_skipped(shadow):
            for n in range(1, limit + 1):
                _, reward, terminated, truncated, _ = shadow.step(a)
                if terminated:
                    return n if reward > 0 else None
                if truncated:
                    return None
                try:
                    a = _replan(bot, a)
                except Exception:  # noqa: BLE001
                    return None
                if a == _DONE:
                    return None
        return None

    @property
    def in_use(self) -> bool:
        """Whether the expert has been asked anything since its episode began."""
        return self._bot is not None or bool(self._fed)

    def _copy_bot(self) -> tuple[Any, Any]:
        """Copies of the shadow level and the bot following it (walls etc. shared)."""
        return deep_copy((self._shadow, self._bot), level_memo(self._shadow))

    def copy(self) -> BotExpert:
        """An independent copy (shares the reset level, which is never mutated)."""
        other = BotExpert(self.level_id, self.seed)
        other._initial = self._initial
        if self._bot is not None:
            other._shadow, other._bot = self._copy_bot()
        other._fed = list(self._fed)
        other._suggestion = self._suggestion
        return other
