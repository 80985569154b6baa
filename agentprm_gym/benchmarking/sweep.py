"""The sweep runner behind ``agentprm-gym bench sweep --config FILE``.

For each env of the config it:

1. collects train rollouts with the env's policy (``data/<env>/train.jsonl``;
   :func:`agentprm_gym.collection.collect`, resumable), and MC-labels them
   when an MC-trained PRM is asked for (``data/<env>/train_mc.jsonl``);
2. trains each learned PRM with ``agentprm-gym train-prm`` arguments
   (``prms/<env>/<name>/``; skipped when a finished model with the same arguments is
   there), run by the sweep's ``train_runner`` (the ``bench sweep`` and ``demo``
   commands give it ``train-prm`` run in process);
3. runs every method × PRM × budget × seed on the env's test tasks (each task
   ``repeats`` times for the rows the config repeats, e.g. the one-sample policy
   and the random PRM's beams) and appends one row per run to ``results.csv``
   (:mod:`.results`; a rerun skips rows already there).

It then writes ``tables.md`` (:mod:`.tables`), one PNG per env
(:mod:`.plots`: success against policy samples and against total compute),
``efficiency.csv`` (:mod:`.efficiency`), ``label_costs.json``,
``examples.json`` (a few one-sample policy test episodes per env, every step
scored by the reference PRM), ``provenance.json`` (:mod:`.provenance`) and the
self-contained ``report.html`` (:mod:`.report`), all under the output directory
(default ``benchmarks/results/<config name>/``).

Episodes of one run are shards for :mod:`agentprm_gym.parallel` (local worker
processes with ``--workers``, Ray with ``--ray``); each worker builds its env,
policy and PRM once (:func:`~agentprm_gym.parallel.worker_cache`). The beam rows'
episodes and the shared Best-of-N episodes go in groups of the config's ``lockstep``
tasks (16 by default): the beam searches of a group share one PRM call per depth, its
Best-of-N one call per (PRM, N) (:func:`run_jobs`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentprm_gym.benchmarking.config import (
    POLICY_METHOD,
    EnvConfig,
    MethodSpec,
    PRMConfig,
    SweepConfig,
    SweepConfigError,
)
from agentprm_gym.benchmarking.results import (
    LEDGER_COLUMNS,
    ResultsWriter,
    done_keys,
    read_rows,
    row_key,
)

__all__ = [
    "LOCKSTEP_FAMILIES",
    "RunJob",
    "Sweep",
    "SweepError",
    "label_costs_from_files",
    "run_job",
    "run_jobs",
    "TrainRunner",
    "score_episode",
]

_DONE_MARKER = ".sweep_trained.json"


class SweepError(RuntimeError):
    """A stage of the sweep failed (the message says which)."""


#: Runs ``agentprm-gym train-prm ARGV`` and returns ``{"argv", "rc", "seconds"}``: how a
#: sweep trains its PRMs (the CLI layer gives it one; in worker processes it must pickle).
TrainRunner = Callable[[list[str]], dict[str, Any]]


@dataclass(frozen=True)
class RunJob:
    """One test episode of one run (a picklable shard).

    Attributes:
        env: Env id or ``EnvSpec``.
        env_kwargs: ``gym.make`` kwargs.
        policy: Policy spec.
        prm: PRM spec (``oracle``, ``random``, a model directory) or None for the
            methods without a PRM.
        method: The method's name (see :class:`~.config.MethodSpec`).
        family: Method family (``policy``, ``greedy``, ``bon``, ``beam``, ``beam+prior``,
            or ``bon-shared``).
        n: BoN's N or the beam width.
        expand: Beam expansion.
        task_id: Test task.
        seed: Env reset seed.
        policy_seed: Policy seed.
        repeat: Which repeat of the task this is (0 for a row played once).
        max_steps: Step limit (None: the registration's).
        keep_trajectory: Return the chosen trajectory too.
        prms: For the ``bon-shared`` family: ``(name, spec)`` of every PRM to pick with.
        ns: For ``bon-shared``: every N.
        prior: beam+prior's weight of ``log π``.
    """

    env: Any
    env_kwargs: dict[str, Any]
    policy: str
    prm: str | None
    method: str
    family: str
    n: int
    expand: int
    task_id: int
    seed: int
    policy_seed: int
    repeat: int = 0
    max_steps: int | None = None
    keep_trajectory: bool = False
    prms: tuple[tuple[str, str], ...] = ()
    ns: tuple[int, ...] = ()
    prior: float = 0.0


def _make_env(env: Any, kwargs: dict[str, Any]) -> Any:
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)

    return gym.make(env, **kwargs)


def _key(x: Any) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def _worker_env_policy(job: RunJob) -> tuple[Any, Any]:
    """The job's env and policy, made once per worker process."""
    from agentprm_gym.agents.spec import make_policy
    from agentprm_gym.parallel import worker_cache

    env_name = getattr(job.env, "id", job.env)
    env = worker_cache(
        ("sweep-env", env_name, _key(job.env_kwargs)), lambda: _make_env(job.env, job.env_kwargs)
    )
    policy = worker_cache(("sweep-policy", env_name, job.policy), lambda: make_policy(job.policy))
    return env, policy


def _job_result(job: RunJob, res: Any) -> dict[str, Any]:
    """A job's row material: task, repeat, won, reward, ledger (and trajectory)."""
    out: dict[str, Any] = {
        "task_id": job.task_id,
        "repeat": job.repeat,
        "won": bool(res.won),
        "reward": float(res.reward),
        "ledger": res.ledger.to_dict(),
    }
    if job.keep_trajectory:
        out["trajectory"] = res.trajectory.to_dict()
    return out


def run_job(job: RunJob) -> dict[str, Any]:
    """Play one test episode with the job's method; returns won, reward, ledger (and trajectory)."""
    from agentprm_gym.prm.loading import episode_prm
    from agentprm_gym.search import beam_search, best_of_n, greedy, policy_episode

    env, policy = _worker_env_policy(job)
    common = dict(
        seed=job.seed,
        task_id=job.task_id,
        split="test",
        max_steps=job.max_steps,
        policy_seed=job.policy_seed,
    )
    if job.family == "bon-shared":
        from agentprm_gym.benchmarking.shared_bon import shared_best_of_n

        prms = {name: episode_prm(spec, "sweep-prm") for name, spec in job.prms}
        return _bon_result(job, shared_best_of_n(env, policy, prms, job.ns, **common))
    if job.family == "policy":
        res = policy_episode(env, policy, **common)
    elif job.family == "greedy":
        res = greedy(env, policy, **common)
    else:
        prm = episode_prm(job.prm, "sweep-prm")
        if job.family == "bon":
            res = best_of_n(env, policy, prm, job.n, **common)
        else:
            prior = job.prior if job.family == "beam+prior" else 0.0
            res = beam_search(env, policy, prm, job.n, job.expand, prior=prior, **common)
    return _job_result(job, res)


def _bon_result(job: RunJob, got: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    """A ``bon-shared`` job's result: every (PRM, N)'s pick."""
    return {
        "task_id": job.task_id,
        "bon": {
            f"{name}|{n}": {"won": r["won"], "reward": r["reward"], "ledger": r["ledger"].to_dict()}
            for (name, n), r in got.items()
        },
    }


def _row_of(job: RunJob) -> str:
    """What the jobs of one row share (all but the task, its seeds and what it keeps)."""
    what = (job.env, job.env_kwargs, job.policy, job.prm, job.method, job.family)
    return _key((*what, job.n, job.expand, job.max_steps, job.prior, job.prms, job.ns))


#: Families whose jobs :func:`run_jobs` plays in lockstep.
LOCKSTEP_FAMILIES = ("beam", "beam+prior", "bon-shared")


def run_jobs(jobs: Sequence[RunJob]) -> list[dict[str, Any]]:
    """Play a group of one row's jobs in lockstep (one PRM call per round for all).

    The jobs must share the row (env, policy, PRMs, method); each keeps its own task
    and seeds and gets what it gets alone (:func:`run_job`), with the state PRM up to
    float rounding. Beam rows share one call per depth; the shared Best-of-N of all
    PRMs (``bon-shared``) one call per (PRM, N). Other families' jobs are played one
    by one.
    """
    from agentprm_gym.prm.loading import episode_prm
    from agentprm_gym.search import beam_search_lockstep

    first = jobs[0] if jobs else None
    if first is None or len(jobs) == 1 or first.family not in LOCKSTEP_FAMILIES:
        return [run_job(j) for j in jobs]
    if len({_row_of(j) for j in jobs}) > 1:
        raise ValueError("run_jobs plays the episodes of one row; these jobs are of several")
    env, policy = _worker_env_policy(first)
    if first.family == "bon-shared":
        from agentprm_gym.benchmarking.shared_bon import shared_best_of_n_lockstep

        prms = {name: episode_prm(spec, "sweep-prm") for name, spec in first.prms}
        many = shared_best_of_n_lockstep(
            env,
            policy,
            prms,
            first.ns,
            seeds=[j.seed for j in jobs],
            task_ids=[j.task_id for j in jobs],
            split="test",
            max_steps=first.max_steps,
            policy_seeds=[j.policy_seed for j in jobs],
        )
        return [_bon_result(j, got) for j, got in zip(jobs, many, strict=True)]
    prm = episode_prm(first.prm, "sweep-prm")
    got = beam_search_lockstep(
        env,
        policy,
        prm,
        first.n,
        first.expand,
        prior=first.prior if first.family == "beam+prior" else 0.0,
        seeds=[j.seed for j in jobs],
        task_ids=[j.task_id for j in jobs],
        split="test",
        max_steps=first.max_steps,
        policy_seeds=[j.policy_seed for j in jobs],
    )
    return [_job_result(j, res) for j, res in zip(jobs, got)]


def _run_key(run: tuple[EnvConfig, str, MethodSpec, int]) -> tuple[str, ...]:
    """A planned (env, PRM, method, seed) run's key, as :func:`row_key` gives it for its row."""
    env, prm, m, seed = run
    return (env.id, env.policy, prm, m.name, m.budget, str(seed))


def _commit_now() -> str:
    """The checked-out commit, read when a :class:`Sweep` starts (see its provenance)."""
    from agentprm_gym.benchmarking.provenance import git_commit

    return git_commit()


def _option(argv: Sequence[str], flag: str, default: str | None) -> str | None:
    """The value of ``flag`` in ``argv``, read as argparse reads it; the last one wins.

    ``--flag V`` and ``--flag=V``, also with the flag abbreviated as argparse
    allows (``--arc cross``): a word of ``argv`` names ``flag`` when it is a
    prefix of it, longer than ``--``.
    """
    value = default
    for i, a in enumerate(argv):
        name, eq, rest = a.partition("=")
        if not (name.startswith("--") and len(name) > 2 and flag.startswith(name)):
            continue
        if eq:
            value = rest
        elif i + 1 < len(argv):
            value = argv[i + 1]
    return value


def _registered_step_limit(env_id: str) -> int | None:
    """``max_episode_steps`` of ``env_id`` in this process's registry (None if unknown)."""
    from agentprm_gym.registration import registered_step_limit

    try:
        return registered_step_limit(env_id)
    except LookupError:
        return None


def label_costs_from_files(train: Path, mc: Path | None) -> dict[str, Any]:
    """TD and MC labelling cost of one env, read from its rollout and MC-labelled files.

    TD/GAE labels need nothing beyond the rollouts; MC labels add the env steps
    and policy samples recorded per episode in the MC file's ``meta``.
    """
    from agentprm_gym.core.trajectory import read_trajectories

    steps = episodes = 0
    for t in read_trajectories(train):
        steps += len(t.steps)
        episodes += 1
    d: dict[str, Any] = {
        "episodes": episodes,
        "labelled_steps": steps,
        "rollout_env_steps": steps,
        "rollout_policy_samples": steps,
    }
    if mc is not None and mc.exists():
        env_steps = pol = 0
        n = None
        for t in read_trajectories(mc):
            env_steps += int(t.meta.get("mc_env_steps", 0))
            pol += int(t.meta.get("mc_policy_samples", 0))
            n = t.meta.get("mc_rollouts", n)
        d.update(mc_rollouts=n, mc_extra_env_steps=env_steps, mc_extra_policy_samples=pol)
    return d


def score_episode(prm: Any, traj: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of a trajectory record with the PRM's promise and progress.

    Progress of step t is ``Q_t − Q_{t−1}`` with ``Q_{−1} = 0``.
    """
    from agentprm_gym.prm.base import ScoreItem, build_history, progress

    steps = traj["steps"]
    if not steps:
        return []
    obs = [s["observation"] for s in steps]
    acts = [s["action"] for s in steps]
    items = [
        ScoreItem(traj["instruction"], build_history(obs[: t + 1], acts[:t]), acts[t])
        for t in range(len(steps))
    ]
    q = prm.score(items)
    g = progress(q)
    return [
        {
            "observation": s["observation"],
            "action": s["action"],
            "reward": s.get("reward", 0.0),
            "action_error": s.get("action_error"),
            "promise": float(qi),
            "progress": float(gi),
        }
        for s, qi, gi in zip(steps, q, g)
    ]


@dataclass
class Sweep:
    """One sweep's state: config, output directory and executor settings.

    Args:
        config: The sweep.
        out: Output directory.
        workers: Local worker processes (1: in this process).
        ray_address: Run shards on Ray instead (``"local"``, ``"auto"`` or an address).
        ray_num_cpus: CPUs of a local Ray instance (``ray_address="local"``).
        show_progress: Progress bars on stderr.
        log: Where stage messages go (default stderr).
        train_runner: How a learned PRM is trained (:data:`TrainRunner`; the ``bench
            sweep`` and ``demo`` commands pass ``agentprm-gym train-prm`` run in
            process); None: a sweep that needs to train one stops with a
            :class:`SweepError`.
    """

    config: SweepConfig
    out: Path
    workers: int = 1
    ray_address: str | None = None
    ray_num_cpus: int | None = None
    show_progress: bool = True
    log: Any = None
    train_runner: TrainRunner | None = None
    _t0: float = field(default_factory=time.time)
    _commit: str = field(default_factory=_commit_now)

    def _say(self, msg: str) -> None:
        print(f"[sweep {self.config.name}] {msg}", file=self.log or sys.stderr, flush=True)

    # ---- paths ---------------------------------------------------------------------------
    @property
    def csv_path(self) -> Path:
        """``results.csv``."""
        return self.out / "results.csv"

    def data_path(self, env: EnvConfig, mc: bool = False) -> Path:
        """Rollout file of an env (MC-labelled copy with ``mc``)."""
        return self.out / "data" / env.short / ("train_mc.jsonl" if mc else "train.jsonl")

    def prm_dir(self, env: EnvConfig, prm: PRMConfig) -> Path:
        """Model directory of a learned PRM."""
        return self.out / "prms" / env.short / prm.name

    def prm_spec(self, env: EnvConfig, prm: PRMConfig) -> str:
        """What :func:`~agentprm_gym.prm.loading.load_prm` gets for a PRM."""
        if prm.name in ("oracle", "random"):
            return prm.name
        return str(self.prm_dir(env, prm).resolve())

    # ---- stages ---------------------------------------------------------------------------
    def collect(self, env: EnvConfig) -> None:
        """Collect (and MC-label) the env's train rollouts (resumes partial files)."""
        from agentprm_gym.collection import collect, mc_label_file

        path = self.data_path(env)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._say(f"{env.id}: collecting {env.train_tasks} tasks x {env.per_task} ({env.policy})")
        collect(
            env.id,
            env.policy,
            path,
            split="train",
            tasks=env.train_tasks,
            per_task=env.per_task,
            seed=self.config.seeds[0],
            workers=self.workers,
            ray_address=self.ray_address,
            ray_num_cpus=self.ray_num_cpus,
            env_kwargs=env.kwargs,
            show_progress=self.show_progress,
        )
        if any(p.labels == "mc" for p in self.config.learned_prms):
            if env.mc_rollouts < 1:
                raise SweepConfigError(f"{env.id}: an MC-labelled PRM needs mc_rollouts >= 1")
            self._say(f"{env.id}: MC labels, N={env.mc_rollouts}")
            mc_label_file(
                path,
                self.data_path(env, mc=True),
                env.policy,
                env.mc_rollouts,
                seed=self.config.seeds[0],
                workers=self.workers,
                ray_address=self.ray_address,
                ray_num_cpus=self.ray_num_cpus,
                env_kwargs=env.kwargs,
                show_progress=self.show_progress,
            )

    def _train_argv(
        self, env: EnvConfig, prm: PRMConfig, with_step_limit: bool = True
    ) -> list[str]:
        """The ``train-prm`` arguments of one PRM.

        A state PRM gets the env's step limit as ``--step-limit``, read from this
        process's registry: a worker process knows only the envs that importing
        the package registers, and without the limit it would train another
        network. ``with_step_limit=False`` leaves it out (the arguments of
        sweeps made before the sweep passed it).
        """
        out = self.prm_dir(env, prm)
        data = self.data_path(env, mc=prm.labels == "mc")
        argv = ["train-prm", "--data", str(data), "--labels", str(prm.labels), "--out", str(out)]
        extra = [*self.config.train_args, *prm.train_args]
        limit = _registered_step_limit(env.id) if with_step_limit else None
        state = _option(extra, "--arch", "state") == "state"
        if limit is not None and state and _option(extra, "--step-limit", None) is None:
            extra = ["--step-limit", str(limit), *extra]
        return argv + extra

    def _trained(self, env: EnvConfig, prm: PRMConfig) -> bool:
        """Whether the PRM's done-marker matches its current ``train-prm`` arguments.

        A marker written before the sweep passed ``--step-limit`` matches too
        when the PRM it marks saved that very step limit (it is the same PRM).
        """
        argv = self._train_argv(env, prm)
        marker = self.prm_dir(env, prm) / _DONE_MARKER
        if not marker.exists():
            return False
        try:
            done = json.loads(marker.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            return False
        if done.get("key") == self._portable(argv) or done.get("argv") == argv:
            return True
        older = self._train_argv(env, prm, with_step_limit=False)
        if older == argv or not (
            done.get("key") == self._portable(older) or done.get("argv") == older
        ):
            return False
        try:
            saved = json.loads((marker.parent / "prm_config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return False
        limit = saved.get("step_limit") if isinstance(saved, dict) else None
        return str(limit) == _option(argv, "--step-limit", None)

    def _mark_trained(self, env: EnvConfig, prm: PRMConfig, seconds: float) -> None:
        argv = self._train_argv(env, prm)
        marker = self.prm_dir(env, prm) / _DONE_MARKER
        marker.write_text(
            json.dumps({"argv": argv, "key": self._portable(argv), "seconds": round(seconds, 2)}),
            encoding="utf-8",
        )

    def train(self, env: EnvConfig, prm: PRMConfig) -> Path:
        """Train one learned PRM with ``agentprm-gym train-prm`` unless already done."""
        out = self.prm_dir(env, prm)
        if self._trained(env, prm):
            return out
        argv = self._train_argv(env, prm)
        quiet = [] if self.show_progress or "--no-progress" in argv else ["--no-progress"]
        self._say(f"{env.id}: training {prm.name} ({prm.labels} labels)")
        got = self._runner()(argv + quiet)
        if got["rc"] != 0:
            raise SweepError(f"{env.id}: `agentprm-gym {' '.join(argv)}` failed (exit {got['rc']})")
        self._mark_trained(env, prm, got["seconds"])
        return out

    def _runner(self) -> TrainRunner:
        if self.train_runner is None:
            raise SweepError(
                "this sweep has PRMs to train but no train_runner; pass one, e.g. "
                "agentprm_gym.commands.bench_sweep.train_prm_job (what `agentprm-gym "
                "bench sweep` uses)"
            )
        return self.train_runner

    def train_all(self, pairs: Sequence[tuple[EnvConfig, PRMConfig]]) -> None:
        """Train every listed PRM that is not trained yet, ``workers`` at a time.

        With one worker, or on Ray (whose nodes need not see the rollout files),
        this is :meth:`train` in turn in this process (progress bars included).
        With local worker processes, each ``train-prm`` runs in one of them with
        the config's ``torch_threads``, without its own progress bar; a message
        reports each PRM done.
        """
        from agentprm_gym.parallel import make_executor

        todo = [(e, p) for e, p in pairs if not self._trained(e, p)]
        if not todo:
            return
        if self.workers <= 1 or self.ray_address is not None:
            for env, prm in todo:
                self.train(env, prm)
            return
        runner = self._runner()
        names = ", ".join(f"{e.short}/{p.name}" for e, p in todo)
        self._say(f"training {len(todo)} PRMs, {self.workers} at a time: {names}")
        argvs = {tuple(self._train_argv(e, p) + ["--no-progress"]): (e, p) for e, p in todo}
        with make_executor(self.workers, threads_per_worker=self.config.torch_threads) as ex:
            for got in ex.imap_unordered(runner, [list(a) for a in argvs]):
                env, prm = argvs[tuple(got["argv"])]
                if got["rc"] != 0:
                    raise SweepError(
                        f"{env.id}: `agentprm-gym {' '.join(got['argv'])}` failed "
                        f"(exit {got['rc']})"
                    )
                self._mark_trained(env, prm, got["seconds"])
                self._say(f"{env.id}: trained {prm.name} in {got['seconds']:.1f} s")

    def _portable(self, argv: list[str]) -> list[str]:
        """``argv`` with the output directory written as ``<out>``.

        A trained PRM is reused when its ``train-prm`` arguments match; comparing
        them this way keeps a sweep directory resumable after it is moved.
        """
        root = str(self.out)
        return [
            "<out>" + a[len(root) :] if a == root or a.startswith(root + os.sep) else a
            for a in argv
        ]

    def plan_runs(self) -> list[tuple[EnvConfig, str, MethodSpec, int]]:
        """Every (env, PRM, method, seed) run; the methods without a PRM run once (PRM ``-``)."""
        runs = []
        for env in self.config.envs:
            for seed in self.config.seeds:
                for m in env.methods or self.config.methods:
                    if not m.uses_prm:
                        runs.append((env, "-", m, seed))
                        continue
                    for p in self.config.prms:
                        runs.append((env, p.name, m, seed))
        return runs

    def _jobs(
        self,
        env: EnvConfig,
        env_ref: Any,
        prm: str | None,
        m: MethodSpec | None,
        seed: int,
        shared_prms: tuple[tuple[str, str], ...] = (),
        ns: tuple[int, ...] = (),
        repeats: int = 1,
    ) -> list[RunJob]:
        """One job per test task and repeat (``m=None``: one shared Best-of-N job per task).

        Repeat 0 plays a task with the seeds a single run uses; repeat ``r > 0``
        with seeds derived from ``(seed, task, r)``.
        """
        from agentprm_gym.prm.mc import derive_seed

        family = m.family if m is not None else "bon-shared"
        keep = family == "policy"

        def seeds_for(t: int, r: int) -> tuple[int, int]:
            base = seed if r == 0 else derive_seed(seed, t, r, 13)
            return derive_seed(base, t, 11), derive_seed(base, t, 12)

        jobs = []
        for r in range(repeats):
            for t in range(env.test_tasks):
                env_seed, policy_seed = seeds_for(t, r)
                jobs.append(
                    RunJob(
                        env=env_ref,
                        env_kwargs=dict(env.kwargs),
                        policy=env.policy,
                        prm=prm,
                        method=m.name if m is not None else "bon@*",
                        family=family,
                        n=m.n if m is not None else max(ns),
                        expand=m.expand if m is not None else 1,
                        task_id=t,
                        seed=env_seed,
                        policy_seed=policy_seed,
                        repeat=r,
                        max_steps=env.max_steps,
                        keep_trajectory=keep and r == 0 and t < max(self.config.examples, 0) * 3,
                        prms=shared_prms,
                        ns=ns,
                        prior=m.prior if m is not None else 0.0,
                    )
                )
        return jobs

    def expected_episodes(self) -> dict[tuple[str, ...], int]:
        """Episodes each planned run's row holds: its env's test tasks × the row's repeats."""
        return {
            _run_key(r): r[0].test_tasks * self.config.repeats_for(r[1], r[2])
            for r in self.plan_runs()
        }

    def check_resumable(self) -> None:
        """Refuse to resume onto rows of another size than the config asks for.

        A resumed sweep skips the rows already in ``results.csv``; one written with
        other ``test_tasks`` or ``repeats`` would be kept silently.

        Raises:
            SweepError: Naming the first such row.
        """
        if not self.csv_path.exists():
            return
        want = self.expected_episodes()
        for row in read_rows(self.csv_path):
            n = want.get(row_key(row))
            if n is not None and int(row["episodes"]) != n:
                raise SweepError(
                    f"{self.csv_path}: the {row['prm']} {row['method']} row of {row['env']} "
                    f"(seed {row['seed']}) has {row['episodes']} episodes and the config asks "
                    f"for {n} (test_tasks x repeats); write to another --out, or delete the "
                    "row to run it again"
                )

    def run_all(self) -> int:
        """Run every missing (env, PRM, method, seed) and append its row; returns rows written."""
        from agentprm_gym.benchmarking.provenance import git_commit, machine, machine_summary
        from agentprm_gym.collection import resolve_env
        from agentprm_gym.parallel import group_for_workers, make_executor
        from agentprm_gym.progress import progress

        have = done_keys(self.csv_path)
        todo = [r for r in self.plan_runs() if _run_key(r) not in have]
        if not todo:
            return 0
        # Best-of-N runs of one (env, seed) share their sampled episodes (see .shared_bon)
        units: list[tuple[str, Any]] = []
        bon_groups: dict[tuple[str, int], list[tuple[EnvConfig, str, MethodSpec, int]]] = {}
        for r in todo:
            if r[2].family == "bon":
                key = (r[0].short, r[3])
                if key not in bon_groups:
                    bon_groups[key] = []
                    units.append(("bon", key))
                bon_groups[key].append(r)
            else:
                units.append(("one", r))
        commit, host = git_commit(), machine_summary(machine())
        prms = {p.name: p for p in self.config.prms}
        written = 0
        eps_total = sum(
            u[0].test_tasks * self.config.repeats_for(u[1], u[2])
            if k == "one"
            else bon_groups[u][0][0].test_tasks
            for k, u in units
        )
        bar = progress(
            total=eps_total, desc="sweep runs", disable=None if self.show_progress else True
        )
        try:
            with (
                make_executor(
                    self.workers,
                    self.ray_address,
                    ray_num_cpus=self.ray_num_cpus,
                    threads_per_worker=self.config.torch_threads,
                ) as ex,
                ResultsWriter(self.csv_path) as writer,
            ):
                for kind, unit in units:
                    if kind == "bon":
                        group = bon_groups[unit]
                        env, seed = group[0][0], group[0][3]
                        bar.set_description(f"{env.short} best-of-N (all PRMs)")
                        names = list(dict.fromkeys(r[1] for r in group))
                        specs = tuple((n, self.prm_spec(env, prms[n])) for n in names)
                        ns = tuple(sorted({r[2].n for r in group}))
                        jobs = self._jobs(env, resolve_env(env.id), None, None, seed, specs, ns)
                        results = []
                        shards = group_for_workers(jobs, self.config.lockstep, ex.parallelism)
                        for got in ex.imap_unordered(run_jobs, shards):
                            results.extend(got)
                            bar.update(len(got))
                        results.sort(key=lambda r: r["task_id"])
                        for _, prm_name, m, _ in group:
                            per = [r["bon"][f"{prm_name}|{m.n}"] for r in results]
                            writer.write(self._row(env, prm_name, m, seed, per, commit, host))
                            written += 1
                        continue
                    env, prm_name, m, seed = unit
                    env_ref = resolve_env(env.id)
                    spec = None if prm_name == "-" else self.prm_spec(env, prms[prm_name])
                    reps = self.config.repeats_for(prm_name, m)
                    jobs = self._jobs(env, env_ref, spec, m, seed, repeats=reps)
                    bar.set_description(f"{env.short} {prm_name} {m.name}")
                    results = []
                    size = self.config.lockstep if m.family in LOCKSTEP_FAMILIES else 1
                    shards = group_for_workers(jobs, size, ex.parallelism)
                    for got in ex.imap_unordered(run_jobs, shards):
                        results.extend(got)
                        bar.update(len(got))
                    results.sort(key=lambda r: (r["repeat"], r["task_id"]))
                    row = self._row(env, prm_name, m, seed, results, commit, host)
                    writer.write(row)
                    written += 1
                    if m.family == "policy":
                        self._save_episodes(env, seed, results)
        finally:
            bar.close()
        return written

    def _row(
        self,
        env: EnvConfig,
        prm: str,
        m: MethodSpec,
        seed: int,
        results: Sequence[dict[str, Any]],
        commit: str,
        host: str,
    ) -> dict[str, Any]:
        n = len(results)
        led = {k: sum(r["ledger"][k] for r in results) for k in LEDGER_COLUMNS}
        return {
            "env": env.id,
            "policy": env.policy,
            "prm": prm,
            "method": m.name,
            "family": m.family,
            "budget": m.budget,
            "seed": seed,
            "episodes": n,
            "samples": led["sampled_actions"] / n,
            "success": sum(r["won"] for r in results) / n,
            "mean_reward": sum(r["reward"] for r in results) / n,
            **led,
            "git_commit": commit,
            "machine": host,
        }

    def _save_episodes(self, env: EnvConfig, seed: int, results: Sequence[dict[str, Any]]) -> None:
        trajs = [r["trajectory"] for r in results if "trajectory" in r]
        path = self._episodes_path(env, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(trajs), encoding="utf-8")
        os.replace(tmp, path)

    def _episodes_path(self, env: EnvConfig, seed: int, legacy: bool = False) -> Path:
        """Where the one-sample policy's test episodes are kept (``greedy_`` before the rename)."""
        stem = "greedy" if legacy else "policy"
        return self.out / "episodes" / env.short / f"{stem}_seed{seed}.json"

    def examples(self) -> list[dict[str, Any]]:
        """A few one-sample policy test episodes per env, scored by the reference PRM.

        Lost episodes come first.
        """
        from agentprm_gym.prm.loading import load_prm

        k = self.config.examples
        if k < 1:
            return []
        names = [p.name for p in self.config.prms]
        learned = [p.name for p in self.config.learned_prms]
        scorer = (
            self.config.reference if self.config.reference in learned else (learned or [None])[0]
        )
        if scorer is None and "random" in names:
            scorer = "random"
        if scorer is None:
            return []
        prm_cfg = {p.name: p for p in self.config.prms}[scorer]
        out = []
        for env in self.config.envs:
            path = self._episodes_path(env, self.config.seeds[0])
            if not path.exists():
                path = self._episodes_path(env, self.config.seeds[0], legacy=True)
            if not path.exists():
                continue
            trajs = json.loads(path.read_text(encoding="utf-8"))
            trajs.sort(key=lambda t: (bool(t["won"]), t["task_id"]))
            prm = load_prm(self.prm_spec(env, prm_cfg))
            for t in trajs[:k]:
                out.append(
                    {
                        "env": env.id,
                        "task_id": t["task_id"],
                        "method": POLICY_METHOD,
                        "prm": scorer,
                        "won": t["won"],
                        "reward": t["final_reward"],
                        "instruction": t["instruction"],
                        "steps": score_episode(prm, t),
                    }
                )
        return out

    def label_costs(self) -> dict[str, dict[str, Any]]:
        """Per env id: TD vs MC labelling cost (empty when nothing was collected)."""
        out = {}
        for env in self.config.envs:
            train = self.data_path(env)
            if train.exists():
                mc = self.data_path(env, mc=True)
                out[env.id] = label_costs_from_files(train, mc if mc.exists() else None)
        return out

    def write_outputs(self, wall_seconds: float, report_only: bool = False) -> dict[str, Any]:
        """Tables, plots, efficiency ratios, provenance and the HTML report from ``results.csv``.

        Args:
            wall_seconds: This invocation's wall time (recorded in the provenance).
            report_only: Nothing ran in this invocation (``--report-only``); recorded too.
        """
        from agentprm_gym.benchmarking.efficiency import efficiency_ratios
        from agentprm_gym.benchmarking.plots import plot_all
        from agentprm_gym.benchmarking.provenance import collect_provenance
        from agentprm_gym.benchmarking.report import write_report
        from agentprm_gym.benchmarking.tables import (
            bon_table,
            efficiency_table,
            prior_tables,
            table1,
            table3,
        )

        rows = read_rows(self.csv_path)
        envs = [e.id for e in self.config.envs]
        prm_names = [p.name for p in self.config.prms]
        prov = collect_provenance(
            self._t0,
            git_commit=self._commit,  # the code that started this invocation (rows carry theirs)
            config=self.config.name,
            config_file=self.config.source,
            this_invocation_wall_seconds=round(wall_seconds, 3),
            report_only=bool(report_only),
        )
        want = self.expected_episodes()
        have = {row_key(r) for r in rows if want.get(row_key(r)) == int(r["episodes"])}
        planned = len(want)
        missing = sum(k not in have for k in want)
        costs = self.label_costs()
        (self.out / "label_costs.json").write_text(json.dumps(costs, indent=2), encoding="utf-8")
        ratios = efficiency_ratios(rows, self.config.reference)
        _write_ratios(self.out / "efficiency.csv", ratios, prov)
        tables = [
            table1(rows, envs, prm_names),
            *prior_tables(rows, envs, prm_names),
            bon_table(rows, envs, prm_names),
        ]
        if costs and any(p.labels == "mc" for p in self.config.learned_prms):
            tables.append(table3(rows, costs, self.config.reference))
        if ratios:
            tables.append(efficiency_table(ratios, self.config.reference))
        md = [f"# Sweep `{self.config.name}`", ""]
        md += [t.to_markdown() for t in tables]
        md.append(_prov_footer(prov))
        (self.out / "tables.md").write_text("\n".join(md), encoding="utf-8")
        plots = plot_all(rows, self.out, prm_names, prov)
        examples = self.examples()
        (self.out / "examples.json").write_text(json.dumps(examples, indent=1), encoding="utf-8")
        (self.out / "provenance.json").write_text(json.dumps(prov, indent=2), encoding="utf-8")
        write_report(
            self.out / "report.html",
            title=f"agentprm-gym sweep: {self.config.name}",
            tables=tables,
            plots={k: str(v) for k, v in plots.items()},
            examples=examples,
            provenance=prov,
            notes=[
                f"{len(rows)} runs over {len(envs)} env(s): "
                + ", ".join(
                    f"{e.id} ({e.policy}, {e.test_tasks} test tasks)" for e in self.config.envs
                ),
                *(
                    [
                        f"Incomplete: {missing} of the {planned} runs of the config are "
                        "missing (or hold another number of episodes)."
                    ]
                    if missing
                    else []
                ),
                *_repeats_note(self.config),
            ],
        )
        return {
            "out": str(self.out),
            "rows": len(rows),
            "missing_runs": missing,
            "files": sorted(p.name for p in self.out.glob("*") if p.is_file()),
            "efficiency": [r.to_dict() for r in ratios],
        }

    def run(self) -> dict[str, Any]:
        """All stages; returns a summary (output files, rows, wall seconds)."""
        self.check_resumable()
        self.out.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if self.config.torch_threads is not None:
            import torch

            torch.set_num_threads(self.config.torch_threads)
        learned = self.config.learned_prms
        pairs = [(env, p) for env in self.config.envs for p in learned]
        if any(not self._trained(e, p) for e, p in pairs):
            self._runner()  # before hours of collecting, not after
        if learned:
            for env in self.config.envs:
                self.collect(env)
            self.train_all(pairs)
        written = self.run_all()
        summary = self.write_outputs(time.perf_counter() - t0)
        summary["rows_written"] = written
        summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
        return summary


def _repeats_note(config: SweepConfig) -> list[str]:
    """A report line on the rows that play their test tasks more than once."""
    parts = [
        ("the one-sample policy" if k == "policy" else f"the {k} PRM's beam rows") + f" × {n}"
        for k, n in config.repeats.items()
        if n > 1
    ]
    if not parts:
        return []
    return [
        "Repeated rows (every test task played again with new seeds; see the episodes "
        "column): " + ", ".join(parts) + "."
    ]


def _prov_footer(prov: dict[str, Any]) -> str:
    pk = ", ".join(f"{k} {v}" for k, v in prov.get("packages", {}).items() if v)
    return (
        f"---\n\nGenerated by agentprm-gym at commit `{prov['git_commit']}` on "
        f"{prov['machine_summary']}; {prov['started_utc']} to {prov['finished_utc']} "
        f"({prov['wall_seconds']} s). Packages: {pk}.\n"
    )


def _write_ratios(path: Path, ratios: Sequence[Any], prov: dict[str, Any]) -> None:
    import csv

    cols = [
        "env",
        "family",
        "baseline",
        "budget",
        "agentprm_samples",
        "agentprm_success",
        "baseline_samples",
        "ratio",
        "bound",
        "agentprm_compute",
        "baseline_compute",
        "compute_ratio",
        "compute_bound",
        "git_commit",
        "machine",
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in ratios:
            d = r.to_dict()
            d.update(git_commit=prov["git_commit"], machine=prov["machine_summary"])
            w.writerow(d)
