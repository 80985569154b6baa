"""Non-learned PRMs: the privileged oracle and a random baseline."""

from __future__ import annotations

import hashlib
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
    """Uniform random Q, a fixed function of the item text and the seed.

    The same item always gets the same score, so search results are
    reproducible whatever order items arrive in.

    Args:
        seed: Changes the random function.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.seed = int(seed)

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        out = np.empty(len(items))
        for i, it in enumerate(items):
            h = hashlib.blake2b(digest_size=8, key=str(self.seed).encode())
            h.update(repr((it.instruction, it.history, it.action)).encode("utf-8", "replace"))
            out[i] = int.from_bytes(h.digest(), "little") / 2**64
        return out
