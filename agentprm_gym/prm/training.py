"""PRM training: AgentPRM's Algorithm 1 (TD/GAE targets) and the ORM/PVM/MC baselines.

Loss per batch (whole episodes, so consecutive steps sit side by side)::

    L   = L_Q + β·L_A
    L_Q = mean over labelled steps of ½·(M_t − Q̂_t)²
    L_A = mean over consecutive labelled pairs (t−1, t) of one episode of
          ((M_t − M_{t−1}) − (Q̂_t − Q̂_{t−1}))²

with ``M_t = sigmoid(head(encoder(text_t)))``. Targets per label kind:

- ``gae`` (AgentPRM): λ-returns ``Q̂_t = M_t + Â_t`` of :func:`labels.gae_targets`,
  ``td0``: ``Q̂_t = r_t + γ·M_{t+1}``. Both are **recomputed from the current
  model at the start of every epoch** (one no-grad scoring pass over the
  training steps; the targets are constants, no gradient flows through them),
  i.e. one epoch is one iteration of Algorithm 1. λ = 0.95, γ = 1 by default.
- ``pvm``: every step gets the episode's final reward.
- ``outcome`` (ORM): only the last step is labelled, with the final reward.
- ``mc``: Math-Shepherd labels from ``meta["mc_soft"]`` (or ``mc_hard`` with
  ``mc_mode="hard"``), written by ``collect --mc N``.

β: ``None`` (default) means 1 for ``gae``/``td0`` (the paper's L_A) and 0 for
the baselines, which are trained with L_Q alone as regression on their labels
(for ``pvm`` L_A would only push values to be flat along an episode; for
``outcome`` there are no labelled pairs). Pass ``beta`` to override for any kind.

Rewards ``r_t`` are the env rewards of the steps; a truncated episode's last
step bootstraps with ``M_{T+1} = 0`` like a failure.

Batches hold whole episodes, a task's rollouts side by side (tasks in a shuffled
order, episodes shuffled within a task); inputs that recur in a batch (rollouts
of one task share steps) are run through the network once, which gives the same
loss and gradient as running every copy (dropout aside: the copies share one
mask), at a fraction of the compute.

Training is deterministic for a seed on CPU: ``torch.manual_seed(seed)`` and a
numpy RNG for the episode order, applied to the episodes in
:func:`~agentprm_gym.prm.steps.canonical_order`, so the order a data file lists
them in (parallel collection writes them as workers finish) does not matter.
AdamW, linear warm-up (5 %) then linear decay, gradient clipping at 1.0, bf16
autocast where the device supports it natively.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from agentprm_gym.prm import labels as L
from agentprm_gym.prm.metrics import outcome_auc, ranking_accuracy
from agentprm_gym.prm.model import AgentPRM
from agentprm_gym.prm.steps import EpisodeSteps, canonical_order

__all__ = [
    "TrainConfig",
    "TrainResult",
    "default_beta",
    "dataset_loss",
    "default_lr",
    "episode_targets",
    "prm_loss",
    "train_prm",
]

_TD_KINDS = ("gae", "td0")


def default_beta(labels: str) -> float:
    """β used when none is given: 1 for ``gae``/``td0``, 0 for the baselines."""
    return 1.0 if labels in _TD_KINDS else 0.0


def default_lr(backbone: str) -> float:
    """Learning rate used when none is given: 1e-3 for ``tiny``, 5e-5 for pretrained."""
    return 1e-3 if backbone == "tiny" else 5e-5


@dataclass
class TrainConfig:
    """Training settings (see the module docstring for the loss and labels).

    Attributes:
        labels: ``gae``, ``td0``, ``mc``, ``pvm`` or ``outcome``.
        epochs: Passes over the training episodes (= iterations of Algorithm 1).
        batch_size: Steps per optimiser batch (whole episodes are packed).
        lr: AdamW learning rate (None: :func:`default_lr` of the backbone).
        weight_decay: AdamW weight decay.
        warmup_fraction: Fraction of the steps spent warming the LR up.
        lam: GAE λ.
        gamma: Discount γ.
        beta: Weight of L_A (None: :func:`default_beta`).
        mc_mode: ``soft`` or ``hard`` MC labels.
        max_minutes: Stop after this much training time: checked after every batch,
            and a new epoch starts only if refreshing its targets (timed on the
            previous refresh) still fits.
        seed: Seed of the initialisation-independent randomness (order, dropout).
        score_batch_size: Batch size of the no-grad target and evaluation passes.
        eval_max_steps: Held-out steps ranked per epoch (seeded subsample).
        progress: Show a progress bar on stderr.
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
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(L, L_Q, L_A)`` for a flat batch of steps.

    Args:
        pred: ``M_t`` per step, shape (n,).
        target: ``Q̂_t`` per step (no gradient), shape (n,).
        mask: True where a step is labelled, shape (n,).
        pair: True at i where (i−1, i) are consecutive labelled steps of one
            episode, shape (n,) (``pair[0]`` is False).
        beta: Weight of L_A.

    Returns:
        Total loss, L_Q (½ mean squared error over labelled steps) and L_A (mean
        squared difference of model and target progress over pairs; 0 without pairs).
    """
    target = target.detach()
    zero = pred.sum() * 0.0
    m = mask.bool()
    lq = 0.5 * ((pred[m] - target[m]) ** 2).mean() if m.any() else zero
    p = pair.bool()[1:]
    if p.any():
        dm = (pred[1:] - pred[:-1])[p]
        dq = (target[1:] - target[:-1])[p]
        la = ((dm - dq) ** 2).mean()
    else:
        la = zero
    return lq + beta * la, lq, la


class _Encoded:
    """All training steps formatted and tokenized once.

    ``src[i]`` is the first step whose input is identical to step ``i``'s (common:
    the rollouts of one task share their first steps); identical inputs are run
    through the network once per pass (:func:`_values`) and once per batch
    (:func:`_batch_loss`).
    """

    def __init__(self, prm: AgentPRM, episodes: Sequence[EpisodeSteps]) -> None:
        self.offsets = np.cumsum([0] + [len(e) for e in episodes])
        texts = [prm.format(it) for e in episodes for it in e.items]
        enc = prm.tokenizer(texts, truncation=True, max_length=prm.max_length)
        self.ids: list[list[int]] = enc["input_ids"]
        self.pad_id = int(prm.tokenizer.pad_token_id or 0)
        first: dict[tuple[int, ...], int] = {}
        self.src = np.array(
            [first.setdefault(tuple(seq), i) for i, seq in enumerate(self.ids)], dtype=np.int64
        )

    def collate(self, idx: Sequence[int], device: torch.device) -> dict[str, torch.Tensor]:
        n = max(len(self.ids[i]) for i in idx)
        ids = torch.full((len(idx), n), self.pad_id, dtype=torch.long)
        att = torch.zeros((len(idx), n), dtype=torch.long)
        for r, i in enumerate(idx):
            seq = self.ids[i]
            ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            att[r, : len(seq)] = 1
        return {"input_ids": ids.to(device), "attention_mask": att.to(device)}


def _values(prm: AgentPRM, enc: _Encoded, batch_size: int) -> NDArray[np.float64]:
    """No-grad M for every encoded step (eval mode).

    Identical inputs (common: rollouts of one task share their first steps) are
    scored once; the unique ones go in length-sorted batches.
    """
    src = enc.src
    uniq = sorted(np.unique(src).tolist(), key=lambda i: len(enc.ids[i]))
    out = np.zeros(len(enc.ids), dtype=np.float64)
    was = prm.net.training
    prm.net.eval()
    with torch.no_grad(), prm.autocast():
        for s in range(0, len(uniq), batch_size):
            idx = uniq[s : s + batch_size]
            logits = prm.net(**enc.collate(idx, prm.device))
            out[idx] = torch.sigmoid(logits).cpu().numpy()
    prm.net.train(was)
    return out[src]


def _targets(
    prm: AgentPRM, enc: _Encoded, episodes: Sequence[EpisodeSteps], cfg: TrainConfig
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    values = _values(prm, enc, cfg.score_batch_size) if cfg.labels in _TD_KINDS else None
    tg, mk = [], []
    for k, ep in enumerate(episodes):
        v = None if values is None else values[enc.offsets[k] : enc.offsets[k + 1]]
        t, m = episode_targets(ep, cfg.labels, v, lam=cfg.lam, gamma=cfg.gamma, mc_mode=cfg.mc_mode)
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
    prm: AgentPRM,
    enc: _Encoded,
    eps_idx: Sequence[int],
    targets: NDArray[np.float64],
    mask: NDArray[np.bool_],
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    idx: list[int] = []
    pair: list[bool] = []
    for e in eps_idx:
        lo, hi = int(enc.offsets[e]), int(enc.offsets[e + 1])
        for i in range(lo, hi):
            pair.append(i > lo and bool(mask[i]) and bool(mask[i - 1]))
            idx.append(i)
    dev = prm.device
    # Identical inputs in the batch go through the network once; their copies
    # share the output (and its gradient), so the loss is that of every copy.
    uniq, inverse = np.unique(enc.src[idx], return_inverse=True)
    with prm.autocast():
        logits = prm.net(**enc.collate(uniq.tolist(), dev))
    pred = torch.sigmoid(logits)[torch.as_tensor(inverse.ravel(), device=dev)]
    return prm_loss(
        pred,
        torch.as_tensor(targets[idx], dtype=torch.float32, device=dev),
        torch.as_tensor(mask[idx], device=dev),
        torch.as_tensor(pair, device=dev),
        beta,
    )


def dataset_loss(
    prm: AgentPRM,
    episodes: Sequence[EpisodeSteps],
    config: TrainConfig | None = None,
    *,
    encoded: _Encoded | None = None,
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
    enc = encoded or _Encoded(prm, eps)
    tg, mk = _targets(prm, enc, eps, cfg)
    was = prm.net.training
    prm.net.eval()
    tot, n = 0.0, 0
    with torch.no_grad():
        for b in _batches([len(e) for e in eps], range(len(eps)), cfg.score_batch_size):
            loss, _, _ = _batch_loss(prm, enc, b, tg, mk, beta)
            tot += loss.item() * len(b)
            n += len(b)
    prm.net.train(was)
    return tot / n


def _evaluate(
    prm: AgentPRM, val: Sequence[EpisodeSteps], val_enc: _Encoded | None, cfg: TrainConfig
) -> dict[str, Any]:
    if not val or val_enc is None:
        return {}
    prm.clear_cache()
    out: dict[str, Any] = {}
    try:
        out["val_loss"] = dataset_loss(prm, val, cfg, encoded=val_enc)
    except ValueError:  # e.g. no MC labels on the held-out episodes
        out["val_loss"] = None
    acc, ranked = ranking_accuracy(prm, val, seed=cfg.seed, max_steps=cfg.eval_max_steps)
    out["val_ranking_accuracy"] = acc
    out["val_ranked_steps"] = ranked
    out["val_auc"] = outcome_auc(prm, val)
    prm.clear_cache()
    return out


def train_prm(
    prm: AgentPRM,
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
        ValueError: For an unknown label kind, no training steps, or ``mc``
            without MC labels.
    """
    cfg = config or TrainConfig()
    if cfg.labels not in L.LABEL_KINDS:
        raise ValueError(f"labels must be one of {L.LABEL_KINDS}, got {cfg.labels!r}")
    if cfg.epochs < 1 or cfg.batch_size < 1:
        raise ValueError("epochs and batch_size must be >= 1")
    # Sorted: the same episodes give the same model whatever order a file lists them in.
    train = canonical_order(e for e in train if len(e))
    val = canonical_order(val)
    if not train:
        raise ValueError("no training steps")
    if cfg.labels == "mc":
        for ep in train:  # fail before any work
            episode_targets(ep, "mc", mc_mode=cfg.mc_mode)
    beta = default_beta(cfg.labels) if cfg.beta is None else float(cfg.beta)
    lr = default_lr(str(prm.config.get("backbone"))) if cfg.lr is None else float(cfg.lr)

    t0 = time.perf_counter()
    deadline = None if cfg.max_minutes is None else t0 + 60.0 * float(cfg.max_minutes)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    prm.clear_cache()
    enc = _Encoded(prm, train)
    val_enc = _Encoded(prm, val) if val else None
    lengths = [len(e) for e in train]

    params = [p for p in prm.net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=cfg.weight_decay)
    per_epoch = len(_batches(lengths, range(len(train)), cfg.batch_size))
    total = max(1, per_epoch * cfg.epochs)
    warm = max(1, int(cfg.warmup_fraction * total))

    def lr_factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    from agentprm_gym.progress import progress as pbar

    history: list[dict[str, Any]] = []
    steps_done = 0
    stopped = False
    final_loss = math.nan
    epochs_run = 0
    last_refresh = 0.0
    for epoch in range(cfg.epochs):
        e0 = time.perf_counter()
        # a new epoch starts only if refreshing its targets still fits the budget
        if epoch > 0 and deadline is not None and e0 + last_refresh > deadline:
            stopped = True
            break
        targets, mask = _targets(prm, enc, train, cfg)  # Algorithm 1: refresh Q̂ from M
        last_refresh = time.perf_counter() - e0
        batches = _batches(lengths, _task_order(train, rng), cfg.batch_size)
        prm.net.train()
        sums = np.zeros(3)
        nb = 0
        bar = pbar(
            batches,
            desc=f"train-prm {cfg.labels} epoch {epoch + 1}/{cfg.epochs}",
            disable=not cfg.progress,
        )
        for b in bar:
            loss, lq, la = _batch_loss(prm, enc, b, targets, mask, beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            steps_done += 1
            sums += [loss.item(), lq.item(), la.item()]
            nb += 1
            if cfg.progress:
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
        }
        rec.update(_evaluate(prm, val, val_enc, cfg))
        rec["seconds"] = time.perf_counter() - e0
        history.append(rec)
        if stopped:
            break
    prm.net.eval()
    prm.clear_cache()
    heldout = {k: v for k, v in history[-1].items() if k.startswith("val_")} if history else {}
    prm.config["training"] = {
        "labels": cfg.labels,
        "epochs_run": epochs_run,
        "lr": lr,
        "beta": beta,
        "lam": cfg.lam,
        "gamma": cfg.gamma,
        "seed": cfg.seed,
        "batch_size": cfg.batch_size,
        "train_episodes": len(train),
        "train_steps": int(sum(lengths)),
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
