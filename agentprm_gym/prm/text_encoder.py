"""A frozen pretrained encoder whose token states are computed once per distinct text.

The state-encoder PRM reads every text (the instruction, each observation
piece, each action) through a *frozen* transformers encoder, all-MiniLM-L6-v2
by default. Frozen means a text's token states never change, so
:class:`FrozenTextEncoder` computes them once, keyed by a digest of the text,
and keeps them in memory (:class:`TokenStore`) and, for training runs, on disk
next to the run (:meth:`TokenStore.save` / :meth:`TokenStore.load`, safetensors
plus JSON). Training then runs many epochs over cached states, and a search
encodes each new page once, however many candidates and steps look at it.

A BERT-family encoder (MiniLM, the tiny test backbone) packs several texts into
one row of up to :data:`PACK_TOKENS` tokens, each text attending only to itself
and counting its positions from 0, so the few new texts of a search's call (a
page's pieces, of many different lengths) go through in one or two passes
rather than one pass per token count. Each text gets the states it gets alone,
up to float rounding.

Each token also carries two number features, so that prices and quantities
compare as numbers rather than as word pieces: whether the token is part of a
number in the text, and ``log10(1 + value) / 4`` of that number. And each token
keeps its vocabulary id (-1 for special tokens such as ``[CLS]``), so that the
PRM can tell when a title holds the very word piece an instruction asks for.
"""

from __future__ import annotations

import copy
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
    "PACK_TOKENS",
    "FrozenTextEncoder",
    "TokenStore",
    "number_features",
    "pack_rows",
    "text_key",
]

#: Number features per token: ``[is_number, log10(1 + value) / 4]``.
NUMBER_FEATURES = 2
# digits, thousands commas only before exactly three digits ("1,299"; "8,10,12" is three
# numbers), and one decimal part
_NUMBER = re.compile(r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?")
_STORE_FORMAT = "agentprm-gym/token-store"
#: 2: token ids are stored (version-1 files are rebuilt).
_STORE_VERSION = 2


def text_key(text: str) -> str:
    """The cache key of a text: a 128-bit BLAKE2b digest of its UTF-8 bytes, in hex."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def number_features(text: str, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """Per token (character ``offsets``), ``[is_number, log10(1 + value) / 4]``.

    A token is part of a number when its span overlaps a run of digits with
    thousands commas and a decimal part (``130.00``, ``1,299``; ``8,10`` is two
    numbers); the value is that run read as a decimal number. Other tokens get
    zeros.
    """
    out = np.zeros((len(offsets), NUMBER_FEATURES), dtype=np.float32)
    spans = []
    for m in _NUMBER.finditer(text):
        v = float(m.group(0).replace(",", ""))
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


def _bf16_linears(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` whose linear layers hold bf16 weights, sharing its other parameters.

    Under bf16 autocast a linear layer casts its float32 weight and bias to bf16 on
    every call; a frozen encoder's weights never change, so this copy holds them
    cast once. Autocast leaves bf16 tensors as they are, so under autocast the copy
    computes exactly what ``model`` does (the cast is the same rounding), without
    the casts: about twice as fast for one short text on this project's CPUs. The
    embeddings and layer norms, which autocast runs in float32, are shared, and so is
    a linear layer's weight that another kind of module also holds (a tied weight:
    autocast casts it on each call, as before).
    """
    held_elsewhere = {
        id(p)
        for m in model.modules()
        if not isinstance(m, torch.nn.Linear)
        for p in m.parameters(recurse=False)
    }
    # deepcopy takes what the memo names for a parameter instead of copying it
    memo: dict[int, Any] = {}
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            for p in (m.weight, m.bias):
                if p is not None and id(p) not in held_elsewhere and id(p) not in memo:
                    memo[id(p)] = torch.nn.Parameter(
                        p.detach().to(torch.bfloat16), requires_grad=False
                    )
    for p in model.parameters():
        memo.setdefault(id(p), p)
    return copy.deepcopy(model, memo)


#: Tokens per packed encoder row (:func:`pack_rows`): four texts of the default 64.
PACK_TOKENS = 256


def pack_rows(lengths: Sequence[int], cap: int) -> list[list[int]]:
    """Texts, by index, in rows of at most ``cap`` tokens: longest first, each row filled in turn.

    A row takes texts in order of decreasing length (ties by index) until the next one
    does not fit, and the next row starts with it (next fit, decreasing); a text longer
    than ``cap`` has a row of its own.
    """
    rows: list[list[int]] = []
    used = 0
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        if not rows or used + lengths[i] > cap:
            rows.append([])
            used = 0
        rows[-1].append(i)
        used += lengths[i]
    return rows


def _grown(used: np.ndarray, rows: int) -> np.ndarray:
    """A new array of ``rows`` rows whose first rows are ``used`` (the rest unset)."""
    out = np.empty((rows, *used.shape[1:]), dtype=used.dtype)
    out[: len(used)] = used
    return out


class TokenStore:
    """Token states of distinct texts: one growing float16 array plus offsets.

    Beside each token's state it keeps the token's number features and its
    vocabulary id (-1 for special tokens).

    ``store.index[key]`` is the row of a text; its states are
    ``store.states[store.start[row] : store.start[row] + store.length[row]]``.
    Rows are appended by :meth:`add` (the arrays grow by doubling, so appending
    costs amortised O(1) per token); nothing is ever changed in place.

    Args:
        dim: Width of the encoder's hidden states.
        tag: What made the states (encoder and settings); a store saved with
            another tag is not loaded.
    """

    def __init__(self, dim: int, tag: str) -> None:
        self.dim = int(dim)
        self.tag = str(tag)
        self.index: dict[str, int] = {}
        self.start: list[int] = []
        self.length: list[int] = []
        self._total = 0
        self._states = np.zeros((1024, self.dim), dtype=np.float16)
        self._numbers = np.zeros((1024, NUMBER_FEATURES), dtype=np.float32)
        self._ids = np.full(1024, -1, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, key: str) -> bool:
        return key in self.index

    @property
    def tokens(self) -> int:
        """Token states held."""
        return self._total

    def add(
        self, key: str, states: np.ndarray, numbers: np.ndarray, ids: np.ndarray | None = None
    ) -> int:
        """Append one text's ``(L, dim)`` states, ``(L, 2)`` number features and ``(L,)`` ids.

        Without ``ids`` every token gets -1 (matches nothing).

        Raises:
            ValueError: If ``numbers`` or ``ids`` do not have one row per token.
        """
        if key in self.index:
            return self.index[key]
        n = int(states.shape[0])
        ids = np.full(n, -1, dtype=np.int32) if ids is None else np.asarray(ids)
        if np.shape(numbers)[:1] != (n,) or ids.shape != (n,):
            raise ValueError(
                f"{n} token states need {n} rows of numbers and ids, got "
                f"{np.shape(numbers)} and {ids.shape}"
            )
        need = self._total + n
        if need > len(self._states):
            # doubling; only the used part is copied, so the rest costs no memory until
            # it is written (np.resize would fill it)
            cap = max(need, 2 * len(self._states))
            self._states = _grown(self._states[: self._total], cap)
            self._numbers = _grown(self._numbers[: self._total], cap)
            self._ids = _grown(self._ids[: self._total], cap)
        self._states[self._total : need] = states
        self._numbers[self._total : need] = numbers
        self._ids[self._total : need] = ids
        row = len(self.start)
        self.index[key] = row
        self.start.append(self._total)
        self.length.append(n)
        self._total = need
        return row

    def head(self, rows: int) -> TokenStore:
        """A new store holding copies of the first ``rows`` texts (same rows, same keys)."""
        out = TokenStore(self.dim, self.tag)
        rows = max(0, min(int(rows), len(self.start)))
        if rows == 0:
            return out
        n = self.start[rows - 1] + self.length[rows - 1]
        out._states = self._states[:n].copy()
        out._numbers = self._numbers[:n].copy()
        out._ids = self._ids[:n].copy()
        out._total = n
        out.start = self.start[:rows]
        out.length = self.length[:rows]
        out.index = {k: i for k, i in self.index.items() if i < rows}
        return out

    @property
    def states(self) -> np.ndarray:
        """All token states, ``(tokens, dim)`` float16 (a view)."""
        return self._states[: self._total]

    @property
    def numbers(self) -> np.ndarray:
        """All number features, ``(tokens, 2)`` float32 (a view)."""
        return self._numbers[: self._total]

    @property
    def ids(self) -> np.ndarray:
        """All token ids, ``(tokens,)`` int32, -1 for special tokens (a view)."""
        return self._ids[: self._total]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the store to one safetensors file (keys and tag in its metadata).

        The file is written under a unique temporary name and moved into place
        in one step, so a reader sees either the old store or the new one whole,
        and PRMs trained in parallel on the same data never see a mix.
        """
        from safetensors.numpy import save_file

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.index, key=self.index.__getitem__)
        tmp = p.with_name(f"{p.name}.{os.getpid()}.{id(self)}.tmp")
        meta = {
            "format": _STORE_FORMAT,
            "version": str(_STORE_VERSION),
            "tag": self.tag,
            "keys": json.dumps(keys),
        }
        try:
            save_file(
                {
                    "states": np.ascontiguousarray(self.states),
                    "numbers": np.ascontiguousarray(self.numbers),
                    "ids": np.ascontiguousarray(self.ids),
                    "start": np.asarray(self.start, dtype=np.int64),
                    "length": np.asarray(self.length, dtype=np.int64),
                },
                str(tmp),
                metadata=meta,
            )
            os.replace(tmp, p)
        finally:
            tmp.unlink(missing_ok=True)
        return p

    @staticmethod
    def tag_of(path: str | os.PathLike[str]) -> str | None:
        """The tag a saved store was made with (None: missing, unreadable, not a store)."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = f.metadata() or {}
        except Exception:  # a missing or corrupt file has no tag
            return None
        return meta.get("tag") if meta.get("format") == _STORE_FORMAT else None

    @classmethod
    def load(cls, path: str | os.PathLike[str], dim: int, tag: str) -> TokenStore | None:
        """A saved store, or None if it is missing, unreadable or made with another tag."""
        from safetensors import safe_open

        p = Path(path)
        if not p.is_file():
            return None
        try:
            with safe_open(str(p), framework="numpy") as f:
                meta = f.metadata() or {}
                if meta.get("format") != _STORE_FORMAT:
                    return None
                if meta.get("version") != str(_STORE_VERSION) or meta.get("tag") != tag:
                    return None
                keys = json.loads(meta["keys"])
                arrays = {
                    k: f.get_tensor(k) for k in ("states", "numbers", "ids", "start", "length")
                }
        except Exception:  # a corrupt cache is rebuilt, never trusted
            return None
        store = cls(dim, tag)
        n = len(arrays["states"])
        if (
            arrays["states"].shape[1:] != (store.dim,)
            or len(keys) != len(arrays["start"])
            or len(arrays["numbers"]) != n
            or len(arrays["ids"]) != n
            or (len(keys) and int(arrays["start"][-1] + arrays["length"][-1]) != n)
        ):
            return None
        # the file's arrays are fresh memory already: no second copy
        store._states = np.asarray(arrays["states"], dtype=np.float16)
        store._numbers = np.asarray(arrays["numbers"], dtype=np.float32)
        store._ids = np.asarray(arrays["ids"], dtype=np.int32)
        store._total = n
        store.start = arrays["start"].tolist()
        store.length = arrays["length"].tolist()
        store.index = {k: i for i, k in enumerate(keys)}
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
        batch_size: Texts per encoder forward pass (packed: that many texts of
            ``max_tokens`` tokens' worth of rows).
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
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(
                f"the frozen encoder {name!r} needs a fast (Rust) tokenizer for token offsets"
            )
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
        self._special = frozenset(int(i) for i in getattr(tokenizer, "all_special_ids", ()))
        self.store = TokenStore(self.dim, self.tag)  # the tag digests the weights as given
        self._runner = _bf16_linears(self.model) if self.bf16 else None
        #: Pack several short texts into one encoder row: BERT-family encoders whose
        #: forward pass honours per-token position ids and a 4D attention mask (checked
        #: once, :meth:`_packing_works`; older transformers refuse such a mask).
        bert = getattr(getattr(model, "config", None), "model_type", None) == "bert"
        self.packs = bert and self._packing_works()

    @property
    def store(self) -> TokenStore:
        """The token states computed or loaded so far.

        Assigning a store (one shared with another encoder, say) makes all of its
        texts ones :meth:`reset` forgets.
        """
        return self._store

    @store.setter
    def store(self, store: TokenStore) -> None:
        self._store = store
        self._base_rows = 0  # texts loaded by warm_start, which reset keeps
        self._base_tokens = 0

    def reset(self, *, keep_loaded: bool = True) -> None:
        """Forget the token states computed since :meth:`warm_start` (all, without one).

        The store is replaced by a new one (memory is freed).

        Args:
            keep_loaded: Keep the states :meth:`warm_start` loaded, with the same
                rows; False forgets them too (the encoder is as new).
        """
        if not keep_loaded:
            self._base_rows = self._base_tokens = 0
        self._store = self._store.head(self._base_rows)

    def warm_start(self, path: str | os.PathLike[str]) -> int:
        """Load the token states saved at ``path`` into an empty store (0 if it is not).

        ``path`` is a file :meth:`TokenStore.save` wrote, such as the cache
        ``train-prm`` keeps next to its data; a missing, unreadable or
        other-encoder file is skipped. The loaded texts are then never encoded
        again, and :meth:`reset` keeps them.

        Returns:
            The number of texts loaded (0: nothing was loaded).
        """
        if len(self.store):
            return 0
        loaded = TokenStore.load(path, self.dim, self.tag)
        if loaded is None:
            return 0
        self._store = loaded
        self.mark_loaded()
        return len(loaded)

    def mark_loaded(self) -> None:
        """Count every state held now as loaded: :meth:`reset` keeps them from now on.

        For states saved to disk after they were computed (a training run's token
        cache), which a PRM loaded from that file would hold as loaded too.
        """
        self._base_rows, self._base_tokens = len(self.store), self.store.tokens

    @property
    def added_tokens(self) -> int:
        """Token states held beyond those :meth:`warm_start` loaded."""
        return self.store.tokens - self._base_tokens

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
        precision = "bf16" if self.bf16 else "fp32"
        return f"{self.name}|{self.dim}|{self.max_tokens}|{precision}|{self._fingerprint}"

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
        texts = [t for _, t in pairs]
        enc = self.tokenizer(
            texts, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True
        )
        ids = enc["input_ids"]
        for rows in self._passes([len(x) for x in ids]):
            states = self._forward([[ids[i] for i in row] for row in rows])
            for row, h in zip(rows, states):
                at = 0
                for i in row:
                    n = len(ids[i])
                    key, text = pairs[i]
                    tok_ids = np.asarray(
                        [-1 if t in self._special else t for t in ids[i]], dtype=np.int32
                    )
                    self.store.add(
                        key,
                        h[at : at + n],
                        number_features(text, enc["offset_mapping"][i]),
                        tok_ids,
                    )
                    at += n
            if progress is not None:
                progress(sum(len(row) for row in rows))

    def _packing_works(self) -> bool:
        """Whether two texts in one packed row get the states each gets alone (float32)."""
        ids = self.tokenizer(["frozen encoder packing check", "two texts"])["input_ids"]
        bf16, self.bf16 = self.bf16, False
        try:
            self.packs = True
            both = self._forward([ids])[0]
            self.packs = False
            alone = [self._forward([[x]])[0] for x in ids]
        except (ValueError, TypeError, RuntimeError):  # a model refusing the mask or positions
            return False
        finally:
            self.bf16 = bf16
        n = len(ids[0])
        diff = max(
            np.abs(both[:n] - alone[0]).max(), np.abs(both[n : n + len(ids[1])] - alone[1]).max()
        )
        return bool(diff < 1e-4)

    def _passes(self, lengths: Sequence[int]) -> list[list[list[int]]]:
        """The encoder passes for texts of these token counts: rows of text indices per pass.

        Packed (BERT-family encoders): rows of several texts, at most
        :data:`PACK_TOKENS` tokens each (:func:`pack_rows`), about ``batch_size`` texts'
        worth of tokens per pass. Otherwise one text per row, and a pass holds only texts
        of the same token count, so that no row is padded.
        """
        if self.packs:
            rows = pack_rows(lengths, PACK_TOKENS)
            per_pass = max(1, self.batch_size * self.max_tokens // PACK_TOKENS)
            return [rows[s : s + per_pass] for s in range(0, len(rows), per_pass)]
        by_len: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            by_len.setdefault(n, []).append(i)
        return [
            [[i] for i in members[s : s + self.batch_size]]
            for _, members in sorted(by_len.items())
            for s in range(0, len(members), self.batch_size)
        ]

    def _forward(self, rows: list[list[list[int]]]) -> np.ndarray:
        """Last hidden states of rows of token-id lists, ``(rows, tokens, dim)`` float32.

        A row of several texts is one sequence in which each text attends only to itself
        and counts its positions from 0, so each text gets the states it gets alone (up
        to float rounding: the products' blocking depends on the row and batch sizes).
        """
        width = max(sum(len(x) for x in row) for row in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        if self.packs:
            pos = torch.zeros_like(ids)
            seg = torch.full_like(ids, -1)
            for r, row in enumerate(rows):
                at = 0
                for k, x in enumerate(row):
                    ids[r, at : at + len(x)] = torch.tensor(x)
                    pos[r, at : at + len(x)] = torch.arange(len(x))
                    seg[r, at : at + len(x)] = k
                    at += len(x)
            same = seg[:, :, None] == seg[:, None, :]
            # a padding position attends to itself only (a row of no keys would be NaN)
            pad_self = torch.eye(width, dtype=torch.bool) & (seg[:, :, None] < 0)
            allowed = ((same & (seg[:, :, None] >= 0)) | pad_self)[:, None]
            # additive (0 or the lowest float): every attention implementation adds it
            # to the scores, where a boolean mask would be added as 0 / 1 by some
            mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
            kwargs = {"attention_mask": mask.to(self.device), "position_ids": pos.to(self.device)}
            kwargs["token_type_ids"] = torch.zeros_like(ids).to(self.device)
        else:
            for r, row in enumerate(rows):
                ids[r] = torch.tensor(row[0])
            kwargs = {"attention_mask": torch.ones_like(ids).to(self.device)}
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16),
        ):
            model = self.model if self._runner is None or not self.bf16 else self._runner
            h = model(input_ids=ids.to(self.device), **kwargs).last_hidden_state
        return h.float().cpu().numpy()
