"""The one function that turns a PRM item into the text the model reads.

:func:`format_prm_input` is the only place the input format is defined; the
model, the trainer and the metrics all go through it, so a saved PRM scores
exactly what it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agentprm_gym.prm.segments import mention_start

__all__ = [
    "DEFAULT_CANDIDATE_CONTEXT",
    "DEFAULT_MAX_LENGTH",
    "DEFAULT_MAX_TURNS",
    "FORMAT_LABELS",
    "candidate_mention",
    "format_prm_input",
    "whitespace_tail",
]

#: Default token budget of the model input (special tokens included).
DEFAULT_MAX_LENGTH = 256
#: Default number of past (observation, action) turns kept.
DEFAULT_MAX_TURNS = 2
#: Default token budget of the candidate's context line (0 leaves the line out).
DEFAULT_CANDIDATE_CONTEXT = 48
#: The field labels of the format (the tiny tokenizer learns them as whole words).
FORMAT_LABELS = "Instruction: Observation: Action: Candidate context: Candidate action:"
#: Token budget kept back for the special tokens the tokenizer adds ([CLS], [SEP]).
_SPECIAL_RESERVE = 2
#: Most tokens the instruction and the candidate action may each take.
_PART_CAP_FRACTION = 0.25

#: ``tail(text, n) -> (kept_text, n_tokens_of_whole_text)``: the last ``n`` tokens of text.
TailFn = Callable[[str, int], tuple[str, int]]


def whitespace_tail(text: str, n: int) -> tuple[str, int]:
    """Token-free fallback for :data:`TailFn`: whitespace-separated words stand for tokens."""
    words = text.split()
    if n <= 0:
        return "", len(words)
    return " ".join(words[-n:]), len(words)


def _head(tail: TailFn, text: str, n: int) -> str:
    """The first ``n`` tokens of ``text`` (used for the instruction only)."""
    _, total = tail(text, 0)
    if total <= n:
        return text
    # Cut by characters proportionally, then tighten from the right until it fits.
    cut = max(1, int(len(text) * n / total))
    s = text[:cut]
    while s and tail(s, 0)[1] > n:
        s = s[: max(0, len(s) - max(1, len(s) // 20))]
    return s


def candidate_mention(action: str, observation: str) -> str:
    """The part of ``observation`` that starts where the candidate's argument is named.

    The argument is the text inside the action's first ``[...]`` (``b0mdsnp1k8``
    in ``click[b0mdsnp1k8]``, ``12`` in ``click[12]``). Its first mention in the
    observation, compared case-insensitively, is the bracketed form ``[arg]``
    (element ids in browser observations) if present, else the bare argument
    where it stands as a whole word, not inside a longer word or number
    (``8 fl oz`` does not match in ``33.8 fl oz``;
    :func:`~agentprm_gym.prm.segments.mention_start`). The returned text runs from that mention to
    the end of the observation (the caller keeps its head), so for a click on a
    search result it starts with the result's id, title and price.

    Returns:
        The text from the mention on, or ``""`` when the action has no bracketed
        argument or the observation does not name it.
    """
    i = mention_start(str(action), observation)
    return observation[i:] if i >= 0 else ""


def format_prm_input(
    instruction: str,
    history: Sequence[Any],
    action: str,
    *,
    max_turns: int = DEFAULT_MAX_TURNS,
    max_length: int = DEFAULT_MAX_LENGTH,
    candidate_context: int = 0,
    tail: TailFn | None = None,
) -> str:
    """Format ``(instruction, history, action)`` as one model input text.

    The text has these lines, in this order::

        Instruction: <instruction>
        Observation: <o_{t-K}>           # the last K past turns, oldest first
        Action: <a_{t-K}>
        ...
        Observation: <o_t>               # the current observation
        Candidate context: <mention>     # only if candidate_context > 0 and found
        Candidate action: <action>

    where ``K = max_turns`` (older turns are dropped; ``max_turns=0`` keeps only
    the current observation). Whitespace runs inside each field are collapsed to
    one space so newlines only separate fields.

    The candidate context is the first ``candidate_context`` tokens of
    :func:`candidate_mention`: what the current observation says at the place the
    action's argument is named. It exists because left truncation keeps the end
    of a long observation, while the thing a click names (a search result's title
    and price, say) may sit near its start; without it, two clicks on different
    results look alike to the model.

    Truncation to ``max_length`` tokens (2 kept back for ``[CLS]``/``[SEP]``):

    1. The candidate action and the instruction are always present; each is capped
       at a quarter of the budget, not counting its label (the action keeps its
       *last* tokens, the instruction its *first*). The candidate context, when
       present, keeps its first ``min(candidate_context, a quarter of the
       budget)`` tokens.
    2. The rest of the budget is filled with the context from the most recent
       end backwards: the current observation, then the last turn, and so on.
       The oldest piece that does not fit whole is cut from the LEFT (its last
       tokens are kept), and everything older is dropped.

    So the context is truncated from the left: the action and the most recent
    context always survive. The instruction stays at the top, because the task
    text is what tells a good step from a bad one.

    Args:
        instruction: The task text.
        history: Past ``(observation, action)`` pairs, then the current observation.
        action: The candidate action.
        max_turns: Past turns kept before the current observation.
        max_length: Token budget, special tokens included.
        candidate_context: Token budget of the candidate context line; 0 leaves
            it out (the format of PRMs saved before the line existed).
        tail: ``tail(text, n) -> (last n tokens of text as a string, token count
            of text)``; the model passes one built on its tokenizer. Default:
            whitespace words as tokens (:func:`whitespace_tail`).

    Returns:
        The input text; tokenizing it takes at most ``max_length`` tokens when
        ``tail`` matches the tokenizer (the model also truncates on the left as
        a safety net).
    """
    tail = tail or whitespace_tail
    if max_turns < 0:
        raise ValueError(f"max_turns must be >= 0, got {max_turns}")
    budget = int(max_length) - _SPECIAL_RESERVE
    if budget < 8:
        raise ValueError(f"max_length must be at least {8 + _SPECIAL_RESERVE}, got {max_length}")
    cap = max(2, int(budget * _PART_CAP_FRACTION))

    def clean(s: Any) -> str:
        return " ".join(str(s).split())

    hist = list(history)
    if not hist:
        raise ValueError("history must end with the current observation")
    current = clean(hist[-1])
    turns = hist[:-1][-max_turns:] if max_turns else []

    act_line = "Candidate action: "
    act_text = act_line + tail(clean(action), cap)[0]
    instr_line = "Instruction: "
    instr_text = instr_line + _head(tail, clean(instruction), cap)
    used = tail(act_text, 0)[1] + tail(instr_text, 0)[1]
    ctx_text = ""
    if candidate_context > 0:
        mention = candidate_mention(str(action), current)
        if mention:
            ctx_text = (
                "Candidate context: " + _head(tail, mention, min(candidate_context, cap)).rstrip()
            )
            used += tail(ctx_text, 0)[1]
    left = budget - used

    # Context pieces, most recent first.
    pieces = ["Observation: " + current]
    for obs, act in reversed(turns):
        pieces.append("Action: " + clean(act))
        pieces.append("Observation: " + clean(obs))
    kept: list[str] = []
    for piece in pieces:
        if left <= 0:
            break
        text, n = tail(piece, left)
        if text:
            kept.append(text)
        if n > left:  # this piece was cut on the left: nothing older fits
            break
        left -= n
    lines = [instr_text, *reversed(kept), ctx_text, act_text]
    return "\n".join(line for line in lines if line)
