"""Step-level beam search guided by a PRM (AgentPRM, Algorithm 2).

At every depth each unfinished branch in the beam is expanded with ``expand``
actions sampled from the policy (repeated samples are expanded once: identical
(state, action) pairs are deduplicated). Every new step is scored by the PRM,
``Q(s_t, a_t)``, in one batched call per depth. Children that reach an
identical env state (same snapshot, compared by its pickled bytes) are merged,
keeping the higher-scored one. Then the ``beam`` best of the finished branches
kept so far *and* the new children survive (finished branches keep their
place and are not expanded). The search stops when every kept branch is
finished (terminated, or truncated at the step limit) and returns the kept
finished branch with the highest last-step value. Ties go to the branch found
first, so the result is a deterministic function of the seed.
"""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym

from agentprm_gym.search.common import (
    Branch,
    SearchResult,
    bind_all,
    finish_trajectory,
    reset_options,
    seed_policy,
    start_trajectory,
    step_branch,
    unbind_prm,
)
from agentprm_gym.search.handle import EnvHandle, resolve_max_steps
from agentprm_gym.search.ledger import Meter

__all__ = ["beam_search"]


def _state_key(state: Any) -> bytes | None:
    try:
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an unpicklable state is simply never merged
        return None


def beam_search(
    env: gym.Env,
    policy: Any,
    prm: Any,
    beam: int = 4,
    expand: int = 4,
    *,
    seed: int | None = None,
    task_id: int | None = None,
    split: str | None = None,
    max_steps: int | None = None,
    policy_seed: int | None = None,
) -> SearchResult:
    """Run PRM-guided beam search over one episode.

    Args:
        env: The env (needs ``get_state``/``set_state``).
        policy: Anything with ``propose(observation, info, n)``.
        prm: A PRM (``score(items)``).
        beam: Branches kept per depth (N).
        expand: Actions sampled per kept branch (M).
        seed: Seeds ``env.reset`` (and the policy, unless ``policy_seed`` is given).
        task_id: Task to play (default: chosen by the seed).
        split: Task split (default: the env's).
        max_steps: Step limit (default: ``env.spec.max_episode_steps``).
        policy_seed: Reseeds the policy (default: ``seed``; None and no seed: not reseeded).

    Returns:
        The best finished branch as a trajectory, its reward, its PRM score and
        the compute ledger.
    """
    if beam < 1 or expand < 1:
        raise ValueError(f"beam and expand must be >= 1, got {beam} and {expand}")
    handle = EnvHandle(env)
    limit = resolve_max_steps(env, max_steps)
    seed_policy(policy, seed if policy_seed is None else policy_seed)
    bind_all(handle, policy, prm)
    meter = Meter(policy, prm, handle)
    try:
        obs, info = handle.reset(seed, reset_options(task_id, split))
        instruction = str(info.get("instruction", ""))
        root = Branch([obs], info, state=handle.get_state())
        kept: list[Branch] = [root]
        while any(not b.done for b in kept):
            children: list[Branch] = []
            for parent in kept:
                if parent.done:
                    continue
                handle.set_state(parent.state)
                actions = list(
                    dict.fromkeys(policy.propose(parent.obs, parent.policy_info(), expand))
                )
                for j, action in enumerate(actions):
                    if j > 0:
                        handle.set_state(parent.state)
                    child = step_branch(handle, parent, action, limit)
                    child.state = handle.get_state()
                    children.append(child)
            q = prm.score([c.last_item(instruction) for c in children])
            for c, v in zip(children, q):
                c.q = float(v)
            pool = [b for b in kept if b.done] + _merge_same_states(children)
            order = sorted(range(len(pool)), key=lambda i: (-pool[i].q, i))
            kept = [pool[i] for i in order[:beam]]
    finally:
        unbind_prm(handle, prm)
    best = max(range(len(kept)), key=lambda i: (kept[i].q, -i))
    chosen = kept[best]
    traj = finish_trajectory(
        start_trajectory(env, policy, info, seed, f"beam{beam}x{expand}"), chosen
    )
    traj.meta["prm_score"] = float(chosen.q)
    return SearchResult(traj, traj.final_reward, traj.won, meter.ledger(), float(chosen.q))


def _merge_same_states(children: list[Branch]) -> list[Branch]:
    """Keep one child per identical resulting env state: the highest-scored, then the first."""
    best: dict[bytes, int] = {}
    out: list[Branch | None] = []
    for c in children:
        key = _state_key(c.state)
        if key is None:
            out.append(c)
            continue
        i = best.get(key)
        if i is None:
            best[key] = len(out)
            out.append(c)
        elif c.q > out[i].q:  # type: ignore[union-attr]
            out[i] = c
    return [c for c in out if c is not None]
