"""Map a language model's free text to one action in the env's syntax.

Rules, in order:

1. Take the text after the last ``Action:`` marker (case-insensitive) up to the
   end of its line; without a marker, the first non-empty line that is not a
   ``Thought:`` line.
2. Clean it: strip whitespace, list bullets, ``>`` prompts, surrounding quotes or
   backticks, and a trailing full stop.
3. If the env lists admissible actions: an exact match (ignoring case and runs
   of whitespace) returns that admissible action; else the best fuzzy match
   (``rapidfuzz``'s normalized Levenshtein ``ratio``) if its score reaches ``cutoff``; else the
   cleaned line as it is (an env may accept actions it does not list, such as
   WebShop's free-text ``search[...]``, and an invalid action is reported by the
   env, never raised).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["DEFAULT_FUZZY_CUTOFF", "clean_action_text", "extract_action"]

#: Minimum ``fuzz.ratio`` score (0–100) for a fuzzy match to an admissible action.
DEFAULT_FUZZY_CUTOFF = 75.0

_MARKER = re.compile(r"action\s*:", re.IGNORECASE)
_THOUGHT = re.compile(r"^\s*(thought|think|reasoning)\s*:", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•>]+|\d+[.)])\s*")
_SPACES = re.compile(r"\s+")


def _norm(s: str) -> str:
    return _SPACES.sub(" ", s.strip()).lower()


def clean_action_text(text: str) -> str:
    """The action line of a model's output, cleaned (rules 1 and 2 of the module docs)."""
    marks = list(_MARKER.finditer(text))
    if marks:
        line = text[marks[-1].end() :].strip().split("\n", 1)[0]
    else:
        line = ""
        for cand in text.splitlines():
            if cand.strip() and not _THOUGHT.match(cand):
                line = cand
                break
    line = _BULLET.sub("", line.strip())
    for _ in range(3):
        line = line.strip()
        if line.endswith(".") and not line.endswith(".."):
            line = line[:-1].rstrip()
        if len(line) >= 2 and line[0] == line[-1] and line[0] in "\"'`":
            line = line[1:-1]
        line = line.strip("`").strip()
    return line


def extract_action(
    text: str,
    admissible: Sequence[str] | None = None,
    cutoff: float = DEFAULT_FUZZY_CUTOFF,
) -> str:
    """Turn a model's output into an action.

    Args:
        text: The generated text.
        admissible: The env's admissible actions, if it lists them.
        cutoff: Minimum fuzzy score (0–100) to snap to an admissible action.

    Returns:
        An admissible action, or the cleaned line.
    """
    line = clean_action_text(text)
    if not admissible:
        return line
    by_norm = {_norm(a): a for a in admissible}
    hit = by_norm.get(_norm(line))
    if hit is not None:
        return hit
    if not line:
        return line
    from rapidfuzz import fuzz, process, utils

    best = process.extractOne(
        line, list(admissible), scorer=fuzz.ratio, processor=utils.default_process
    )
    if best is not None and best[1] >= cutoff:
        return best[0]
    return line
