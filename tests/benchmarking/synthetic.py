"""A synthetic results table for tests of tables, plots and the report (no env needed)."""

from __future__ import annotations

from pathlib import Path

from agentprm_gym.benchmarking.config import POLICY_METHOD
from agentprm_gym.benchmarking.results import ResultsWriter

ENVS = ("AgentPRM/WebShop-v0", "AgentPRM/ALFWorld-v0")
PRMS = ("agentprm", "pvm", "oracle")


def synthetic_rows() -> list[dict]:
    """Rows with known successes: beam/BoN success = base + PRM bonus + budget bonus."""
    rows = []
    bonus = {"agentprm": 0.2, "pvm": 0.1, "oracle": 0.3}
    for ei, env in enumerate(ENVS):
        base = 0.3 + 0.05 * ei
        for seed in (0, 1):
            rows.append(_row(env, "-", POLICY_METHOD, "policy", "1", seed, 8.0, base))
            for prm in PRMS:
                for j, n in enumerate((1, 2, 4)):
                    y = min(1.0, base + bonus[prm] * j / 2 + 0.01 * seed)
                    rows.append(_row(env, prm, f"bon@{n}", "bon", str(n), seed, 8.0 * n, y))
                for j, b in enumerate((2, 4)):
                    y = min(1.0, base + bonus[prm] * (j + 1) + 0.02 * seed)
                    rows.append(
                        _row(env, prm, f"beam@{b}x{b}", "beam", f"{b}x{b}", seed, 8.0 * b * b, y)
                    )
    return rows


def _row(env, prm, method, family, budget, seed, samples, success):
    return dict(
        env=env,
        policy="noisy:0.5",
        prm=prm,
        method=method,
        family=family,
        budget=budget,
        seed=seed,
        episodes=20,
        samples=samples,
        success=round(success, 4),
        mean_reward=round(success, 4),
        sampled_actions=int(samples * 20),
        prm_items=0 if prm == "-" else int(samples * 10),
        wall_seconds=0.5,
        git_commit="abc",
        machine="test",
    )


def write_csv(path: Path) -> list[dict]:
    """Write the synthetic rows to a results CSV; returns them."""
    rows = synthetic_rows()
    with ResultsWriter(path, fsync=False) as w:
        w.write_all(rows)
    return rows
