"""``agentprm-gym train-prm``: train an AgentPRM (or a baseline) on collected rollouts."""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from agentprm_gym.allocator import allocator_name
from agentprm_gym.commands.common import CLIError, add_json_flag, emit_json
from agentprm_gym.outdir import OutputDirError, StagedDir, shown_entries, visible_entries
from agentprm_gym.prm.saved_dir import holds_prm, prm_owned
from agentprm_gym.progress import heartbeat, say

#: Defaults of ``--arch state``.
STATE_EPOCHS = 10
STATE_BATCH = 128

HELP = "train a PRM (AgentPRM TD/GAE, or the PVM/ORM/MC baselines) on rollouts"
DESCRIPTION = """Train a process reward model on a trajectory file written by `collect`.

Labels: gae (AgentPRM: λ-return targets recomputed from the current model at
every update, loss L_Q + β·L_A), td0, mc (Math-Shepherd labels from
`collect --mc N`), pvm (every step = the episode's final reward), outcome (ORM:
last step only).

Architectures (--arch): state (default) reads the whole state (instruction,
every piece of the observation, the last actions, the step index and steps
left) through a frozen encoder (--backbone, MiniLM by default) whose token
states are computed once per distinct text and cached on disk next to the data
(--cache), and scores every candidate of a state from one encoding of it: it
trains many epochs in minutes on a CPU. cross is a cross-encoder fine-tuned end
to end on one formatted text per step (--max-length tokens): better suited to a
GPU.
A share of the tasks (--val-fraction) is held out and evaluated every epoch.
The model is saved to --out with save_pretrained (safetensors + JSON) and can
be used anywhere a PRM is accepted (`--prm DIR`, or `load_prm(DIR)` in Python).
--out must be new, empty or an earlier PRM's directory, which is replaced (other
files there are kept); anything else there is refused before training. The new
PRM is written into a hidden directory beside --out (or, where the parent is
read-only, into --out with the earlier PRM's files put aside) and takes their
place only when complete, so a run that fails or is interrupted leaves an
earlier PRM there as it was.
Progress goes to stderr from the start: a bar per epoch on a terminal, plain
lines in a log, and a line every few seconds while inputs are encoded and
targets computed.

Examples:
  agentprm-gym train-prm --data runs/ws.jsonl --labels gae --out runs/webshop-prm
  agentprm-gym train-prm --data runs/ws.jsonl --labels pvm --out runs/webshop-pvm --max-minutes 20
  # the README's paper-sized WebShop run: two width-64 networks side by side, each with its
  # matching layers frozen after half of its 24 epochs (9-13 minutes on 2 cores)
  agentprm-gym train-prm --data runs/ws.jsonl --labels gae --exact --weight-decay 0.1 \\
      --within-weight 1 --members 2 --width 64 --epochs 24 --matcher-lr-end 0.5 \\
      --out runs/webshop-prm --max-minutes 18.5
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Define the arguments."""
    from agentprm_gym.prm.formatting import (
        DEFAULT_CANDIDATE_CONTEXT,
        DEFAULT_MAX_LENGTH,
        DEFAULT_MAX_TURNS,
    )
    from agentprm_gym.prm.labels import LABEL_KINDS
    from agentprm_gym.prm.propensity import WEIGHTINGS

    p.add_argument("--data", required=True, help="trajectory JSONL file (from `collect`)")
    p.add_argument("--labels", default="gae", choices=LABEL_KINDS, help="label kind (default gae)")
    p.add_argument(
        "--arch",
        default="state",
        choices=("state", "cross"),
        help="state (default: frozen cached encoder, whole state, all candidates from one "
        "state encoding) | cross (cross-encoder fine-tuned end to end)",
    )
    p.add_argument(
        "--backbone",
        default="minilm",
        help="minilm (default) | tiny | PATH (local HF model dir): the frozen encoder of "
        "--arch state, the fine-tuned encoder of --arch cross",
    )
    p.add_argument(
        "--out",
        required=True,
        help="directory to save the trained PRM in: new, empty or an earlier PRM's (replaced)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"passes over the data (default {STATE_EPOCHS} for state, 3 for cross)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"steps per batch (default {STATE_BATCH} for state, 32 for cross)",
    )
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate (default 1e-3 for state and tiny cross, 5e-5 for other cross)",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=None,
        help="AdamW weight decay (default 0.01)",
    )
    p.add_argument("--lam", type=float, default=0.95, help="GAE λ (default 0.95)")
    p.add_argument("--gamma", type=float, default=1.0, help="discount γ (default 1)")
    p.add_argument(
        "--beta", type=float, default=None, help="weight of L_A (default 1 for gae/td0, 0 else)"
    )
    p.add_argument("--mc-mode", default="soft", choices=("soft", "hard"), help="MC label kind")
    p.add_argument(
        "--weighting",
        default="none",
        choices=WEIGHTINGS,
        help="propensity: weight each training step by 1/π(a_t|s_t), the probability the "
        "data policy gave its action (known for noisy:EPS, random and expert rollouts; "
        "undoes what a privileged data policy knew that the PRM cannot read; other "
        "policies' steps keep weight 1). Default none: on WebShop it lowered held-out "
        "ranking (docs/prm.md)",
    )
    p.add_argument(
        "--max-weight",
        type=float,
        default=None,
        help="with --weighting propensity: clip the weights at this value (>= 1; default none)",
    )
    p.add_argument(
        "--within-weight",
        type=float,
        default=0.0,
        metavar="ETA",
        help="η: add η_t·L_W to the loss, where L_W is the part of L_Q within states (each "
        "step's deviation from the mean of the steps in the same state, the model's "
        "against the target's): it weighs what an action adds to its state's value more "
        "than the state's value. η_t starts at ETA and falls linearly to 0 over training. "
        "Default 0, the paper's loss (docs/prm.md)",
    )
    p.add_argument(
        "--matcher-lr-end",
        type=float,
        default=1.0,
        metavar="FRACTION",
        help="state PRMs: the fraction of training (steps, or time under --max-minutes, "
        "as the learning rate's decay counts it) at which the matching layers' learning "
        "rate reaches 0, while the other layers' rate decays to 0 at the end; in "
        "(0.05, 1]. From there on the matching layers are frozen and each matched pair "
        "is kept, so later epochs run about 2.5x faster. Default 1: one schedule for "
        "every layer (docs/prm.md)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="training time budget; the learning rate then decays by time as well as by "
        "steps, so it anneals even if fewer epochs fit",
    )
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument(
        "--members",
        type=int,
        default=1,
        metavar="K",
        help="train K PRMs (seeds SEED..SEED+K-1, each with its own held-out split) side by "
        "side, one process each, and save them as one ensemble PRM that scores with their "
        "mean Q (--out holds member-0/ .. member-K-1/). --max-minutes is one budget for "
        "building the token-state cache and training every member. Each member gets a "
        "share of the cores, so on a machine without the cores for K runs it trains fewer "
        "epochs than one run would. Default 1 (docs/prm.md, 'How it trains')",
    )
    p.add_argument(
        "--val-fraction", type=float, default=0.1, help="share of tasks held out (default 0.1)"
    )
    p.add_argument(
        "--max-length", type=int, default=DEFAULT_MAX_LENGTH, help="cross: input token budget"
    )
    p.add_argument("--max-turns", type=int, default=DEFAULT_MAX_TURNS, help="cross: turns kept")
    p.add_argument(
        "--candidate-context",
        type=int,
        default=DEFAULT_CANDIDATE_CONTEXT,
        help="cross: tokens of the observation text where the candidate's argument is named "
        f"(a clicked result's title and price); 0 leaves the line out (default "
        f"{DEFAULT_CANDIDATE_CONTEXT})",
    )
    p.add_argument(
        "--cache",
        default=None,
        help="--arch state: file of the frozen token-state cache (default: next to --data, "
        "DATA.tokens-BACKBONE, one per encoder for tiny; reused by every PRM trained on the "
        "same data; the saved PRM names it and loads it when it scores, so texts seen in "
        "training are not encoded again)",
    )
    p.add_argument("--no-cache", action="store_true", help="--arch state: keep no cache on disk")
    p.add_argument("--width", type=int, default=128, help="--arch state: network width (128)")
    p.add_argument(
        "--step-limit",
        type=int,
        default=None,
        metavar="N",
        help="--arch state: the env's step limit (max_episode_steps), from which the PRM "
        "counts the steps left before a truncation (default: the registered limit of the "
        "data's env; give it for an env registered in another process only, e.g. by your "
        "own script's gym.register)",
    )
    p.add_argument(
        "--no-coverage",
        action="store_true",
        help="--arch state: leave out the coverage channel (how much of the instruction each "
        "text covers), as in networks saved before it existed",
    )
    p.add_argument(
        "--exact",
        action="store_true",
        help="--arch state: add the exact-match channel (a flag on each token that is a word "
        "piece of the instruction and, with coverage, which of the instruction's word pieces "
        "each text holds verbatim); off by default, see docs/prm.md",
    )
    p.add_argument(
        "--history-in-context",
        action="store_true",
        help="--arch state: run the past actions through the context encoder with the "
        "observation's pieces, as networks saved before this option did (slower: the encoder "
        "then runs once per (observation, history) instead of once per observation)",
    )
    p.add_argument(
        "--previous-observations",
        type=int,
        default=0,
        metavar="N",
        help="--arch state: each candidate also reads the pieces of the N observations "
        "before the current one (on a wrong item's page, the results page it came from); "
        "0 (default) reads the current observation only; needs the history outside the "
        "context (not with --history-in-context)",
    )
    p.add_argument(
        "--page-pool",
        action="store_true",
        help="--arch state: also give each candidate its state's context row pooled (max "
        "and mean of the contextual vectors of the instruction and every piece; with "
        "--history-in-context, of the past actions too)",
    )
    p.add_argument("--pooling", default="mean", choices=("mean", "cls"), help="cross: pooling")
    p.add_argument("--device", default="auto", help="cpu | cuda | auto (default)")
    p.add_argument("--no-progress", action="store_true", help="no progress output")
    add_json_flag(p)


def _check(args: argparse.Namespace) -> None:
    if not Path(args.data).is_file():
        raise CLIError(f"no trajectory file at {args.data!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(
            f"--out {args.out!r} is an existing file; train-prm saves a directory there "
            "(give a new or existing directory)"
        )
    if args.epochs is None:
        args.epochs = STATE_EPOCHS if args.arch == "state" else 3
    if args.batch_size is None:
        args.batch_size = STATE_BATCH if args.arch == "state" else 32
    if args.epochs < 1:
        raise CLIError("--epochs must be >= 1")
    if not 1 <= args.members <= 64:
        raise CLIError("--members must lie in [1, 64]")
    if args.members > 1 and args.arch == "state" and args.no_cache:
        raise CLIError("--members needs the token-state cache on disk: drop --no-cache")
    if args.arch == "state" and args.previous_observations < 0:
        raise CLIError("--previous-observations must be >= 0")
    if args.arch == "state" and args.previous_observations and args.history_in_context:
        raise CLIError(
            "--previous-observations needs the history outside the context: "
            "drop --history-in-context"
        )
    if args.batch_size < 1:
        raise CLIError("--batch-size must be >= 1")
    if args.step_limit is not None and args.step_limit < 1:
        raise CLIError("--step-limit must be >= 1")
    if args.width < 8 or args.width % 4:
        raise CLIError("--width must be a multiple of 4, at least 8")
    _check_arch_options(args)
    if args.lr is not None and args.lr <= 0:
        raise CLIError("--lr must be > 0")
    if args.weight_decay is not None and not 0.0 <= args.weight_decay < float("inf"):
        raise CLIError("--weight-decay must be a finite number >= 0")
    if not 0.0 <= args.lam <= 1.0 or not 0.0 <= args.gamma <= 1.0:
        raise CLIError("--lam and --gamma must lie in [0, 1]")
    if args.beta is not None and args.beta < 0:
        raise CLIError("--beta must be >= 0")
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise CLIError("--max-minutes must be > 0")
    if args.max_weight is not None and args.weighting != "propensity":
        raise CLIError("--max-weight: only with --weighting propensity")
    if args.max_weight is not None and not 1.0 <= args.max_weight < float("inf"):
        raise CLIError("--max-weight must be a finite number >= 1")
    if not 0.0 <= args.within_weight < float("inf"):
        raise CLIError("--within-weight must be a finite number >= 0")
    if not _WARMUP < args.matcher_lr_end <= 1.0:
        raise CLIError(f"--matcher-lr-end must lie in ({_WARMUP:g}, 1] (after the warm-up)")
    if not 0.0 <= args.val_fraction < 1.0:
        raise CLIError("--val-fraction must lie in [0, 1)")
    if args.max_length < 16:
        raise CLIError("--max-length must be >= 16")
    if args.max_turns < 0:
        raise CLIError("--max-turns must be >= 0")
    if args.candidate_context < 0:
        raise CLIError("--candidate-context must be >= 0")
    if args.backbone not in ("minilm", "tiny") and not Path(args.backbone).is_dir():
        raise CLIError(
            f"--backbone must be minilm, tiny or a model directory, got {args.backbone!r}"
        )
    if args.device not in ("auto", "cpu") and not args.device.startswith("cuda"):
        raise CLIError(f"--device must be cpu, cuda or auto, got {args.device!r}")


def _check_out(out: str) -> bool:
    """Check that --out may take a PRM; returns whether it replaces an earlier PRM there.

    --out may be missing, empty (entries whose names start with a dot aside) or
    hold a PRM (:func:`holds_prm`).
    """
    d = Path(out)
    entries = visible_entries(d)
    if not entries:
        return False
    if holds_prm(d):
        return True
    kind = "an sft output" if "sft_info.json" in entries else "files that are not a PRM"
    raise CLIError(
        f"--out {out} holds {kind} ({shown_entries(entries)}); give a new or empty "
        "directory, or an earlier PRM's to replace it"
    )


def staged_out(out: str) -> StagedDir:
    """The :class:`~agentprm_gym.outdir.StagedDir` a PRM is written into before it is in ``out``.

    Made up front: it checks that ``out`` may take a PRM (:func:`_check_out`) and
    can be written before any data is read or any network trained, and says on
    stderr (also with ``--no-progress``) when an earlier PRM there is replaced.
    """
    replacing = _check_out(out)
    try:
        stage = StagedDir(out, prm_owned, last=frozenset({"prm_config.json"}))
    except OutputDirError as e:
        raise CLIError(f"--out {e}") from None
    if replacing:
        say(f"train-prm: replacing the PRM in {out} once the new one is saved")
    return stage


#: Options that only one architecture reads, with their defaults.
_CROSS_ONLY = {
    "max_length": "--max-length",
    "max_turns": "--max-turns",
    "candidate_context": "--candidate-context",
    "pooling": "--pooling",
}
#: The trainer's warm-up fraction (``TrainConfig.warmup_fraction``; a test pins them equal),
#: kept here so that arguments are checked before torch is imported.
_WARMUP = 0.05

_STATE_ONLY = {
    "cache": "--cache",
    "no_cache": "--no-cache",
    "width": "--width",
    "step_limit": "--step-limit",
    "no_coverage": "--no-coverage",
    "exact": "--exact",
    "history_in_context": "--history-in-context",
    "previous_observations": "--previous-observations",
    "page_pool": "--page-pool",
    "matcher_lr_end": "--matcher-lr-end",
}


def _check_arch_options(args: argparse.Namespace) -> None:
    """Refuse options the chosen architecture would silently ignore."""
    other = _CROSS_ONLY if args.arch == "state" else _STATE_ONLY
    parser_defaults = argparse.ArgumentParser()
    add_arguments(parser_defaults)
    defaults = vars(parser_defaults.parse_args(["--data", "x", "--out", "y"]))
    given = [flag for key, flag in other.items() if getattr(args, key) != defaults[key]]
    if given:
        other_arch = "cross" if args.arch == "state" else "state"
        raise CLIError(
            f"{', '.join(given)}: only for --arch {other_arch} (this run is --arch {args.arch})"
        )


def data_step_limit(train: list[Any]) -> tuple[int | None, str]:
    """The registered step limit of the data's env, or None and why it is unknown."""
    from agentprm_gym.registration import registered_step_limit

    ids = sorted({e.trajectory.env_id for e in train})
    if len(ids) != 1:
        return None, f"the data holds episodes of {len(ids)} envs ({', '.join(ids)})"
    try:
        limit = registered_step_limit(ids[0])
    except LookupError as e:
        return None, f"the data's env {e}"
    if limit is None:
        return None, f"the data's env {ids[0]} is registered without max_episode_steps"
    return limit, ""


def warn_no_step_limit(why: str, who: str = "the PRM sees") -> None:
    """Say that the PRM will not see the steps left (shown with ``--no-progress`` too)."""
    say(
        f"train-prm: no step limit known ({why}): {who} the step index but not the steps "
        "left before a truncation; give --step-limit N if the env has one"
    )


def cache_file(data: str, backbone: str) -> str:
    """The default token-state cache of ``--arch state``: ``DATA.tokens-BACKBONE``."""
    tag = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(backbone).name)
    return f"{data}.tokens-{tag or 'encoder'}"


def build_prm(
    args: argparse.Namespace, train: list[Any], step_limit: int | None, seed: int
) -> tuple[Any, float]:
    """The untrained PRM (initialised with ``seed``), and when its building started."""
    import torch

    from agentprm_gym.prm.model import AgentPRM

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise CLIError("--device cuda but no CUDA device is available")
    corpus = []
    if args.backbone == "tiny":
        for e in train:
            tr = e.trajectory
            corpus.append(tr.instruction)
            corpus.extend(f"{s.observation} {s.action}" for s in tr.steps)
    t0 = time.perf_counter()
    try:
        if args.arch == "state":
            from agentprm_gym.prm.state_model import StatePRM

            prm = StatePRM.create(
                args.backbone,
                d=args.width,
                coverage=not args.no_coverage,
                exact=args.exact,
                history_in_context=args.history_in_context,
                previous_observations=args.previous_observations,
                page_pool=args.page_pool,
                step_limit=step_limit,
                tiny_corpus=corpus,
                seed=seed,
                device=args.device,
            )
        else:
            prm = AgentPRM.create(
                args.backbone,
                pooling=args.pooling,
                max_length=args.max_length,
                max_turns=args.max_turns,
                candidate_context=args.candidate_context,
                tiny_corpus=corpus,
                seed=seed,
                device=args.device,
            )
    except (OSError, ValueError, ImportError) as e:
        raise CLIError(f"cannot build backbone {args.backbone!r}: {e}") from None
    return prm, t0


def read_episodes(args: argparse.Namespace, quiet: bool) -> list[Any]:
    """The data's episodes, checked against the label kind and weighting asked for."""
    from agentprm_gym.core.trajectory import TrajectoryFormatError, read_trajectories
    from agentprm_gym.prm.steps import episode_steps

    try:
        with heartbeat(f"train-prm: reading {args.data}", disable=quiet):
            episodes = episode_steps(read_trajectories(args.data))
    except (TrajectoryFormatError, ValueError, OSError) as e:
        raise CLIError(f"cannot read {args.data}: {e}") from None
    if not episodes:
        raise CLIError(f"{args.data} holds no episodes with steps")
    if args.labels == "mc":
        key = f"mc_{args.mc_mode}"
        lacking = sum(
            1 for e in episodes if (e.mc_soft if args.mc_mode == "soft" else e.mc_hard) is None
        )
        if lacking:
            raise CLIError(
                f"--labels mc needs MC labels (meta {key}) but {lacking} of {len(episodes)} "
                f"episodes in {args.data} have none; collect with --mc N (or --mc-from)"
            )
    return episodes


def token_cache_path(args: argparse.Namespace, encoder_tag: str | None = None) -> str | None:
    """The token-state cache file of this run (None: the cross-encoder, or ``--no-cache``).

    A ``tiny`` encoder is built from its own run's texts and seed, so runs on the same
    data do not share one: given its ``encoder_tag``, its default file is its own.
    """
    if args.arch != "state" or args.no_cache:
        return None
    if args.cache:
        return str(args.cache)
    path = cache_file(args.data, args.backbone)
    if args.backbone == "tiny" and encoder_tag is not None:
        path += "-" + hashlib.blake2b(encoder_tag.encode(), digest_size=4).hexdigest()
    return path


def train_one(
    args: argparse.Namespace,
    episodes: list[Any],
    seed: int,
    out_dir: str,
    *,
    label: str = "",
    deadline: float | None = None,
    final_dir: str | None = None,
) -> dict[str, Any]:
    """Split, build, train and save one PRM; returns the summary (with its history).

    Args:
        args: The checked arguments.
        episodes: Every episode of the data.
        seed: The seed of the split, the initialisation and the batch order.
        out_dir: Where the PRM is saved.
        label: A name that starts this PRM's progress lines (an ensemble member).
        deadline: ``time.time()`` by which training must end (an ensemble's budget;
            None: ``args.max_minutes`` from now, if given).
        final_dir: Where the PRM will be once ``out_dir`` (a staged directory) is
            moved into place: the summary names it (default ``out_dir``).
    """
    quiet = bool(args.no_progress)
    prefix = f"train-prm: {label}: " if label else "train-prm: "

    def note(msg: str) -> None:
        if not quiet:
            say(prefix + msg)

    from agentprm_gym.prm.steps import split_by_task

    train, val = split_by_task(episodes, args.val_fraction, seed)
    n_steps = sum(len(e) for e in train)
    note(
        f"{len(train)} training episodes ({n_steps} steps), {len(val)} held out; "
        f"building the {args.backbone} backbone"
    )
    step_limit = args.step_limit
    if args.arch == "state" and step_limit is None:
        step_limit, why = data_step_limit(train)
        if step_limit is None and not label:  # an ensemble's driver warned once for all
            warn_no_step_limit(why)
    with heartbeat(f"{prefix}building the {args.backbone} backbone", disable=quiet or bool(label)):
        prm, t0 = build_prm(args, train, step_limit, seed)
    from agentprm_gym.prm.training import TrainConfig, train_prm

    max_minutes = args.max_minutes
    if deadline is not None:
        max_minutes = (deadline - time.time()) / 60.0
        if max_minutes <= 0.05:
            raise CLIError(
                "the --max-minutes budget was spent before training started (reading the "
                "data and building the cache took it); give more minutes"
            )
    cfg = TrainConfig(
        labels=args.labels,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        **({} if args.weight_decay is None else {"weight_decay": args.weight_decay}),
        lam=args.lam,
        gamma=args.gamma,
        beta=args.beta,
        mc_mode=args.mc_mode,
        max_minutes=max_minutes,
        seed=seed,
        weighting=args.weighting,
        max_weight=args.max_weight,
        within_weight=args.within_weight,
        matcher_lr_end=args.matcher_lr_end,
        progress=not args.no_progress,
        cache_path=token_cache_path(args, getattr(getattr(prm, "encoder", None), "tag", None)),
        label=label,
    )
    budget = ""
    if max_minutes is not None:
        left = f"{max_minutes:g}" if deadline is None else f"{max_minutes:.1f}"
        budget = f", at most {left} min"
    allocator = allocator_name()
    note(
        f"training on {prm.device} ({args.labels} labels, {args.epochs} epochs{budget}, "
        f"{allocator} allocator); "
        + (
            "the frozen encoder's token states of new texts are computed first (cached)"
            if args.arch == "state"
            else "the inputs are tokenized first"
        )
    )
    try:
        with heartbeat(
            f"{prefix}encoding inputs or checking held-out tasks",
            disable=quiet or bool(label),
        ):
            result = train_prm(prm, train, val, cfg)
    except ValueError as e:
        raise CLIError(str(e)) from None
    except OSError as e:  # e.g. the token cache next to --data cannot be written
        raise CLIError(f"{e} (give --cache FILE in a writable place, or --no-cache)") from None
    out = prm.save_pretrained(out_dir)
    summary = {
        "out": str(final_dir or out),
        "labels": args.labels,
        "arch": args.arch,
        "backbone": args.backbone,
        "seed": seed,
        "device": str(prm.device),
        "allocator": allocator,
        "step_limit": getattr(prm, "step_limit", None),
        "bf16": bool(
            getattr(prm, "use_bf16", False) or getattr(getattr(prm, "encoder", None), "bf16", False)
        ),
        "episodes": len(train),
        "steps": int(sum(len(e) for e in train)),
        "heldout_episodes": len(val),
        "epochs_run": result.epochs_run,
        "stopped_early": result.stopped_early,
        "train_seconds": round(result.train_seconds, 2),
        "setup_seconds": round(time.perf_counter() - t0 - result.train_seconds, 2),
        "final_loss": result.final_loss,
        "heldout": result.heldout,
    }
    with (out / "train_result.json").open("w", encoding="utf-8") as f:
        json.dump({**summary, "history": result.history}, f, indent=2)
        f.write("\n")
    return {**summary, "history": result.history}


def print_history(history: list[dict[str, Any]], label: str = "") -> None:
    """The epoch lines, for a run whose progress output was off."""
    for h in history:
        print(
            (f"{label}: " if label else "")
            + f"epoch {h['epoch']}: loss {h['train_loss']:.4f}"
            + (
                f"  held-out ranking {h['val_ranking_accuracy']:.3f}"
                if h.get("val_ranking_accuracy") is not None
                else ""
            )
            + f"  ({h['seconds']:.1f}s)"
        )


def _episodes(args: argparse.Namespace) -> list[Any]:
    """The data's episodes, checked against ``--weighting`` too."""
    quiet = bool(args.no_progress)
    episodes = read_episodes(args, quiet)
    if args.weighting == "propensity":
        from agentprm_gym.prm.propensity import known_share

        share = known_share(e.trajectory for e in episodes)
        if share == 0.0:
            policies = sorted({e.trajectory.policy for e in episodes})
            raise CLIError(
                f"--weighting propensity: no step of {args.data} has a known propensity "
                f"(policies {', '.join(policies)}; known for noisy:EPS, random and expert "
                "rollouts with recorded expert actions)"
            )
        if not quiet:
            say(f"train-prm: propensity weights: {share:.1%} of the steps have a known propensity")
    return episodes


def run(args: argparse.Namespace) -> int:
    """Train, save and report.

    The PRM is written into a :class:`~agentprm_gym.outdir.StagedDir` (made
    before the data is read, which checks that --out can be written): a hidden
    directory beside --out, or --out itself with an earlier PRM's files put
    aside. It takes their place only when complete: a run that fails leaves an
    earlier PRM there as it was.
    """
    _check(args)
    with staged_out(args.out) as staged:
        episodes = _episodes(args)
        if args.members > 1:
            from agentprm_gym.commands.train_prm_members import train_members

            members = train_members(args, episodes, str(staged))
        else:
            res = train_one(args, episodes, args.seed, str(staged), final_dir=str(Path(args.out)))
    if args.members > 1:
        from agentprm_gym.commands.train_prm_members import report_members

        return report_members(args, members)
    history = res.pop("history")
    if args.no_progress:  # else printed as they ended
        print_history(history)
    print(
        f"trained {args.labels} PRM on {res['steps']} steps of {res['episodes']} episodes "
        f"in {res['train_seconds']:.1f}s; saved to {res['out']}"
    )
    if args.json:
        emit_json(res)
    return 0
