from __future__ import annotations

import numpy as np

from agentprm_gym.prm.formatting import candidate_mention
from agentprm_gym.prm.segments import (
    action_argument,
    mention_index,
    mention_start,
    observation_pieces,
)
from agentprm_gym.prm.text_encoder import number_features, text_key

PAGE = (
    "Instruction: [SEP] i want 8 fl oz shampoo, and price lower than 60.00 dollars [SEP] "
    "Back to Search [SEP] < Prev [SEP] size [SEP] 33.8 fl oz [SEP] 8 fl oz [SEP] Buy Now"
)


def test_pieces_split_at_sep_and_lines_and_drop_empty():
    assert observation_pieces("a [SEP] b\nc [SEP]  [SEP] d") == ["a", "b", "c", "d"]
    assert observation_pieces(PAGE)[4:7] == ["size", "33.8 fl oz", "8 fl oz"]
    assert observation_pieces("x [SEP] y [SEP] z", max_pieces=2) == ["x", "y"]


def test_long_piece_is_cut_into_consecutive_pieces_that_keep_every_word():
    text = " ".join(f"w{i}" for i in range(300))
    pieces = observation_pieces(text)
    assert len(pieces) > 1 and all(len(p) <= 400 for p in pieces)
    assert " ".join(pieces) == text


def test_mention_prefers_an_equal_piece_over_a_number_tail_or_the_instruction():
    pieces = observation_pieces(PAGE)
    # "8 fl oz" is inside the instruction line and the tail of "33.8 fl oz": neither counts
    assert pieces[mention_index("click[8 fl oz]", pieces)] == "8 fl oz"
    assert mention_index("click[back to search]", pieces) == 2
    assert mention_index("search[anything]", pieces) == -1
    assert mention_index("look", pieces) == -1
    assert mention_index("click[12]", ["[3] link", "[12] button"]) == 1


def test_candidate_mention_no_longer_matches_inside_a_number():
    # the bug: click[8 fl oz] got "8 fl oz, and price lower..." from "33.8 fl oz"
    obs = "i want 33.8 fl oz, and price lower than 60.00 dollars [SEP] 8 fl oz [SEP] Buy Now"
    assert candidate_mention("click[8 fl oz]", obs).startswith("8 fl oz [SEP] Buy Now")
    assert mention_start("click[8 fl oz]", "only 33.8 fl oz here") == -1
    assert mention_start("click[b0abc]", "x [b0abc] y") == 2
    assert action_argument("click[ Next  > ]") == "next >"


def test_number_features_hand_worked():
    text = "price $130.00 or 1,299 items"
    # token spans: "price" "$" "130" "." "00" "or" "1" "," "299" "items"
    offsets = [
        (0, 5),
        (6, 7),
        (7, 10),
        (10, 11),
        (11, 13),
        (14, 16),
        (17, 18),
        (18, 19),
        (19, 22),
        (23, 28),
    ]
    f = number_features(text, offsets)
    assert f[:, 0].tolist() == [0, 0, 1, 1, 1, 0, 1, 1, 1, 0]
    np.testing.assert_allclose(f[2, 1], np.log10(131.0) / 4, rtol=1e-6)
    np.testing.assert_allclose(f[6, 1], np.log10(1300.0) / 4, rtol=1e-6)
    assert (number_features("no digits", [(0, 2), (3, 9)]) == 0).all()


def test_text_key_is_a_stable_content_digest():
    assert text_key("abc") == text_key("abc") != text_key("abd")
    assert len(text_key("abc")) == 32
