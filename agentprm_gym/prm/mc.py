"""Math-Shepherd Monte-Carlo step labels, computed from env snapshots.

For step t of a recorded trajectory, the state *after* its action is restored
and the policy is rolled out N times to the end of the episode; the final
rewards give the labels (:func:`agentprm_gym.prm.labels.mc_labels`: hard = any
rollout succeeded, soft = the success fraction). Everything spent is counted
in a :class:`~agentprm_gym.prm.labels.LabelCost`, so MC labelling can be set
against TD/GAE labelling, which needs no env steps beyond the rollouts
themselves (:func:`label_cost_report`).

How states are restored: the trajectory is replayed from ``reset`` with its
recorded task id, split and seed and its actions (each replayed observation
is checked against the recorded one), ``get_state`` is called once per step
and ``set_state`` before each of the N rollouts. Rollouts obey the env's
``max_episode_steps`` counted from the *episode's* start, so a rollout from
step t may take at most ``max_episode_steps − (t + 1)`` steps.

Costs counted: ``env_steps`` = replay steps + rollout steps (the replay is
one pass, T steps, against N·Σ rollout lengths); ``policy_samples`` = actions
sampled in rollouts; ``snapshots`` = ``set_state`` calls.

:func:`mc_action_values` estimates ``Q(s_t, a)`` for other candidate actions
at chosen steps the same way (``benchmarks/ranking_ceiling.py`` uses it to
measure how well a perfect value of the data policy could rank actions).

Determinism: rollout n from step t reseeds the policy with a seed derived
from ``(seed, t, n)``, and the env's RNG is part of its snapshot, so labels do
not depend on the order or process in which trajectories are labelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from agentprm_gym.core.trajectory import Trajectory
from agentprm_gym.prm.labels import LabelCost, mc_labels

__all__ = [
    "DEFAULT_SUCCESS_THRESHOLD",
    "MCJob",
    "MCResult",
    "ReplayMismatchError",
    "derive_seed",
    "mc_action_values",
    "label_cost_report",
    "mc_label_trajectories",
    "mc_label_trajectory",
    "mc_rollout_outcomes",
]

#: A rollout succeeded if its final reward is at least this (reward 1 = success).
DEFAULT_SUCCESS_THRESHOLD = 1.0 - 1e-9


class ReplayMismatchError(RuntimeError):
    """Replaying a trajectory's actions did not reproduce its recorded observations."""


def derive_seed(*parts: int) -> int:
    """A 31-bit seed derived deterministically from integers (``numpy.random.SeedSequence``)."""
    ints = [int(p) & 0xFFFFFFFFFFFFFFFF for p in parts]
    return int(np.random.SeedSequence(ints).generate_state(1, dtype=np.uint32)[0] >> 1)


def _max_steps(env: gym.Env, max_episode_steps: int | None) -> int | None:
    if max_episode_steps is not None:
        return int(max_episode_steps)
    spec = getattr(env, "spec", None)
    return getattr(spec, "max_episode_steps", None)


def _check_replay(traj: Trajectory, t: int, obs: Any) -> None:
    """Raise :class:`ReplayMismatchError` unless ``obs`` was recorded before step t."""
    if obs != traj.steps[t].observation:
        raise ReplayMismatchError(
            f"replaying {traj.env_id} task {traj.task_id} (seed {traj.seed}): the observation "
            f"before step {t} differs from the recorded one; was the file collected with "
            "other env settings?"
        )


def mc_rollout_outcomes(
    env: gym.Env,
    policy: Any,
    traj: Trajectory,
    n_rollouts: int,
    seed: int = 0,
    *,
    max_episode_steps: int | None = None,
) -> tuple[NDArray[np.float64], LabelCost]:
    """Final rewards of ``n_rollouts`` policy rollouts from after each step of ``traj``.

    Args:
        env: An env of the trajectory's id (wrapped or not); its unwrapped env
            is reset, replayed and snapshotted.
        policy: Anything with ``propose``; bound to the env and reseeded per rollout.
        traj: The trajectory to label (its ``seed``, ``task_id``, ``split`` and
            actions are replayed).
        n_rollouts: Rollouts per step (N).
        seed: Base seed of the rollouts' policy seeds.
        max_episode_steps: Step limit counted from the episode start (default:
            the env's registered ``max_episode_steps``; None = no limit).

    Returns:
        ``(outcomes, cost)``: outcomes has shape ``(T, N)``. A step that ended
        the episode (or used up the step limit) needs no rollouts: its N
        outcomes are its own reward, at no cost.

    Raises:
        ReplayMismatchError: If replaying does not reproduce the recorded observations.
        ValueError: If ``n_rollouts < 1``.
    """
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    base = env.unwrapped
    limit = _max_steps(env, max_episode_steps)
    if hasattr(policy, "bind"):
        policy.bind(base)
    T = len(traj.steps)
    outcomes = np.zeros((T, n_rollouts))
    cost = LabelCost(labelled_steps=T, rollout_env_steps=T)
    obs, info = base.reset(seed=traj.seed, options={"task_id": traj.task_id, "split": traj.split})
    for t, step in enumerate(traj.steps):
        _check_replay(traj, t, obs)
        obs, reward, terminated, truncated, info = base.step(step.action)
        cost.env_steps += 1
        remaining = None if limit is None else limit - (t + 1)
        # an env's own budget (e.g. a BabyAI level's max_steps) truncates like the step limit
        if terminated or truncated or (remaining is not None and remaining <= 0):
            outcomes[t, :] = float(reward)
            continue
        snap = base.get_state()
        for n in range(n_rollouts):
            base.set_state(snap)
            cost.snapshots += 1
            if hasattr(policy, "seed"):
                policy.seed(derive_seed(seed, t, n))
            outcomes[t, n] = _roll_out(base, policy, obs, info, float(reward), remaining, cost)
        base.set_state(snap)
        cost.snapshots += 1
    return outcomes, cost


def _roll_out(
    base: Any,
    policy: Any,
    obs: Any,
    info: dict[str, Any],
    reward: float,
    remaining: int | None,
    cost: LabelCost,
) -> float:
    """Play ``policy`` from the env's current state for at most ``remaining`` steps.

    Returns the final reward (``reward`` when no step is left); adds the steps
    and samples spent to ``cost``.
    """
    o, inf, final, taken = obs, info, reward, 0
    while remaining is None or taken < remaining:
        action = policy.propose(o, inf, 1)[0]
        cost.policy_samples += 1
        o, r, term, trunc, inf = base.step(action)
        cost.env_steps += 1
        taken += 1
        final = float(r)
        if term or trunc:
            break
    return final


def mc_action_values(
    env: gym.Env,
    policy: Any,
    traj: Trajectory,
    queries: Mapping[int, Sequence[str]],
    n_rollouts: int,
    seed: int = 0,
    *,
    max_episode_steps: int | None = None,
) -> tuple[dict[int, NDArray[np.float64]], LabelCost]:
    """Final rewards of rollouts after *any* candidate actions at chosen steps.

    Where :func:`mc_rollout_outcomes` estimates the value of the action the
    trajectory took, this estimates ``Q(s_t, a)`` for the actions ``a`` listed
    in ``queries[t]``: the state before step t is restored, ``a`` is taken and
    the policy plays on, ``n_rollouts`` times. Rollout n after step t uses the
    policy seed ``derive_seed(seed, t, n)`` as :func:`mc_rollout_outcomes`
    does, so the trajectory's own action gets exactly that function's outcomes.

    Args:
        env: An env of the trajectory's id (its unwrapped env is used).
        policy: Anything with ``propose``; bound to the env and reseeded per rollout.
        traj: The trajectory whose states are queried (replayed from its
            ``seed``, ``task_id`` and ``split``).
        queries: Step index → candidate actions to evaluate in the state before it.
        n_rollouts: Rollouts per candidate (N).
        seed: Base seed of the rollouts' policy seeds.
        max_episode_steps: Step limit counted from the episode start (default:
            the env's registered ``max_episode_steps``; None = no limit).

    Returns:
        ``(values, cost)``: ``values[t]`` has shape ``(len(queries[t]), N)``; a
        candidate that ends the episode (or uses up the step limit) gets its own
        reward N times without rollouts. ``cost.labelled_steps`` counts the
        candidates.

    Raises:
        ReplayMismatchError: If replaying does not reproduce the recorded observations.
        ValueError: If ``n_rollouts < 1`` or a queried step is not in the trajectory.
    """
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    T = len(traj.steps)
    bad = [t for t in queries if not 0 <= t < T]
    if bad:
        raise ValueError(f"queried steps {bad} are outside the trajectory's {T} steps")
    base = env.unwrapped
    limit = _max_steps(env, max_episode_steps)
    if hasattr(policy, "bind"):
        policy.bind(base)
    cost = LabelCost(labelled_steps=sum(len(a) for a in queries.values()), rollout_env_steps=T)
    values: dict[int, NDArray[np.float64]] = {}
    last = max(queries, default=-1)
    obs, info = base.reset(seed=traj.seed, options={"task_id": traj.task_id, "split": traj.split})
    for t, step in enumerate(traj.steps[: last + 1]):
        _check_replay(traj, t, obs)
        if t in queries:
            remaining = None if limit is None else limit - (t + 1)
            snap = base.get_state()
            out = np.zeros((len(queries[t]), n_rollouts))
            for k, action in enumerate(queries[t]):
                for n in range(n_rollouts):
                    base.set_state(snap)
                    cost.snapshots += 1
                    o, r, term, trunc, inf = base.step(action)
                    cost.env_steps += 1
                    if term or trunc or (remaining is not None and remaining <= 0):
                        out[k, :] = float(r)
                        break
                    if hasattr(policy, "seed"):
                        policy.seed(derive_seed(seed, t, n))
                    out[k, n] = _roll_out(base, policy, o, inf, float(r), remaining, cost)
            values[t] = out
            base.set_state(snap)
            cost.snapshots += 1
        obs, _, _, _, info = base.step(step.action)
        cost.env_steps += 1
    return values, cost


def mc_label_trajectory(
    env: gym.Env,
    policy: Any,
    traj: Trajectory,
    n_rollouts: int,
    seed: int = 0,
    *,
    threshold: float = DEFAULT_SUCCESS_THRESHOLD,
    max_episode_steps: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], LabelCost]:
    """Math-Shepherd labels of every step of ``traj``.

    Args:
        env: An env of the trajectory's id.
        policy: The rollout policy.
        traj: The trajectory to label.
        n_rollouts: Rollouts per step (N).
        seed: Base seed of the rollouts.
        threshold: A rollout succeeded if its final reward is ≥ this.
        max_episode_steps: Step limit from the episode start (default: the env's).

    Returns:
        ``(soft, hard, cost)``: per-step success fraction, per-step any-success
        (floats), and what labelling spent.
    """
    outcomes, cost = mc_rollout_outcomes(
        env, policy, traj, n_rollouts, seed, max_episode_steps=max_episode_steps
    )
    if len(traj.steps) == 0:
        return np.zeros(0), np.zeros(0), cost
    soft = mc_labels(outcomes, "soft", threshold)
    hard = mc_labels(outcomes, "hard", threshold)
    return soft, hard, cost


@dataclass(frozen=True)
class MCJob:
    """One trajectory to label in a worker (picklable).

    Attributes:
        index: Position of the trajectory in the caller's list.
        env: Registered env id or a ``gymnasium`` ``EnvSpec``.
        env_kwargs: Keyword arguments for ``gym.make``.
        policy: Policy spec (``agentprm_gym.agents.spec.make_policy``).
        trajectory: The trajectory record (``Trajectory.to_dict()``).
        n_rollouts: Rollouts per step.
        seed: Rollout seed.
        threshold: Success threshold on the final reward.
    """

    index: int
    env: Any
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policy: str = "random"
    trajectory: dict[str, Any] = field(default_factory=dict)
    n_rollouts: int = 16
    seed: int = 0
    threshold: float = DEFAULT_SUCCESS_THRESHOLD


@dataclass
class MCResult:
    """Labels of one trajectory from :func:`mc_label_trajectories`."""

    index: int
    soft: list[float]
    hard: list[float]
    cost: LabelCost


def _label_job(job: MCJob) -> MCResult:
    from agentprm_gym.parallel import worker_env, worker_policy

    env, policy = worker_env(job.env, job.env_kwargs), worker_policy(job.policy)
    traj = Trajectory.from_dict(job.trajectory)
    soft, hard, cost = mc_label_trajectory(
        env, policy, traj, job.n_rollouts, job.seed, threshold=job.threshold
    )
    return MCResult(job.index, soft.tolist(), hard.tolist(), cost)


def mc_label_trajectories(
    env: Any,
    policy: str,
    trajectories: Iterable[Trajectory],
    n_rollouts: int,
    seed: int = 0,
    *,
    env_kwargs: dict[str, Any] | None = None,
    workers: int = 1,
    ray_address: str | None = None,
    ray_num_cpus: int | None = None,
    threshold: float = DEFAULT_SUCCESS_THRESHOLD,
) -> Iterator[MCResult]:
    """MC-label many trajectories in parallel, yielding results as they complete.

    Each trajectory's rollouts use the seed ``derive_seed(seed, task_id,
    trajectory seed)``, so results do not depend on workers or order.

    Args:
        env: Registered env id (or ``EnvSpec``) the trajectories came from.
        policy: Rollout policy spec (e.g. ``"noisy:0.5"``).
        trajectories: The trajectories.
        n_rollouts: Rollouts per step (N).
        seed: Base seed.
        env_kwargs: Keyword arguments for ``gym.make``.
        workers: Local worker processes (1 = this process).
        ray_address: Run on Ray instead (see :func:`agentprm_gym.parallel.make_executor`).
        ray_num_cpus: CPUs of a local Ray instance.
        threshold: Success threshold on the final reward.

    Yields:
        :class:`MCResult` per trajectory (``index`` = its position in ``trajectories``).
    """
    from agentprm_gym.parallel import make_executor

    jobs = [
        MCJob(
            index=i,
            env=env,
            env_kwargs=dict(env_kwargs or {}),
            policy=policy,
            trajectory=t.to_dict(),
            n_rollouts=n_rollouts,
            seed=derive_seed(seed, t.task_id, t.seed if t.seed is not None else -1),
            threshold=threshold,
        )
        for i, t in enumerate(trajectories)
    ]
    with make_executor(workers, ray_address, ray_num_cpus=ray_num_cpus) as ex:
        yield from ex.imap_unordered(_label_job, jobs)


def label_cost_report(mc_cost: LabelCost, n_rollouts: int) -> dict[str, float | int]:
    """Compare TD/GAE labelling with MC labelling on the same rollouts.

    TD(0)/GAE targets are computed from the rollouts' own rewards and a model's
    values: no env steps and no policy samples beyond the rollouts. MC needs
    the measured ``mc_cost`` on top.

    Args:
        mc_cost: Summed cost of MC-labelling the rollouts.
        n_rollouts: N used for MC.

    Returns:
        Figures per labelled step and the total env-step ratio MC/TD
        (``(rollout steps + MC steps) / rollout steps``).
    """
    steps = mc_cost.labelled_steps
    rollout = mc_cost.rollout_env_steps
    return {
        "labelled_steps": steps,
        "rollout_env_steps": rollout,
        "td_extra_env_steps": 0,
        "td_extra_policy_samples": 0,
        "mc_rollouts": int(n_rollouts),
        "mc_extra_env_steps": mc_cost.env_steps,
        "mc_extra_policy_samples": mc_cost.policy_samples,
        "mc_snapshots": mc_cost.snapshots,
        "mc_env_steps_per_label": round(mc_cost.env_steps_per_label, 4),
        "mc_policy_samples_per_label": round(mc_cost.policy_samples_per_label, 4),
        "mc_over_td_env_steps": round((rollout + mc_cost.env_steps) / rollout, 4)
        if rollout
        else 0.0,
    }
