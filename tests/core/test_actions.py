import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentprm_gym.core.actions import ActionParseError, ParsedAction, format_action, parse_action


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("search[red mug]", "search", ("red mug",)),
        ("  click[ buy now ] ", "click", ("buy now",)),
        ("click[< prev]", "click", ("< prev",)),
        ("click[next >]", "click", ("next >",)),
        ("type[7][hello world]", "type", ("7", "hello world")),
        ("type[7] [spaced]", "type", ("7", "spaced")),
        ("back", "back", ()),
        ("Search[X]", "search", ("X",)),
        ("search[size [xl] shirt]", "search", ("size [xl] shirt",)),
        ("search[]", "search", ("",)),
    ],
)
def test_parse_valid(text, name, args):
    p = parse_action(text)
    assert p == ParsedAction(name, args)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "[x]", "click[unclosed", "click]x[", "click[a]b", "123[x]", "a]", "clíck?[x]"],
)
def test_parse_invalid_raises_parse_error(text):
    with pytest.raises(ActionParseError):
        parse_action(text)


def test_parse_rejects_huge_without_scanning():
    with pytest.raises(ActionParseError, match="limit"):
        parse_action("x" * 20_000)


def test_parse_non_str_is_type_error():
    with pytest.raises(TypeError):
        parse_action(3)  # type: ignore[arg-type]


def test_format_roundtrip():
    assert format_action("type", "3", "abc") == "type[3][abc]"
    assert str(parse_action("type[3][abc]")) == "type[3][abc]"


@given(st.text(max_size=200))
def test_parse_never_raises_other_errors(text):
    try:
        p = parse_action(text)
    except ActionParseError:
        return
    assert isinstance(p.name, str) and all(isinstance(a, str) for a in p.args)
