"""What the search algorithms share: results, partial episodes and PRM items."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agentprm_gym.core.trajectory import Step, Trajectory
from agentprm_gym.prm.base import ScoreItem, build_history
from agentprm_gym.rollout import env_id_of
from agentprm_gym.search.handle import EnvHandle
from agentprm_gym.search.ledger import Ledger

__all__ = [
    "Branch",
    "SearchResult",
    "bind_all",
    "finish_trajectory",
    "play_out",
    "reset_options",
    "seed_policy",
    "start_trajectory",
    "step_branch",
    "unbind_prm",
]


@dataclass
class SearchResult:
    """What a search returns.

    Attributes:
        trajectory: The chosen episode.
        reward: Its final env reward.
        won: Whether it won.
        ledger: Compute spent by the whole search.
        score: The PRM's value of the chosen episode's last step (None for greedy).
    """

    trajectory: Trajectory
    reward: float
    won: bool
    ledger: Ledger
    score: float | None = None


@dataclass
class Branch:
    """A partial episode: what was seen and done, and the env state it left.

    Attributes:
        observations: ``o_0 .. o_t``.
        info: The info of the last reset/step.
        steps: One :class:`Step` per action taken.
        state: Snapshot of the env after the last action (None when not needed).
        reward: Reward of the last step.
        terminated: The episode ended.
        truncated: The step limit was hit.
        q: The PRM's value of the last step (None before scoring).
    """

    observations: list[str]
    info: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    state: Any = None
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    q: float | None = None

    @property
    def done(self) -> bool:
        """Finished: terminated or truncated."""
        return self.terminated or self.truncated

    @property
    def obs(self) -> str:
        """The current observation."""
        return self.observations[-1]

    @property
    def actions(self) -> list[str]:
        """Actions taken so far."""
        return [s.action for s in self.steps]

    def child(
        self, action: str, obs: str, reward: float, terminated: bool, info: dict[str, Any]
    ) -> Branch:
        """The branch after ``action`` (its ``state`` and ``truncated`` are set by the caller)."""
        step = Step(
            observation=self.obs,
            action=action,
            reward=float(reward),
            action_error=info.get("action_error"),
            admissible_actions=list(self.info.get("admissible_actions", [])),
        )
        return Branch(
            observations=[*self.observations, obs],
            info=info,
            steps=[*self.steps, step],
            reward=float(reward),
            terminated=bool(terminated),
        )

    def policy_info(self) -> dict[str, Any]:
        """The info to give a policy here: the env's info plus ``history``.

        ``history`` lists the branch's past ``(observation, action)`` turns, so that
        LM policies prompt with the right turns whichever branch they are asked about.
        """
        info = dict(self.info)
        info["history"] = list(zip(self.observations[:-1], self.actions))
        return info

    def last_item(self, instruction: str) -> ScoreItem:
        """The PRM item of the last step: (instruction, history before it, its action)."""
        if not self.steps:
            raise ValueError("a branch with no steps has no step to score")
        hist = build_history(self.observations[:-1], self.actions[:-1])
        return ScoreItem(
            instruction,
            hist,
            self.steps[-1].action,
            next_state=self.state,
            done=self.terminated,
            reward=self.reward,
            won=bool(self.info.get("won", False)),
        )


def reset_options(task_id: int | None, split: str | None) -> dict[str, Any] | None:
    """Reset options for an explicit task and split."""
    opts: dict[str, Any] = {}
    if task_id is not None:
        opts["task_id"] = int(task_id)
    if split is not None:
        opts["split"] = split
    return opts or None


def start_trajectory(
    env: gym.Env, policy: Any, info: dict[str, Any], seed: int | None, method: str
) -> Trajectory:
    """An empty trajectory record for an episode that began with ``info``."""
    return Trajectory(
        env_id=env_id_of(env),
        task_id=int(info.get("task_id", -1)),
        split=str(info.get("split", "")),
        policy=getattr(policy, "name", type(policy).__name__),
        instruction=str(info.get("instruction", "")),
        seed=seed,
        meta={"search": method},
    )


def finish_trajectory(traj: Trajectory, branch: Branch) -> Trajectory:
    """Fill ``traj`` with the steps and outcome of ``branch``."""
    traj.steps = list(branch.steps)
    traj.final_observation = branch.obs
    traj.final_reward = float(branch.reward)
    traj.won = bool(branch.info.get("won", False))
    traj.truncated = bool(branch.truncated and not branch.terminated)
    return traj


def step_branch(handle: EnvHandle, branch: Branch, action: str, max_steps: int | None) -> Branch:
    """Take ``action`` from the env's *current* state (which must be ``branch``'s).

    The branch is truncated at the search's step limit or when the base env
    truncates by itself (BabyAI levels end at their own step budget); the
    handle steps the base env, so ``TimeLimit`` plays no part in the latter.
    """
    obs, reward, terminated, env_truncated, info = handle.step(action)
    nxt = branch.child(action, obs, reward, terminated, info)
    at_limit = max_steps is not None and len(nxt.steps) >= max_steps
    nxt.truncated = not nxt.terminated and (bool(env_truncated) or at_limit)
    return nxt


def play_out(handle: EnvHandle, policy: Any, branch: Branch, max_steps: int | None) -> Branch:
    """Let ``policy`` act (one sample per step) from ``branch`` until the episode ends.

    The env must be in ``branch``'s state. Without a step limit, an episode
    that never ends loops forever, as with any Gymnasium env.
    """
    while not branch.done:
        action = policy.propose(branch.obs, branch.policy_info(), 1)[0]
        branch = step_branch(handle, branch, action, max_steps)
    return branch


def seed_policy(policy: Any, seed: int | None) -> None:
    """Reseed the policy (if it can be) so that the same seed gives the same search."""
    if seed is not None and hasattr(policy, "seed"):
        policy.seed(seed)


def bind_all(handle: EnvHandle, policy: Any, prm: Any = None) -> None:
    """Bind the policy to the env and a PRM to the counting handle."""
    if hasattr(policy, "bind"):
        policy.bind(handle.env)
    if prm is not None and hasattr(prm, "bind"):
        prm.bind(handle)


def unbind_prm(handle: EnvHandle, prm: Any) -> None:
    """Re-bind a PRM to the user's env after a search."""
    if prm is not None and hasattr(prm, "bind"):
        prm.bind(handle.env)
