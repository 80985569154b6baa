"""``PRMReward``: a dense reward from a PRM, added to (or replacing) the env's reward.

The wrapper keeps the episode's history itself (instruction, observations and
actions since ``reset``) and scores every step taken, ``Q_t = Q(s_t, a_t)``,
with one ``prm.score`` call per step. For a state-backed PRM
(``prm.requires_state``, e.g. the oracle) the item also carries the snapshot
after the action, whether it ended the episode, its reward and ``won``; such a
PRM is re-bound to this wrapper's env before every call, so one PRM object can
serve several sub-envs of a synchronous vector env.

Modes (``shaping`` is the term added to the reward), and what each does to
an RL agent trained on the shaped reward:

- ``"potential"`` (the default): potential-based shaping (Ng et al., 1999),
  ``shaping = γ·Φ(s_{t+1}) − Φ(s_t)``. The agent's state is its history
  ``h_t = (o_0, a_0, …, o_t)``; the potential of a history is the PRM's value of
  the step that led to it, ``Φ(h_{t+1}) = Q(h_t, a_t)`` — a function of
  ``h_{t+1}`` alone, because ``h_{t+1}`` contains ``h_t`` and ``a_t``. The start
  history has no step behind it, ``Φ(h_0) = 0``, and a terminal history has
  ``Φ = 0`` as the theory demands. Hence every policy's return changes by
  ``−Φ(h_0) = 0`` plus, under truncation, ``γ^T·Φ(h_T)``: the optimal policies of
  the wrapped env are those of the env. With ``γ = 1`` the shaping of a
  terminated episode sums to exactly 0, and with ``γ < 1`` the *discounted*
  sum ``Σ γ^t·shaping_t`` is exactly 0 too. Use the ``gamma`` of the RL
  algorithm. **It keeps the optimal policies**: the PRM can speed learning up
  (credit arrives at the step) but cannot change what is optimal, so a wrong
  PRM costs time, not the task.
- ``"progress"``: ``shaping = Q_t − Q_{t−1}``, with ``Q_{−1} = 0`` (so the
  first step's progress equals its promise). It telescopes: an episode's
  shaping sums to ``Q_T``, the PRM's value of its *last* step. That is a learned
  terminal bonus, not a potential difference (nothing is subtracted at the
  end), so it changes which policies are optimal: an agent can earn it by
  ending episodes in states the PRM likes, whether or not they succeed.
- ``"promise"``: ``shaping = Q_t``. It pays the PRM's value at *every* step, so
  the shaped return grows with the episode's length: an agent is rewarded for
  long episodes (with ``Q`` near 1, every extra step is worth up to ``coef``)
  and for never finishing.

Measured (``benchmarks/shaping_identities.py``, WebShop-v0 test tasks 0–5,
``noisy:0.5``, oracle PRM, ``γ = 0.9``): the discounted potential shaping sums
to 0 (|sum| ≤ 1.2e-16) on the 2 terminated episodes and to ``γ^T·Φ(h_T)``
(0.12–0.19) on the 4 truncated at 15 steps; progress sums to each episode's
``Q_T`` (0.59–1.00); promise sums to 2.9 and 5.5 on the 4- and 7-step episodes
and to 10.0–11.1 on the 15-step ones.

``reward = env_reward + coef·shaping``, or ``coef·shaping`` alone with
``replace=True``. Every term is in ``info["prm"]``: ``promise`` (Q_t),
``progress`` (Q_t − Q_{t−1}), ``shaping`` and ``env_reward``.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from agentprm_gym.prm.base import ScoreItem, build_history

__all__ = ["PRMReward", "PRM_REWARD_MODES"]

#: The shaping modes :class:`PRMReward` accepts.
PRM_REWARD_MODES = ("potential", "progress", "promise")


class PRMReward(gym.Wrapper[str, str, str, str], gym.utils.RecordConstructorArgs):
    """Add a PRM's potential-based shaping (default), progress or promise to the reward.

    ``"potential"`` keeps the env's optimal policies; ``"progress"`` sums to the
    PRM's value of the last step (a terminal bonus an agent can exploit) and
    ``"promise"`` rewards long episodes (see the module docs).

    Args:
        env: The env to wrap (any agentprm-gym env, wrapped or not).
        prm: A PRM (``score(items)`` returning Q in [0, 1]).
        mode: ``"potential"`` (default), ``"progress"`` or ``"promise"`` (see the module docs).
        coef: Weight of the shaping term.
        gamma: Discount of the potential (``"potential"`` mode only).
        replace: Return ``coef·shaping`` alone instead of adding the env reward.
    """

    def __init__(
        self,
        env: gym.Env,
        prm: Any,
        mode: str = "potential",
        coef: float = 1.0,
        gamma: float = 1.0,
        replace: bool = False,
    ) -> None:
        if mode not in PRM_REWARD_MODES:
            raise ValueError(f"mode must be one of {PRM_REWARD_MODES}, got {mode!r}")
        if not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
        # Recorded by reference, not deep-copied (gymnasium's default): a PRM is a
        # shared resource (one PRM for a train and an eval env), and a bound one
        # holds its env, which cannot be copied.
        gym.utils.RecordConstructorArgs.__init__(
            self,
            prm=prm,
            mode=mode,
            coef=coef,
            gamma=gamma,
            replace=replace,
            _disable_deepcopy=True,
        )
        gym.Wrapper.__init__(self, env)
        self.prm = prm
        self.mode = mode
        self.coef = float(coef)
        self.gamma = float(gamma)
        self.replace = bool(replace)
        self._instruction = ""
        self._observations: list[str] = []
        self._actions: list[str] = []
        self._q_prev = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Reset the env and the wrapper's history."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._instruction = str(info.get("instruction", ""))
        self._observations = [obs]
        self._actions = []
        self._q_prev = 0.0
        return obs, info

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the env and score the step with the PRM."""
        if not self._observations:
            raise gym.error.ResetNeeded("call reset() before step()")
        obs, env_reward, terminated, truncated, info = self.env.step(action)
        q = self._score(action, obs, float(env_reward), bool(terminated), info)
        progress = q - self._q_prev
        if self.mode == "promise":
            shaping = q
        elif self.mode == "progress":
            shaping = progress
        else:
            phi_next = 0.0 if terminated else q
            shaping = self.gamma * phi_next - self._q_prev
        self._q_prev = q
        self._actions.append(action)
        self._observations.append(obs)
        reward = self.coef * shaping + (0.0 if self.replace else float(env_reward))
        info = dict(info)
        info["prm"] = {
            "promise": q,
            "progress": progress,
            "shaping": shaping,
            "env_reward": float(env_reward),
        }
        return obs, reward, terminated, truncated, info

    def _score(
        self, action: str, obs: str, reward: float, terminated: bool, info: dict[str, Any]
    ) -> float:
        history = build_history(self._observations, self._actions)
        item = ScoreItem(self._instruction, history, action)
        if getattr(self.prm, "requires_state", False):
            self.prm.bind(self.env)
            item = item._replace(
                next_state=self.env.get_wrapper_attr("get_state")(),
                done=terminated,
                reward=reward,
                won=bool(info.get("won", False)),
            )
        return float(self.prm.score([item])[0])
