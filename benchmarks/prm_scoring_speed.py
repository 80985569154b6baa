"""How fast PRMs score the candidates of WebShop beam-search states, side by side.

The states are those a beam search meets: for each of ``--tasks`` WebShop test
tasks, the noisy expert (``noisy:0.5``) plays an episode, and at every state the
policy samples ``--expand`` candidate actions (repeats collapse: a search scores
each distinct action of a state once). Every PRM then scores every state's
distinct candidates with ``score_candidates`` (one call per state, as search
and the wrappers do), starting from an empty score cache. Reported per PRM:
candidate actions per second, states per second and the seconds in all.

The state PRM is timed twice: *cold* (its frozen encoder has never seen these
texts, so new observation pieces are encoded on the way, as in a search's first
visit) and *warm* (the token states are cached; only the trainable network
runs, and it starts with no matched pieces kept: a piece is matched against
the instruction the first time a state shows it and reused by later states of
the run, as in a search), then warm with every state's candidates in one ``score`` call (many
states per forward pass). Cross-encoders have no such cache: every candidate is
a full pass.

*Beam* rows time the calls a real beam search makes. ``beam_search`` (beam
``--beam`` × expand ``--beam-expand``, the ``noisy:0.5`` policy) runs with the
state PRM on ``--beam-tasks`` test tasks; each PRM call it makes (one ``score``
call per depth, holding the distinct children of every kept entry) is
recorded, and every PRM then replays exactly those calls, grouped the same way,
from an empty score cache: the state PRM cold and warm as above. So every PRM
scores the same items in the same calls. *Lockstep* rows do the same with the
calls of ``beam_search_lockstep`` on the same tasks (what ``agentprm-gym search``
runs by default): the searches of all ``--beam-tasks`` tasks advance depth by
depth together, and one call holds a depth's children of every task still
searching (each task gets the search it gets alone, up to float rounding; these
rows run after the per-task rows, in the same process).

A PRM trained by ``train-prm`` names the token-state file of its training data
and loads it before it first scores, so a search does not encode again the texts
training saw (on WebShop, most of the catalog pages a test search meets). The
*first visit, token cache* rows time that: the encoder starts from that file
(``--token-cache``) instead of from nothing. The *cold* rows never load it.

An ensemble (``train-prm --members K``) scores its members' networks stacked in
one forward pass; its *members one after the other* rows time the same calls
with each member asked in turn (``EnsemblePRM(fuse=False)``), as before the
stacked pass existed.

PRMs: a trained state PRM (``--prm DIR``, or an ensemble of them from ``train-prm
--members K``; an untrained one of the default size when omitted: the speed does
not depend on the weights), the MiniLM
cross-encoder and the tiny from-config cross-encoder (untrained; same reason).

Run::

    .venv/bin/python benchmarks/prm_scoring_speed.py --tasks 20 --prm runs/paper/agentprm

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import gymnasium as gym
import torch

import agentprm_gym  # noqa: F401  (registers the env ids)
from agentprm_gym.agents import NoisyExpertPolicy
from agentprm_gym.prm.base import PRM, ScoreItem


class _Recorder(PRM):
    """A PRM that records every call it gets and answers with another PRM's scores.

    It forwards ``score`` only: search sees a plain learned PRM (no ``requires_state``,
    no ``score_candidates`` of its own, no ``bind``), as it sees :class:`StatePRM`.
    """

    name = "recorder"

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.calls: list[list[ScoreItem]] = []

    def _score(self, items: list[ScoreItem]) -> Any:
        self.calls.append(list(items))
        return self.inner.score(items)


def beam_calls_by_task(
    prm: Any, tasks: int, beam: int, expand: int, seed: int
) -> list[list[list[ScoreItem]]]:
    """The PRM calls of ``beam_search`` with ``prm`` on ``tasks`` WebShop test tasks, per task."""
    from agentprm_gym.search import beam_search

    env = gym.make("AgentPRM/WebShop-v0")
    out = []
    for t in range(tasks):
        rec = _Recorder(prm)
        policy = NoisyExpertPolicy(0.5, env, seed=seed + t)
        beam_search(env, policy, rec, beam, expand, seed=seed + t, task_id=t, split="test")
        out.append(rec.calls)
    env.close()
    return out


def beam_calls(prm: Any, tasks: int, beam: int, expand: int, seed: int) -> list[list[ScoreItem]]:
    """The PRM calls of ``beam_search`` with ``prm`` on ``tasks`` WebShop test tasks."""
    return [c for calls in beam_calls_by_task(prm, tasks, beam, expand, seed) for c in calls]


def lockstep_search_calls(
    prm: Any, tasks: int, beam: int, expand: int, seed: int
) -> list[list[ScoreItem]]:
    """The PRM calls of ``beam_search_lockstep`` with ``prm`` on ``tasks`` WebShop test tasks.

    The searches of all the tasks advance depth by depth together, and call ``d``
    holds depth ``d``'s children of every search still running; each task gets
    the search ``beam_search`` gives it (the same seeds as :func:`beam_calls_by_task`).
    """
    from agentprm_gym.search import beam_search_lockstep

    env = gym.make("AgentPRM/WebShop-v0")
    rec = _Recorder(prm)
    ids = list(range(tasks))
    policy = NoisyExpertPolicy(0.5, env, seed=seed)
    seeds = [seed + t for t in ids]
    beam_search_lockstep(env, policy, rec, beam, expand, seeds=seeds, task_ids=ids, split="test")
    env.close()
    return rec.calls


def time_calls(prm: Any, calls: list[list[ScoreItem]]) -> dict[str, float]:
    """Replay recorded ``score`` calls; candidates/s, states/s, seconds."""
    if hasattr(prm, "clear_cache"):
        prm.clear_cache()
    n = sum(len(c) for c in calls)
    states = sum(len({(i.instruction, tuple(i.history)) for i in c}) for c in calls)
    t0 = time.perf_counter()
    for items in calls:
        prm.score(items)
    dt = time.perf_counter() - t0
    return {
        "candidates": n,
        "states": states,
        "calls": len(calls),
        "seconds": round(dt, 3),
        "candidates_per_s": round(n / dt, 1),
        "states_per_s": round(states / dt, 1),
    }


def beam_states(tasks: int, expand: int, seed: int) -> list[tuple[ScoreItem, list[str]]]:
    """``(state item, distinct candidates)`` along noisy-expert episodes on test tasks."""
    env = gym.make("AgentPRM/WebShop-v0")
    policy = NoisyExpertPolicy(0.5, env, seed=seed)
    out = []
    for t in range(tasks):
        obs, info = env.reset(seed=t, options={"task_id": t, "split": "test"})
        turns: list[tuple[str, str]] = []
        done = False
        while not done:
            cands = list(dict.fromkeys(policy.propose(obs, info, expand)))
            item = ScoreItem(info["instruction"], (*turns, obs), cands[0])
            out.append((item, cands))
            act = cands[0]
            nxt, _, term, trunc, info = env.step(act)
            turns.append((obs, act))
            obs, done = nxt, term or trunc
    env.close()
    return out


def time_prm(prm: Any, states: list[tuple[ScoreItem, list[str]]]) -> dict[str, float]:
    """Score every state's candidates once; candidates/s, states/s, seconds."""
    if hasattr(prm, "clear_cache"):
        prm.clear_cache()
    n = sum(len(c) for _, c in states)
    t0 = time.perf_counter()
    for item, cands in states:
        prm.score_candidates(item, cands)
    dt = time.perf_counter() - t0
    return {
        "candidates": n,
        "states": len(states),
        "seconds": round(dt, 3),
        "candidates_per_s": round(n / dt, 1),
        "states_per_s": round(len(states) / dt, 1),
    }


def time_prm_batched(prm: Any, states: list[tuple[ScoreItem, list[str]]]) -> dict[str, float]:
    """All states' candidates in one ``score`` call (many states per forward pass)."""
    prm.clear_cache()
    items = [item._replace(action=a) for item, cands in states for a in cands]
    t0 = time.perf_counter()
    prm.score(items)
    dt = time.perf_counter() - t0
    return {
        "candidates": len(items),
        "states": len(states),
        "seconds": round(dt, 3),
        "candidates_per_s": round(len(items) / dt, 1),
        "states_per_s": round(len(states) / dt, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tasks", type=int, default=20, help="WebShop test tasks (default 20)")
    ap.add_argument("--expand", type=int, default=8, help="policy samples per state (8)")
    ap.add_argument("--prm", default=None, help="a trained state PRM directory (optional)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    ap.add_argument("--beam-tasks", type=int, default=10, help="beam rows: test tasks (10)")
    ap.add_argument("--beam", type=int, default=4, help="beam rows: beam width (4)")
    ap.add_argument("--beam-expand", type=int, default=4, help="beam rows: expand (4)")
    ap.add_argument(
        "--token-cache",
        default=None,
        help="first-visit rows with these token states loaded (default: the file the "
        "PRM was trained with, if it names one; none: no such rows)",
    )
    args = ap.parse_args()
    if min(args.tasks, args.expand, args.threads, args.beam_tasks, args.beam, args.beam_expand) < 1:
        ap.error("every count must be at least 1")
    torch.set_num_threads(args.threads)
    from agentprm_gym.prm.model import AgentPRM
    from agentprm_gym.prm.state_model import StatePRM

    states = beam_states(args.tasks, args.expand, args.seed)
    res: dict[str, Any] = {"tasks": args.tasks, "expand": args.expand, "threads": args.threads}
    state = AgentPRM.from_pretrained(args.prm) if args.prm else StatePRM.create("minilm")
    members = getattr(state, "members", [state])  # an ensemble's members
    token_cache = args.token_cache
    if token_cache is None:
        token_cache = next((c for m in members if (c := getattr(m, "token_cache", None))), None)
    elif token_cache == "none":
        token_cache = None
    for m in members:
        if hasattr(m, "token_cache"):
            m.token_cache = None  # loaded only where a row says so

    def fresh_encoder(loaded: bool) -> None:
        """An encoder that has seen nothing, or only the token cache's texts."""
        for m in members:
            m.encoder.reset(keep_loaded=False)
        if loaded:
            # members that share an encoder load it once
            texts = sum(m.encoder.warm_start(token_cache) for m in members)
            if texts == 0:
                sys.exit(f"--token-cache {token_cache}: not loaded (missing, or another encoder's)")
            res["token_cache_texts"] = texts

    res["token_cache"] = None if token_cache is None else str(token_cache)
    if token_cache is not None:
        fresh_encoder(loaded=True)  # a file that does not load stops the run here, not later
    fresh_encoder(loaded=False)
    res["state (cold encoder cache)"] = time_prm(state, states)
    res["state (warm encoder cache)"] = time_prm(state, states)
    stacked = getattr(state, "fused", None) is not None  # an ensemble scored in one pass

    def one_by_one(timer: Any, calls: Any) -> dict[str, float]:
        """``timer(state, calls)`` with the ensemble's members asked one after the other."""
        state.fuse = False
        try:
            return timer(state, calls)
        finally:
            state.fuse = True

    if stacked:
        res["state (warm, members one after the other)"] = one_by_one(time_prm, states)
    res["state (warm, one call for all)"] = time_prm_batched(state, states)
    if token_cache is not None:
        fresh_encoder(loaded=True)
        res["state (first visit, token cache)"] = time_prm(state, states)
    minilm = AgentPRM.create("minilm")
    res["cross-encoder minilm"] = time_prm(minilm, states)
    corpus = [f"{i.instruction} {i.history[-1]} {' '.join(c)}" for i, c in states]
    tiny = AgentPRM.create("tiny", tiny_corpus=corpus)
    res["cross-encoder tiny"] = time_prm(tiny, states)
    calls = beam_calls(state, args.beam_tasks, args.beam, args.beam_expand, args.seed)
    merged = lockstep_search_calls(state, args.beam_tasks, args.beam, args.beam_expand, args.seed)

    for kind, replay in (("beam", calls), ("lockstep", merged)):
        fresh_encoder(loaded=False)  # the replay's first pass encodes the beam's pages anew
        res[f"{kind}: state (cold)"] = time_calls(state, replay)
        res[f"{kind}: state (warm)"] = time_calls(state, replay)
        if stacked:
            res[f"{kind}: state (warm, members one after the other)"] = one_by_one(
                time_calls, replay
            )
        if token_cache is not None:
            fresh_encoder(loaded=True)
            res[f"{kind}: state (first visit, token cache)"] = time_calls(state, replay)
        res[f"{kind}: cross-encoder minilm"] = time_calls(minilm, replay)
        res[f"{kind}: cross-encoder tiny"] = time_calls(tiny, replay)
    for name, r in res.items():
        if isinstance(r, dict):
            print(
                f"{name:58s} {r['candidates_per_s']:9.1f} candidates/s "
                f"{r['states_per_s']:8.1f} states/s  ({r['candidates']} candidates, "
                f"{r['states']} states, {r['seconds']:.1f} s)"
            )
    res["beam"] = {"tasks": args.beam_tasks, "beam": args.beam, "expand": args.beam_expand}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
