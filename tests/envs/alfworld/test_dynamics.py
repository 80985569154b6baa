"""Every command of the ALFWorld command language, valid and invalid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentprm_gym.envs.alfworld.admissible import admissible_commands
from agentprm_gym.envs.alfworld.dynamics import NOTHING_HAPPENS, apply_command, list_things

sys.path.insert(0, str(Path(__file__).parent))
from worlds import bedroom, kitchen  # noqa: E402


def ok(layout, st, cmd):
    obs, err = apply_command(layout, st, cmd)
    assert err is None, (cmd, err)
    return obs


def bad(layout, st, cmd, fragment):
    before = st.copy()
    obs, err = apply_command(layout, st, cmd)
    assert obs == NOTHING_HAPPENS
    assert err is not None and fragment in err, (cmd, err)
    assert st == before, f"{cmd!r} changed the state"


def test_list_things():
    assert list_things(()) == "nothing"
    assert list_things(("apple 1",)) == "a apple 1"
    assert list_things(("apple 1", "knife 2")) == "a apple 1, and a knife 2"
    assert list_things(("a 1", "b 2", "c 3")) == "a a 1, a b 2, and a c 3"


def test_go_to():
    layout, st = kitchen()
    assert ok(layout, st, "go to cabinet 1") == "You arrive at cabinet 1. The cabinet 1 is closed."
    assert st.location == "cabinet 1"
    assert ok(layout, st, "go to countertop 1") == (
        "You arrive at countertop 1. On the countertop 1, you see a knife 1, and a apple 2."
    )
    assert ok(layout, st, "Go  To   DiningTable 1") == (
        "You arrive at diningtable 1. On the diningtable 1, you see nothing."
    )
    bad(layout, st, "go to diningtable 1", "already")
    bad(layout, st, "go to cabinet 9", "no receptacle")


def test_open_close():
    layout, st = kitchen()
    bad(layout, st, "open cabinet 1", "not at")
    ok(layout, st, "go to cabinet 1")
    assert ok(layout, st, "open cabinet 1") == (
        "You open the cabinet 1. The cabinet 1 is open. In it, you see a mug 1, and a apple 1."
    )
    bad(layout, st, "open cabinet 1", "already open")
    assert ok(layout, st, "close cabinet 1") == "You close the cabinet 1."
    bad(layout, st, "close cabinet 1", "already closed")
    ok(layout, st, "go to countertop 1")
    bad(layout, st, "open countertop 1", "cannot be opened")
    bad(layout, st, "close countertop 1", "cannot be opened")
    ok(layout, st, "go to fridge 1")
    ok(layout, st, "open fridge 1")
    ok(layout, st, "go to cabinet 1")
    assert ok(layout, st, "go to fridge 1").endswith(
        "The fridge 1 is open. In it, you see a egg 1."
    )


def test_take():
    layout, st = kitchen()
    bad(layout, st, "take apple 2 from countertop 1", "not at")
    ok(layout, st, "go to cabinet 1")
    bad(layout, st, "take apple 1 from cabinet 1", "closed")
    ok(layout, st, "open cabinet 1")
    bad(layout, st, "take apple 2 from cabinet 1", "no apple 2")
    assert ok(layout, st, "take apple 1 from cabinet 1") == (
        "You pick up the apple 1 from the cabinet 1."
    )
    assert st.holding == "apple 1" and st.where["apple 1"] == ""
    assert st.contents["cabinet 1"] == ("mug 1",)
    bad(layout, st, "take mug 1 from cabinet 1", "already holding")


def test_take_lamp_refused():
    layout, st = bedroom()
    ok(layout, st, "go to desk 1")
    bad(layout, st, "take desklamp 1 from desk 1", "cannot be picked up")


@pytest.mark.parametrize(
    "verb", ["move {o} to {r}", "put {o} in {r}", "put {o} on {r}", "put {o} in/on {r}"]
)
def test_move_and_put_forms(verb):
    layout, st = kitchen()
    ok(layout, st, "go to countertop 1")
    bad(layout, st, verb.format(o="apple 2", r="countertop 1"), "not holding")
    ok(layout, st, "take apple 2 from countertop 1")
    ok(layout, st, "go to diningtable 1")
    bad(layout, st, verb.format(o="apple 2", r="countertop 1"), "not at")
    obs = ok(layout, st, verb.format(o="apple 2", r="diningtable 1"))
    assert obs == "You move the apple 2 to the diningtable 1."
    assert st.holding is None and st.contents["diningtable 1"] == ("apple 2",)


def test_move_errors():
    layout, st = kitchen()
    ok(layout, st, "go to countertop 1")
    ok(layout, st, "take knife 1 from countertop 1")
    ok(layout, st, "go to fridge 1")
    bad(layout, st, "move knife 1 to fridge 1", "closed")
    ok(layout, st, "open fridge 1")
    bad(layout, st, "move knife 1 to fridge 1", "does not go")


@pytest.mark.parametrize(
    ("verb", "tool", "flag", "word"),
    [
        ("clean", "sinkbasin 1", "clean", "clean"),
        ("heat", "microwave 1", "hot", "heat"),
        ("cool", "fridge 1", "cool", "cool"),
    ],
)
def test_clean_heat_cool(verb, tool, flag, word):
    layout, st = kitchen()
    ok(layout, st, "go to countertop 1")
    bad(layout, st, f"{verb} apple 2 with {tool}", "not holding")
    ok(layout, st, "take apple 2 from countertop 1")
    bad(layout, st, f"{verb} apple 2 with {tool}", "not at")
    bad(layout, st, f"{verb} apple 2 with countertop 1", f"only {verb}")
    ok(layout, st, f"go to {tool}")
    assert (
        ok(layout, st, f"{verb} apple 2 with {tool}") == f"You {word} the apple 2 using the {tool}."
    )
    assert "apple 2" in getattr(st, flag)
    assert f"is {flag}" in ok(layout, st, "examine apple 2")


def test_heat_and_cool_exclude_each_other():
    layout, st = kitchen()
    ok(layout, st, "go to countertop 1")
    ok(layout, st, "take apple 2 from countertop 1")
    ok(layout, st, "go to microwave 1")
    ok(layout, st, "heat apple 2 with microwave 1")
    ok(layout, st, "go to fridge 1")
    ok(layout, st, "cool apple 2 with fridge 1")
    assert "apple 2" in st.cool and "apple 2" not in st.hot


def test_treat_refused_for_unfit_object():
    layout, st = kitchen()
    ok(layout, st, "go to countertop 1")
    ok(layout, st, "take knife 1 from countertop 1")
    ok(layout, st, "go to microwave 1")
    bad(layout, st, "heat knife 1 with microwave 1", "cannot be heated")


def test_use_lamp():
    layout, st = bedroom()
    bad(layout, st, "use desklamp 1", "no desklamp 1 here")
    ok(layout, st, "go to desk 1")
    bad(layout, st, "use pen 1", "only lamps")
    assert ok(layout, st, "use desklamp 1") == "You turn on the desklamp 1."
    assert st.on == {"desklamp 1"}
    assert ok(layout, st, "use desklamp 1") == "You turn off the desklamp 1."
    assert not st.on


def test_examine_look_inventory():
    layout, st = kitchen()
    assert ok(layout, st, "look").startswith("You are in the middle of a room.")
    assert ok(layout, st, "inventory") == "You are not carrying anything."
    bad(layout, st, "examine cabinet 1", "not at")
    bad(layout, st, "examine apple 2", "see no apple 2")
    ok(layout, st, "go to cabinet 1")
    assert ok(layout, st, "examine cabinet 1") == "The cabinet 1 is closed."
    bad(layout, st, "examine mug 1", "see no")  # inside a closed cabinet
    ok(layout, st, "open cabinet 1")
    assert ok(layout, st, "examine mug 1") == "There's nothing special about mug 1."
    assert ok(layout, st, "look") == "You are facing the cabinet 1. Next to it, you see nothing."
    ok(layout, st, "take mug 1 from cabinet 1")
    assert ok(layout, st, "inventory") == "You are carrying: a mug 1."


@pytest.mark.parametrize("cmd", ["", "dance", "go to", "take apple 2", "open", "move apple to x 1"])
def test_unparsable(cmd):
    layout, st = kitchen()
    bad(layout, st, cmd, "unknown command")


def _walk(layout, st, seed, steps=60):
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        acts = admissible_commands(layout, st)
        assert len(acts) == len(set(acts))
        for a in acts:  # every admissible command is valid
            _, err = apply_command(layout, st.copy(), a)
            assert err is None, (a, err)
        apply_command(layout, st, acts[int(rng.integers(len(acts)))])


def test_admissible_commands_are_all_valid():
    for seed in range(3):
        _walk(*kitchen(), seed)
        _walk(*bedroom(), seed)


def test_admissible_lists_expected_commands():
    layout, st = kitchen()
    acts = admissible_commands(layout, st)
    assert acts[:3] == ["go to cabinet 1", "go to cabinet 2", "go to countertop 1"]
    assert acts[-2:] == ["inventory", "look"]
    ok(layout, st, "go to countertop 1")
    acts = admissible_commands(layout, st)
    assert "take apple 2 from countertop 1" in acts and "go to countertop 1" not in acts
    ok(layout, st, "take apple 2 from countertop 1")
    ok(layout, st, "go to microwave 1")
    acts = admissible_commands(layout, st)
    assert "open microwave 1" in acts and "heat apple 2 with microwave 1" in acts
    assert "move apple 2 to microwave 1" not in acts  # closed
