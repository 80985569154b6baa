"""PRM training: AgentPRM's Algorithm 1 (TD/GAE targets) and the ORM/PVM/MC baselines.

Loss per batch (whole episodes, so consecutive steps sit side by side)::

    L   = L_Q + β·L_A (+ η_t·L_W)
    L_Q = mean over labelled steps of ½·(M_t − Q̂_t)²
    L_A = mean over consecutive labelled pairs (t−1, t) of one episode of
          ((M_t − M_{t−1}) − (Q̂_t − Q̂_{t−1}))²
    L_W = mean over labelled steps of ½·((M_t − M̄_s) − (Q̂_t − Q̂̄_s))²

``L`` is the paper's loss with η = 0 (the default). ``L_W`` is the part of ``L_Q``
*within states*: ``M̄_s`` and ``Q̂̄_s`` are the means of ``M`` and ``Q̂`` over the
batch's labelled steps in the same state ``s`` as step t (the rollouts of a task
reach many states alike and take different actions there), and ``L_Q`` splits
exactly into ``L_W`` and the same error of the state means
(:func:`within_state_loss`). η_t > 0 weighs the error of what each *action* adds
to its state's value more than the error of the state's value itself (steps
alone in their state add 0). It starts at ``within_weight`` and falls linearly to
0 over training, as the learning rate does after warm-up: early on it keeps the
network from settling on each state's value alone, and at the end the loss is
the paper's again.

with ``M_t`` the model's Q of step t (either architecture: the state-encoder
:class:`~agentprm_gym.prm.state_model.StatePRM` or the cross-encoder
:class:`~agentprm_gym.prm.model.AgentPRM`; :mod:`~agentprm_gym.prm.train_data`
prepares their steps). Targets per label kind:

- ``gae`` (AgentPRM): λ-returns ``Q̂_t = M_t + Â_t`` of :func:`labels.gae_targets`,
  ``td0``: ``Q̂_t = r_t + γ·M_{t+1}``. Both come from the **current model at
  every update**: a batch holds whole episodes, so its own forward pass gives
  ``M_t`` for every step of each episode, and the targets are computed from
  those predictions, detached (constants: no gradient flows through them).
  Algorithm 1's target refresh thus happens at every optimiser step, at no
  extra cost and with no staleness; in training mode the predictions carry
  dropout, so the targets do too. Each epoch records ``target_shift``, the mean
  absolute change of a step's target since the previous time it was in a batch.
  λ = 0.95, γ = 1 by default.
- ``pvm``: every step gets the episode's final reward.
- ``outcome`` (ORM): only the last step is labelled, with the final reward.
- ``mc``: Math-Shepherd labels from ``meta["mc_soft"]`` (or ``mc_hard`` with
  ``mc_mode="hard"``), written by ``collect --mc N``.

β: ``None`` (default) means 1 for ``gae``/``td0`` (the paper's L_A) and 0 for
the baselines, which are trained with L_Q alone as regression on their labels
(for ``pvm`` L_A would only push values to be flat along an episode; for
``outcome`` there are no labelled pairs). Pass ``beta`` to override for any kind.

With ``weighting="propensity"`` every mean above is weighted: step t by
``w_t = 1 / π(a_t | s_t)``, the probability the data policy gave the action it
took (:mod:`~agentprm_gym.prm.propensity`), and pair (t−1, t) by ``w_t``. That
undoes what a privileged data policy (the noisy expert) knew when it chose. The
targets are unchanged (TD/GAE ones still bootstrap from the one, weighted,
model). Off by default: on WebShop it lowered held-out ranking (docs/prm.md).

Rewards ``r_t`` are the env rewards of the steps; a truncated episode's last
step bootstraps with ``M_{T+1} = 0`` like a failure.

Batches hold whole episodes, a task's rollouts side by side (tasks in a shuffled
order, episodes shuffled within a task); inputs that recur in a batch (rollouts
of one task share steps and states) are run through the network once, which
gives the same loss and gradient as running every copy (dropout aside: the
copies share one mask), at a fraction of the compute.

Training is deterministic for a seed on CPU (except under ``max_minutes``, where
the clock decides where training stops and, when it runs ahead of the steps, the
learning rate): ``torch.manual_seed(seed)`` and a
numpy RNG for the episode order, applied to the episodes in
:func:`~agentprm_gym.prm.steps.canonical_order`, so the order a data file lists
them in (parallel collection writes them as workers finish) does not matter.
AdamW, linear warm-up (the first 5 %) then linear decay to 0, where the fraction
done is the fraction of steps, or under ``max_minutes`` the fraction of the time
budget if that is further along (so a budget that cuts the epochs short still
anneals), gradient clipping at 1.0, bf16
autocast for the cross-encoder and the frozen encoder where the device supports
it natively.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from agentprm_gym.prm import labels as L
from agentprm_gym.prm.metrics import outcome_auc, ranking_accuracy
from agentprm_gym.prm.propensity import WEIGHTINGS, trajectory_weights
from agentprm_gym.prm.steps import EpisodeSteps, canonical_order
from agentprm_gym.prm.train_data import StepSet, make_step_set
from agentprm_gym.progress import progress as pbar
from agentprm_gym.progress import say

__all__ = [
    "TrainConfig",
    "TrainResult",
    "default_beta",
    "dataset_loss",
    "default_lr",
    "episode_targets",
    "lr_factor",
    "matcher_lr_factor",
    "prepare_step_set",
    "prm_loss",
    "train_prm",
    "within_state_loss",
]

_TD_KINDS = ("gae", "td0")


def default_beta(labels: str) -> float:
    """β used when none is given: 1 for ``gae``/``td0``, 0 for the baselines."""
    return 1.0 if labels in _TD_KINDS else 0.0


def default_lr(backbone: str) -> float:
    """Learning rate used when none is given.

    1e-3 for the state PRM (``"state"``: a small network trained from scratch
    over frozen states) and the ``tiny`` cross-encoder, 5e-5 for fine-tuning a
    pretrained cross-encoder.
    """
    return 1e-3 if backbone in ("tiny", "state") else 5e-5


@dataclass
class TrainConfig:
    """Training settings (see the module docstring for the loss and labels).

    Attributes:
        labels: ``gae``, ``td0``, ``mc``, ``pvm`` or ``outcome``.
        epochs: Passes over the training episodes (= iterations of Algorithm 1).
        batch_size: Steps per optimiser batch (whole episodes are packed).
        lr: AdamW learning rate (None: :func:`default_lr` of the backbone).
        weight_decay: AdamW weight decay.
        warmup_fraction: Fraction of training (steps, or time under a budget)
            spent warming the LR up, in [0, 0.5].
        lam: GAE λ.
        gamma: Discount γ.
        beta: Weight of L_A (None: :func:`default_beta`).
        mc_mode: ``soft`` or ``hard`` MC labels.
        max_minutes: Stop after this much training time: checked after every batch,
            and a new epoch starts only if half an epoch (timed on the previous
            one) still fits. Warm-up and decay then follow steps or time,
            whichever is further along, so the learning rate has decayed (to 0
            at the deadline, or, when the last epoch that fits ends before it,
            to under 36 % of its peak) even when fewer than ``epochs`` fit
            (:func:`lr_factor`).
        seed: Seed of the initialisation-independent randomness (order, dropout).
        score_batch_size: Batch size of the no-grad target and evaluation passes.
        eval_max_steps: Held-out steps ranked per epoch (seeded subsample).
        progress: Show a progress bar on stderr.
        cache_path: File of the frozen token-state cache of a state PRM (loaded
            if it exists and matches the encoder, saved after new texts are
            encoded; the trained PRM keeps its path, ``token_cache``, and loads
            it before it first scores); None keeps the states in memory only.
        weighting: ``none``, or ``propensity``: weight every training step by
            ``1 / π(a_t | s_t)``, the probability the data policy gave its action
            (:mod:`~agentprm_gym.prm.propensity`; steps of policies whose choice
            rule is unknown keep weight 1).
        max_weight: Clip propensity weights at this value (None: no clipping).
            The held-out loss is weighted the same way, so it does not compare
            with an unweighted run's.
        within_weight: η, the weight of ``L_W`` (:func:`within_state_loss`) at the
            start; it falls linearly to 0 with the fraction of training done (as
            the learning rate's decay counts it: steps, or time under
            ``max_minutes``). 0 is the paper's loss. The held-out loss leaves
            ``L_W`` out.
        matcher_lr_end: The fraction of training (as the learning rate's decay
            counts it) at which the learning rate of a state PRM's matching
            layers (:meth:`~agentprm_gym.prm.state_net.StateNet.matcher_parameters`)
            reaches 0: after the common warm-up it decays linearly to 0 there,
            while the other layers' rate decays to 0 at the end
            (:func:`matcher_lr_factor`). From the step at which that rate is 0
            the matching layers are frozen: no gradients, and each (text,
            instruction) pair is matched once and kept for the later batches
            (about 2.5× faster steps on WebShop). Step for step this changes
            only the gradient clipping's norm, which no longer counts their
            unused gradients; under ``max_minutes`` more steps then fit, so a
            schedule the clock sets and the epoch count change too
            (``training.matcher_frozen_after_step`` in the checkpoint's config
            records when it froze). 1 (the default) gives every
            layer one schedule; PRMs without matching layers ignore it.
        label: With ``progress``, a name that starts every epoch line (one member
            of an ensemble trained beside others); bars are then left out, as
            several processes' bars would overwrite each other on one terminal.
    """

    labels: str = "gae"
    epochs: int = 3
    batch_size: int = 32
    lr: float | None = None
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    lam: float = 0.95
    gamma: float = 1.0
    beta: float | None = None
    mc_mode: str = "soft"
    max_minutes: float | None = None
    seed: int = 0
    score_batch_size: int = 128
    eval_max_steps: int | None = 500
    progress: bool = True
    cache_path: str | None = None
    weighting: str = "none"
    max_weight: float | None = None
    within_weight: float = 0.0
    matcher_lr_end: float = 1.0
    label: str = ""

    @property
    def bars(self) -> bool:
        """Whether progress bars are shown (``progress``, and no ``label``)."""
        return self.progress and not self.label


@dataclass
class TrainResult:
    """What training did.

    Attributes:
        final_loss: Mean training loss over the last epoch run.
        train_seconds: Wall time of training (held-out evaluation included).
        epochs_run: Epochs completed or started before the time budget ran out.
        stopped_early: True if ``max_minutes`` cut training short.
        optimizer_steps: Optimiser updates made.
        history: One dict per epoch (losses, held-out metrics, seconds).
        heldout: Held-out metrics after the last epoch (empty without held-out data).
    """

    final_loss: float
    train_seconds: float
    epochs_run: int
    stopped_early: bool
    optimizer_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    heldout: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def episode_targets(
    ep: EpisodeSteps,
    kind: str,
    values: NDArray[np.float64] | None = None,
    *,
    lam: float = 0.95,
    gamma: float = 1.0,
    mc_mode: str = "soft",
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Targets ``Q̂_t`` and the mask of labelled steps for one episode.

    Args:
        ep: The episode.
        kind: A label kind of :data:`labels.LABEL_KINDS`.
        values: The current model's ``M_t`` per step (needed for ``gae``/``td0``).
        lam: GAE λ.
        gamma: Discount γ.
        mc_mode: ``soft`` or ``hard`` for ``mc``.

    Raises:
        ValueError: For an unknown kind, missing values, or missing MC labels.
    """
    n = len(ep)
    full = np.ones(n, dtype=bool)
    if kind in _TD_KINDS:
        if values is None:
            raise ValueError(f"{kind} targets need the model's values")
        if kind == "gae":
            return L.gae_targets(values, ep.rewards, gamma, lam), full
        return L.td0_targets(values, ep.rewards, gamma), full
    if kind == "pvm":
        return L.pvm_labels(ep.final_reward, n), full
    if kind == "outcome":
        return L.outcome_labels(ep.final_reward, n)
    if kind == "mc":
        lab = ep.mc_soft if mc_mode == "soft" else ep.mc_hard
        if mc_mode not in ("soft", "hard"):
            raise ValueError(f"mc_mode must be 'soft' or 'hard', got {mc_mode!r}")
        if lab is None:
            raise ValueError(
                f"episode of task {ep.task_id} has no MC labels (meta mc_{mc_mode}); "
                "collect with --mc N"
            )
        return np.asarray(lab, dtype=np.float64), full
    raise ValueError(f"labels must be one of {L.LABEL_KINDS}, got {kind!r}")


def prm_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    pair: torch.Tensor,
    beta: float,
    weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(L, L_Q, L_A)`` for a flat batch of steps.

    Args:
        pred: ``M_t`` per step, shape (n,).
        target: ``Q̂_t`` per step (no gradient), shape (n,).
        mask: True where a step is labelled, shape (n,).
        pair: True at i where (i−1, i) are consecutive labelled steps of one
            episode, shape (n,) (``pair[0]`` is False).
        beta: Weight of L_A.
        weight: Per-step weights ``w_t`` (None: all 1). The means become weighted
            means: L_Q weights step t by ``w_t``, L_A weights pair (t−1, t) by
            ``w_t`` (the pair's progress is step t's).

    Returns:
        Total loss, L_Q (½ mean squared error over labelled steps) and L_A (mean
        squared difference of model and target progress over pairs; 0 without pairs).
    """
    target = target.detach()
    zero = pred.sum() * 0.0
    m = mask.bool()

    def mean(x: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        return x.mean() if w is None else (x * w).sum() / w.sum()

    wq = None if weight is None else weight[m]
    lq = 0.5 * mean((pred[m] - target[m]) ** 2, wq) if m.any() else zero
    p = pair.bool()[1:]
    if p.any():
        dm = (pred[1:] - pred[:-1])[p]
        dq = (target[1:] - target[:-1])[p]
        la = mean((dm - dq) ** 2, None if weight is None else weight[1:][p])
    else:
        la = zero
    return lq + beta * la, lq, la


def within_state_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    group: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """``L_W``: the part of ``L_Q`` within states.

    Over the labelled steps, each step's deviation from its state's mean is
    compared, the model's against the target's::

        L_W = mean_t ½·((M_t − M̄_s(t)) − (Q̂_t − Q̂̄_s(t)))²

    where ``M̄_s`` and ``Q̂̄_s`` are means over the labelled steps of state ``s``.
    With ``L_B = mean_t ½·(M̄_s(t) − Q̂̄_s(t))²`` (the state means' error, counted
    once per step), ``L_Q = L_B + L_W`` exactly, so ``L_Q + η·L_W`` weighs what
    the actions add to a state's value by ``1 + η`` and the state's value by 1.
    A step alone in its state adds 0 (and still counts in the mean).

    Args:
        pred: ``M_t`` per step, shape (n,).
        target: ``Q̂_t`` per step (no gradient), shape (n,).
        mask: True where a step is labelled, shape (n,).
        group: The state of each step (equal ids: the same state), shape (n,).
        weight: Per-step weights (None: all 1): the state means and the mean
            over steps become weighted means, as in :func:`prm_loss`.

    Returns:
        The scalar ``L_W`` (0 without labelled steps).
    """
    m = mask.bool()
    if not m.any():
        return pred.sum() * 0.0
    p, t = pred[m], target.detach()[m].to(pred.dtype)
    w = torch.ones_like(p) if weight is None else weight[m].to(pred.dtype)
    states, inv = torch.unique(group[m], return_inverse=True)
    n = len(states)
    ws = p.new_zeros(n).index_add_(0, inv, w)
    p_mean = p.new_zeros(n).index_add_(0, inv, w * p) / ws
    t_mean = t.new_zeros(n).index_add_(0, inv, w * t) / ws
    err = (p - p_mean[inv]) - (t - t_mean[inv])
    return 0.5 * (w * err**2).sum() / w.sum()


def _done(step: int, total: int, time_spent: float | None = None) -> float:
    """The fraction of training done before optimiser step ``step``, in [0, 1].

    ``step / total``, or under a time budget ``time_spent`` (the fraction of the
    budget used) if that is further along; the first step ignores the clock.
    """
    done = step / total
    if time_spent is not None and step > 0:
        done = max(done, time_spent)
    return min(1.0, done)


def lr_factor(
    step: int, total: int, warmup: float, time_spent: float | None = None, end: float = 1.0
) -> float:
    """The learning-rate multiplier of optimiser step ``step`` (0-based) of ``total``.

    The fraction done before the step is ``step / total``, or, under a time budget,
    ``time_spent`` (the fraction of the budget used) if that is further along; the
    first step ignores the clock, so it always runs. Linear warm-up over the first
    ``warmup`` of training (at least ``(step + 1) / (warmup · total)``), then linear
    decay to 0 at the fraction ``end`` of training (the end of it by default)::

        done < warmup:  min(1, max((step + 1) / (warmup · total), done / warmup))
        otherwise:      max(0, (end − done) / (end − warmup))
    """
    done = _done(step, total, time_spent)
    if done < warmup:
        return min(1.0, max((step + 1) / (warmup * total), done / warmup))
    return max(0.0, (end - done) / (end - warmup))


def matcher_lr_factor(
    step: int, total: int, warmup: float, end: float, time_spent: float | None = None
) -> float:
    """The learning-rate multiplier of the matching layers when their decay ends at ``end``.

    :func:`lr_factor` with the same warm-up and the decay ending at the fraction
    ``end`` of training (``warmup < end <= 1``)::

        done < warmup:  as lr_factor
        otherwise:      max(0, (end − done) / (end − warmup))

    ``end = 1`` is :func:`lr_factor` itself.

    Raises:
        ValueError: If ``end`` is not in ``(warmup, 1]``.
    """
    if not warmup < end <= 1.0:
        raise ValueError(f"end must lie in (warmup, 1] = ({warmup}, 1], got {end}")
    return lr_factor(step, total, warmup, time_spent, end=end)


def _fixed_targets(
    episodes: Sequence[EpisodeSteps], cfg: TrainConfig
) -> tuple[NDArray[np.float64], NDArray[np.bool_]] | None:
    """Targets that do not depend on the model (PVM, ORM, MC); None for TD/GAE."""
    if cfg.labels in _TD_KINDS:
        return None
    tg, mk = [], []
    for ep in episodes:
        t, m = episode_targets(ep, cfg.labels, lam=cfg.lam, gamma=cfg.gamma, mc_mode=cfg.mc_mode)
        tg.append(t)
        mk.append(m)
    return np.concatenate(tg), np.concatenate(mk)


def _batches(lengths: Sequence[int], order: Sequence[int], batch_size: int) -> list[list[int]]:
    """Pack whole episodes (in ``order``) into batches of ≤ batch_size steps.

    Returns lists of episode indices; an episode longer than ``batch_size`` gets
    a batch of its own.
    """
    out: list[list[int]] = []
    cur: list[int] = []
    size = 0
    for e in order:
        n = lengths[e]
        if cur and size + n > batch_size:
            out.append(cur)
            cur, size = [], 0
        cur.append(e)
        size += n
    if cur:
        out.append(cur)
    return out


def _task_order(episodes: Sequence[EpisodeSteps], rng: np.random.Generator) -> list[int]:
    """An epoch's episode order: tasks shuffled, each task's episodes together, shuffled.

    Keeping a task's rollouts side by side puts their shared steps in one batch,
    where :func:`_batch_loss` runs each distinct input once.
    """
    by_task: dict[int, list[int]] = {}
    for i, ep in enumerate(episodes):
        by_task.setdefault(ep.task_id, []).append(i)
    groups = list(by_task.values())
    return [
        groups[g][j] for g in rng.permutation(len(groups)) for j in rng.permutation(len(groups[g]))
    ]


def _batch_loss(
    data: StepSet,
    episodes: Sequence[EpisodeSteps],
    eps_idx: Sequence[int],
    fixed: tuple[NDArray[np.float64], NDArray[np.bool_]] | None,
    cfg: TrainConfig,
    beta: float,
    weights: NDArray[np.float64] | None = None,
    within: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[int], NDArray[np.float64]]:
    """Loss of a batch of whole episodes: ``(L, L_Q, L_A, L_W, step indices, targets used)``.

    For ``gae``/``td0`` the targets come from this very forward pass: the
    batch's own predictions, detached, over each whole episode (Algorithm 1
    with targets refreshed at every update; no gradient flows through them).
    ``weights`` (per step of the data, or None) weight the loss's means. ``L_W``
    (added as ``within · L_W``; ``within`` is η for this batch) is computed only
    when ``within`` or ``cfg.within_weight`` is positive (else 0).
    """
    idx: list[int] = []
    bounds: list[tuple[int, int]] = []
    for e in eps_idx:
        lo, hi = int(data.offsets[e]), int(data.offsets[e + 1])
        bounds.append((len(idx), len(idx) + hi - lo))
        idx.extend(range(lo, hi))
    pred = data.predict(idx)
    dev = pred.device
    if fixed is None:
        values = pred.detach().double().cpu().numpy()
        targets = np.empty(len(idx), dtype=np.float64)
        for e, (a, b) in zip(eps_idx, bounds, strict=True):
            targets[a:b], _ = episode_targets(
                episodes[e], cfg.labels, values[a:b], lam=cfg.lam, gamma=cfg.gamma
            )
        mask = np.ones(len(idx), dtype=bool)
    else:
        targets, mask = fixed[0][idx], fixed[1][idx]
    pair = np.zeros(len(idx), dtype=bool)
    for a, b in bounds:
        pair[a + 1 : b] = mask[a + 1 : b] & mask[a : b - 1]
    target_t = torch.as_tensor(targets, dtype=torch.float32, device=dev)
    mask_t = torch.as_tensor(mask, device=dev)
    weight_t = (
        None if weights is None else torch.as_tensor(weights[idx], dtype=pred.dtype, device=dev)
    )
    pair_t = torch.as_tensor(pair, device=dev)
    loss, lq, la = prm_loss(pred, target_t, mask_t, pair_t, beta, weight_t)
    lw = pred.sum() * 0.0
    if within > 0 or cfg.within_weight > 0:
        group = torch.as_tensor(data.state_ids[idx], device=dev)
        lw = within_state_loss(pred, target_t, mask_t, group, weight_t)
        loss = loss + within * lw
    return loss, lq, la, lw, idx, targets


def _freeze_matcher(params: Sequence[torch.nn.Parameter], data: StepSet) -> None:
    """Stop the gradients of the matching layers and let ``data`` keep matched pairs.

    Called once the matching layers' learning rate is 0 for good: their weights no
    longer change, so their backward pass is wasted work and each (text,
    instruction) pair's vector can be kept between batches. Training then differs
    from running the frozen layers only in that their (unused) gradients no longer
    count in the gradient clipping's norm.
    """
    for p in params:
        p.requires_grad_(False)
    keep = getattr(data, "keep_pairs", None)
    if keep is not None:
        keep()


def _weights(episodes: Sequence[EpisodeSteps], cfg: TrainConfig) -> NDArray[np.float64] | None:
    """Per-step weights of ``episodes`` in order (None without weighting)."""
    if cfg.weighting != "propensity":
        return None
    out = []
    for e in episodes:
        if len(e.trajectory.steps) != len(e):
            raise ValueError(
                f"task {e.task_id}: {len(e)} steps but a trajectory of {len(e.trajectory.steps)}; "
                "propensity weights need the steps of the recorded trajectory"
            )
        out.append(trajectory_weights(e.trajectory, cfg.max_weight))
    return np.concatenate(out)


def dataset_loss(
    prm: Any,
    episodes: Sequence[EpisodeSteps],
    config: TrainConfig | None = None,
    *,
    data: StepSet | None = None,
) -> float:
    """Mean loss ``L_Q + β·L_A`` over ``episodes`` with targets from the current model.

    Batches as in training (whole episodes, ``score_batch_size`` steps), no
    gradient, eval mode. Raises ``ValueError`` like :func:`episode_targets`.
    """
    cfg = config or TrainConfig()
    beta = default_beta(cfg.labels) if cfg.beta is None else float(cfg.beta)
    eps = [e for e in episodes if len(e)]
    if not eps:
        raise ValueError("no steps to compute a loss on")
    data = data or make_step_set(prm, eps)
    fixed = _fixed_targets(eps, cfg)
    weights = _weights(eps, cfg)
    was = prm.net.training
    prm.net.eval()
    tot, n = 0.0, 0
    with torch.no_grad():
        for b in _batches([len(e) for e in eps], range(len(eps)), cfg.score_batch_size):
            loss, *_ = _batch_loss(data, eps, b, fixed, cfg, beta, weights)
            tot += loss.item() * len(b)
            n += len(b)
    prm.net.train(was)
    return tot / n


def _evaluate(
    prm: Any, val: Sequence[EpisodeSteps], val_data: StepSet | None, cfg: TrainConfig
) -> dict[str, Any]:
    if not val or val_data is None:
        return {}
    prm.clear_cache()
    out: dict[str, Any] = {}
    try:
        out["val_loss"] = dataset_loss(prm, val, cfg, data=val_data)
    except ValueError:  # e.g. no MC labels on the held-out episodes
        out["val_loss"] = None
    acc, ranked = ranking_accuracy(prm, val, seed=cfg.seed, max_steps=cfg.eval_max_steps)
    out["val_ranking_accuracy"] = acc
    out["val_ranked_steps"] = ranked
    out["val_auc"] = outcome_auc(prm, val)
    prm.clear_cache()
    return out


def _lr_key(prm: Any) -> str:
    if prm.config.get("architecture") == "state":
        return "state"
    return str(prm.config.get("backbone"))


def prepare_step_set(
    prm: Any, episodes: Sequence[EpisodeSteps], cfg: TrainConfig, what: str
) -> StepSet:
    """The step set of ``episodes`` (new texts encoded into ``cfg.cache_path``).

    With ``cfg.bars``, a progress bar named after ``what`` runs while new texts
    are encoded.
    """
    bar = None

    def tick(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = pbar(total=total, desc=f"encode {what} (frozen encoder, cached)", unit="text")
        bar.update(done - bar.n)

    try:
        return make_step_set(prm, episodes, cfg.cache_path, tick if cfg.bars else None)
    finally:
        if bar is not None:
            bar.close()


def _print_epoch(rec: dict[str, Any], label: str = "") -> None:
    acc = rec.get("val_ranking_accuracy")
    shift = rec.get("target_shift")
    # one write per line: members trained side by side share the terminal
    say(
        (f"{label}: " if label else "")
        + f"epoch {rec['epoch']}: loss {rec['train_loss']:.4f}"
        + (f"  target shift {shift:.4f}" if shift is not None else "")
        + (f"  held-out ranking {acc:.3f}" if acc is not None else "")
        + f"  ({rec['seconds']:.1f}s)"
    )


def train_prm(
    prm: Any,
    train: Sequence[EpisodeSteps],
    val: Sequence[EpisodeSteps] = (),
    config: TrainConfig | None = None,
) -> TrainResult:
    """Train ``prm`` in place on ``train`` episodes; evaluate on ``val`` each epoch.

    Args:
        prm: The model (its ``net`` is updated in place; the score cache is cleared).
        train: Training episodes.
        val: Held-out episodes (by task) for per-epoch evaluation; may be empty.
        config: Settings (defaults: :class:`TrainConfig`).

    Returns:
        A :class:`TrainResult`.

    Raises:
        ValueError: For an unknown label kind or weighting, a ``max_weight``
            below 1, a negative ``within_weight``, a ``matcher_lr_end`` outside
            ``(warmup_fraction, 1]``, no training steps, or ``mc`` without MC labels.
    """
    cfg = config or TrainConfig()
    if cfg.labels not in L.LABEL_KINDS:
        raise ValueError(f"labels must be one of {L.LABEL_KINDS}, got {cfg.labels!r}")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ValueError("epochs and batch_size must be >= 1")
    if not 0.0 <= cfg.warmup_fraction <= 0.5:
        raise ValueError(f"warmup_fraction must lie in [0, 0.5], got {cfg.warmup_fraction}")
    if cfg.weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {cfg.weighting!r}")
    if cfg.max_weight is not None and not (1.0 <= cfg.max_weight < math.inf):
        raise ValueError(f"max_weight must be a finite number >= 1, got {cfg.max_weight}")
    if not 0.0 <= cfg.within_weight < math.inf:
        raise ValueError(f"within_weight must be a finite number >= 0, got {cfg.within_weight}")
    if not cfg.warmup_fraction < cfg.matcher_lr_end <= 1.0:
        raise ValueError(
            f"matcher_lr_end must lie in (warmup_fraction, 1], got {cfg.matcher_lr_end}"
        )
    # Sorted: the same episodes give the same model whatever order a file lists them in.
    train = canonical_order(e for e in train if len(e))
    val = canonical_order(e for e in val if len(e))
    if not train:
        raise ValueError("no training steps")
    if cfg.labels == "mc":
        for ep in train:  # fail before any work
            episode_targets(ep, "mc", mc_mode=cfg.mc_mode)
    beta = default_beta(cfg.labels) if cfg.beta is None else float(cfg.beta)
    lr = default_lr(_lr_key(prm)) if cfg.lr is None else float(cfg.lr)

    t0 = time.perf_counter()
    deadline = None if cfg.max_minutes is None else t0 + 60.0 * float(cfg.max_minutes)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    prm.clear_cache()
    data = prepare_step_set(prm, train, cfg, "training steps")
    val_data = prepare_step_set(prm, val, cfg, "held-out steps") if val else None
    fixed = _fixed_targets(train, cfg)
    lengths = [len(e) for e in train]
    weights = _weights(train, cfg)
    prep_seconds = time.perf_counter() - t0

    params = [p for p in prm.net.parameters() if p.requires_grad]
    has_matcher = hasattr(prm.net, "matcher_parameters")
    matcher_ids: set[int] = set()
    matcher_params: list[torch.nn.Parameter] = []
    if cfg.matcher_lr_end < 1.0 and has_matcher:
        matcher_params = [p for p in prm.net.matcher_parameters() if p.requires_grad]
        matcher_ids = {id(p) for p in matcher_params}
    if matcher_ids:
        groups: Any = [
            {"params": [p for p in params if id(p) not in matcher_ids]},
            {"params": [p for p in params if id(p) in matcher_ids]},
        ]
    else:
        groups = params
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=cfg.weight_decay)
    per_epoch = len(_batches(lengths, range(len(train)), cfg.batch_size))
    total = max(1, per_epoch * cfg.epochs)
    t_train = time.perf_counter()

    def spent() -> float | None:
        """The fraction of the time budget used so far (None without a budget)."""
        if deadline is None:
            return None
        return (time.perf_counter() - t_train) / max(1e-9, deadline - t_train)

    def factor(step: int) -> float:
        return lr_factor(step, total, cfg.warmup_fraction, spent())

    def matcher_factor(step: int) -> float:
        return matcher_lr_factor(step, total, cfg.warmup_fraction, cfg.matcher_lr_end, spent())

    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, [factor, matcher_factor] if matcher_ids else factor
    )
    # each step's last TD/GAE target, to measure how far targets move as the model learns
    seen = np.full(int(sum(lengths)), np.nan)

    history: list[dict[str, Any]] = []
    steps_done = 0
    frozen_at: int | None = None  # optimiser steps made when the matching layers froze
    stopped = False
    final_loss = math.nan
    epochs_run = 0
    last_epoch = 0.0
    try:
        for epoch in range(cfg.epochs):
            e0 = time.perf_counter()
            # with a budget, a new epoch starts only if one more (timed on the last) fits
            if epoch > 0 and deadline is not None and e0 + 0.5 * last_epoch > deadline:
                stopped = True
                break
            batches = _batches(lengths, _task_order(train, rng), cfg.batch_size)
            prm.net.train()
            sums = np.zeros(4)
            moved, moved_n = 0.0, 0
            nb = 0
            bar = pbar(
                batches,
                desc=f"train-prm {cfg.labels} epoch {epoch + 1}/{cfg.epochs}",
                disable=not cfg.bars,
            )
            for b in bar:
                eta = 0.0
                if cfg.within_weight > 0:
                    eta = cfg.within_weight * (1.0 - _done(steps_done, total, spent()))
                loss, lq, la, lw, idx, tg = _batch_loss(
                    data, train, b, fixed, cfg, beta, weights, within=eta
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                sched.step()
                steps_done += 1
                if frozen_at is None and matcher_ids and opt.param_groups[1]["lr"] == 0.0:
                    # the matching layers' rate is 0 from here to the end (the fraction done
                    # only grows): stop their gradients and match each pair once from now on
                    frozen_at = steps_done
                    _freeze_matcher(matcher_params, data)
                sums += [loss.item(), lq.item(), la.item(), lw.item()]
                if fixed is None:
                    before = seen[idx]
                    known = ~np.isnan(before)
                    if known.any():
                        moved += float(np.abs(tg[known] - before[known]).mean())
                        moved_n += 1
                    seen[idx] = tg
                nb += 1
                if cfg.bars:
                    bar.set_postfix(loss=f"{sums[0] / nb:.4f}")
                if deadline is not None and time.perf_counter() > deadline:
                    stopped = True
                    break
            bar.close()
            prm.net.eval()
            epochs_run = epoch + 1
            final_loss = float(sums[0] / max(nb, 1))
            rec: dict[str, Any] = {
                "epoch": epoch + 1,
                "batches": nb,
                "train_loss": final_loss,
                "train_lq": float(sums[1] / max(nb, 1)),
                "train_la": float(sums[2] / max(nb, 1)),
                "train_lw": float(sums[3] / max(nb, 1)),
                "lr": float(opt.param_groups[0]["lr"]),
            }
            if fixed is None:
                # mean |Q̂ now − Q̂ the previous time these steps were in a batch| (0 the first time)
                rec["target_shift"] = moved / moved_n if moved_n else None
            rec.update(_evaluate(prm, val, val_data, cfg))
            rec["seconds"] = time.perf_counter() - e0
            last_epoch = rec["seconds"]
            history.append(rec)
            if cfg.progress:
                _print_epoch(rec, cfg.label)
            if stopped:
                break
    finally:
        for p in matcher_params:  # trainable again, as before training
            p.requires_grad_(True)
    prm.net.eval()
    prm.clear_cache()
    heldout = {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}
    if cfg.cache_path is not None and hasattr(prm, "token_cache"):
        from agentprm_gym.prm.text_encoder import TokenStore

        # saved with the PRM: scoring loads these states instead of encoding them again
        # (only a file this encoder can read: another run may have replaced it)
        if TokenStore.tag_of(cfg.cache_path) == prm.encoder.tag:
            prm.token_cache = Path(cfg.cache_path).resolve()
    prm.config["training"] = {
        "labels": cfg.labels,
        "epochs_run": epochs_run,
        "lr": lr,
        "weight_decay": cfg.weight_decay,
        "beta": beta,
        "lam": cfg.lam,
        "gamma": cfg.gamma,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "weighting": cfg.weighting,
        "max_weight": cfg.max_weight,
        "within_weight": cfg.within_weight,
        "matcher_lr_end": cfg.matcher_lr_end if has_matcher else None,
        # optimiser steps made with the matching layers learning (None: they never stopped)
        "matcher_frozen_after_step": frozen_at,
        "train_episodes": len(train),
        "train_steps": int(sum(lengths)),
        "targets": "per batch, from the batch's own detached predictions"
        if cfg.labels in _TD_KINDS
        else "fixed labels",
        "prepare_seconds": round(prep_seconds, 2),
    }
    return TrainResult(
        final_loss=final_loss,
        train_seconds=time.perf_counter() - t0,
        epochs_run=epochs_run,
        stopped_early=stopped,
        optimizer_steps=steps_done,
        history=history,
        heldout=heldout,
    )
