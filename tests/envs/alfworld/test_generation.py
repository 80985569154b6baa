"""Generation determinism, sanity of generated worlds, and split disjointness."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentprm_gym.envs.alfworld.generation import generate
from agentprm_gym.envs.alfworld.splits import (
    TASKS_PER_TYPE,
    canonical_split,
    is_unseen,
    split_combos,
)
from agentprm_gym.envs.alfworld.tasks import TASK_COMBOS, TASK_TYPES
from agentprm_gym.envs.alfworld.verifier import goal_satisfied
from agentprm_gym.envs.alfworld.vocabulary import OBJECT_KINDS, TOOL_KINDS
from agentprm_gym.envs.alfworld.world import kind_of

SPLITS = ("train", "valid_seen", "valid_unseen")


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_generation_is_deterministic(task_type):
    for i in (0, 1, 57):
        a = generate("train", task_type, i)
        b = generate("train", task_type, i)
        assert a == b
    assert generate("train", task_type, 0) != generate("train", task_type, 1)
    assert generate("train", task_type, 0) != generate("valid_seen", task_type, 0)


def test_generation_same_in_another_process():
    code = (
        "from agentprm_gym.envs.alfworld.generation import generate;"
        "t, l, s = generate('valid_unseen', 'pick_two_obj_and_place', 42);"
        "print(repr((t, l.receptacles, sorted(s.contents.items()))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    t, lay, s = generate("valid_unseen", "pick_two_obj_and_place", 42)
    assert out == repr((t, lay.receptacles, sorted(s.contents.items())))


def test_test_is_an_alias_of_valid_unseen():
    assert canonical_split("test") == "valid_unseen"
    assert generate("test", "pick_and_place_simple", 5) == generate(
        "valid_unseen", "pick_and_place_simple", 5
    )


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_generated_worlds_are_consistent(split, task_type):
    for i in range(40):
        task, layout, st = generate(split, task_type, i)
        assert task.task_type == task_type and task.combo in split_combos(split, task_type)
        assert not goal_satisfied(task, layout, st)
        assert st.location is None and st.holding is None and not st.opened
        # contents and where agree; every object is somewhere its kind may be
        seen = [o for objs in st.contents.values() for o in objs]
        assert sorted(seen) == sorted(layout.objects) and len(set(seen)) == len(seen)
        for r, objs in st.contents.items():
            for o in objs:
                assert st.where[o] == r
                assert kind_of(r) in OBJECT_KINDS[kind_of(o)].receptacles
        xs = [o for o in layout.objects if kind_of(o) == task.object_kind]
        assert len(xs) >= task.count
        if task_type == "look_at_obj_in_light":
            assert any(kind_of(o) == "desklamp" for o in layout.objects)
        else:
            assert layout.receptacles_of(task.target_kind)
            assert all(kind_of(st.where[o]) != task.target_kind for o in xs)
        if task.modifier is not None:
            assert any(layout.receptacles_of(k) for k in TOOL_KINDS[task.modifier])


def test_goal_texts_use_alfworld_phrasings():
    goals = {generate("train", t, i)[0].goal for t in TASK_TYPES for i in range(30)}
    assert any(g.startswith("put some ") and " on " in g for g in goals)
    assert any(g.startswith("look at ") and g.endswith("under the desklamp.") for g in goals)
    assert any(g.startswith("clean some ") and " and put it in " in g for g in goals)
    assert any(g.startswith("put a hot ") for g in goals)
    assert any(g.startswith("cool some ") for g in goals)
    assert any(g.startswith("put two ") for g in goals)


def test_split_combinations_are_disjoint():
    for t in TASK_TYPES:
        train = set(split_combos("train", t))
        unseen = set(split_combos("valid_unseen", t))
        assert train and unseen and not train & unseen
        assert set(split_combos("valid_seen", t)) == train
        assert train | unseen == set(TASK_COMBOS[t])
        assert len(unseen) >= 3
    # no combination that is unseen for one type occurs in train for any type
    all_train = {c for t in TASK_TYPES for c in split_combos("train", t)}
    all_unseen = {c for t in TASK_TYPES for c in split_combos("valid_unseen", t)}
    assert not all_train & all_unseen
    assert all(is_unseen(c) for c in all_unseen)


def test_generated_unseen_tasks_never_occur_in_train():
    train = {generate("train", t, i)[0].combo for t in TASK_TYPES for i in range(0, 2000, 7)}
    for t in TASK_TYPES:
        for i in range(TASKS_PER_TYPE["valid_unseen"]):
            assert generate("valid_unseen", t, i)[0].combo not in train


def test_unseen_split_has_variety_per_type():
    for t in TASK_TYPES:
        combos = {generate("valid_unseen", t, i)[0].combo for i in range(100)}
        assert len(combos) >= 3, t
