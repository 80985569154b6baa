import numpy as np
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array

from agentprm_gym.core.text_space import TextSpace


def test_contains_any_string():
    s = TextSpace(max_length=100)
    assert s.contains("")
    assert s.contains("hello world [with] spaces ✓ ünïcode\n")
    assert not s.contains("x" * 101)
    assert not s.contains(b"bytes")
    assert not s.contains(3)


def test_sample_is_seeded_and_contained():
    a, b = TextSpace(seed=3), TextSpace(seed=3)
    xs = [a.sample() for _ in range(20)]
    assert xs == [b.sample() for _ in range(20)]
    assert all(a.contains(x) for x in xs)


def test_vector_utils_accept_it():
    s = TextSpace()
    bs = batch_space(s, 3)
    out = create_empty_array(s, 3)
    out = concatenate(s, ["a b", "c", ""], out)
    assert tuple(out) == ("a b", "c", "")
    assert bs.contains(("a b", "c", ""))
    assert np.asarray(len(bs)) == 3


def test_equality():
    assert TextSpace(10) == TextSpace(10)
    assert TextSpace(10) != TextSpace(11)
