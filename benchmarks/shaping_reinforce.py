"""REINFORCE on ALFWorld-v0 with and without PRM potential-based shaping.

The agent is a linear softmax policy over the admissible actions. An action's
features are a one-hot of its verb (``go``, ``take``, ``move``, ...) crossed
with seven indicators — a bias, the action names the task's object / the task's
target place (first and last content word of the instruction), the agent holds
something (and crossed with both), and the action goes to a place not yet
visited in the episode (the agent's own memory) — and the weights are kept
per task type. Training is
plain REINFORCE: batches of episodes on train tasks, discounted reward-to-go
returns, a baseline per step index (a running mean of the returns seen at that
index), advantages divided by their batch standard deviation, one gradient-ascent
step per batch.

Two runs share everything (seed, tasks, step budget, learning rate, the
learner's discount γ) except the reward: the env's sparse reward (1 on
success), or ``PRMReward(env, OraclePRM(), mode="potential")`` — the env reward
plus Φ(s′) − Φ(s) (shaping γ = 1, Φ(terminal) = 0) with Φ the oracle's value of
the previous step. With shaping γ = 1 the undiscounted return of every episode
that terminates is unchanged, so the optimal policies are the env's.

In a Monte-Carlo return the shaping terms telescope: with the learner at γ = 1
the shaped return-to-go of step t is G_t − Φ(s_t) + Φ(s_T) (Φ(s_T) = 0 unless the
episode was truncated). −Φ(s_t) does not depend on the action but is large and
noisy, so both runs use the state baseline b(s_t) = −Φ(s_t) + (a running mean of
the return at step index t), with Φ(s_t) read from the previous step's
``info["prm"]["promise"]`` (Φ ≡ 0 on the sparse env). What shaping then adds is
Φ(s_T): credit for truncated episodes that ended close to the goal. With a
learner γ < 1 the terms do not cancel and each step is credited with its
discounted progress instead (``--gamma``). After training, each policy is
evaluated (sampling, seeded) on test tasks of the plain env; the figure is the
success rate.

Measured (2026-11-25, pick_and_place_simple, 20 000 env steps per run,
100 test episodes, seeds 0 1 2, lr 0.1, batch 8): with learner γ = 1, sparse
0.14 / 0.00 / 0.05 test success (mean 0.063) against potential-shaped
0.05 / 0.00 / 0.01 (mean 0.020); with learner γ = 0.9, sparse 0.54 / 0.49 / 0.18
(mean 0.403) against shaped 0.00 / 0.00 / 0.00. Shaping did *not* beat the
sparse reward in this loop. What the shaped policies learned: the oracle's
potential punishes taking a wrong object and leaving the target's location,
which these features cannot tell apart, and the policy learned to drop what it
holds and stop exploring. This is an open result, not a tuned demonstration.

Usage::

    .venv/bin/python benchmarks/shaping_reinforce.py --steps 20000 --eval 100 --json
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import agentprm_gym  # noqa: F401  (registers the ids)
from agentprm_gym.prm import OraclePRM
from agentprm_gym.wrappers import PRMReward

__all__ = ["SoftmaxPolicy", "TrainResult", "action_features", "evaluate", "train"]

VERBS = (
    "go", "take", "put", "open", "close", "clean", "heat", "cool", "use", "examine", "look",
    "inventory", "move", "other",
)  # fmt: skip
_STOP = {"a", "an", "the", "to", "in", "on", "from", "with", "and", "some", "it", "under"}
_WORD = re.compile(r"[a-z]+")
#: Per-verb indicators: bias, names the task's object, names the task's target place,
#: holding, holding x object, holding x place, and "goes to a place not visited yet".
N_INDICATORS = 7
N_FEATURES = len(VERBS) * N_INDICATORS
_TASK_VERBS = {"put", "clean", "heat", "cool", "examine", "look", "find", "two", "hot", "cold",
               "place", "then", "at", "by", "light"}  # fmt: skip


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def goal_parts(instruction: str) -> tuple[set[str], set[str]]:
    """(object words, place words) of an instruction: its first and last content word."""
    words = [w for w in _WORD.findall(instruction.lower()) if w not in _STOP]
    words = [w for w in words if w not in _TASK_VERBS] or words
    if not words:
        return set(), set()
    return {words[0]}, ({words[-1]} if len(words) > 1 else set())


def _target(action: str) -> str:
    """The receptacle an action is about (text after ``to``/``from``/``in``, or its object)."""
    for sep in (" to ", " from ", " in ", " on "):
        if sep in action:
            return action.rsplit(sep, 1)[1].strip()
    return action.split(" ", 1)[1].strip() if " " in action else ""


def action_features(
    actions: list[str], instruction: str, holding: bool, visited: set[str] | frozenset = frozenset()
) -> np.ndarray:
    """Feature matrix, one row per action: the verb's one-hot times the indicators above."""
    obj, place = goal_parts(instruction)
    h = float(holding)
    phi = np.zeros((len(actions), len(VERBS), N_INDICATORS))
    for i, a in enumerate(actions):
        words = a.lower().split()
        verb = words[0] if words and words[0] in VERBS else "other"
        named = _content_words(" ".join(words[1:]))
        mo, mp = float(bool(named & obj)), float(bool(named & place))
        new = float(verb == "go" and _target(a) not in visited)
        phi[i, VERBS.index(verb)] = (1.0, mo, mp, h, h * mo, h * mp, new)
    return phi.reshape(len(actions), -1)


class SoftmaxPolicy:
    """Linear softmax over admissible actions, one weight vector per task type."""

    def __init__(self) -> None:
        self.theta: dict[str, np.ndarray] = {}

    def weights(self, task_type: str) -> np.ndarray:
        """The weight vector of a task type (created at zero)."""
        if task_type not in self.theta:
            self.theta[task_type] = np.zeros(N_FEATURES)
        return self.theta[task_type]

    def probs(self, phi: np.ndarray, task_type: str) -> np.ndarray:
        """Action probabilities for a feature matrix."""
        z = phi @ self.weights(task_type)
        z = np.exp(z - z.max())
        return z / z.sum()


def _features(info: dict[str, Any], visited: set[str]) -> np.ndarray:
    return action_features(
        list(info["admissible_actions"]),
        str(info.get("instruction", "")),
        info.get("holding") is not None,
        visited,
    )


def run_episode(
    env: gym.Env, policy: SoftmaxPolicy, rng: np.random.Generator, seed: int, split: str
) -> tuple[list[tuple[str, np.ndarray, int]], list[float], list[float], bool]:
    """One episode: per-step (task type, features, chosen index), rewards, potentials, won.

    The potential of step t's state is the PRM's promise of step t − 1 as the
    wrapper reports it in ``info["prm"]`` (0 at the start, and always 0 on the
    sparse env, which has no PRM).
    """
    _obs, info = env.reset(seed=seed, options={"split": split})
    ttype = str(info.get("task_type", "any"))
    record, rewards, phis = [], [], []
    phi_s = 0.0  # potential of the current state: the PRM's value of the last step (0 at start)
    visited: set[str] = set()
    done = False
    while not done:
        phi = _features(info, visited)
        k = int(rng.choice(len(phi), p=policy.probs(phi, ttype)))
        action = info["admissible_actions"][k]
        if action.startswith("go to "):
            visited.add(_target(action))
        _obs, r, term, trunc, info = env.step(action)
        record.append((ttype, phi, k))
        rewards.append(float(r))
        phis.append(phi_s)
        phi_s = float(info["prm"]["promise"]) if "prm" in info else 0.0
        done = term or trunc
    return record, rewards, phis, bool(info.get("won", False))


@dataclass
class TrainResult:
    """What a training run produced."""

    policy: SoftmaxPolicy
    env_steps: int
    episodes: int
    train_success: float
    seconds: float


def make_env(shaped: bool, gamma: float, task_type: str | None) -> gym.Env:
    """ALFWorld-v0, optionally wrapped with oracle potential shaping at discount ``gamma``."""
    kw = {"task_type": task_type} if task_type else {}
    env = gym.make("AgentPRM/ALFWorld-v0", **kw)
    return PRMReward(env, OraclePRM(), mode="potential", gamma=gamma) if shaped else env


SHAPING_GAMMA = 1.0


def train(
    shaped: bool,
    env_steps: int,
    seed: int = 0,
    lr: float = 0.1,
    gamma: float = 1.0,
    batch: int = 8,
    task_type: str | None = None,
) -> TrainResult:
    """REINFORCE for (at least) ``env_steps`` env steps; returns the trained policy."""
    env = make_env(shaped, SHAPING_GAMMA, task_type)
    rng = np.random.default_rng(seed)
    policy = SoftmaxPolicy()
    steps = episodes = wins = 0
    baseline = np.zeros(10_000)
    t0 = time.perf_counter()
    while steps < env_steps:
        eps = []
        for _ in range(batch):
            rec, rew, pot, won = run_episode(env, policy, rng, int(rng.integers(2**31)), "train")
            eps.append((rec, rew, pot))
            steps += len(rew)
            episodes += 1
            wins += won
        returns = []
        for _rec, rew, pot in eps:
            g, out = 0.0, []
            for r in reversed(rew):
                g = r + gamma * g
                out.append(g)
            # b(s_t) = -Phi(s_t) is a state baseline (Phi = 0 on the sparse env)
            returns.append([gt + p for gt, p in zip(out[::-1], pot)])
        # baseline: a running mean of the return at each step index (time is part of the
        # state), updated after use; advantages normalized by their batch std
        advs = [[g - baseline[t] for t, g in enumerate(gs)] for gs in returns]
        scale = float(np.std([a for adv in advs for a in adv])) + 1e-8
        for t in range(max(len(gs) for gs in returns)):
            at_t = [gs[t] for gs in returns if len(gs) > t]
            baseline[t] = 0.8 * baseline[t] + 0.2 * float(np.mean(at_t))
        grads: dict[str, np.ndarray] = {}
        for (rec, _, _), adv in zip(eps, advs):
            for (ttype, phi, k), a in zip(rec, adv):
                p = policy.probs(phi, ttype)
                gl = phi[k] - p @ phi
                grads.setdefault(ttype, np.zeros(N_FEATURES))
                grads[ttype] += a / scale * gl
        for ttype, gr in grads.items():
            policy.theta[ttype] = policy.weights(ttype) + lr * gr / batch
    env.close()
    return TrainResult(policy, steps, episodes, wins / max(episodes, 1), time.perf_counter() - t0)


def evaluate(
    policy: SoftmaxPolicy, episodes: int, seed: int = 1, task_type: str | None = None
) -> float:
    """Success rate of the (sampling) policy on test tasks, on the sparse env."""
    env = make_env(False, 1.0, task_type)
    rng = np.random.default_rng(seed)
    wins = 0
    for i in range(episodes):
        *_, won = run_episode(env, policy, rng, 10_000 + i, "test")
        wins += won
    env.close()
    return wins / episodes


def main(argv: list[str] | None = None) -> int:
    """Train both variants and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20_000, help="env steps per training run")
    ap.add_argument("--eval", type=int, default=100, help="test episodes per policy")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--gamma", type=float, default=1.0, help="the learner's discount")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument(
        "--task-type",
        default="pick_and_place_simple",
        help="restrict ALFWorld to one task type ('' for all six)",
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    args.task_type = args.task_type or None
    rows = []
    for seed in args.seeds:
        for shaped in (False, True):
            tr = train(shaped, args.steps, seed, args.lr, args.gamma, args.batch, args.task_type)
            sr = evaluate(tr.policy, args.eval, seed=seed + 1, task_type=args.task_type)
            row = {
                "reward": "potential(oracle)" if shaped else "sparse",
                "seed": seed,
                "env_steps": tr.env_steps,
                "episodes": tr.episodes,
                "train_success": round(tr.train_success, 4),
                "test_success": round(sr, 4),
                "seconds": round(tr.seconds, 1),
            }
            rows.append(row)
            print(row, flush=True)
    summary = {
        kind: float(np.mean([r["test_success"] for r in rows if r["reward"] == kind]))
        for kind in ("sparse", "potential(oracle)")
    }
    print("mean test success:", summary)
    if args.json:
        print(json.dumps({"rows": rows, "mean_test_success": summary, "args": vars(args)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
