"""Benchmarks: env throughput (:mod:`.throughput`) and result sweeps (``sweep``).

Submodules are imported on use, so ``import agentprm_gym.benchmarking`` is cheap.
"""

from __future__ import annotations

__all__ = ["measure_throughput", "ThroughputResult"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from agentprm_gym.benchmarking import throughput

        return getattr(throughput, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
