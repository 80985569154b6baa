"""One executor for embarrassingly parallel work: local processes or a Ray cluster.

Collection, MC labelling, search over many episodes and benchmark sweeps all
map a picklable, module-level function over *shards* (small picklable job
descriptions such as ``(env, env_kwargs, split, task_id, seed, ...)``) and
write the results from the driver process, as they arrive, in a crash-safe
file. :func:`make_executor` picks where the shards run:

- ``ray_address=None`` and ``workers <= 1``: inline, in this process;
- ``ray_address=None`` and ``workers > 1``: a local process pool
  (``spawn`` start method by default, so workers are clean on every platform;
  each worker caps its torch/BLAS threads to its share of the cores);
- ``ray_address`` given: Ray tasks. ``"local"`` starts a private local Ray
  instance (with ``num_cpus``), ``"auto"`` joins the cluster started with
  ``ray start --head`` on this machine, and ``"ray://host:10001"`` or
  ``"host:6379"`` joins a remote one.

Ray is imported only by :class:`RayExecutor`. Results come back in completion
order, so shard functions must put everything the driver needs (keys,
seeds) into their result. Per-process caches for expensive objects (an env
made once per worker) go through :func:`worker_cache`.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = [
    "Executor",
    "InlineExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "group_for_workers",
    "make_executor",
    "worker_cache",
    "worker_env",
    "worker_policy",
    "add_executor_arguments",
    "default_worker_threads",
]

S = TypeVar("S")
R = TypeVar("R")

_CACHE: dict[Any, Any] = {}

#: Environment variables that size a worker's math-library thread pools.
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_worker_threads(workers: int) -> int:
    """Math threads per worker so ``workers`` processes share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(threads: int) -> None:
    """Pool initializer: cap torch/BLAS threads before the worker imports torch.

    Every spawned worker would otherwise start one math thread per core, and
    ``W`` workers on a ``W``-core machine oversubscribe it ``W``-fold: PRM scoring
    in a 2-worker sweep on 2 cores ran 3.7x slower per item than with one thread.
    """
    for var in THREAD_ENV_VARS:
        os.environ[var] = str(threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch = sys.modules.get("torch")
    if torch is not None:  # pragma: no cover - spawned workers import torch later
        torch.set_num_threads(threads)


def worker_cache(key: Any, factory: Callable[[], Any]) -> Any:
    """Return the object cached under ``key`` in this process, building it once.

    Shard functions use it to make an env or a policy once per worker process
    (or once per Ray worker) instead of once per shard.
    """
    try:
        return _CACHE[key]
    except KeyError:
        obj = _CACHE[key] = factory()
        return obj


def worker_env(env: Any, env_kwargs: dict[str, Any] | None = None) -> Any:
    """``gym.make(env, **env_kwargs)`` once per process (``env``: an id or an ``EnvSpec``).

    The cache key is the id or the spec's full ``repr`` plus the kwargs, so
    specs that share an id but differ (say, in ``max_episode_steps``) get
    separate envs.
    """
    kwargs = dict(env_kwargs or {})
    key = ("env", env if isinstance(env, str) else repr(env), repr(sorted(kwargs.items())))

    def make() -> Any:
        import gymnasium as gym

        import agentprm_gym  # noqa: F401  (registers the ids in this process)

        return gym.make(env, **kwargs)

    return worker_cache(key, make)


def worker_policy(spec: str) -> Any:
    """``make_policy(spec)`` once per process (reseed it per episode with ``policy.seed``)."""

    def make() -> Any:
        from agentprm_gym.agents.spec import make_policy

        return make_policy(spec)

    return worker_cache(("policy", spec), make)


def group_for_workers(items: Sequence[S], size: int, parallelism: int) -> list[list[S]]:
    """Consecutive items in near-equal groups of at most ``size``, one per worker at least.

    The number of groups is ``max(ceil(n / size), min(parallelism, n))`` for ``n``
    items, and their sizes differ by at most one (the larger first): so groups never
    exceed ``size``, and ``parallelism`` workers all get one when there are items
    enough. Used to shard searches that run several tasks in lockstep.

    Args:
        items: What to group, in order.
        size: The largest group wanted.
        parallelism: How many workers will take groups.

    Returns:
        The groups, in order; their concatenation is ``items``.
    """
    n = len(items)
    if n == 0:
        return []
    groups = max(-(-n // max(1, size)), min(max(1, parallelism), n))
    base, extra = divmod(n, groups)
    out, start = [], 0
    for g in range(groups):
        end = start + base + (1 if g < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


class Executor:
    """Maps a function over shards, yielding results as they complete."""

    #: Human-readable description (``"inline"``, ``"processes:4"``, ``"ray:local"``).
    name: str = "executor"
    #: How many shards can run at once.
    parallelism: int = 1

    def imap_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[R]:
        """Yield ``fn(shard)`` for every shard, in completion order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (and a Ray instance this executor started)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineExecutor(Executor):
    """Runs every shard in the calling process, in order."""

    name = "inline"
    parallelism = 1

    def imap_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[R]:
        """Yield ``fn(shard)`` for each shard in turn."""
        for s in shards:
            yield fn(s)


class ProcessExecutor(Executor):
    """A local pool of worker processes (``concurrent.futures.ProcessPoolExecutor``).

    A worker that dies (killed, out of memory, failing at start-up) makes the
    iteration raise ``BrokenProcessPool`` instead of hanging.

    Args:
        workers: Number of worker processes (>= 1).
        start_method: ``"spawn"`` (default) or ``"forkserver"``; ``"fork"`` is
            refused because torch and tokenizers threads do not survive it.
        max_in_flight: Shards submitted ahead of completed ones (default 4 × workers).
        threads_per_worker: torch/BLAS threads of each worker (default: this
            machine's cores divided among the workers, at least 1).
    """

    def __init__(
        self,
        workers: int,
        start_method: str = "spawn",
        max_in_flight: int | None = None,
        threads_per_worker: int | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(f"start_method must be 'spawn' or 'forkserver', got {start_method!r}")
        self.parallelism = int(workers)
        self.max_in_flight = int(max_in_flight or 4 * workers)
        if threads_per_worker is not None and threads_per_worker < 1:
            raise ValueError(f"threads_per_worker must be >= 1, got {threads_per_worker}")
        self.threads_per_worker = int(threads_per_worker or default_worker_threads(workers))
        self.name = f"processes:{workers}"
        self._ctx = mp.get_context(start_method)
        self._pool: cf.ProcessPoolExecutor | None = None

    def imap_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[R]:
        """Yield results as they complete; cancels what is queued if abandoned."""
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(
                self.parallelism,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(self.threads_per_worker,),
            )
        pool = self._pool
        it = iter(shards)
        pending: set[cf.Future[R]] = set()
        try:
            for s in it:
                pending.add(pool.submit(fn, s))
                if len(pending) >= self.max_in_flight:
                    break
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for f in done:
                    yield f.result()
                for s in it:
                    pending.add(pool.submit(fn, s))
                    if len(pending) >= self.max_in_flight:
                        break
        finally:
            for f in pending:
                f.cancel()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop the worker processes now: running shards are killed and their results lost.

        For a driver that has already failed and would otherwise wait, in
        :meth:`close`, for the other workers' long shards to end.
        """
        if self._pool is None:
            return
        # the pool has no public handle on its processes
        procs = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(timeout=10)
        self._pool = None


class RayExecutor(Executor):
    """Ray tasks on a local or remote Ray cluster.

    Args:
        address: ``"local"`` (start a private local instance), ``"auto"`` (join
            the cluster running on this machine) or a cluster address.
        num_cpus: CPUs of a local instance (``address="local"`` only; default:
            all of this machine's).
        max_in_flight: Shards submitted ahead of completed ones (default:
            4 × the cluster's CPUs), so huge shard lists do not flood the
            object store.
    """

    def __init__(
        self, address: str = "local", num_cpus: int | None = None, max_in_flight: int | None = None
    ) -> None:
        try:
            import ray
        except ImportError as e:  # pragma: no cover - ray is an extra
            raise ImportError(
                "--ray needs Ray: pip install 'agentprm-gym[ray]' (or pip install ray)"
            ) from e
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            if address == "local":
                ray.init(
                    address="local",
                    num_cpus=num_cpus,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
                self._started = True
            else:
                if num_cpus is not None:
                    raise ValueError("num_cpus applies only to a local Ray instance (--ray local)")
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.parallelism = max(1, cpus)
        self.max_in_flight = int(max_in_flight or 4 * self.parallelism)
        self.name = f"ray:{address}"

    def imap_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[R]:
        """Submit shards as Ray tasks and yield their results as they finish."""
        ray = self._ray
        remote = ray.remote(num_cpus=1)(fn)
        it = iter(shards)
        pending: list[Any] = []
        try:
            for s in it:
                pending.append(remote.remote(s))
                if len(pending) >= self.max_in_flight:
                    break
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                for ref in ready:
                    yield ray.get(ref)
                for s in it:
                    pending.append(remote.remote(s))
                    if len(pending) >= self.max_in_flight:
                        break
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        """Shut Ray down if this executor started it (a joined cluster keeps running)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False


def make_executor(
    workers: int = 1,
    ray_address: str | None = None,
    *,
    ray_num_cpus: int | None = None,
    start_method: str = "spawn",
    threads_per_worker: int | None = None,
) -> Executor:
    """The executor for ``workers`` local processes, or Ray when ``ray_address`` is given.

    Args:
        workers: Local worker processes (1 = inline in this process). Ignored with Ray.
        ray_address: None for local execution; ``"local"``, ``"auto"`` or an address for Ray.
        ray_num_cpus: CPUs of a local Ray instance (``ray_address="local"``).
        start_method: Start method of the local pool.
        threads_per_worker: torch/BLAS threads of each local worker (default: the
            cores divided among the workers). Ray sizes its workers' threads itself.
    """
    if ray_address is not None:
        return RayExecutor(ray_address, num_cpus=ray_num_cpus)
    if workers <= 1:
        return InlineExecutor()
    return ProcessExecutor(
        workers, start_method=start_method, threads_per_worker=threads_per_worker
    )


def add_executor_arguments(
    parser: Any, default_workers: int | None = 1, workers_help: str | None = None
) -> None:
    """Add ``--workers W`` and ``--ray [ADDRESS]`` (+ ``--ray-cpus``) to a CLI parser.

    Args:
        parser: An ``argparse`` parser.
        default_workers: Default of ``--workers`` (None: the command decides).
        workers_help: Help text of ``--workers`` (default: states ``default_workers``).
    """
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=workers_help
        or f"local worker processes (default {default_workers}; 1 = in this process)",
    )
    parser.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run shards as Ray tasks: no ADDRESS or 'local' starts a local Ray instance, "
        "'auto' joins the cluster of `ray start --head`, or give ray://HOST:PORT",
    )
    parser.add_argument(
        "--ray-cpus",
        type=int,
        default=None,
        help="CPUs of a local Ray instance (default: all)",
    )
