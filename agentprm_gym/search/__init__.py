"""Test-time search with a PRM: greedy, Best-of-N and step-level beam search.

Each search returns a :class:`SearchResult` (the chosen trajectory, its env
reward, whether it won, the PRM score and a :class:`Ledger` of the compute
spent). Same seed ⇒ same result.
"""

from __future__ import annotations

from agentprm_gym.search.beam import beam_search
from agentprm_gym.search.best_of_n import best_of_n
from agentprm_gym.search.common import SearchResult
from agentprm_gym.search.greedy import greedy
from agentprm_gym.search.ledger import Ledger, Meter

__all__ = ["Ledger", "Meter", "SearchResult", "beam_search", "best_of_n", "greedy"]
