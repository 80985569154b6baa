"""How the state-encoder PRM cuts what the agent reads into pieces it encodes once.

The state-encoder PRM (:mod:`agentprm_gym.prm.state_model`) does not read a
state as one long string. It reads:

- the instruction, whole;
- the current observation, cut into *pieces* at the separators the envs print
  (``[SEP]`` in WebShop-style pages, line breaks elsewhere); a WebShop results
  page becomes its buttons, then each result's id, title and price; an ALFWorld
  observation becomes its sentences' lines;
- the last few actions of the history;
- each candidate action, and the index of the observation piece the action
  names (:func:`mention_index`: the clicked result's id, the chosen option).

Every piece is a short text that recurs across steps, episodes and tasks (a
result title shows up on many pages), so a frozen encoder's output for it can
be computed once and cached by content (:mod:`agentprm_gym.prm.text_encoder`).
Nothing here knows any env: pieces come from generic separators and a
candidate's argument is the text inside its first ``[...]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "MAX_PIECES",
    "action_argument",
    "mention_index",
    "mention_start",
    "observation_pieces",
]

#: Most pieces kept of one observation (the first ones; WebShop pages have ≤ 40).
MAX_PIECES = 96
#: Most characters of one piece (longer pieces are cut at this length).
_MAX_PIECE_CHARS = 400
_SPLIT = re.compile(r"\s*\[SEP\]\s*|\s*\n\s*")
_ARGUMENT = re.compile(r"\[([^\[\]]+)\]")


def _clean(s: str) -> str:
    return " ".join(s.split())


def observation_pieces(observation: str, max_pieces: int = MAX_PIECES) -> list[str]:
    """The observation cut at ``[SEP]`` and line breaks, empty pieces dropped.

    Pieces longer than 400 characters are cut into consecutive 400-character
    pieces (at a space where one is near), so a long paragraph stays whole in
    view. At most ``max_pieces`` are returned: the first ones.
    """
    out: list[str] = []
    for raw in _SPLIT.split(str(observation)):
        p = _clean(raw)
        while len(p) > _MAX_PIECE_CHARS:
            cut = p.rfind(" ", _MAX_PIECE_CHARS // 2, _MAX_PIECE_CHARS)
            cut = cut if cut > 0 else _MAX_PIECE_CHARS
            out.append(p[:cut])
            p = p[cut:].lstrip()
        if p:
            out.append(p)
        if len(out) >= max_pieces:
            return out[:max_pieces]
    return out


def action_argument(action: str) -> str:
    """The text inside the action's first ``[...]``, whitespace collapsed, lower case."""
    m = _ARGUMENT.search(str(action))
    return _clean(m.group(1)).lower() if m else ""


def _word_pattern(arg: str) -> re.Pattern[str]:
    # A whole-word mention: not inside a longer word, and not the tail of a
    # number ("8 fl oz" must not match inside "33.8 fl oz").
    return re.compile(r"(?<![\w.,])" + re.escape(arg) + r"(?![\w]|[.,]\d)")


def mention_index(action: str, pieces: Sequence[str]) -> int:
    """Index of the piece the action's argument names, or -1.

    In order of preference: the first piece equal to the argument (an option
    button ``8 fl oz``, a result id), the first piece holding it in brackets
    (``[12]``, element ids of browser observations), the first piece holding it
    as a whole word (not inside a longer word or number). Case-insensitive.
    """
    arg = action_argument(action)
    if not arg:
        return -1
    low = [p.lower() for p in pieces]
    for i, p in enumerate(low):
        if p == arg:
            return i
    br = "[" + arg + "]"
    for i, p in enumerate(low):
        if br in p:
            return i
    pat = _word_pattern(arg)
    for i, p in enumerate(low):
        if pat.search(p):
            return i
    return -1


def mention_start(action: str, observation: str) -> int:
    """Character offset of the argument's first mention in ``observation``, or -1.

    The bracketed form ``[arg]`` wins if present, else the first whole-word
    mention (same rule as :func:`mention_index`). Used by the cross-encoder's
    candidate-context line.
    """
    arg = action_argument(action)
    if not arg:
        return -1
    low = observation.lower()
    i = low.find("[" + arg + "]")
    if i >= 0:
        return i
    hit = _word_pattern(arg).search(low)
    return hit.start() if hit else -1
