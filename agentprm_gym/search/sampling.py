"""What search draws besides the policy's actions: log π of each sample and seeded tie-breaks.

:func:`sample_with_logprobs` asks a policy for ``n`` actions together with
``log π(a|s)`` of each sample. A policy that can say (``propose_with_logprobs``:
the LM policies, from the model's logits or the server's ``logprobs``) gives
its own numbers; for any other policy, or when an LM server returns none,
``π`` is estimated from the samples themselves, ``count(a) / n``.

:func:`tie_break_rng` is the generator that breaks exact ties in Best-of-N and
beam search: seeded from the search's seed, so the same seed gives the same
search, and independent of the policy's own RNG, so drawing tie-breaks never
changes what the policy samples.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

__all__ = ["count_logprobs", "sample_with_logprobs", "tie_break_rng"]

#: Mixed into the tie-break seed so that it is not the policy's own stream.
_TIE_BREAK_STREAM = 0x71E


def tie_break_rng(seed: int | None) -> np.random.Generator:
    """The tie-break generator of a search with this seed (None: unseeded)."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed) % 2**63, _TIE_BREAK_STREAM])


def count_logprobs(actions: list[str]) -> list[float]:
    """``log(count(a) / n)`` for each of ``n`` sampled actions (the black-box estimate of π)."""
    counts = Counter(actions)
    n = len(actions)
    return [math.log(counts[a] / n) for a in actions]


def sample_with_logprobs(
    policy: Any, observation: str, info: dict[str, Any], n: int
) -> tuple[list[str], list[float]]:
    """``n`` sampled actions and ``log π(a|s)`` of each.

    Uses ``policy.propose_with_logprobs`` when the policy has it and it returns
    finite numbers, else ``policy.propose`` and :func:`count_logprobs`.
    """
    fn = getattr(policy, "propose_with_logprobs", None)
    if fn is not None:
        actions, logps = fn(observation, info, n)
        actions = list(actions)
        if logps is not None:
            lp = [float(x) for x in logps]
            if len(lp) == len(actions) and all(math.isfinite(x) for x in lp):
                return actions, lp
        return actions, count_logprobs(actions)
    actions = list(policy.propose(observation, info, n))
    return actions, count_logprobs(actions)
