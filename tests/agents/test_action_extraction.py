"""Free text → env action."""

from __future__ import annotations

import pytest

from agentprm_gym.agents.action_extraction import clean_action_text, extract_action

ADM = [
    "go to desk 1",
    "go to drawer 1",
    "take pen 1 from desk 1",
    "search[red mug]",
    "click[buy now]",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thought: I should go.\nAction: go to desk 1", "go to desk 1"),
        ("Action: GO TO   desk 1", "go to desk 1"),  # exact up to case and spaces
        ("go to the desk", "go to desk 1"),  # fuzzy
        ('Action: "take pen from desk 1".', "take pen 1 from desk 1"),
        ("click buy now", "click[buy now]"),
        ("Action: search[blue cup under 20 dollars]", "search[blue cup under 20 dollars]"),  # raw
        ("> inventory", "inventory"),
        ("Thought: hmm\n\n- `look`", "look"),
        ("Action: wait\nAction: go to drawer 1\nObservation: ...", "go to drawer 1"),  # last marker
        ("", ""),
    ],
)
def test_extract(text, expected):
    assert extract_action(text, ADM) == expected


def test_without_admissible_returns_clean_line():
    assert extract_action("Thought: x\nAction: 'search[red mug]'.", None) == "search[red mug]"
    assert clean_action_text("1. open drawer 1") == "open drawer 1"


def test_cutoff_controls_snapping():
    assert extract_action("go to the desk", ADM, cutoff=99) == "go to the desk"
    assert extract_action("go to the desk", ADM, cutoff=0) == "go to desk 1"
