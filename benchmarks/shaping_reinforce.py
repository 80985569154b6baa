"""Policy gradient on ALFWorld-v0 with and without PRM potential-based shaping.

The agent is a linear softmax policy over the admissible actions. An action's
features are a one-hot of its verb (``go``, ``take``, ``move``, ...) crossed
with seven indicators — a bias, the action names the task's object / the task's
target place (first and last content word of the instruction), the agent holds
something (and crossed with both), and the action goes to a place not yet
visited in the episode (the agent's own memory) — and the weights are kept
per task type.

The learner is one algorithm for both rewards: batches of episodes on train
tasks; a critic that knows only the step index, ``V(t)`` = a running mean of the
discounted return seen at index ``t`` (``V = 0`` past the episode's end);
GAE(λ) advantages ``A_t = Σ_k (γλ)^k δ_{t+k}``, ``δ_t = r_t + γV(t+1) − V(t)``,
divided by their batch standard deviation; one gradient-ascent step per batch.
With ``λ = 1`` this is plain REINFORCE with a per-step-index baseline. The two
runs share seed, tasks, env-step budget, learning rate, γ and λ; the only
difference is the reward the learner reads: the env's sparse reward (1 on
success), or ``PRMReward(env, OraclePRM(), mode="potential", gamma=γ)`` — the env
reward plus ``γΦ(s′) − Φ(s)``, Φ the oracle's value of the previous step and
``Φ(terminal) = 0``, with the wrapper's γ equal to the learner's, so the shaping
is potential-based for the objective being optimized and keeps its optimal
policies. The learner never reads ``info["prm"]``. After training, each policy
is evaluated (sampling, seeded) on test tasks of the plain env; the figure is
the success rate.

What to expect: with ``λ = 1`` the shaping terms of a Monte-Carlo return
telescope to ``−Φ(s_t) + γ^{T−t}Φ(s_T)`` (the last term only on truncation), so
in expectation shaping changes the gradient only by the truncation term and acts
otherwise as an extra, noisy state baseline. With ``λ < 1`` the critic
bootstraps and the shaping's per-step progress reaches each action directly,
which is where potential-based shaping is meant to speed learning.

An earlier version of this script (2026-11-25, session 1) reported that
shaping did *not* beat the sparse reward; it had two faults: the wrapper's γ
(1) differed from the learner's (0.9), so the shaping was not potential-based
for the learner's objective, and both runs used the baseline
``b(s_t) = −Φ(s_t) + mean``, which cancels exactly what shaping adds to a
Monte-Carlo return (and gave the shaped learner Φ, read from ``info``, that the
sparse learner could not have).

Measured (2026-11-25, pick_and_place_simple, 20 000 env steps per run,
100 test episodes, seeds 0 1 2, lr 0.1, batch 8, 2 shared cores at load average
3–16), test success per seed, mean in brackets:

===========  ================================  ================================
γ, λ         sparse                            potential (oracle)
===========  ================================  ================================
0.9, 1.0     0.54 / 0.49 / 0.18 (0.40)         0.57 / 0.02 / 0.50 (0.36)
0.9, 0.8     0.32 / 0.19 / 0.38 (0.30)         0.85 / 0.50 / 0.80 (0.72)
0.9, 0.5     0.07 / 0.02 / 0.25 (0.11)         0.87 / 0.87 / 0.84 (0.86)
0.8, 1.0     0.28 / 0.41 / 0.17 (0.29)         0.00 / 0.00 / 0.33 (0.11)
0.8, 0.5     0.01 / 0.01 / 0.01 (0.01)         0.50 / 0.80 / 0.78 (0.69)
1.0, 1.0     0.14 / 0.00 / 0.05 (0.06)         0.33 / 0.32 / 0.04 (0.23)
===========  ================================  ================================

The best sparse setting of this grid (γ 0.9, λ 1: mean 0.40) is beaten in the
mean by every shaped run with λ < 1 (0.72, 0.86, 0.69), and per seed by the
shaped run at γ 0.9, λ 0.5 (0.87 / 0.87 / 0.84 against 0.54 / 0.49 / 0.18). At
the same (γ, λ) shaping wins for every λ < 1 and for γ = 1, but *not* for plain
REINFORCE at γ 0.9 or 0.8, where the shaped run collapsed on one or two seeds
of three (seed 1 at γ 0.9 never won a training episode). So the gain comes
from bootstrapped credit assignment (λ < 1), not from the Monte-Carlo return.

Smaller budgets (pick_and_place_simple, γ 0.9, batch 8, 50 test episodes;
per-seed figures for seeds 0 1 2, or 0–3 where there are four): the gain
appears between 8 000 and 12 000 steps; shaping did not learn faster at the
very start, and larger learning rates made the shaped learner collapse on
some seeds.

=============  =====  ====  ==========================  ==========================
env steps      lr     λ     sparse                      potential (oracle)
=============  =====  ====  ==========================  ==========================
4 000          0.1    0.5   0.02 / 0.02 / 0.00          0.04 / 0.02 / 0.10
4 000          0.1    1.0   0.02 / 0.02 / 0.00          0.02 / 0.00 / 0.02
8 000          0.1    0.5   0.08 / 0.00 / 0.12 / 0.02   0.04 / 0.12 / 0.10 / 0.02
12 000         0.1    0.5   0.00 / 0.00 / 0.04          0.82 / 0.58 / 0.66
12 000         0.1    1.0   0.08 / 0.08 / 0.00          0.20 / 0.00 / 0.02
3 000          0.3    0.5   0.02 / 0.02 / 0.04 / 0.04   0.08 / 0.00 / 0.18 / 0.00
6 000          0.3    0.5   0.04 / 0.10 / 0.00          0.52 / 0.00 / 0.80
6 000          0.3    1.0   0.16 / 0.02 / 0.00          0.00 / 0.00 / 0.00
6 000          0.2    0.5   0.04 / 0.00 / 0.02 / 0.00   0.02 / 0.02 / 0.30 / 0.04
8 000          0.15   0.5   0.06 / 0.16 / 0.00 / 0.14   0.00 / 0.04 / 0.34 / 0.14
=============  =====  ====  ==========================  ==========================

One collapsed shaped policy (seed 1, lr 0.3, 6 000 steps, λ 0.5) had learned
to take the task's object (weight +4.0 on take × object) and then, holding it,
to examine things rather than go anywhere (go × holding −2.2) or move the
object (move × object −1.9): these features barely tell "move it to the target"
from "move it elsewhere" (move × place +0.3), and the oracle's potential drops
when the object is put down in the wrong place. A random policy wins 0 of 200
test episodes of every task type except look_at_obj_in_light (0.025), so the
sparse reward is rarely hit by chance on all of them.

A longer task type, pick_clean_then_place_in_recep (expert plan 6.5 steps on
average against 4.6, 20 train tasks each; γ 0.9, lr 0.1, 50 test episodes):
at 20 000 steps (seeds 0 1 2), with λ 1 both rewards stay at 0.00 on every
seed, with λ 0.5 sparse 0.00 / 0.00 / 0.00 and shaped 0.00 / 0.04 / 0.16; at
50 000 steps (seeds 0 1), with λ 1 both 0.00 / 0.00, with λ 0.5 sparse
0.00 / 0.00 and shaped 0.38 / 0.28. None of these sparse runs won a single
training episode; every shaped λ 1 run also stayed at 0.

Usage::

    .venv/bin/python benchmarks/shaping_reinforce.py --steps 20000 --eval 100 --lams 1 0.5 --json
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
from agentprm_gym.prm.labels import discounted_returns, gae_advantages
from agentprm_gym.wrappers import PRMReward

__all__ = [
    "SoftmaxPolicy",
    "TrainResult",
    "action_features",
    "advantages",
    "evaluate",
    "train",
]

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
) -> tuple[list[tuple[str, np.ndarray, int]], list[float], bool]:
    """One episode: per-step (task type, features, chosen index), rewards, won."""
    _obs, info = env.reset(seed=seed, options={"split": split})
    ttype = str(info.get("task_type", "any"))
    record, rewards = [], []
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
        done = term or trunc
    return record, rewards, bool(info.get("won", False))


def advantages(
    rewards: list[float], value: np.ndarray, gamma: float, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """GAE(λ) advantages and discounted returns of one episode under a step-index critic.

    ``value[t]`` is the critic's value of step index ``t``; the value after the
    episode's last step is 0.
    """
    values = value[: len(rewards)]
    return gae_advantages(values, rewards, gamma, lam), discounted_returns(rewards, gamma)


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


def train(
    shaped: bool,
    env_steps: int,
    seed: int = 0,
    lr: float = 0.1,
    gamma: float = 0.9,
    lam: float = 1.0,
    batch: int = 8,
    task_type: str | None = None,
) -> TrainResult:
    """Policy gradient with GAE(λ) for (at least) ``env_steps`` env steps.

    ``shaped`` only changes the env (the shaping uses the learner's ``gamma``);
    the learner is the same and sees only the reward.
    """
    env = make_env(shaped, gamma, task_type)
    rng = np.random.default_rng(seed)
    policy = SoftmaxPolicy()
    steps = episodes = wins = 0
    value = np.zeros(1 + int(env.spec.max_episode_steps or 1000))  # critic: V(step index)
    t0 = time.perf_counter()
    while steps < env_steps:
        eps = []
        for _ in range(batch):
            rec, rew, won = run_episode(env, policy, rng, int(rng.integers(2**31)), "train")
            eps.append((rec, rew))
            steps += len(rew)
            episodes += 1
            wins += won
        advs, rets = zip(*(advantages(rew, value, gamma, lam) for _, rew in eps))
        scale = float(np.std(np.concatenate(advs))) + 1e-8
        for t in range(max(len(g) for g in rets)):
            value[t] = 0.8 * value[t] + 0.2 * float(np.mean([g[t] for g in rets if len(g) > t]))
        grads: dict[str, np.ndarray] = {}
        for (rec, _), adv in zip(eps, advs):
            for (ttype, phi, k), a in zip(rec, adv):
                p = policy.probs(phi, ttype)
                grads.setdefault(ttype, np.zeros(N_FEATURES))
                grads[ttype] += a / scale * (phi[k] - p @ phi)
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


REWARDS = ("sparse", "potential(oracle)")


def main(argv: list[str] | None = None) -> int:
    """Train both variants at each λ and print the comparison."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=20_000, help="env steps per training run")
    ap.add_argument("--eval", type=int, default=100, help="test episodes per policy")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--gamma", type=float, default=0.9, help="the learner's (and shaping's) γ")
    ap.add_argument("--lams", type=float, nargs="+", default=[1.0, 0.5], help="GAE λ values")
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
    for lam in args.lams:
        for seed in args.seeds:
            for reward in REWARDS:
                tr = train(
                    reward != "sparse", args.steps, seed, args.lr, args.gamma, lam, args.batch,
                    args.task_type,
                )  # fmt: skip
                sr = evaluate(tr.policy, args.eval, seed=seed + 1, task_type=args.task_type)
                row = {
                    "reward": reward,
                    "lam": lam,
                    "seed": seed,
                    "env_steps": tr.env_steps,
                    "episodes": tr.episodes,
                    "train_success": round(tr.train_success, 4),
                    "test_success": round(sr, 4),
                    "seconds": round(tr.seconds, 1),
                }
                rows.append(row)
                print(row, flush=True)
    means = {
        f"{reward} lam={lam}": float(
            np.mean([r["test_success"] for r in rows if r["reward"] == reward and r["lam"] == lam])
        )
        for lam in args.lams
        for reward in REWARDS
    }
    for key, m in means.items():
        per_seed = [r["test_success"] for r in rows if f"{r['reward']} lam={r['lam']}" == key]
        print(f"{key:28s} mean {m:.3f}  per seed {per_seed}")
    best = {
        reward: max(v for k, v in means.items() if k.startswith(reward + " ")) for reward in REWARDS
    }
    print("best mean over λ:", best)
    if args.json:
        print(
            json.dumps({"rows": rows, "mean_test_success": means, "best": best, "args": vars(args)})
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
