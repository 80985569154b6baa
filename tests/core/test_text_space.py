import copy
import pickle

import numpy as np
import pytest
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


HOSTILE_CHARS = "\n\r\t\x00\x7f 🙂ü漢\u202e\ud800\udfff\U0010ffff<>[]{}'\""


def test_charset_holds_every_character_contains_accepts():
    s = TextSpace(max_length=100)
    assert len(s.character_set) == len(s.character_list) == 0x110000
    for c in HOSTILE_CHARS:
        assert c in s.character_set
        assert s.character_list[s.character_index(c)] == c
    assert "ab" not in s.character_set  # one character at a time, as in a frozenset
    assert s.contains(HOSTILE_CHARS)


def test_flatten_matches_gymnasium_generic_text_codec():
    """The vectorised codecs give exactly what gymnasium's generic Text ones give."""
    from gymnasium.spaces import Text
    from gymnasium.spaces.utils import flatten, unflatten

    s = TextSpace(max_length=64)
    for text in ("", "plain", HOSTILE_CHARS, "x" * 64):
        fast = flatten(s, text)
        generic = flatten.dispatch(Text)(s, text)
        assert fast.dtype == generic.dtype == np.int32
        np.testing.assert_array_equal(fast, generic)
        assert unflatten(s, fast) == unflatten.dispatch(Text)(s, generic) == text
    with pytest.raises(ValueError, match="does not fit"):
        flatten(s, "y" * 65)


def test_shared_memory_layout_matches_gymnasium_generic_writer():
    from gymnasium.spaces import Text
    from gymnasium.vector.utils import (
        create_shared_memory,
        read_from_shared_memory,
        write_to_shared_memory,
    )

    s = TextSpace(max_length=32)
    mem = create_shared_memory(s, n=2)
    view = read_from_shared_memory(s, mem, n=2)
    assert tuple(view) == ("", "")  # fresh memory reads as empty strings
    write_to_shared_memory.dispatch(Text)(s, 0, HOSTILE_CHARS, mem)  # gymnasium's writer
    write_to_shared_memory(s, 1, "a\nb", mem)
    assert view == (HOSTILE_CHARS, "a\nb")  # the view is live: no re-read needed
    write_to_shared_memory(s, 0, "short", mem)
    assert view[0] == "short" and view[-1] == "a\nb" and view[:1] == ("short",)
    snapshot = copy.deepcopy(view)
    assert type(snapshot) is tuple and snapshot == ("short", "a\nb")
    assert pickle.loads(pickle.dumps(view)) == ("short", "a\nb")


def test_masked_sample_draws_only_allowed_code_points():
    s = TextSpace(max_length=50, seed=0)
    mask = np.zeros(0x110000, dtype=np.int8)
    mask[[ord("a"), ord("\n"), 0x1F642]] = 1
    out = s.sample(mask=(40, mask))
    assert len(out) == 40 and set(out) <= {"a", "\n", "🙂"}
    prob = np.zeros(0x110000)
    prob[ord("z")] = 1.0
    assert s.sample(probability=(5, prob)) == "zzzzz"
    assert s.sample(mask=(5, np.zeros(0x110000, dtype=np.int8))) == ""


def test_async_env_without_copy_returns_the_live_view():
    import gymnasium as gym

    import agentprm_gym  # noqa: F401

    v = gym.make_vec(
        "AgentPRM/ALFWorld-v0",
        num_envs=2,
        vectorization_mode="async",
        vector_kwargs={"copy": False},
    )
    try:
        obs, info = v.reset(seed=1)
        first = tuple(obs)
        obs2, *_ = v.step(["look", "inventory"])
        assert obs2 is obs  # gymnasium's contract for copy=False: one buffer, updated in place
        assert tuple(obs2) != first
        assert obs2[1] == "You are not carrying anything."
    finally:
        v.close()
