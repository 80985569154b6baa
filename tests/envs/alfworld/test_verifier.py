"""Each task type's goal check on hand-built worlds (satisfied and not)."""

from __future__ import annotations

import sys
from pathlib import Path

from agentprm_gym.envs.alfworld.verifier import goal_satisfied

sys.path.insert(0, str(Path(__file__).parent))
from worlds import bedroom, kitchen, task  # noqa: E402


def _put(state, obj, recep):
    src = state.where[obj]
    state.contents[src] = tuple(o for o in state.contents[src] if o != obj)
    state.contents[recep] = state.contents[recep] + (obj,)
    state.where[obj] = recep


def test_pick_and_place_simple():
    layout, st = kitchen()
    t = task("pick_and_place_simple", "apple", "diningtable")
    assert not goal_satisfied(t, layout, st)
    _put(st, "knife 1", "diningtable 1")  # wrong kind
    assert not goal_satisfied(t, layout, st)
    _put(st, "apple 2", "garbagecan 1")  # wrong receptacle
    assert not goal_satisfied(t, layout, st)
    _put(st, "apple 2", "diningtable 1")
    assert goal_satisfied(t, layout, st)


def test_held_object_does_not_count_as_placed():
    layout, st = kitchen()
    t = task("pick_and_place_simple", "apple", "countertop")
    st.contents["countertop 1"] = ("knife 1",)
    st.where["apple 2"] = ""
    st.holding = "apple 2"
    st.location = "countertop 1"
    assert not goal_satisfied(t, layout, st)


def test_look_at_obj_in_light():
    layout, st = bedroom()
    t = task("look_at_obj_in_light", "book", "desklamp", "bedroom")
    assert not goal_satisfied(t, layout, st)
    st.contents["bed 1"] = ()
    st.where["book 1"] = ""
    st.holding = "book 1"
    st.location = "desk 1"
    assert not goal_satisfied(t, layout, st)  # lamp off
    st.on = frozenset({"desklamp 1"})
    assert goal_satisfied(t, layout, st)
    st.location = "bed 1"
    assert not goal_satisfied(t, layout, st)  # lamp on, but elsewhere
    st.location = "desk 1"
    st.holding = "pen 1"
    assert not goal_satisfied(t, layout, st)  # wrong object in hand


def _modifier_case(task_type, flag_attr):
    layout, st = kitchen()
    t = task(task_type, "apple", "diningtable")
    _put(st, "apple 2", "diningtable 1")
    assert not goal_satisfied(t, layout, st)  # placed but not treated
    setattr(st, flag_attr, frozenset({"apple 1"}))
    assert not goal_satisfied(t, layout, st)  # a treated apple elsewhere
    setattr(st, flag_attr, frozenset({"apple 1", "apple 2"}))
    assert goal_satisfied(t, layout, st)


def test_clean_then_place():
    _modifier_case("pick_clean_then_place_in_recep", "clean")


def test_heat_then_place():
    _modifier_case("pick_heat_then_place_in_recep", "hot")


def test_cool_then_place():
    _modifier_case("pick_cool_then_place_in_recep", "cool")


def test_heat_task_ignores_cool_flag():
    layout, st = kitchen()
    t = task("pick_heat_then_place_in_recep", "apple", "diningtable")
    _put(st, "apple 2", "diningtable 1")
    st.cool = frozenset({"apple 2"})
    assert not goal_satisfied(t, layout, st)


def test_pick_two_needs_two_in_one_receptacle():
    layout, st = kitchen()
    layout2 = layout
    t = task("pick_two_obj_and_place", "apple", "countertop")
    # countertop 1 holds one apple
    assert not goal_satisfied(t, layout2, st)
    _put(st, "apple 1", "countertop 1")
    assert goal_satisfied(t, layout2, st)


def test_pick_two_split_over_two_receptacles_fails():
    layout, st = kitchen()
    t = task("pick_two_obj_and_place", "apple", "cabinet")
    _put(st, "apple 2", "cabinet 2")  # one apple in each cabinet
    assert not goal_satisfied(t, layout, st)
    _put(st, "apple 2", "cabinet 1")
    assert goal_satisfied(t, layout, st)
