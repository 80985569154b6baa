"""``PRMLookahead``: the agent proposes, the PRM picks — one-step (or deeper) lookahead.

The action given to :meth:`PRMLookahead.step` may be:

- a ``str``: one candidate (scored and executed; the score goes to ``info``);
- a list of ``str``: candidates, of which the best-scored is executed;
- nothing (``None``, the default, or ``""`` or ``[]``): no action given, so
  candidates come from ``policy.propose(obs, info, n)`` or, without a policy,
  are all of ``info["admissible_actions"]``. ``env.step(None)`` (or
  ``env.step()``) is the usual call when the wrapper's policy is the agent.

Repeated candidates are scored once. With ``depth = 0`` each candidate is
scored as ``Q(s_t, a)``; it is stepped from a snapshot only when the PRM needs
the resulting state (``prm.requires_state``). With ``depth > 0`` each
candidate is stepped from a snapshot and the episode is simulated ``depth``
more steps — by the policy (one sample per step) or, without a policy, greedily
by the PRM over the admissible actions — and the candidate's score is the
PRM's value of the last simulated step (or of the step that ended the
episode). Simulation steps the *base* env (``env.unwrapped``) and never passes
the episode's step limit (``spec.max_episode_steps``); the snapshot is restored
before the chosen candidate is executed through the wrapper stack, so the
executed step is exactly what the env would do without lookahead.

``info["lookahead"]`` holds ``candidates``, ``scores``, ``choice`` (the
executed action) and ``ledger`` (the compute spent on this step, a
:class:`~agentprm_gym.search.ledger.Ledger` as a dict *without* its
``wall_seconds``, so that infos stay deterministic as ``check_env`` demands).
The wrapper's ``ledger`` attribute sums every step since construction,
wall-clock seconds included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from agentprm_gym.prm.base import ScoreItem, build_history
from agentprm_gym.search.common import Branch, step_branch
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.ledger import Ledger, Meter

__all__ = ["PRMLookahead"]


class PRMLookahead(gym.Wrapper[str, Any, str, str], gym.utils.RecordConstructorArgs):
    """Execute the PRM's best among candidate actions.

    Args:
        env: The env to wrap (needs ``get_state``/``set_state`` for stepping
            candidates; a text-only PRM at ``depth=0`` needs none).
        prm: A PRM (``score(items)``).
        policy: Proposes candidates when no action is given and plays simulated
            steps (bound to this wrapper's env at every step, so one policy can
            serve several wrappers); None: admissible actions and PRM-greedy
            simulation.
        n: Candidates drawn from the policy when no action is given.
        depth: Simulated steps after each candidate (0: score candidates directly).
    """

    def __init__(
        self, env: gym.Env, prm: Any, policy: Any = None, n: int = 8, depth: int = 0
    ) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if depth < 0:
            raise ValueError(f"depth must be >= 0, got {depth}")
        # Recorded by reference, not deep-copied (gymnasium's default): the PRM and
        # the policy are shared resources, and bound ones hold an env.
        gym.utils.RecordConstructorArgs.__init__(
            self, prm=prm, policy=policy, n=n, depth=depth, _disable_deepcopy=True
        )
        gym.Wrapper.__init__(self, env)
        self.prm = prm
        self.policy = policy
        self.n = int(n)
        self.depth = int(depth)
        if policy is not None and hasattr(policy, "bind"):
            policy.bind(env)
        self._branch: Branch | None = None
        self._instruction = ""
        #: Compute spent by all lookahead steps so far (wall seconds included).
        self.ledger = Ledger()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Reset the env and the wrapper's history."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._instruction = str(info.get("instruction", ""))
        self._branch = Branch([obs], info)
        return obs, info

    def step(
        self, action: str | Sequence[str] | None = None
    ) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Pick the best candidate by the PRM and execute it.

        Args:
            action: A candidate, a list of candidates, or None (or an empty str
                or list): no action given, the policy proposes ``n`` candidates
                (without a policy: every admissible action).
        """
        if self._branch is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        here = self._branch
        if self.policy is not None and hasattr(self.policy, "bind"):
            # One policy may serve several wrappers (a train and an eval env):
            # bind it to this wrapper's env before it proposes.
            self.policy.bind(self.env)
        handle = EnvHandle(self.env) if self._needs_env() else None
        meter = Meter(self.policy, self.prm, handle)
        candidates = self._candidates(action, here)
        scores = self._score_candidates(candidates, here, handle)
        best = int(np.argmax(scores))
        choice = candidates[best]
        obs, reward, terminated, truncated, info = self.env.step(choice)
        ledger = meter.ledger()
        ledger.env_steps += 1
        self.ledger.merge(ledger)
        counts = ledger.to_dict()
        del counts["wall_seconds"]
        self._branch = here.child(choice, obs, float(reward), bool(terminated), info)
        info = dict(info)
        info["lookahead"] = {
            "candidates": list(candidates),
            "scores": [float(s) for s in scores],
            "choice": choice,
            "ledger": counts,
        }
        return obs, reward, terminated, truncated, info

    # ------------------------------------------------------------- internals
    def _needs_env(self) -> bool:
        return self.depth > 0 or bool(getattr(self.prm, "requires_state", False))

    def _candidates(self, action: str | Sequence[str] | None, here: Branch) -> list[str]:
        if action is None:
            cands: list[str] = []
        elif isinstance(action, str):
            cands = [action] if action else []
        elif isinstance(action, Sequence) and all(isinstance(a, str) for a in action):
            cands = list(action)
        else:
            raise TypeError(
                "PRMLookahead.step expects a str, a list of str candidates, or None "
                f"(the policy proposes); got {type(action).__name__}"
            )
        if not cands:
            if self.policy is not None:
                cands = self.policy.propose(here.obs, here.policy_info(), self.n)
            else:
                cands = list(here.info.get("admissible_actions", []))
            if not cands:
                raise ValueError("no candidates: the env gave no admissible actions")
        return list(dict.fromkeys(cands))

    def _remaining(self, here: Branch) -> int | None:
        limit = resolve_max_steps(self.env)
        return None if limit is None else limit - len(here.steps)

    def _score_candidates(
        self, candidates: list[str], here: Branch, handle: EnvHandle | None
    ) -> np.ndarray:
        if handle is None:
            hist = build_history(here.observations, here.actions)
            return self.prm.score([ScoreItem(self._instruction, hist, a) for a in candidates])
        if getattr(self.prm, "requires_state", False):
            self.prm.bind(handle)
        start = handle.get_state()
        here.state = start
        # Steps are counted from this wrapper's episode start for the step limit.
        limit = None if (r := self._remaining(here)) is None else len(here.steps) + r
        items: list[ScoreItem] = []
        try:
            for i, a in enumerate(candidates):
                if i > 0:
                    handle.set_state(start)
                leaf = step_branch(handle, here, a, limit)
                for _ in range(self.depth):
                    if leaf.done:
                        break
                    leaf = step_branch(handle, leaf, self._sim_action(leaf, handle), limit)
                leaf.state = handle.get_state() if self.prm.requires_state else None
                items.append(leaf.last_item(self._instruction))
            scores = self.prm.score(items)
        finally:
            handle.set_state(start)
            if getattr(self.prm, "requires_state", False):
                self.prm.bind(self.env)
        return scores

    def _sim_action(self, leaf: Branch, handle: EnvHandle) -> str:
        if self.policy is not None:
            return self.policy.propose(leaf.obs, leaf.policy_info(), 1)[0]
        acts = list(leaf.info.get("admissible_actions", []))
        if not acts:
            raise ValueError("PRM-greedy simulation needs admissible actions")
        if len(acts) == 1:
            return acts[0]
        at = handle.get_state()
        items = []
        needs_state = bool(getattr(self.prm, "requires_state", False))
        for i, a in enumerate(acts):
            if needs_state:
                if i > 0:
                    handle.set_state(at)
                nxt = step_branch(handle, leaf, a, None)
                nxt.state = handle.get_state()
                items.append(nxt.last_item(self._instruction))
            else:
                hist = build_history(leaf.observations, leaf.actions)
                items.append(ScoreItem(self._instruction, hist, a))
        if needs_state:
            handle.set_state(at)
        return acts[int(np.argmax(self.prm.score(items)))]
