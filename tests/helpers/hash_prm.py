"""A PRM for tests that needs scores that differ: a fixed pseudo-random value per item.

The package's ``RandomPRM`` ties every step (the search's seeded tie-breaks do
the choosing). Tests that must see a PRM tell candidates apart use the
per-action random PRM of ``benchmarks/uninformative_prm_search.py``: Q in
[0, 1) from a keyed hash of ``(instruction, history, action)``, ``HashPRM(seed)``.
"""

from __future__ import annotations

from helpers.benchmark_scripts import load_benchmark

HashPRM = load_benchmark("uninformative_prm_search").PerActionRandomPRM
