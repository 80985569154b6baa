"""Test-time search with a PRM: Best-of-N and step-level beam search, and their baselines.

Each search returns a :class:`SearchResult` (the chosen trajectory, its env
reward, whether it won, the PRM score and a :class:`Ledger` of the compute
spent). Same seed ⇒ same result. The baselines play one episode without a
PRM: :func:`policy_episode` (one policy sample per step) and :func:`greedy`
(temperature-0 decoding of an LM policy). :func:`beam_search_lockstep` and
:func:`best_of_n_lockstep` search many tasks at once with the same results,
sharing PRM calls between them.
"""

from __future__ import annotations

from agentprm_gym.search.beam import beam_search
from agentprm_gym.search.best_of_n import best_of_n
from agentprm_gym.search.common import SearchResult
from agentprm_gym.search.ledger import Ledger, Meter
from agentprm_gym.search.lockstep import beam_search_lockstep, best_of_n_lockstep
from agentprm_gym.search.single import greedy, policy_episode

__all__ = [
    "Ledger",
    "Meter",
    "SearchResult",
    "beam_search",
    "beam_search_lockstep",
    "best_of_n",
    "best_of_n_lockstep",
    "greedy",
    "policy_episode",
]
