"""Step labels for PRM training, in pure numpy.

Notation (one episode with steps ``t = 0..T``): ``r_t`` is the env reward of
step ``t`` (sparse: usually only ``r_T``, the outcome, is non-zero), ``M_t`` is
a model's value ``M(s_t, a_t)`` and ``M_{T+1} = 0``.

- ``outcome`` (ORM): only the last step is labelled, with the outcome.
- ``pvm``: every step is labelled with the episode's final reward.
- ``mc`` (Math-Shepherd): N rollouts from each step's state; *hard* = 1 if any
  succeeded, *soft* = success fraction.
- ``td0``: ``Q̂_t = r_t + γ·M_{t+1}``.
- ``gae``: ``δ_t = r_t + γ·M_{t+1} − M_t``, ``Â_t = Σ_k (γλ)^k δ_{t+k}``,
  ``Q̂_t = M_t + Â_t`` (the λ-return). λ = 1 gives the Monte-Carlo return,
  λ = 0 gives ``td0``, and ``Q̂_T = r_T`` always.

AgentPRM (Xi et al., 2025) eq. 12–14 write the same quantities with the step
index shifted by one (their ``δ(s_t, a_t)`` is the TD error of step t−1); the
form above is the one whose λ = 0 case is TD(0) rather than ``M_t`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LABEL_KINDS",
    "LabelCost",
    "gae_advantages",
    "gae_targets",
    "td0_targets",
    "pvm_labels",
    "outcome_labels",
    "mc_labels",
    "discounted_returns",
]

#: The label kinds ``train-prm --labels`` accepts.
LABEL_KINDS = ("gae", "td0", "mc", "pvm", "outcome")


def _vec(x: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    return a


def _check(values: ArrayLike, rewards: ArrayLike) -> tuple[NDArray, NDArray]:
    v, r = _vec(values, "values"), _vec(rewards, "rewards")
    if v.shape != r.shape:
        raise ValueError(f"values and rewards differ in length ({len(v)} vs {len(r)})")
    return v, r


def discounted_returns(rewards: ArrayLike, gamma: float = 1.0) -> NDArray[np.float64]:
    """``G_t = Σ_k γ^k r_{t+k}`` for every step."""
    r = _vec(rewards, "rewards")
    out = np.empty_like(r)
    acc = 0.0
    for t in range(len(r) - 1, -1, -1):
        acc = r[t] + gamma * acc
        out[t] = acc
    return out


def gae_advantages(
    values: ArrayLike, rewards: ArrayLike, gamma: float = 1.0, lam: float = 0.95
) -> NDArray[np.float64]:
    """GAE advantages ``Â_t = Σ_k (γλ)^k δ_{t+k}`` with ``δ_t = r_t + γ M_{t+1} − M_t``.

    Args:
        values: ``M_t`` for t = 0..T (the model's values of the steps taken).
        rewards: ``r_t`` for t = 0..T.
        gamma: Discount γ.
        lam: GAE λ.

    Returns:
        ``Â_t`` for t = 0..T.
    """
    v, r = _check(values, rewards)
    nxt = np.append(v[1:], 0.0)
    delta = r + gamma * nxt - v
    adv = np.empty_like(v)
    acc = 0.0
    for t in range(len(v) - 1, -1, -1):
        acc = delta[t] + gamma * lam * acc
        adv[t] = acc
    return adv


def gae_targets(
    values: ArrayLike, rewards: ArrayLike, gamma: float = 1.0, lam: float = 0.95
) -> NDArray[np.float64]:
    """λ-return targets ``Q̂_t = M_t + Â_t`` (see :func:`gae_advantages`)."""
    v, _ = _check(values, rewards)
    return v + gae_advantages(values, rewards, gamma, lam)


def td0_targets(values: ArrayLike, rewards: ArrayLike, gamma: float = 1.0) -> NDArray[np.float64]:
    """TD(0) targets ``Q̂_t = r_t + γ M_{t+1}`` (``M_{T+1} = 0``)."""
    v, r = _check(values, rewards)
    return r + gamma * np.append(v[1:], 0.0)


def pvm_labels(final_reward: float, num_steps: int) -> NDArray[np.float64]:
    """Every step labelled with the episode's final reward (process value model)."""
    return np.full(int(num_steps), float(final_reward))


def outcome_labels(
    final_reward: float, num_steps: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """ORM labels: the outcome on the last step, which alone is trained on.

    Returns:
        ``(targets, mask)``: targets hold the outcome on the last step (0
        elsewhere) and the mask is True only there.
    """
    n = int(num_steps)
    targets = np.zeros(n)
    mask = np.zeros(n, dtype=bool)
    if n:
        targets[-1] = float(final_reward)
        mask[-1] = True
    return targets, mask


def mc_labels(outcomes: ArrayLike, mode: str = "soft", threshold: float = 1.0) -> NDArray:
    """Math-Shepherd Monte-Carlo labels from rollouts started at each step.

    Args:
        outcomes: Shape ``(T, N)``: final reward of rollout n started from step t
            (after its action was taken).
        mode: ``"hard"`` = 1 if any rollout succeeded, ``"soft"`` = success fraction.
        threshold: A rollout succeeded if its final reward is ≥ this.

    Returns:
        One label per step.
    """
    o = np.asarray(outcomes, dtype=np.float64)
    if o.ndim != 2 or o.shape[1] == 0:
        raise ValueError(f"outcomes must have shape (steps, rollouts>0), got {o.shape}")
    success = o >= threshold
    if mode == "hard":
        return success.any(axis=1).astype(np.float64)
    if mode == "soft":
        return success.mean(axis=1)
    raise ValueError(f"mode must be 'hard' or 'soft', got {mode!r}")


@dataclass
class LabelCost:
    """What labelling spent: env steps and policy samples beyond the rollouts themselves.

    Attributes:
        labelled_steps: Steps that received a label.
        env_steps: Extra env steps taken to compute labels (0 for TD/GAE).
        policy_samples: Extra actions sampled from the policy to compute labels.
        snapshots: ``set_state`` calls made.
        rollout_env_steps: Env steps of the rollouts being labelled (shared by all methods).
    """

    labelled_steps: int = 0
    env_steps: int = 0
    policy_samples: int = 0
    snapshots: int = 0
    rollout_env_steps: int = 0

    @property
    def env_steps_per_label(self) -> float:
        """Extra env steps per labelled step."""
        return self.env_steps / self.labelled_steps if self.labelled_steps else 0.0

    @property
    def policy_samples_per_label(self) -> float:
        """Extra policy samples per labelled step."""
        return self.policy_samples / self.labelled_steps if self.labelled_steps else 0.0

    def __add__(self, other: LabelCost) -> LabelCost:
        return LabelCost(
            self.labelled_steps + other.labelled_steps,
            self.env_steps + other.env_steps,
            self.policy_samples + other.policy_samples,
            self.snapshots + other.snapshots,
            self.rollout_env_steps + other.rollout_env_steps,
        )
