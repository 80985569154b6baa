"""The BabyAI expert's guard against minigrid's bot re-planning without end."""

from __future__ import annotations

import pytest

from agentprm_gym.envs.babyai import expert as ex
from agentprm_gym.envs.babyai.env import BabyAIEnv


def test_bounded_stack_counts_pushes_per_replan(monkeypatch):
    monkeypatch.setattr(ex, "MAX_SUBGOAL_PUSHES", 3)
    stack = ex._BoundedStack(["a"])
    for item in "bcd":
        stack.append(item)
    with pytest.raises(ex.BotLoopError, match="over 3 subgoals"):
        stack.append("e")
    assert stack == ["a", "b", "c", "d"]
    stack.reset_budget()
    stack.append("e")  # a new re-plan has a new budget
    assert stack[-1] == "e"


class _Endless:
    """A subgoal that yields no action and pushes another like itself, forever."""

    def __init__(self, bot, counter):
        self.bot, self.counter = bot, counter

    def is_exploratory(self):
        return False

    def update_agent_attributes(self):
        pass

    def replan_after_action(self, action_taken):
        pass

    def replan_before_action(self):
        self.counter[0] += 1
        if self.counter[0] > 50 * ex.MAX_SUBGOAL_PUSHES:  # the old code: stop the test, not hang
            raise AssertionError("the expert let the bot loop")
        self.bot.stack.append(_Endless(self.bot, self.counter))


def test_an_endless_replan_is_cut_and_the_expert_restarts_on_the_current_state():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    _, info = env.reset(options={"task_id": 0})
    env.expert_action()
    bot = env._expert._bot
    counter = [0]
    bot.stack.append(_Endless(bot, counter))
    env.step("turn left")
    action = env.expert_action()  # the incremental re-plan loops; the guard cuts it
    assert counter[0] == ex.MAX_SUBGOAL_PUSHES + 1
    assert env._expert._bot is not bot  # restarted on the current state
    assert action in info["admissible_actions"] or action in ("turn left", "turn right")


def test_expert_copies_share_the_walls_and_nothing_they_mutate():
    env = BabyAIEnv(level="PutNextLocal", split="test")
    env.reset(options={"task_id": 1})
    first = env.expert_action()
    src = env._expert
    other = src.copy()
    walls = [o for o in src._shadow.grid.grid if o is not None and o.type == "wall"]
    copies = [o for o in other._shadow.grid.grid if o is not None and o.type == "wall"]
    assert walls and all(a is b for a, b in zip(walls, copies, strict=True))
    assert other._shadow is not src._shadow and other._bot is not src._bot
    assert other._bot.mission is other._shadow  # the bot follows its own copy of the level
    assert other._shadow.room_grid is src._shadow.room_grid  # layout: read-only after generation
    before = (other._suggestion, list(other._fed), tuple(other._shadow.agent_pos))
    env.step(first)
    env.expert_action()  # moves the original's shadow level and bot on
    assert tuple(src._shadow.agent_pos) != before[2] or src._fed != before[1]
    assert (other._suggestion, list(other._fed), tuple(other._shadow.agent_pos)) == before
