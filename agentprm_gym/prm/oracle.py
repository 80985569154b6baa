"""Non-learned PRMs: the privileged oracle and the uninformative (random) baseline."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from agentprm_gym.prm.base import PRM, ScoreItem

__all__ = ["OraclePRM", "RandomPRM"]


class OraclePRM(PRM):
    """Q from the env's privileged expert distance.

    For a step that ends the episode, Q is 1 if it won and else its env reward
    (0 for a failure). Otherwise Q = ``decay ** k`` where ``k`` is
    ``expert_steps_left()`` in the state after the action: it rises as the
    expert distance falls and reaches 1 at success; a state the expert cannot
    solve (``k`` is None) gets 0.

    Items must carry ``next_state`` (a snapshot from ``get_state``); search and
    wrappers fill it because ``requires_state`` is True.

    Args:
        env: The env whose snapshots are scored (or bind later).
        decay: Per-step decay in (0, 1).
    """

    name = "oracle"
    requires_state = True

    def __init__(self, env: Any = None, decay: float = 0.9) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must lie in (0, 1), got {decay}")
        self.decay = float(decay)
        self.env: Any = None
        if env is not None:
            self.bind(env)

    def bind(self, env: Any) -> OraclePRM:
        """Use ``env`` to restore snapshots and ask the expert."""
        self.env = env
        return self

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        if self.env is None:
            raise RuntimeError("OraclePRM is not bound to an env; call prm.bind(env)")
        get_state = self.env.get_wrapper_attr("get_state")
        set_state = self.env.get_wrapper_attr("set_state")
        steps_left = self.env.get_wrapper_attr("expert_steps_left")
        out = np.zeros(len(items))
        saved = None
        try:
            for i, it in enumerate(items):
                if it.done:
                    out[i] = 1.0 if it.won else float(it.reward)
                    continue
                if it.next_state is None:
                    raise ValueError(
                        "OraclePRM needs items with next_state (the snapshot after the action)"
                    )
                if saved is None:
                    saved = get_state()
                set_state(it.next_state)
                k = steps_left()
                out[i] = 0.0 if k is None else self.decay ** int(k)
        finally:
            if saved is not None:
                set_state(saved)
        return out


class RandomPRM(PRM):
    """The uninformative baseline: every step scores 0.5, so every choice is random.

    It prefers no step to another. Best-of-N and beam search break exact ties
    at random, with a draw per sampled copy from the search's seeded
    generator, so with this PRM Best-of-N picks one of its N episodes
    uniformly, and a beam picks uniformly among the sampled *copies*: an
    action the policy proposed 7 times in 8 is kept 7 times as often. Its
    search therefore keeps the policy's own distribution, which is what a PRM
    that knows nothing should do. (A PRM giving each distinct action its own
    random value would rank the distinct actions in a random order instead,
    throwing away how often the policy proposed each; that variant is
    measured in ``benchmarks/uninformative_prm_search.py``.)

    Held-out step ranking of this PRM is 0.5 exactly (a tie counts one half).
    As reward shaping it is uninformative: potential shaping sums to 0 over an
    episode, progress pays 0.5 once, promise pays 0.5 at every step.
    """

    name = "random"

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        return np.full(len(items), 0.5)
