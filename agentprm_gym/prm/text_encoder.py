"""A frozen pretrained encoder whose token states are computed once per distinct text.

The state-encoder PRM reads every text (the instruction, each observation
piece, each action) through a *frozen* transformers encoder, all-MiniLM-L6-v2
by default. Frozen means a text's token states never change, so
:class:`FrozenTextEncoder` computes them once, keyed by a digest of the text,
and keeps them in memory (:class:`TokenStore`) and, for training runs, on disk
next to the run (:meth:`TokenStore.save` / :meth:`TokenStore.load`, safetensors
plus JSON). Training then runs many epochs over cached states, and a search
encodes each new page once, however many candidates and steps look at it.

Each token also carries two number features, so that prices and quantities
compare as numbers rather than as word pieces: whether the token is part of a
number in the text, and ``log10(1 + value) / 4`` of that number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "NUMBER_FEATURES",
    "FrozenTextEncoder",
    "TokenStore",
    "number_features",
    "text_key",
]

#: Number features per token: ``[is_number, log10(1 + value) / 4]``.
NUMBER_FEATURES = 2
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STORE_FORMAT = "agentprm-gym/token-store"
_STORE_VERSION = 1


def text_key(text: str) -> str:
    """The cache key of a text: a 128-bit BLAKE2b digest of its UTF-8 bytes, in hex."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def number_features(text: str, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per token (character ``offsets``), ``[is_number, log10(1 + value) / 4]``.

    A token is part of a number when its span overlaps a run of digits with
    ``.``/``,`` separators (``130.00``, ``1,299``); the value is that run read
    as a decimal number (thousands commas dropped). Other tokens get zeros.
    """
    out = np.zeros((len(offsets), NUMBER_FEATURES), dtype=np.float32)
    spans = []
    for m in _NUMBER.finditer(text):
        s = m.group(0)
        try:
            v = float(s.replace(",", "")) if s.count(".") <= 1 else float(s.split(".")[0])
        except ValueError:
            continue
        spans.append((m.start(), m.end(), np.log10(1.0 + min(v, 1e12)) / 4.0))
    if not spans:
        return out
    for i, (a, b) in enumerate(offsets):
        if b <= a:
            continue
        for s, e, z in spans:
            if a < e and b > s:
                out[i] = (1.0, z)
                break
    return out


class TokenStore:
    """Token states of distinct texts: one flat float16 array plus offsets.

    ``store.index[key]`` is the row of a text; its states are
    ``store.states[store.start[row] : store.start[row] + store.length[row]]``.
    Rows are appended by :meth:`add`; nothing is ever changed in place.

    Args:
        dim: Width of the encoder's hidden states.
        tag: What made the states (encoder name and settings); a store saved
            with another tag is not loaded.
    """

    def __init__(self, dim: int, tag: str) -> None:
        self.dim = int(dim)
        self.tag = str(tag)
        self.index: dict[str, int] = {}
        self._chunks: list[np.ndarray] = []
        self._num_chunks: list[np.ndarray] = []
        self._states: np.ndarray = np.zeros((0, self.dim), dtype=np.float16)
        self._numbers: np.ndarray = np.zeros((0, NUMBER_FEATURES), dtype=np.float32)
        self.start: list[int] = []
        self.length: list[int] = []
        self._rows = 0
        self._total = 0

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def add(self, key: str, states: np.ndarray, numbers: np.ndarray) -> int:
        """Append one text's ``(L, dim)`` states and ``(L, 2)`` number features."""
        if key in self.index:
            return self.index[key]
        row = len(self.start)
        self.index[key] = row
        self.start.append(self._total)
        self.length.append(int(states.shape[0]))
        self._total += int(states.shape[0])
        self._chunks.append(np.asarray(states, dtype=np.float16))
        self._num_chunks.append(np.asarray(numbers, dtype=np.float32))
        return row

    def _flush(self) -> None:
        if self._chunks:
            self._states = np.concatenate([self._states, *self._chunks])
            self._numbers = np.concatenate([self._numbers, *self._num_chunks])
            self._rows = len(self._states)
            self._chunks, self._num_chunks = [], []

    @property
    def states(self) -> np.ndarray:
        """All token states, ``(tokens, dim)`` float16."""
        self._flush()
        return self._states

    @property
    def numbers(self) -> np.ndarray:
        """All number features, ``(tokens, 2)`` float32."""
        self._flush()
        return self._numbers

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the store as ``PATH`` (safetensors) and ``PATH.json`` (keys and tag)."""
        from safetensors.numpy import save_file

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.index, key=self.index.__getitem__)
        # unique temporary names: PRMs trained in parallel on the same data share a cache
        tmp = p.with_name(f"{p.name}.{os.getpid()}.{id(self)}.tmp")
        save_file(
            {
                "states": np.ascontiguousarray(self.states),
                "numbers": np.ascontiguousarray(self.numbers),
                "start": np.asarray(self.start, dtype=np.int64),
                "length": np.asarray(self.length, dtype=np.int64),
            },
            str(tmp),
        )
        meta = {"format": _STORE_FORMAT, "version": _STORE_VERSION, "tag": self.tag, "keys": keys}
        tmp_meta = p.with_name(f"{p.name}.json.{os.getpid()}.{id(self)}.tmp")
        tmp_meta.write_text(json.dumps(meta), encoding="utf-8")
        # the keys file last: a reader that sees new keys also sees their states
        # (a reader between the two replaces sees a count mismatch and rebuilds)
        os.replace(tmp, p)
        os.replace(tmp_meta, p.with_name(p.name + ".json"))
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str], dim: int, tag: str) -> TokenStore | None:
        """A saved store, or None if it is missing, unreadable or made with another tag."""
        from safetensors.numpy import load_file

        p = Path(path)
        meta_path = p.with_name(p.name + ".json")
        if not p.is_file() or not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != _STORE_FORMAT or meta.get("version") != _STORE_VERSION:
                return None
            if meta.get("tag") != tag:
                return None
            arrays = load_file(str(p))
        except Exception:  # a corrupt cache is rebuilt, never trusted
            return None
        store = cls(dim, tag)
        if arrays["states"].shape[1:] != (store.dim,) or len(meta["keys"]) != len(arrays["start"]):
            return None
        store._states = arrays["states"]
        store._numbers = arrays["numbers"]
        store._rows = store._total = len(store._states)
        store.start = arrays["start"].tolist()
        store.length = arrays["length"].tolist()
        store.index = {k: i for i, k in enumerate(meta["keys"])}
        return store


class FrozenTextEncoder:
    """A frozen transformers encoder with a content-keyed cache of token states.

    Args:
        model: The encoder (``transformers`` ``AutoModel``); it is put in eval mode
            and its parameters stop requiring gradients.
        tokenizer: Its fast tokenizer.
        name: What the encoder is (``"minilm"``, ``"tiny"`` or a path), for the tag.
        max_tokens: Tokens kept per text (the first ones, special tokens included).
        device: Where the encoder runs.
        bf16: Run the encoder under bf16 autocast (states are stored as float16).
        batch_size: Texts per encoder forward pass.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        name: str,
        *,
        max_tokens: int = 64,
        device: torch.device | str = "cpu",
        bf16: bool = False,
        batch_size: int = 128,
    ) -> None:
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.tokenizer = tokenizer
        self.name = str(name)
        self.max_tokens = int(max_tokens)
        self.device = torch.device(device)
        self.model.to(self.device)
        self.bf16 = bool(bf16)
        self.batch_size = int(batch_size)
        self.dim = int(model.config.hidden_size)
        self._fingerprint: str | None = None
        self.store = TokenStore(self.dim, self.tag)

    @property
    def tag(self) -> str:
        """Identifies the states this encoder makes.

        Name, width, token budget, and a digest of its weights and vocabulary, so a
        cache made by another encoder of the same name is never used.
        """
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=8)
            for name, t in sorted(self.model.state_dict().items()):
                h.update(name.encode())
                h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
            backend = getattr(self.tokenizer, "backend_tokenizer", None)
            vocab = backend.to_str() if backend is not None else repr(self.tokenizer.get_vocab())
            h.update(vocab.encode())
            self._fingerprint = h.hexdigest()
        return f"{self.name}|{self.dim}|{self.max_tokens}|{self._fingerprint}"

    def rows(
        self,
        texts: Iterable[str],
        progress: Callable[[int], None] | None = None,
    ) -> list[int]:
        """Store rows of ``texts``, encoding those not cached yet.

        Args:
            texts: The texts.
            progress: Called with the number of texts encoded after each batch.
        """
        texts = list(texts)
        keys = [text_key(t) for t in texts]
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in self.store and k not in todo:
                todo[k] = t
        if todo:
            self._encode(list(todo.items()), progress)
        return [self.store.index[k] for k in keys]

    def _encode(self, pairs: list[tuple[str, str]], progress: Callable[[int], None] | None) -> None:
        # Similar lengths together: less padding per batch.
        pairs = sorted(pairs, key=lambda kv: len(kv[1]))
        for i in range(0, len(pairs), self.batch_size):
            chunk = pairs[i : i + self.batch_size]
            texts = [t for _, t in chunk]
            enc = self.tokenizer(
                texts,
                padding=True,
                truncation=True,
                max_length=self.max_tokens,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = enc.pop("offset_mapping").tolist()
            inputs = {k: v.to(self.device) for k, v in enc.items() if k != "token_type_ids"}
            with (
                torch.inference_mode(),
                torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16),
            ):
                h = self.model(**inputs).last_hidden_state
            h = h.float().cpu().numpy()
            lens = enc["attention_mask"].sum(1).tolist()
            for r, ((key, text), n) in enumerate(zip(chunk, lens, strict=True)):
                self.store.add(key, h[r, :n], number_features(text, offsets[r][:n]))
            if progress is not None:
                progress(len(chunk))
