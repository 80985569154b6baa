from __future__ import annotations

import pytest

from agentprm_gym.prm.formatting import format_prm_input, whitespace_tail


def test_layout_and_turn_limit():
    hist = (("o0", "a0"), ("o1", "a1"), ("o2", "a2"), "o3")
    text = format_prm_input("find it", hist, "go", max_turns=2)
    assert text.split("\n") == [
        "Instruction: find it",
        "Observation: o1",
        "Action: a1",
        "Observation: o2",
        "Action: a2",
        "Observation: o3",
        "Candidate action: go",
    ]
    assert format_prm_input("x", hist, "go", max_turns=0).split("\n")[1] == "Observation: o3"


def test_left_truncation_keeps_action_instruction_and_recent_context():
    old = " ".join(f"old{i}" for i in range(200))
    cur = " ".join(f"cur{i}" for i in range(200))
    text = format_prm_input(
        "buy a red shirt", ((old, "click[x]"), cur), "click[red]", max_length=64
    )
    assert text.startswith("Instruction: buy a red shirt\n")
    assert text.endswith("Candidate action: click[red]")
    assert "cur199" in text and "cur0 " not in text  # current observation cut on the left
    assert "old" not in text and "click[x]" not in text  # older turns dropped
    assert len(text.split()) <= 62  # the budget minus two special tokens


def test_long_action_keeps_its_end_and_budget_holds():
    act = "search[" + " ".join(f"w{i}" for i in range(300)) + "]"
    text = format_prm_input("i" * 3, ("obs",), act, max_length=40)
    assert text.endswith("w299]")
    assert len(text.split()) <= 38


def test_whitespace_tail():
    assert whitespace_tail("a b c", 2) == ("b c", 3)
    assert whitespace_tail("a b c", 0) == ("", 3)


def test_bad_history():
    with pytest.raises(ValueError):
        format_prm_input("x", (), "a")
