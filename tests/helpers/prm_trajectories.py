"""Synthetic corridor trajectories for PRM tests, built directly (no env needed)."""

from __future__ import annotations

import numpy as np

from agentprm_gym.core.trajectory import Step, Trajectory


def corridor_trajectories(tasks, per_task, eps=0.5, seed=0, split="train", max_steps=10):
    """Noisy-expert episodes in a corridor: go[next] is the expert action, jump[pit] loses."""
    rng = np.random.default_rng(seed)
    out = []
    for task in tasks:
        n = 2 + task % 4
        for k in range(per_task):
            room, steps, won, final = 0, [], False, 0.0
            for _ in range(max_steps):
                adm = ["go[next]", "wait", "jump[pit]"] + (["go[back]"] if room > 0 else [])
                act = "go[next]" if rng.random() > eps else adm[int(rng.integers(len(adm)))]
                obs = f"You are in room {room} of {n}. A pit lies beside the path."
                reward = 0.0
                if act == "go[next]":
                    room += 1
                elif act == "go[back]":
                    room -= 1
                done = act == "jump[pit]" or room == n
                if room == n:
                    reward, won = 1.0, True
                steps.append(Step(obs, act, reward, None, adm, "go[next]"))
                if done:
                    break
            final = steps[-1].reward
            out.append(
                Trajectory(
                    env_id="Test/Corridor-v0",
                    task_id=task,
                    split=split,
                    policy=f"noisy:{eps}",
                    instruction=f"Walk to room {n}.",
                    steps=steps,
                    final_observation="end",
                    final_reward=final,
                    won=won,
                    truncated=not won and steps[-1].action != "jump[pit]",
                    seed=k,
                )
            )
    return out
