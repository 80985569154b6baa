"""Trajectories → PRM step items: what was seen and done at every step of an episode.

Step ``t`` of a trajectory becomes the item ``(instruction, history_t, a_t)``
with ``history_t = ((o_0, a_0), ..., (o_{t-1}, a_{t-1}), o_t)``, exactly what a
PRM is asked about when the agent is at ``s_t`` and considers ``a_t``.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agentprm_gym.core.trajectory import Trajectory
from agentprm_gym.prm.base import ScoreItem, build_history

__all__ = [
    "EpisodeSteps",
    "canonical_order",
    "episode_steps",
    "step_items",
    "split_by_task",
]


def step_items(traj: Trajectory) -> list[ScoreItem]:
    """One item per step of ``traj`` (the action actually taken)."""
    obs = [s.observation for s in traj.steps]
    acts = [s.action for s in traj.steps]
    return [
        ScoreItem(traj.instruction, build_history(obs[: t + 1], acts[:t]), acts[t])
        for t in range(len(traj.steps))
    ]


@dataclass
class EpisodeSteps:
    """The steps of one episode, ready for labelling and training.

    Attributes:
        items: One item per step.
        rewards: Env reward ``r_t`` per step (sparse; the outcome on the last step).
        final_reward: The episode's final reward.
        won: Whether the episode succeeded.
        task_id: Task of the episode (held-out splits are by task).
        mc_soft: MC soft labels per step from ``meta["mc_soft"]``, else None.
        mc_hard: MC hard labels per step from ``meta["mc_hard"]``, else None.
        trajectory: The source trajectory.
    """

    items: list[ScoreItem]
    rewards: NDArray[np.float64]
    final_reward: float
    won: bool
    task_id: int
    mc_soft: NDArray[np.float64] | None
    mc_hard: NDArray[np.float64] | None
    trajectory: Trajectory

    def __len__(self) -> int:
        return len(self.items)


def _mc(traj: Trajectory, key: str) -> NDArray[np.float64] | None:
    v = traj.meta.get(key)
    if v is None:
        return None
    a = np.asarray(v, dtype=np.float64)
    if a.shape != (len(traj.steps),):
        raise ValueError(
            f"task {traj.task_id}: meta[{key!r}] has {a.size} values for {len(traj.steps)} steps"
        )
    return a


def episode_steps(trajectories: Iterable[Trajectory]) -> list[EpisodeSteps]:
    """Turn trajectories (empty ones skipped) into :class:`EpisodeSteps`."""
    out = []
    for tr in trajectories:
        if not tr.steps:
            continue
        out.append(
            EpisodeSteps(
                items=step_items(tr),
                rewards=np.array([s.reward for s in tr.steps], dtype=np.float64),
                final_reward=float(tr.final_reward),
                won=bool(tr.won),
                task_id=int(tr.task_id),
                mc_soft=_mc(tr, "mc_soft"),
                mc_hard=_mc(tr, "mc_hard"),
                trajectory=tr,
            )
        )
    return out


def canonical_order(episodes: Iterable[EpisodeSteps]) -> list[EpisodeSteps]:
    """The episodes sorted by what they hold, so that their file order does not matter.

    Parallel collection writes episodes in the order workers finish them, which
    changes from run to run; training on the same episodes in another order would
    give other weights. The key is ``(env_id, split, task_id, seed)`` and then a
    digest of the whole trajectory (steps, labels and metadata), so two different
    episodes never tie and identical ones are interchangeable.
    """

    def key(e: EpisodeSteps) -> tuple[str, str, int, int, bool, str]:
        tr = e.trajectory
        digest = hashlib.sha1(
            json.dumps(tr.to_dict(), sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()
        seed = tr.seed if tr.seed is not None else -1
        return (tr.env_id, tr.split, int(tr.task_id), int(seed), tr.seed is None, digest)

    return sorted(episodes, key=key)


def split_by_task(
    episodes: Sequence[EpisodeSteps], val_fraction: float, seed: int = 0
) -> tuple[list[EpisodeSteps], list[EpisodeSteps]]:
    """Split episodes into (train, validation) by task, so no task is in both.

    A task goes to validation when a seeded hash of ``(seed, env_id, split,
    task_id)`` falls below ``val_fraction``; the split does not depend on file
    order. With fewer than two tasks or ``val_fraction <= 0`` everything trains.
    """
    tasks = {(e.trajectory.env_id, e.trajectory.split, e.task_id) for e in episodes}
    if val_fraction <= 0 or len(tasks) < 2:
        return list(episodes), []

    def u(key: tuple[str, str, int]) -> float:
        h = zlib.crc32(f"{seed}|{key[0]}|{key[1]}|{key[2]}".encode())
        return h / 2**32

    val_tasks = {k for k in tasks if u(k) < val_fraction}
    if not val_tasks:  # keep at least one held-out task
        val_tasks = {min(tasks, key=u)}
    if val_tasks == tasks:
        val_tasks.discard(max(tasks, key=u))
    train, val = [], []
    for e in episodes:
        key = (e.trajectory.env_id, e.trajectory.split, e.task_id)
        (val if key in val_tasks else train).append(e)
    return train, val
