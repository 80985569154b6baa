"""Is a state PRM's ranking limited by what it can read, or by its labels?

``eval-prm``'s step ranking asks whether the PRM scores the expert's action
above one other admissible action. This script trains the state-encoder PRM
(``train-prm --arch state``) on the same rollouts several times, changing only
the labels, and ranks the same held-out pairs with each:

- any label kind of ``train-prm --labels`` (``gae`` is AgentPRM, ``pvm``,
  ``outcome``, ``td0``; ``mc`` needs MC-labelled data): labels built from the
  rollouts' returns, as the method trains;
- ``expert``: 1 where the rollout's action is the expert's recorded action and 0
  elsewhere, trained as MC labels (``labels="mc"``: plain regression, β = 0).
  This is imitation, not a PRM of the paper: it says how well the *same network*
  ranks from the *same observations* when each label says directly whether the
  step was right. If ``expert`` ranks far above ``gae``, the network can read
  the decision and the limit is the signal in the return labels (their variance
  against the data size), not the inputs or the architecture. Part of its edge
  is the metric's: a randomly drawn other action is rarely one the expert
  would take anywhere, and imitation labels say so directly.
- ``qpi``: labels of far lower variance than one return, for every candidate.
  For the first ``--qpi-per-task`` episodes of each training task, *every*
  admissible action at *every* state gets ``Q^pi(s, a)`` estimated from
  ``--qpi-rollouts`` Monte-Carlo rollouts of the episodes' policy from the
  restored state (mean final reward, as ``ranking_ceiling.py`` values it), and
  the network regresses them (``labels="mc"``, β = 0; one training group per
  state). Not a method of the paper either: it asks whether the network, given
  an N-rollout estimate for every candidate rather than one return for the
  action taken, fits its own training pairs and ranks held-out ones. The
  estimates are still noisy (8 rollouts tie often). Besides the usual figures
  it reports ``label_train_ranking``, how the labels themselves rank the
  training pairs whose two actions both have an estimate (the most the fit can
  reach), and ``fit_on_labelled_pairs``, how the trained PRM ranks the same pairs.
- ``KIND+goal`` (WebShop only): labels ``KIND``, but every instruction, in
  training and held out, ends with the goal product's title (privileged: the
  env's ``goal.name``). The network is then *given* what decides most leave-
  the-page steps (is this item, or any listed result, the goal?). If ranking
  does not rise, the labels do not teach the network to use it.

Every variant gets the same network, seed, epochs and batch size; with
``--cache FILE`` they share one frozen token-state cache on disk (without it,
each variant encodes the texts again). Per variant it prints the held-out ranking, the
ranking by expert action (as ``eval-prm --by-action``), the ranking of the same
kind of pairs on training episodes, and the wall time; the last line is one JSON
object.

``runs/ws-m.jsonl`` and ``runs/ws-m-test.jsonl`` below are the records of tasks
0–99 of the README's paper-sized WebShop files (``runs/ws.jsonl``,
``runs/ws-test.jsonl``, from the two ``agentprm-gym collect`` lines there), for
example ``jq -c 'select(.task_id < 100)' runs/ws.jsonl > runs/ws-m.jsonl``.
Run (about 5 minutes a variant on that subset, one thread)::

    .venv/bin/python benchmarks/prm_label_signal.py --train runs/ws-m.jsonl \\
        --test runs/ws-m-test.jsonl --variants gae,pvm,expert,gae+goal --epochs 6 \\
        --threads 1 --cache runs/ws-m.tokens

and the ``qpi`` row of docs/prm-experiments.md (about 1 minute of rollouts, then 5 of training)::

    .venv/bin/python benchmarks/prm_label_signal.py --train runs/ws-m.jsonl \\
        --test runs/ws-m-test.jsonl --variants qpi --epochs 10 --threads 1 \\
        --cache runs/ws-m.tokens
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from agentprm_gym.core.trajectory import Trajectory, read_trajectories

__all__ = ["expert_labels", "with_expert_labels", "q_pi_states", "run_variant", "main"]

#: The variant that trains on expert-imitation labels.
EXPERT = "expert"
#: The variant that trains on Monte-Carlo Q^pi estimates of every admissible action.
QPI = "qpi"
#: Suffix of the variants whose instructions name the goal product.
GOAL = "+goal"


def expert_labels(traj: Trajectory) -> list[float]:
    """1.0 for each step whose action is the recorded expert action, else 0.0.

    Raises:
        ValueError: If a step has no recorded expert action.
    """
    out = []
    for t, step in enumerate(traj.steps):
        if step.expert_action is None:
            raise ValueError(
                f"task {traj.task_id} step {t} has no expert action: the expert variant "
                "needs rollouts collected with expert actions recorded"
            )
        out.append(1.0 if step.action == step.expert_action else 0.0)
    return out


def with_expert_labels(trajs: Sequence[Trajectory]) -> list[Trajectory]:
    """Copies of ``trajs`` whose ``meta["mc_soft"]`` holds :func:`expert_labels`."""
    return [
        dataclasses.replace(t, meta={**t.meta, "mc_soft": expert_labels(t)})
        for t in trajs
        if t.steps
    ]


def first_per_task(trajs: Sequence[Trajectory], per_task: int) -> list[Trajectory]:
    """The first ``per_task`` non-empty trajectories of each task, in file order."""
    seen: dict[tuple[str, str, int], int] = {}
    out = []
    for t in trajs:
        key = (t.env_id, t.split, t.task_id)
        if t.steps and seen.get(key, 0) < per_task:
            seen[key] = seen.get(key, 0) + 1
            out.append(t)
    return out


def q_pi_states(
    trajs: Sequence[Trajectory], rollouts: int, seed: int = 0, progress: bool = True
) -> tuple[list[Any], dict[tuple[int, int], dict[str, float]]]:
    """Every state of ``trajs`` with every admissible action labelled by its MC ``Q^pi``.

    ``Q^pi(s, a)`` is the mean final reward of ``rollouts`` rollouts of the
    trajectory's recorded policy after taking ``a`` in the restored state
    (:func:`agentprm_gym.prm.mc.mc_action_values`).

    Returns:
        ``(states, values)``: one :class:`~agentprm_gym.prm.steps.EpisodeSteps`
        per state holding all its admissible actions with ``mc_soft`` = their
        estimates, and ``values[(i, t)]`` = action → estimate for trajectory i, step t.

    Raises:
        ValueError: If a trajectory cannot be replayed or names no policy.
    """
    import gymnasium as gym
    import numpy as np
    from tqdm.auto import tqdm

    import agentprm_gym  # noqa: F401  (registers the envs)
    from agentprm_gym.agents.spec import make_policy
    from agentprm_gym.prm.mc import derive_seed, mc_action_values
    from agentprm_gym.prm.steps import EpisodeSteps, step_items

    envs: dict[str, Any] = {}
    policies: dict[str, Any] = {}
    states: list[Any] = []
    values: dict[tuple[int, int], dict[str, float]] = {}
    for i, tr in enumerate(tqdm(trajs, desc="Q^pi of every action", disable=not progress)):
        if not tr.policy:
            raise ValueError(f"task {tr.task_id}: the trajectory names no policy to roll out")
        if tr.env_id not in envs:
            envs[tr.env_id] = gym.make(tr.env_id)
        if tr.policy not in policies:
            policies[tr.policy] = make_policy(tr.policy)
        env, pol = envs[tr.env_id], policies[tr.policy]
        queries = {
            t: list(s.admissible_actions) for t, s in enumerate(tr.steps) if s.admissible_actions
        }
        est, _ = mc_action_values(env, pol, tr, queries, rollouts, seed=derive_seed(seed, i))
        items = step_items(tr)
        for t, acts in queries.items():
            q = est[t].mean(axis=1)
            values[(i, t)] = dict(zip(acts, q.tolist(), strict=True))
            states.append(
                EpisodeSteps(
                    items=[items[t]._replace(action=a) for a in acts],
                    rewards=np.zeros(len(acts)),
                    final_reward=0.0,
                    won=False,
                    task_id=tr.task_id,
                    mc_soft=q,
                    mc_hard=None,
                    trajectory=tr,
                )
            )
    for env in envs.values():
        env.close()
    return states, values


def labelled_choices(
    episodes: Sequence[Any], values: dict[tuple[int, int], dict[str, float]]
) -> list[Any]:
    """``eval-prm``'s pairs (seed 0) of ``episodes`` whose two actions both have a value.

    A pair whose expert action is not admissible (a WebShop search for the goal's
    exact title) has no estimate and is left out.
    """
    from agentprm_gym.prm.metrics import ranking_choices

    return [
        c
        for c in ranking_choices(episodes, 0)
        if {c.expert, c.other} <= values.get((c.episode, c.step), {}).keys()
    ]


def label_ranking(
    choices: Sequence[Any], values: dict[tuple[int, int], dict[str, float]]
) -> float | None:
    """How the ``Q^pi`` labels themselves rank ``choices`` (a tie counts half)."""
    from agentprm_gym.prm.metrics import pair_wins

    if not choices:
        return None
    first = [values[(c.episode, c.step)][c.expert] for c in choices]
    second = [values[(c.episode, c.step)][c.other] for c in choices]
    return float(pair_wins(first, second).mean())


def with_goal_titles(trajs: Sequence[Trajectory]) -> list[Trajectory]:
    """Copies of ``trajs`` whose instruction ends with ``" [goal product] " + title``.

    The title is the env's ``goal.name`` for the trajectory's split and task.

    Raises:
        ValueError: If the env exposes no goal product (only WebShop does).
    """
    import gymnasium as gym

    envs: dict[str, Any] = {}
    names: dict[tuple[str, str, int], str] = {}
    out = []
    for t in trajs:
        key = (t.env_id, t.split, t.task_id)
        if key not in names:
            if t.env_id not in envs:
                envs[t.env_id] = gym.make(t.env_id)
            env = envs[t.env_id]
            env.reset(seed=0, options={"task_id": t.task_id, "split": t.split})
            goal = getattr(env.unwrapped, "goal", None)
            if getattr(goal, "name", None) is None:
                raise ValueError(f"{t.env_id} exposes no goal product: '{GOAL}' needs WebShop")
            names[key] = str(goal.name)
        out.append(
            dataclasses.replace(t, instruction=f"{t.instruction} [goal product] {names[key]}")
        )
    for env in envs.values():
        env.close()
    return out


def run_variant(
    variant: str,
    train: Sequence[Trajectory],
    test: Sequence[Trajectory],
    *,
    epochs: int,
    batch_size: int,
    encoder: str = "minilm",
    cache: str | None = None,
    seed: int = 0,
    progress: bool = True,
    net_args: dict[str, Any] | None = None,
    qpi_rollouts: int = 8,
    qpi_per_task: int = 2,
) -> dict[str, Any]:
    """Train one state PRM with ``variant``'s labels and rank the held-out pairs.

    Args:
        variant: A ``train-prm`` label kind, ``"expert"`` or ``"qpi"``, optionally
            with ``"+goal"``.
        train: Training trajectories (expert actions recorded for ``expert``).
        test: Held-out trajectories with expert actions recorded.
        epochs: Training epochs.
        batch_size: Steps per optimiser batch.
        encoder: Frozen encoder (``minilm``, ``tiny`` for tests, or a directory).
        cache: Token-state cache file shared by the variants.
        seed: Seed of the network and the training order.
        progress: Progress bars on stderr.
        net_args: Extra :meth:`StatePRM.create` arguments (``d``, ``heads`` ...).
        qpi_rollouts: Rollouts per action for ``qpi``.
        qpi_per_task: Episodes per training task that ``qpi`` labels.

    Returns:
        A JSON-ready dict of the variant's figures.
    """
    import gymnasium as gym

    from agentprm_gym.prm.metrics import ranking_accuracy, ranking_by_action
    from agentprm_gym.prm.state_model import StatePRM
    from agentprm_gym.prm.steps import episode_steps
    from agentprm_gym.prm.training import TrainConfig, train_prm

    t0 = time.perf_counter()
    base = variant.removesuffix(GOAL)
    if base != variant:
        train, test = with_goal_titles(train), with_goal_titles(test)
    labels = "mc" if base in (EXPERT, QPI) else base
    te = episode_steps(test)
    extra: dict[str, Any] = {}
    if base == QPI:
        chosen = first_per_task(train, qpi_per_task)
        tr, values = q_pi_states(chosen, qpi_rollouts, seed=seed, progress=progress)
        fit = episode_steps(chosen)[: max(1, len(te))]
        labelled = labelled_choices(fit, values)
        label_rank = label_ranking(labelled, values)
        extra = {
            "qpi_episodes": len(chosen),
            "qpi_rollouts": qpi_rollouts,
            "qpi_states": len(tr),
            "qpi_items": sum(len(e) for e in tr),
            "label_train_ranking": None if label_rank is None else round(label_rank, 4),
            "label_train_pairs": len(labelled),
        }
    else:
        tr = episode_steps(with_expert_labels(train) if base == EXPERT else train)
        fit = tr[: max(1, len(te))]
    ids = {t.env_id for t in train}
    limit = gym.spec(next(iter(ids))).max_episode_steps if len(ids) == 1 else None
    corpus = sorted({it.instruction for ep in tr for it in ep.items})
    prm = StatePRM.create(
        encoder, step_limit=limit, seed=seed, tiny_corpus=corpus, **(net_args or {})
    )
    cfg = TrainConfig(
        labels=labels,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
        cache_path=cache,
    )
    result = train_prm(prm, tr, (), cfg)

    groups = ranking_by_action(prm, te, seed=0)  # as eval-prm --by-action
    pairs = sum(g["pairs"] for g in groups.values())
    held_out = (
        sum(g["pairs"] * g["accuracy"] for g in groups.values()) / pairs if pairs else float("nan")
    )
    by_action = {k: {**g, "accuracy": round(g["accuracy"], 4)} for k, g in groups.items()}
    train_rank, _ = ranking_accuracy(prm, fit, seed=0)
    if base == QPI:
        from agentprm_gym.prm.metrics import ranking_wins

        wins = ranking_wins(prm, fit, labelled)
        extra["fit_on_labelled_pairs"] = round(float(wins.mean()), 4) if len(wins) else None
    return {
        "variant": variant,
        "labels": labels,
        "held_out_ranking": round(held_out, 4),
        "pairs": pairs,
        "by_expert_action": by_action,
        "train_ranking": float("nan") if train_rank is None else round(train_rank, 4),
        "epochs": result.epochs_run,
        "final_loss": round(float(result.final_loss), 5),
        "wall_seconds": round(time.perf_counter() - t0, 1),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run every variant, print a line each and the JSON summary."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train", required=True, help="training trajectory JSONL")
    p.add_argument("--test", required=True, help="held-out trajectory JSONL (expert recorded)")
    p.add_argument(
        "--variants", default="gae,pvm,expert", help="comma-separated label kinds and/or expert"
    )
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--encoder", default="minilm", help="minilm, tiny (tests) or a model dir")
    p.add_argument("--cache", default=None, help="token-state cache file (default: none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--qpi-rollouts", type=int, default=8, help="qpi: rollouts per action")
    p.add_argument(
        "--qpi-per-task", type=int, default=2, help="qpi: episodes labelled per training task"
    )
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument(
        "--no-coverage", action="store_true", help="network without the coverage channel"
    )
    p.add_argument("--exact", action="store_true", help="network with the exact-match channel")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    from agentprm_gym.prm.labels import LABEL_KINDS
    from agentprm_gym.prm.mc import ReplayMismatchError

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    known = (*LABEL_KINDS, EXPERT, QPI)
    bad = [v for v in variants if v.removesuffix(GOAL) not in known]
    if not variants:
        p.error("--variants is empty")
    if bad:
        p.error(f"--variants: unknown {bad}; use {', '.join(known)}, each optionally +goal")
    if min(args.epochs, args.batch_size, args.qpi_rollouts, args.qpi_per_task) < 1:
        p.error("--epochs, --batch-size, --qpi-rollouts and --qpi-per-task must be at least 1")
    try:
        train = list(read_trajectories(args.train))
        test = list(read_trajectories(args.test))
    except (OSError, ValueError) as e:
        p.error(str(e))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    net = {"coverage": not args.no_coverage, "exact": args.exact}
    out: dict[str, Any] = {"train": args.train, "test": args.test, "net": net, "variants": {}}
    for v in variants:
        try:
            got = run_variant(
                v,
                train,
                test,
                epochs=args.epochs,
                batch_size=args.batch_size,
                encoder=args.encoder,
                cache=args.cache,
                seed=args.seed,
                progress=not args.no_progress,
                qpi_rollouts=args.qpi_rollouts,
                qpi_per_task=args.qpi_per_task,
                net_args=net,
            )
        except (ValueError, ReplayMismatchError) as e:
            print(f"error: {v}: {e}", file=sys.stderr)
            return 2
        out["variants"][v] = got
        by = ", ".join(f"{k} {g['accuracy']:.3f}" for k, g in got["by_expert_action"].items())
        lab = got.get("label_train_ranking")
        fit = (
            ""
            if lab is None
            else f"; of the {got['label_train_pairs']} with labels both: the labels rank "
            f"{lab:.3f}, the PRM {got['fit_on_labelled_pairs']:.3f}"
        )
        print(
            f"{v}: held-out ranking {got['held_out_ranking']:.3f} ({got['pairs']} pairs), "
            f"train pairs {got['train_ranking']:.3f}{fit}, {got['wall_seconds']:.0f} s | {by}",
            flush=True,
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
