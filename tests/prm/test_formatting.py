from __future__ import annotations

import pytest

from agentprm_gym.prm.formatting import candidate_mention, format_prm_input, whitespace_tail


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


RESULTS = (
    "Page 1 [SEP] Next > [SEP] B0AAA11111 [SEP] Red Cotton Shirt [SEP] $9.99 "
    "[SEP] B0BBB22222 [SEP] Blue Wool Sweater [SEP] $25.99"
)


def test_candidate_mention_finds_the_argument():
    assert candidate_mention("click[b0bbb22222]", RESULTS) == (
        "B0BBB22222 [SEP] Blue Wool Sweater [SEP] $25.99"
    )
    assert candidate_mention("click[next >]", RESULTS).startswith("Next > [SEP] B0AAA11111")
    # A bracketed id wins over a bare number elsewhere in the page.
    page = 'Total 12 items [3] link "Home" [12] button "Submit"'
    assert candidate_mention("click[12]", page) == '[12] button "Submit"'
    # Bare arguments match whole words only; no argument or no mention gives "".
    assert candidate_mention("click[red]", "Colors: tired, red, blue") == "red, blue"
    assert candidate_mention("click[ed]", "Colors: tired, red") == ""
    assert candidate_mention("look", RESULTS) == ""
    assert candidate_mention("click[b0zzz]", RESULTS) == ""
    assert candidate_mention("click[ ]", RESULTS) == ""


def test_candidate_context_line_keeps_the_head_of_the_mention():
    long_cur = RESULTS + " " + " ".join(f"more{i}" for i in range(200))
    hist = (long_cur,)
    text = format_prm_input(
        "a red shirt", hist, "click[b0aaa11111]", max_length=64, candidate_context=6
    )
    lines = text.split("\n")
    assert lines[0] == "Instruction: a red shirt"
    # Left truncation cut the result out of the observation line ...
    assert "Red Cotton" not in lines[1] and "more199" in lines[1]
    # ... but the context line keeps the first 6 words of the clicked result.
    assert lines[2] == "Candidate context: B0AAA11111 [SEP] Red Cotton Shirt [SEP]"
    assert lines[3] == "Candidate action: click[b0aaa11111]"
    assert len(text.split()) <= 62
    # Not named in the observation, or candidate_context=0: no context line.
    assert "Candidate context" not in format_prm_input(
        "x", hist, "search[green]", candidate_context=6
    )
    assert "Candidate context" not in format_prm_input("x", hist, "click[b0aaa11111]")
