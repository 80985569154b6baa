"""Build a PRM from its command-line spec: ``oracle``, ``random`` or a directory.

A directory is a trained model saved by ``AgentPRM.save_pretrained`` (for
example by ``agentprm-gym train-prm``); it is loaded with
``AgentPRM.from_pretrained`` (torch and transformers are imported only then).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentprm_gym.prm.base import PRM
from agentprm_gym.prm.oracle import OraclePRM, RandomPRM

__all__ = ["PRM_SPEC_HELP", "episode_prm", "load_prm"]

PRM_SPEC_HELP = (
    "PRM: oracle (privileged expert distance) | random (uninformative: every step ties, the "
    "search picks at random with its seed) | "
    "DIR (a trained AgentPRM saved with save_pretrained / train-prm)"
)


def load_prm(spec: str | Path, env: Any = None) -> PRM:
    """Parse a PRM spec.

    Args:
        spec: ``"oracle"`` (or ``"oracle:DECAY"``), ``"random"``,
            or the path of a saved AgentPRM directory.
        env: The env an oracle reads (bound here if given; search binds it anyway).

    Returns:
        The PRM.

    Raises:
        ValueError: For a malformed ``oracle:`` spec, or ``random:SEED`` (the random
            PRM has no seed of its own: its choices are the search's seeded tie-breaks).
        FileNotFoundError: If ``spec`` is neither a known name nor an existing directory.
    """
    s = str(spec).strip()
    kind, sep, arg = s.partition(":")
    if kind == "oracle":
        try:
            prm: PRM = OraclePRM(decay=float(arg)) if sep else OraclePRM()
        except ValueError as e:
            raise ValueError(f"bad PRM spec {s!r}: {e}") from None
        return prm.bind(env) if env is not None else prm
    if kind == "random":
        if sep:
            raise ValueError(
                f"bad PRM spec {s!r}: 'random' takes no seed; every step ties and the "
                "caller's seeded tie-breaks choose (e.g. `search --seed`)"
            )
        return RandomPRM()
    path = Path(s).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"no PRM directory at {str(path)!r} (and {s!r} is not a PRM name); {PRM_SPEC_HELP}"
        )
    from agentprm_gym.prm.model import AgentPRM

    model = AgentPRM.from_pretrained(path)
    return model.bind(env) if env is not None else model


def episode_prm(spec: str | Path, cache_key: str = "prm") -> PRM:
    """The PRM of ``spec``, loaded once per worker process, its score cache emptied.

    Call it at the start of every episode (or group of episodes searched in
    lockstep) a worker runs. A model PRM's score of a text can differ in its last
    bits with the batch it was scored in (bf16 kernels, padding length), so a
    score cached while another episode ran could break a near-tie differently
    from scoring it in this episode's batch: a job's result would depend on which
    jobs its worker happened to run before. With the cache emptied, the scores an
    episode gets come from its own calls (its own repeated texts still hit the
    cache). The state PRM's frozen token states are kept: a text's states depend
    in their last bits on the batch that first encoded it (and on torch's thread
    count), so with a learned PRM in bf16 a near-tie can still go either way with
    the order of the jobs, the number of workers, or the tasks searched beside it.

    Args:
        spec: A PRM spec (see :func:`load_prm`).
        cache_key: Namespace of the worker-process cache.
    """
    from agentprm_gym.parallel import worker_cache

    prm = worker_cache((cache_key, str(spec)), lambda: load_prm(spec))
    clear = getattr(prm, "clear_cache", None)
    if clear is not None:
        clear()
    return prm
