"""What a scoring state PRM keeps of its network's work between calls.

Three things the :class:`~agentprm_gym.prm.state_net.StateNet` computes depend
only on texts (token-store rows) and the weights, never on the rest of a batch:

- the matched vector of a (text, instruction) pair: a results page's pieces
  recur in every state that shows the page;
- the contextual vectors of a context row (its instruction, pieces and, in the
  old layout, past actions): a page met again, after ``< prev``, ``back to
  search`` or an option click, or in a search's sibling branches, is not
  encoded again;
- an instruction's side of the matching (keys, values, coverage projections
  and its context-row vector): a search within one task reads one instruction
  in every call.

:class:`NetCache` keeps them, least recently used first out, and empties itself
when the token store is replaced, another network is scored with, or a weight
changes in a way torch records.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

import torch

from agentprm_gym.prm.state_net import ContextKey, InstructionSide
from agentprm_gym.prm.text_encoder import TokenStore

__all__ = ["MAX_CACHED_CONTEXTS", "MAX_CACHED_INSTRUCTIONS", "MAX_CACHED_PAIRS", "NetCache"]

#: Most matched (text, instruction) vectors kept (``d`` floats each: 51 MB at most at the
#: default width, d = 128).
MAX_CACHED_PAIRS = 100_000
#: Most encoded context rows kept (``d`` floats per position each: about 20 kB for a
#: WebShop results page at d = 128, 52 kB for the longest row, so 107 MB at most).
MAX_CACHED_CONTEXTS = 2_048
#: Most instruction sides kept (about ``4·d + 8`` floats per token: 135 kB for a 64-token
#: instruction at d = 128, so 35 MB at most).
MAX_CACHED_INSTRUCTIONS = 256


class NetCache:
    """Matched pairs, encoded contexts and instruction sides from earlier scoring calls.

    Attributes:
        pairs: ``(text row, instruction row)`` → the pair's vector.
        contexts: :data:`~agentprm_gym.prm.state_net.ContextKey` → the row's
            ``(positions, d)`` contextual vectors.
        instructions: instruction row → its
            :class:`~agentprm_gym.prm.state_net.InstructionSide`.
    """

    def __init__(self) -> None:
        self.pairs: OrderedDict[tuple[int, int], torch.Tensor] = OrderedDict()
        self.contexts: OrderedDict[ContextKey, torch.Tensor] = OrderedDict()
        self.instructions: OrderedDict[int, InstructionSide] = OrderedDict()
        self._valid_for: tuple[weakref.ref[Any], tuple[Any, ...]] | None = None
        self._net: torch.nn.Module | None = None
        self._params: tuple[torch.Tensor, ...] = ()  # walking the modules per call is slow

    def __len__(self) -> int:
        return len(self.pairs) + len(self.contexts) + len(self.instructions)

    def clear(self) -> None:
        """Forget everything (needed after a weight change torch does not record).

        The network's parameters are looked up again at the next :meth:`check`, so
        parameters swapped into it are picked up.
        """
        self._drop()
        self._net = None

    def _drop(self) -> None:
        """Forget the kept work (the network stays tracked)."""
        self.pairs.clear()
        self.contexts.clear()
        self.instructions.clear()
        self._valid_for = None

    def check(self, store: TokenStore, net: torch.nn.Module) -> None:
        """Empty the cache unless ``store``, ``net`` and its weights are those it was filled with.

        Another network empties it, an in-place update of a weight (optimiser steps,
        ``load_state_dict``) bumps the tensor's version, and a move or cast changes
        its storage or dtype. Writes that torch does not record (through ``.data``,
        fused optimisers) and parameters swapped into ``net``
        (``load_state_dict(assign=True)``) need :meth:`clear`.

        Args:
            store: The token store whose rows the keys name.
            net: The network whose work is kept.
        """
        if net is not self._net:
            self._drop()
            self._net, self._params = net, tuple(net.parameters())
        key = tuple((p.data_ptr(), p.dtype, p._version) for p in self._params)
        seen = self._valid_for
        if seen is None or seen[0]() is not store or seen[1] != key:
            self._drop()
            # a weak reference: a replaced store is freed, not kept alive by this check
            self._valid_for = (weakref.ref(store), key)

    def trim(self) -> None:
        """Drop the least recently used entries beyond each bound."""
        for cache, bound in (
            (self.pairs, MAX_CACHED_PAIRS),
            (self.contexts, MAX_CACHED_CONTEXTS),
            (self.instructions, MAX_CACHED_INSTRUCTIONS),
        ):
            while len(cache) > bound:
                cache.popitem(last=False)
