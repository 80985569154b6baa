"""Rollout collection: many episodes of one policy, in parallel, into a resumable JSONL file.

Episodes are planned up front: for every task id in the requested range and
every ``k < per_task``, the episode seed is ``derive_seed(seed, task_id, k)``
and the policy seed ``derive_seed(seed, task_id, k, 1)``. An episode is keyed
by ``(env_id, split, task_id, episode seed)`` (:attr:`Trajectory.key`), so the
set of records does not depend on the number of workers, the executor (local
processes or Ray) or the order in which episodes finish.

Only the driver writes, through :class:`~agentprm_gym.core.trajectory.TrajectoryWriter`
(one complete line per episode, then ``fsync``): a killed run loses at most the
episodes in flight. Restarting with the same arguments reads the file, skips
the episodes already there and writes the rest, so the final file holds the
same records as an uninterrupted run.

Every record's ``meta`` has the same keys within a file (so
``datasets.Dataset.from_json`` loads it): ``k``, ``collect_seed``,
``policy_seed`` and, with MC labels (``mc_rollouts > 0``), ``mc_soft``,
``mc_hard`` (one float per step), ``mc_rollouts``, ``mc_env_steps``,
``mc_policy_samples`` and ``mc_seed``. :func:`mc_label_file` adds the same MC
keys to the records of another file, and ``mc_policy`` (the rollout policy,
which may differ from the record's ``policy``) unless it resumes a file
written before that key existed.

Resuming checks what the records store: the env, split and policy, the base
seed (``collect_seed``), the MC settings (``mc_rollouts``; ``mc_seed`` and
``mc_policy`` for :func:`mc_label_file`) and whether expert actions were
recorded. ``gym.make`` keyword arguments are not stored, so they cannot be
checked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym

from agentprm_gym.agents.spec import policy_name
from agentprm_gym.core.trajectory import Trajectory, TrajectoryWriter, read_trajectories
from agentprm_gym.prm.labels import LabelCost
from agentprm_gym.prm.mc import DEFAULT_SUCCESS_THRESHOLD, derive_seed, label_cost_report

__all__ = [
    "DEFAULT_PER_TASK",
    "CollectResult",
    "EpisodeJob",
    "ResumeMismatchError",
    "collect",
    "episode_seed",
    "mc_label_file",
    "plan_episodes",
    "resolve_env",
    "run_episode_job",
]

#: Episodes per task by default (AgentPRM's N_TD).
DEFAULT_PER_TASK = 16

_BASE_META = ("k", "collect_seed", "policy_seed")
_MC_META = ("mc_soft", "mc_hard", "mc_rollouts", "mc_env_steps", "mc_policy_samples", "mc_seed")


class ResumeMismatchError(ValueError):
    """The file to resume was collected with other settings."""


def episode_seed(seed: int, task_id: int, k: int) -> int:
    """Seed of the k-th episode of ``task_id`` in a collection with base ``seed``."""
    return derive_seed(seed, task_id, k)


@dataclass(frozen=True)
class EpisodeJob:
    """One episode to play in a worker (picklable).

    Attributes:
        env: Registered env id or a gymnasium ``EnvSpec``.
        env_kwargs: Keyword arguments for ``gym.make``.
        policy: Policy spec for :func:`agentprm_gym.agents.spec.make_policy`.
        split: Task split.
        task_id: Task id.
        k: Index of this episode among the task's ``per_task``.
        seed: Episode seed (env reset seed; part of the record's key).
        policy_seed: Seed of the policy's RNG for this episode.
        collect_seed: The collection's base seed.
        record_expert: Record the expert action at every step.
        mc_rollouts: MC rollouts per step (0 = no MC labels).
        mc_seed: Seed of the MC rollouts.
        mc_threshold: Success threshold on the final reward for MC labels.
    """

    env: Any
    env_kwargs: dict[str, Any]
    policy: str
    split: str
    task_id: int
    k: int
    seed: int
    policy_seed: int
    collect_seed: int
    record_expert: bool = True
    mc_rollouts: int = 0
    mc_seed: int = 0
    mc_threshold: float = DEFAULT_SUCCESS_THRESHOLD


def resolve_env(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of ``env_id`` (workers make envs from it, even unregistered ids).

    Raises:
        KeyError: If the id is not registered.
    """
    import agentprm_gym  # noqa: F401  (registers the ids)

    if env_id not in gym.registry:
        raise KeyError(env_id)
    return gym.spec(env_id)


def plan_episodes(
    env: Any,
    policy: str,
    split: str,
    task_ids: range | list[int],
    per_task: int = DEFAULT_PER_TASK,
    seed: int = 0,
    *,
    env_kwargs: dict[str, Any] | None = None,
    record_expert: bool = True,
    mc_rollouts: int = 0,
    mc_threshold: float = DEFAULT_SUCCESS_THRESHOLD,
) -> list[EpisodeJob]:
    """Every episode of a collection, in (task, k) order."""
    if per_task < 1:
        raise ValueError(f"per_task must be >= 1, got {per_task}")
    if mc_rollouts < 0:
        raise ValueError(f"mc_rollouts must be >= 0, got {mc_rollouts}")
    return [
        EpisodeJob(
            env=env,
            env_kwargs=dict(env_kwargs or {}),
            policy=policy,
            split=split,
            task_id=int(t),
            k=k,
            seed=episode_seed(seed, t, k),
            policy_seed=derive_seed(seed, t, k, 1),
            collect_seed=int(seed),
            record_expert=record_expert,
            mc_rollouts=int(mc_rollouts),
            mc_seed=derive_seed(seed, t, k, 2),
            mc_threshold=mc_threshold,
        )
        for t in task_ids
        for k in range(per_task)
    ]


def run_episode_job(job: EpisodeJob) -> tuple[Trajectory, LabelCost | None]:
    """Play one planned episode (and MC-label it); the worker function of :func:`collect`.

    The env and the policy are made once per worker process and reused.
    """
    from agentprm_gym.parallel import worker_env, worker_policy
    from agentprm_gym.prm.mc import mc_label_trajectory
    from agentprm_gym.rollout import run_episode

    env = worker_env(job.env, job.env_kwargs)
    policy = worker_policy(job.policy)
    policy.seed(job.policy_seed)
    meta: dict[str, Any] = {
        "k": job.k,
        "collect_seed": job.collect_seed,
        "policy_seed": job.policy_seed,
    }
    traj = run_episode(
        env,
        policy,
        seed=job.seed,
        task_id=job.task_id,
        split=job.split,
        record_expert=job.record_expert,
        meta=meta,
    )
    cost = None
    if job.mc_rollouts > 0:
        soft, hard, cost = mc_label_trajectory(
            env, policy, traj, job.mc_rollouts, job.mc_seed, threshold=job.mc_threshold
        )
        traj.meta.update(
            mc_soft=[float(x) for x in soft],
            mc_hard=[float(x) for x in hard],
            mc_rollouts=job.mc_rollouts,
            mc_env_steps=cost.env_steps,
            mc_policy_samples=cost.policy_samples,
            mc_seed=job.mc_seed,
        )
    return traj, cost


@dataclass
class CollectResult:
    """Summary of a :func:`collect` run."""

    out: str
    episodes_planned: int
    episodes_written: int
    episodes_skipped: int
    env_steps: int
    wall_seconds: float
    executor: str
    successes: int = 0
    mc_cost: LabelCost | None = None
    mc_rollouts: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` summary (MC cost fields added when MC labels were made)."""
        d: dict[str, Any] = {
            "out": self.out,
            "episodes_planned": self.episodes_planned,
            "episodes_written": self.episodes_written,
            "episodes_skipped": self.episodes_skipped,
            "env_steps": self.env_steps,
            "success_rate_written": round(self.successes / self.episodes_written, 4)
            if self.episodes_written
            else None,
            "wall_seconds": round(self.wall_seconds, 3),
            "executor": self.executor,
        }
        if self.mc_cost is not None:
            d.update(label_cost_report(self.mc_cost, self.mc_rollouts))
        d.update(self.extra)
        return d


def _mismatch(path: Path, what: str, found: Any, wanted: Any) -> ResumeMismatchError:
    """The error for a record of ``path`` made with ``what`` = ``found``, not ``wanted``."""
    return ResumeMismatchError(
        f"{path} holds episodes of {what} {found!r}, not {wanted!r}: re-running a collection "
        "resumes it only with the same env, split, policy, --seed, --mc and --no-expert; "
        "use another --out"
    )


def _has_expert(t: Trajectory) -> bool | None:
    """Whether ``t`` recorded expert actions (None for an episode without steps)."""
    if not t.steps:
        return None
    return any(s.expert_action is not None for s in t.steps)


def _existing_keys(
    path: Path,
    expect_meta: set[str],
    env_id: str,
    policy: str,
    split: str,
    *,
    seed: int | None = None,
    mc_rollouts: int = 0,
    record_expert: bool | None = None,
) -> set[tuple]:
    """Keys of the episodes already in ``path``, which must come from the same collection.

    Args:
        path: The file to resume.
        expect_meta: The meta keys this run writes.
        env_id: This run's env id.
        policy: This run's policy name.
        split: This run's split.
        seed: This run's base seed (None: not checked).
        mc_rollouts: This run's MC rollouts per step (checked when > 0).
        record_expert: Whether this run records expert actions (None: not checked).

    Raises:
        ResumeMismatchError: If a record was collected in another env, split or
            policy, with another seed, other MC settings or the other expert
            setting: resuming would mix collections.
    """
    keys: set[tuple] = set()
    if not path.exists():
        return keys
    for t in read_trajectories(path):
        found = {"env": t.env_id, "split": t.split, "policy": t.policy}
        wanted = {"env": env_id, "split": split, "policy": policy}
        for what in ("env", "split", "policy"):
            if found[what] != wanted[what]:
                raise _mismatch(path, what, found[what], wanted[what])
        if set(t.meta) != expect_meta:
            raise ResumeMismatchError(
                f"{path} holds records with meta keys {sorted(t.meta)}, but this run writes "
                f"{sorted(expect_meta)} (another --mc setting?); use another --out"
            )
        if seed is not None and t.meta["collect_seed"] != seed:
            raise _mismatch(path, "--seed", t.meta["collect_seed"], seed)
        if mc_rollouts > 0 and t.meta["mc_rollouts"] != mc_rollouts:
            raise _mismatch(path, "--mc", t.meta["mc_rollouts"], mc_rollouts)
        has_expert = _has_expert(t)
        if record_expert is not None and has_expert is not None and has_expert != record_expert:
            raise ResumeMismatchError(
                f"{path} holds episodes recorded with expert actions, but this run has "
                "--no-expert: re-running a collection resumes it only with the same settings; "
                "use another --out"
                if has_expert
                else f"{path} holds episodes recorded with --no-expert: add --no-expert to "
                "resume it, or use another --out"
            )
        keys.add(t.key)
    return keys


def collect(
    env_id: str,
    policy: str,
    out: str | os.PathLike[str],
    *,
    split: str = "train",
    task_ids: range | list[int] | None = None,
    tasks: int | None = None,
    per_task: int = DEFAULT_PER_TASK,
    seed: int = 0,
    workers: int = 1,
    ray_address: str | None = None,
    ray_num_cpus: int | None = None,
    record_expert: bool = True,
    mc_rollouts: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    env: Any = None,
    fsync: bool = True,
    show_progress: bool = True,
    on_written: Callable[[Trajectory], None] | None = None,
) -> CollectResult:
    """Collect ``per_task`` episodes on each task into ``out`` (resuming if it exists).

    Args:
        env_id: Registered env id.
        policy: Policy spec (``random``, ``expert``, ``noisy:EPS``, ``hf:...``, ``openai:...``).
        out: JSON Lines file (appended to; episodes already there are skipped).
        split: Task split.
        task_ids: Task ids to play (default ``range(tasks)``).
        tasks: Number of tasks (ids 0..tasks-1) when ``task_ids`` is not given.
        per_task: Episodes per task (K).
        seed: Base seed.
        workers: Local worker processes (1 = this process).
        ray_address: Run on Ray (``"local"``, ``"auto"`` or an address) instead.
        ray_num_cpus: CPUs of a local Ray instance.
        record_expert: Record the expert action at each step.
        mc_rollouts: Also MC-label each episode with this many rollouts per step.
        env_kwargs: ``gym.make`` keyword arguments.
        env: A gymnasium ``EnvSpec`` to make instead of looking ``env_id`` up
            (for ids registered only in this process).
        fsync: ``fsync`` after each record.
        show_progress: Show a progress bar on stderr.
        on_written: Called with each trajectory after it is written.

    Returns:
        The run's summary.
    """
    from agentprm_gym.parallel import make_executor

    t0 = time.perf_counter()
    if task_ids is None:
        if tasks is None:
            raise ValueError("give task_ids or tasks")
        task_ids = range(int(tasks))
    env_ref = env if env is not None else resolve_env(env_id)
    jobs = plan_episodes(
        env_ref,
        policy,
        split,
        task_ids,
        per_task,
        seed,
        env_kwargs=env_kwargs,
        record_expert=record_expert,
        mc_rollouts=mc_rollouts,
    )
    path = Path(out)
    expect = set(_BASE_META) | (set(_MC_META) if mc_rollouts > 0 else set())
    env_name = getattr(env_ref, "id", env_id)
    have = _existing_keys(
        path,
        expect,
        env_name,
        policy_name(policy),
        split,
        seed=int(seed),
        mc_rollouts=int(mc_rollouts),
        record_expert=record_expert,
    )
    todo = [j for j in jobs if (env_name, j.split, j.task_id, j.seed) not in have]
    skipped = len(jobs) - len(todo)
    result = CollectResult(
        out=str(path),
        episodes_planned=len(jobs),
        episodes_written=0,
        episodes_skipped=skipped,
        env_steps=0,
        wall_seconds=0.0,
        executor="",
        mc_cost=LabelCost() if mc_rollouts > 0 else None,
        mc_rollouts=mc_rollouts,
    )
    from agentprm_gym.progress import progress

    if not todo:  # nothing left: start no workers (and no Ray instance)
        result.executor = "none"
        result.wall_seconds = time.perf_counter() - t0
        return result
    with (
        make_executor(workers, ray_address, ray_num_cpus=ray_num_cpus) as ex,
        TrajectoryWriter(path, fsync=fsync) as writer,
    ):
        result.executor = ex.name
        bar = progress(
            total=len(todo), desc=f"collect {policy}", disable=None if show_progress else True
        )
        try:
            for traj, cost in ex.imap_unordered(run_episode_job, todo):
                writer.write(traj)
                result.episodes_written += 1
                result.env_steps += len(traj.steps)
                result.successes += int(traj.won)
                if cost is not None and result.mc_cost is not None:
                    result.mc_cost = result.mc_cost + cost
                if on_written is not None:
                    on_written(traj)
                bar.update(1)
                bar.set_postfix(success=f"{result.successes / result.episodes_written:.3f}")
        finally:
            bar.close()
    result.wall_seconds = time.perf_counter() - t0
    return result


def _mc_existing_keys(
    path: Path,
    src: dict[tuple, Trajectory],
    data: str | os.PathLike[str],
    env_id: str,
    policy: str,
    n_rollouts: int,
    seed: int,
) -> tuple[set[tuple], bool]:
    """Keys of the records already in MC-labelled ``path``, checked against this run.

    Returns:
        The keys, and whether the records carry ``mc_policy`` (True for a new file).

    Raises:
        ResumeMismatchError: If a record of ``path`` is not an episode of ``data``
            (or of ``env_id``), or was labelled with another N, seed or policy.
    """
    keys: set[tuple] = set()
    with_policy: set[bool] = set()
    if not path.exists():
        return keys, True

    def refuse(what: str) -> ResumeMismatchError:
        return ResumeMismatchError(
            f"{path} holds {what}: resuming MC labels needs the same --mc-from file, --mc, "
            "--policy and --seed; use another --out"
        )

    for t in read_trajectories(path):
        if t.env_id != env_id:
            raise refuse(f"episodes of env {t.env_id!r}, not {env_id!r}")
        origin = src.get(t.key)
        if origin is None or t.policy != origin.policy or _actions(t) != _actions(origin):
            raise refuse(f"episodes that are not in {data}")
        if "mc_rollouts" not in t.meta or "mc_seed" not in t.meta:
            raise refuse("records without MC labels")
        if t.meta["mc_rollouts"] != n_rollouts:
            raise refuse(f"MC labels of N={t.meta['mc_rollouts']}, not N={n_rollouts} (--mc)")
        if t.meta["mc_seed"] != _mc_seed(seed, t):
            raise refuse(f"MC labels made with another --seed than {seed}")
        found = t.meta.get("mc_policy")
        if found is not None and found != policy:
            raise refuse(f"MC labels of policy {found!r}, not {policy!r} (--policy)")
        with_policy.add("mc_policy" in t.meta)
        keys.add(t.key)
    return keys, with_policy != {False}


def _actions(t: Trajectory) -> list[str]:
    """The actions of ``t``, in order."""
    return [s.action for s in t.steps]


def _mc_seed(seed: int, t: Trajectory) -> int:
    """The MC rollout seed of ``t`` in a labelling run with base ``seed``."""
    return derive_seed(seed, t.task_id, t.seed if t.seed is not None else -1)


def mc_label_file(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    policy: str,
    n_rollouts: int,
    *,
    seed: int = 0,
    workers: int = 1,
    ray_address: str | None = None,
    ray_num_cpus: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    env: Any = None,
    env_id: str | None = None,
    fsync: bool = True,
    show_progress: bool = True,
) -> CollectResult:
    """MC-label the trajectories of an existing file into ``out`` (resumable, crash-safe).

    Each record is copied with the MC keys (``mc_soft``, ``mc_hard``,
    ``mc_rollouts``, ``mc_env_steps``, ``mc_policy_samples``, ``mc_seed``,
    ``mc_policy``) added to its ``meta``; records already in ``out`` are
    skipped. All records must come from one env id. Resuming refuses an ``out``
    whose records are not episodes of ``data`` or were labelled with another
    ``n_rollouts``, ``seed`` or policy (``out`` files written before
    ``mc_policy`` existed keep being written without it; their policy is not
    checked).

    Args:
        data: Input JSON Lines file of trajectories.
        out: Output file (not ``data``).
        policy: Rollout policy spec.
        n_rollouts: Rollouts per step (N).
        seed: Base seed (each trajectory's rollout seed derives from it, its task and seed).
        workers: Local worker processes.
        ray_address: Run on Ray instead.
        ray_num_cpus: CPUs of a local Ray instance.
        env_kwargs: ``gym.make`` keyword arguments (must match the collection's).
        env: A gymnasium ``EnvSpec`` to make instead of looking the id up.
        env_id: If given, the env id the records must have.
        fsync: ``fsync`` after each record.
        show_progress: Show a progress bar.

    Raises:
        ValueError: If ``data`` holds no episodes or several env ids, or
            is the same file as ``out``.
        ResumeMismatchError: If ``out`` holds records of another labelling run,
            or the records are not of ``env_id``.
    """
    from agentprm_gym.prm.mc import mc_label_trajectories
    from agentprm_gym.progress import progress

    t0 = time.perf_counter()
    if n_rollouts < 1:
        raise ValueError(f"n_rollouts must be >= 1, got {n_rollouts}")
    path = Path(out)
    if path.exists() and Path(data).exists() and os.path.samefile(data, path):
        raise ValueError(f"{data} is both the input and the output; label into another file")
    trajs = list(read_trajectories(data))
    if not trajs:
        raise ValueError(f"{data} holds no episodes")
    ids = {t.env_id for t in trajs}
    if len(ids) > 1:
        raise ValueError(f"{data} mixes env ids {sorted(ids)}; label one env at a time")
    (data_env,) = ids
    if env_id is not None and data_env != env_id:
        raise ResumeMismatchError(f"{data} holds episodes of env {data_env!r}, not {env_id!r}")
    name = policy_name(policy)
    have, with_policy = _mc_existing_keys(
        path, {t.key: t for t in trajs}, data, data_env, name, n_rollouts, seed
    )
    todo = [t for t in trajs if t.key not in have]
    result = CollectResult(
        out=str(path),
        episodes_planned=len(trajs),
        episodes_written=0,
        episodes_skipped=len(trajs) - len(todo),
        env_steps=0,
        wall_seconds=0.0,
        executor="none",
        mc_cost=LabelCost(),
        mc_rollouts=n_rollouts,
    )
    if todo:
        env_ref = env if env is not None else resolve_env(data_env)
        with TrajectoryWriter(path, fsync=fsync) as writer:
            bar = progress(
                total=len(todo),
                desc=f"mc-label N={n_rollouts}",
                disable=None if show_progress else True,
            )
            try:
                for res in mc_label_trajectories(
                    env_ref,
                    policy,
                    todo,
                    n_rollouts,
                    seed,
                    env_kwargs=env_kwargs,
                    workers=workers,
                    ray_address=ray_address,
                    ray_num_cpus=ray_num_cpus,
                ):
                    t = todo[res.index]
                    t.meta.update(
                        mc_soft=res.soft,
                        mc_hard=res.hard,
                        mc_rollouts=n_rollouts,
                        mc_env_steps=res.cost.env_steps,
                        mc_policy_samples=res.cost.policy_samples,
                        mc_seed=_mc_seed(seed, t),
                    )
                    t.meta.pop("mc_policy", None)  # an input labelled before
                    if with_policy:
                        t.meta["mc_policy"] = name
                    writer.write(t)
                    result.episodes_written += 1
                    result.successes += int(t.won)
                    result.mc_cost = result.mc_cost + res.cost
                    bar.update(1)
            finally:
                bar.close()
            result.executor = f"ray:{ray_address}" if ray_address else f"workers:{workers}"
    result.wall_seconds = time.perf_counter() - t0
    return result
