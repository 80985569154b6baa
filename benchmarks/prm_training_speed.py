"""How long one training batch of the state PRM takes, per layout and with the matcher frozen.

Training time decides how many epochs fit a budget, and on WebShop more epochs
is what lifts held-out ranking (docs/prm-experiments.md). This script times whole optimiser
steps (forward, loss with per-batch GAE targets, backward, AdamW) of the state
PRM on the same batches of a trajectory file, for each network layout:

- ``split`` (the default of new networks): the context transformer runs once
  per distinct (instruction, observation); each candidate attends to its own
  state's past actions beside it;
- ``in-context`` (``train-prm --history-in-context``, the layout of older
  checkpoints): the past actions are part of the context sequence, so the
  transformer runs once per distinct (observation, history);
- ``frozen`` (``split`` once ``train-prm --matcher-lr-end`` has brought the
  matching layers' learning rate to 0): the trainer's own freeze, so the matching
  layers get no gradients and each (text, instruction) pair is matched once and
  kept; the warm-up runs every timed batch once, so the pairs are kept before
  timing, as in an epoch after the first frozen one.

The batches are the trainer's own (whole episodes, a task's rollouts side by
side, ``--batch-size`` steps), drawn with ``--seed``; every layout starts from
the same seed and meets the same batches, and they are timed in alternating
rounds so that drift in a shared machine's speed falls on all of them. It also counts, per
batch, the distinct states and the distinct observations the network runs.

Per layout it prints milliseconds per batch (median over rounds) and the epoch
time that implies; the last line is one JSON object. Run (the token-state
cache of ``train-prm`` next to the data is reused; about two minutes)::

    .venv/bin/python benchmarks/prm_training_speed.py --data runs/ws.jsonl --batches 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import numpy as np

# The batches and the loss are the trainer's own private helpers (``_batches``,
# ``_task_order``, ``_batch_loss``), so that what is timed is what training runs; a change
# of their signatures breaks this script, and its test says so.

__all__ = ["LAYOUTS", "batch_shapes", "time_layouts", "main"]

#: Layout name -> ``history_in_context`` of the network.
LAYOUTS = {"split": False, "in-context": True, "frozen": False}


def batch_shapes(data: Any, batches: list[list[int]]) -> dict[str, float]:
    """Mean steps, distinct states and distinct observations per batch of a step set."""
    steps, states, obs = [], [], []
    for b in batches:
        idx = [i for e in b for i in range(int(data.offsets[e]), int(data.offsets[e + 1]))]
        ks = {data.candidates[i].context for i in idx}
        steps.append(len(idx))
        states.append(len(ks))
        obs.append(len({(data.contexts[k].instruction, data.contexts[k].pieces) for k in ks}))
    return {
        "steps": float(np.mean(steps)),
        "states": float(np.mean(states)),
        "observations": float(np.mean(obs)),
    }


def time_layouts(
    data_path: str,
    *,
    encoder: str = "minilm",
    cache: str | None = None,
    n_batches: int = 20,
    rounds: int = 3,
    batch_size: int = 128,
    seed: int = 0,
    layouts: tuple[str, ...] = tuple(LAYOUTS),
    tiny_corpus: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Time training steps of each layout on the same batches of ``data_path``.

    Returns:
        ``{"batches", "batches_per_epoch", "shape": batch_shapes, "layouts":
        {name: {"ms_per_batch", "epoch_seconds", "rounds_ms"[, "kept_pairs"]}}}``
        (``kept_pairs``: the frozen layout's matched pairs kept).
    """
    import torch

    from agentprm_gym.core.trajectory import read_trajectories
    from agentprm_gym.prm.state_model import StatePRM
    from agentprm_gym.prm.steps import canonical_order, episode_steps
    from agentprm_gym.prm.train_data import StateSteps
    from agentprm_gym.prm.training import (
        TrainConfig,
        _batch_loss,
        _batches,
        _freeze_matcher,
        _task_order,
    )

    if not layouts:
        raise ValueError(f"no layouts to time; choose from {list(LAYOUTS)}")
    unknown = [x for x in layouts if x not in LAYOUTS]
    if unknown:
        raise ValueError(f"unknown layouts {unknown}; choose from {list(LAYOUTS)}")
    if n_batches < 1 or rounds < 1:
        raise ValueError("batches and rounds must be >= 1")
    episodes = canonical_order(e for e in episode_steps(read_trajectories(data_path)) if len(e))
    if not episodes:
        raise ValueError(f"{data_path} holds no episodes with steps")
    lengths = [len(e) for e in episodes]
    per_epoch = len(_batches(lengths, range(len(episodes)), batch_size))
    order = _task_order(episodes, np.random.default_rng(seed))
    batches = _batches(lengths, order, batch_size)[:n_batches]
    cfg = TrainConfig(labels="gae", batch_size=batch_size, progress=False)
    runs: dict[str, Any] = {}
    for name in layouts:
        prm = StatePRM.create(
            encoder, seed=seed, history_in_context=LAYOUTS[name], tiny_corpus=tiny_corpus
        )
        steps = StateSteps(prm, episodes, cache)
        opt = torch.optim.AdamW(prm.net.parameters(), lr=1e-3)
        if name == "frozen":
            _freeze_matcher(prm.net.matcher_parameters(), steps)
        prm.net.train()
        runs[name] = (prm, steps, opt)
    shape = batch_shapes(next(iter(runs.values()))[1], batches)

    def one(name: str, b: list[int]) -> None:
        prm, steps, opt = runs[name]
        loss, *_ = _batch_loss(steps, episodes, b, None, cfg, 1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for name in layouts:  # warm-up: first calls allocate (and the frozen layout keeps pairs)
        for b in batches if name == "frozen" else batches[:1]:
            one(name, b)
    timed: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(rounds):
        for name in layouts:
            t0 = time.perf_counter()
            for b in batches:
                one(name, b)
            timed[name].append(1000.0 * (time.perf_counter() - t0) / len(batches))
    out = {}
    for name, ms in timed.items():
        med = statistics.median(ms)
        out[name] = {
            "ms_per_batch": round(med, 1),
            "epoch_seconds": round(med * per_epoch / 1000.0, 1),
            "rounds_ms": [round(x, 1) for x in ms],
        }
        kept = runs[name][1].pairs
        if kept is not None:  # the frozen layout: how many matched pairs it keeps
            out[name]["kept_pairs"] = len(kept)
    return {
        "data": data_path,
        "batches": len(batches),
        "batches_per_epoch": per_epoch,
        "batch_size": batch_size,
        "shape": {k: round(v, 1) for k, v in shape.items()},
        "layouts": out,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="trajectory JSONL file (from collect)")
    p.add_argument(
        "--cache",
        help="token-state cache (default: train-prm's, DATA.tokens-minilm; read if it "
        "exists, else written)",
    )
    p.add_argument("--batches", type=int, default=20, help="batches timed per round (20)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    p.add_argument("--batch-size", type=int, default=128, help="steps per batch (128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--layouts",
        default=",".join(LAYOUTS),
        help=f"comma-separated layouts to time (default: all, {','.join(LAYOUTS)})",
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    a = p.parse_args(argv)
    import os
    from pathlib import Path

    import torch

    def fail(msg: str) -> int:
        print(f"prm_training_speed: {msg}", file=sys.stderr)
        return 2

    if a.threads is not None:
        if a.threads < 1:
            return fail(f"--threads must be >= 1, got {a.threads}")
        torch.set_num_threads(a.threads)
    if not Path(a.data).is_file():
        return fail(
            f"{a.data}: no such file" if not Path(a.data).exists() else f"{a.data}: not a file"
        )
    from agentprm_gym.commands.train_prm import cache_file

    cache = a.cache or cache_file(a.data, "minilm")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        res = time_layouts(
            a.data,
            cache=cache,
            n_batches=a.batches,
            rounds=a.rounds,
            batch_size=a.batch_size,
            seed=a.seed,
            layouts=tuple(x.strip() for x in a.layouts.split(",") if x.strip()),
        )
    except ValueError as e:
        return fail(str(e))
    except (OSError, ImportError) as e:  # the encoder or the cache file
        return fail(f"{e} (give --cache FILE in a writable place)")
    s = res["shape"]
    print(
        f"{res['batches']} batches of {s['steps']:.0f} steps: {s['states']:.0f} distinct states, "
        f"{s['observations']:.0f} distinct observations each (mean)"
    )
    for name, r in res["layouts"].items():
        print(
            f"{name:>10}: {r['ms_per_batch']:7.1f} ms/batch  ~{r['epoch_seconds']:.0f} s/epoch "
            f"({res['batches_per_epoch']} batches)  rounds {r['rounds_ms']}"
        )
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
