"""The state-encoder PRM: every state encoded once, every candidate scored from it.

:class:`StatePRM` is the default learned PRM of this package (``train-prm
--arch state``). It reads the whole decision, as the policy sees it:

- the whole instruction;
- the whole current observation, cut into pieces
  (:func:`~agentprm_gym.prm.segments.observation_pieces`): on a WebShop results
  page every result's id, title and price;
- the last ``max_history`` past actions;
- with ``previous_observations`` N > 0, the pieces of the N observations before
  the current one (on a wrong item's page, the results page it came from);
- the candidate action and the piece it names
  (:func:`~agentprm_gym.prm.segments.mention_index`);
- the step index and the steps left before the env truncates the episode, so
  the last step before a truncation is not mistaken for a mid-episode state.

Texts go through a frozen pretrained encoder (all-MiniLM-L6-v2 by default)
once per distinct text (:mod:`~agentprm_gym.prm.text_encoder`); a small
trainable network (:class:`~agentprm_gym.prm.state_net.StateNet`) matches
them against the instruction token by token, contextualises the pieces of a
state, and scores every candidate from that one state encoding.

``score(items)`` groups its items by state and runs each state's context once
for all of that state's candidates (and many states per forward pass);
``score_candidates(state, actions)`` (the :class:`~agentprm_gym.prm.base.PRM`
method) is one state's call of it, so the two give the same numbers. Saved
directories use the same versioned layout as
the cross-encoder (``model.safetensors`` + ``prm_config.json`` with
``"architecture": "state"``); :meth:`agentprm_gym.prm.model.AgentPRM.from_pretrained`
and :func:`agentprm_gym.prm.loading.load_prm` load both kinds.
"""

from __future__ import annotations

import json
import os
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from agentprm_gym.prm.base import PRM, ScoreItem
from agentprm_gym.prm.model import _FORMAT, _FORMAT_VERSION, STATE_ARCHITECTURE
from agentprm_gym.prm.net_cache import NetCache
from agentprm_gym.prm.segments import MAX_PIECES, mention_index, observation_pieces
from agentprm_gym.prm.state_net import Candidate, Context, StateNet, pack_inputs
from agentprm_gym.prm.text_encoder import FrozenTextEncoder

__all__ = ["ARCHITECTURE", "StatePRM", "StateKey"]

#: ``prm_config.json``'s ``architecture`` value of this PRM.
ARCHITECTURE = STATE_ARCHITECTURE
#: Token states a scoring PRM adds to its encoder's store before the store starts afresh
#: (about 1.5 GB), on top of those loaded from its token cache (which stay).
MAX_CACHED_TOKENS = 2_000_000
_ENCODER_DIR = "encoder"
#: ``(instruction, current observation, last past actions, previous observations)``:
#: what a context is made of (the last is empty for PRMs that do not read them).
StateKey = tuple[str, str, tuple[str, ...], tuple[str, ...]]
#: ``(instruction, past actions, observation pieces, previous observations' pieces)``.
ContextTexts = tuple[str, list[str], list[str], list[list[str]]]


def _load_encoder(name: str, directory: Path | None, tiny_corpus: Sequence[str]) -> Any:
    """``(model, tokenizer)`` of a frozen encoder by name."""
    from transformers import AutoModel, AutoTokenizer

    if directory is not None and (directory / _ENCODER_DIR).is_dir():
        d = directory / _ENCODER_DIR
        tok = AutoTokenizer.from_pretrained(str(d))
        from transformers import AutoConfig

        model = AutoModel.from_config(AutoConfig.from_pretrained(str(d)))
        return model, tok
    if name == "tiny":
        from agentprm_gym.prm.tiny import build_tiny_backbone, build_tiny_tokenizer

        tok = build_tiny_tokenizer(list(tiny_corpus))
        return build_tiny_backbone(len(tok)), tok
    from agentprm_gym.prm.model import minilm_path

    path = minilm_path() if name == "minilm" else name
    if not Path(path).is_dir():
        raise FileNotFoundError(f"encoder {name!r} is not 'minilm', 'tiny' or a model directory")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


class StatePRM(PRM):
    """A learned PRM over frozen token states: ``Q(s, a) = sigmoid(StateNet(s, a))``.

    Build one with :meth:`create` or load one with :meth:`from_pretrained`.

    Args:
        encoder: The frozen text encoder (and its token-state cache).
        net: The trainable network.
        config: Settings saved in ``prm_config.json``.
        device: Where the network runs.
        contexts_per_batch: States per forward pass when scoring.
        cache_size: Most cached scores (0 disables the score cache).
    """

    name = "agentprm"

    def __init__(
        self,
        encoder: FrozenTextEncoder,
        net: StateNet,
        config: dict[str, Any],
        *,
        device: str | torch.device = "cpu",
        contexts_per_batch: int = 64,
        cache_size: int = 65536,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net
        self.config = dict(config)
        self.device = torch.device(device)
        self.net.to(self.device)
        self.net.eval()
        self.max_history = int(self.config.get("max_history", 4))
        self.max_pieces = int(self.config.get("max_pieces", MAX_PIECES))
        self.previous = self.net.previous  # observations before the current one it reads
        self.step_limit = self.config.get("step_limit")
        self.contexts_per_batch = int(contexts_per_batch)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple[StateKey, str, int], float] = OrderedDict()
        self._net_cache = NetCache()
        # saved relative to the checkpoint: from_config_dir resolves it
        self.config.pop("token_cache", None)
        self.token_cache = None

    # ------------------------------------------------------------------ build
    @classmethod
    def create(
        cls,
        encoder: str = "minilm",
        *,
        d: int = 128,
        heads: int = 4,
        layers: int = 2,
        dropout: float = 0.1,
        max_history: int = 4,
        max_tokens: int = 64,
        step_limit: int | None = None,
        coverage: bool = True,
        exact: bool = False,
        history_in_context: bool = False,
        previous_observations: int = 0,
        page_pool: bool = False,
        tiny_corpus: Sequence[str] = (),
        seed: int = 0,
        device: str | torch.device | None = "cpu",
        **kwargs: Any,
    ) -> StatePRM:
        """A new PRM: a frozen encoder and a freshly initialised :class:`StateNet`.

        Args:
            encoder: ``"minilm"`` (default), ``"tiny"`` (random 2-layer BERT, for
                tests) or a local Hugging Face model directory.
            d: Width of the trainable network.
            heads: Attention heads.
            layers: Context encoder layers.
            dropout: Dropout of the transformer layers.
            max_history: Past actions in view.
            max_tokens: Tokens kept per text by the frozen encoder.
            step_limit: The env's step limit (``max_episode_steps``), for the
                steps-left input; None if unknown.
            coverage: Match the instruction against each text both ways (how much
                of the instruction a title covers); False gives the network of
                checkpoints saved before this channel existed.
            exact: Also compare vocabulary ids (an exact-match flag per token
                and, with ``coverage``, which of the instruction's word pieces a
                text holds verbatim). Off by default: on WebShop it sharpens
                result, option and search choices but ranks leaving a wrong
                page lower still (docs/prm.md has the figures).
            history_in_context: Run the past actions through the context
                encoder with the observation's pieces, as checkpoints saved
                before this option did. Off by default: the encoder then runs
                once per distinct observation and the candidates attend to the
                past actions, which trains 1.6–1.9× as fast on WebShop
                (docs/prm.md has the figures).
            previous_observations: Observations before the current one whose
                pieces each candidate also reads (0: the current one only, as
                checkpoints from before this option). Needs the history outside
                the context (``history_in_context=False``).
            page_pool: Give each candidate its state's contextual vectors pooled
                over the page (max and mean) besides its own attention (False:
                as checkpoints from before this option).
            tiny_corpus: Texts the ``tiny`` tokenizer takes its words from.
            seed: Seeds the initialisation.
            device: ``"cpu"``, ``"cuda"`` or ``None``/``"auto"``.
            **kwargs: Passed to the constructor.
        """
        from agentprm_gym.prm.model import bf16_supported, resolve_device

        dev = resolve_device(device)
        torch.manual_seed(seed)
        model, tok = _load_encoder(str(encoder), None, tiny_corpus)
        enc = FrozenTextEncoder(
            model,
            tok,
            str(encoder),
            max_tokens=max_tokens,
            device=dev,
            bf16=bf16_supported(dev),
        )
        torch.manual_seed(seed)
        net = StateNet(
            enc.dim,
            d=d,
            heads=heads,
            layers=layers,
            dropout=dropout,
            max_pieces=MAX_PIECES,
            max_history=max_history,
            coverage=coverage,
            exact=exact,
            history_in_context=history_in_context,
            previous=previous_observations,
            page_pool=page_pool,
        )
        config = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "architecture": ARCHITECTURE,
            "encoder": str(encoder),
            "max_tokens": int(max_tokens),
            "d": int(d),
            "heads": int(heads),
            "layers": int(layers),
            "dropout": float(dropout),
            "max_history": int(max_history),
            "max_pieces": MAX_PIECES,
            "step_limit": None if step_limit is None else int(step_limit),
            "coverage": bool(coverage),
            "exact": bool(exact),
            "history_in_context": bool(history_in_context),
            "previous_observations": int(previous_observations),
            "page_pool": bool(page_pool),
        }
        return cls(enc, net, config, device=dev, **kwargs)

    # ---------------------------------------------------------------- inputs
    def state_key(self, item: ScoreItem) -> StateKey:
        """What identifies an item's state.

        Its instruction, current observation, last past actions and the previous
        observations this PRM reads (none unless ``previous_observations`` > 0).
        """
        hist = item.history
        if not hist:
            raise ValueError("history must end with the current observation")
        past = tuple(str(a) for _, a in hist[:-1][-self.max_history :]) if self.max_history else ()
        prev = tuple(str(o) for o, _ in hist[:-1][-self.previous :]) if self.previous else ()
        return (item.instruction, str(hist[-1]), past, prev)

    @staticmethod
    def step_of(item: ScoreItem) -> int:
        """The step index ``t`` of an item's state (its number of past turns)."""
        return len(item.history) - 1

    def steps_left(self, step: int) -> int:
        """Steps the saved ``step_limit`` leaves at step ``t`` (-1 if unknown).

        The limit is the registered ``max_episode_steps`` of the env the PRM was
        trained on; an env run with another limit gets this one's count.
        """
        return -1 if self.step_limit is None else max(int(self.step_limit) - step, 0)

    def context_texts(self, key: StateKey) -> ContextTexts:
        """``(instruction, past actions, observation pieces, previous observations' pieces)``."""
        instruction, obs, past, prev = key
        return (
            instruction,
            list(past),
            observation_pieces(obs, self.max_pieces),
            [observation_pieces(o, self.max_pieces) for o in prev],
        )

    @staticmethod
    def context_text_list(parts: ContextTexts) -> list[str]:
        """Every text of a state's :meth:`context_texts`, in order (repeats kept)."""
        instr, past, pieces, prev = parts
        return [instr, *past, *pieces, *(p for obs in prev for p in obs)]

    @staticmethod
    def context_rows(parts: ContextTexts, row_of: Mapping[str, int]) -> Context:
        """The :class:`Context` of a state's :meth:`context_texts`, given each text's store row."""
        instr, past, pieces, prev = parts
        return Context(
            row_of[instr],
            tuple(row_of[a] for a in past),
            tuple(row_of[p] for p in pieces),
            tuple(tuple(row_of[p] for p in obs) for obs in prev),
        )

    def _forward(self, contexts: list[Context], candidates: list[Candidate]) -> NDArray[np.float64]:
        """Q of every candidate, reusing what earlier calls computed (:class:`NetCache`)."""
        cache = self._net_cache
        cache.check(self.encoder.store, self.net)
        x = pack_inputs(
            self.encoder.store,
            contexts,
            candidates,
            self.device,
            known=cache.pairs,
            split_history=self.net.split_history,
            known_contexts=cache.contexts,
        )
        keys = x.pair_keys
        known_keys = [keys[i] for i in x.known_pos]
        for k in known_keys:
            cache.pairs.move_to_end(k)
        known = torch.stack([cache.pairs[k] for k in known_keys]) if known_keys else None
        known_ctx = [x.ctx_keys[r] for r in x.ctx_known]
        for k in known_ctx:
            cache.contexts.move_to_end(k)
        instr_row = x.instr_rows[0] if x.n_instr == 1 else -1
        side = cache.instructions.get(instr_row)
        if side is not None:
            cache.instructions.move_to_end(instr_row)
        was = self.net.training
        if was:
            self.net.eval()
        try:
            with torch.inference_mode():
                out = self.net.forward_cached(
                    x, known, [cache.contexts[k] for k in known_ctx], side
                )
                q = torch.sigmoid(out.logits).double()
                if q.dim() == 2:  # members stacked (StackedStateNet): their mean Q
                    q = q.mean(0)
                q = q.cpu().numpy()
                # a copy each: a view would keep the whole batch's block alive
                for i in x.new_pos:
                    cache.pairs[keys[i]] = out.pairs[i].clone()
                lengths = x.ctx_len.tolist()
                for j, r in enumerate(x.ctx_new):
                    cache.contexts[x.ctx_keys[r]] = out.contexts[j, : lengths[r]].clone()
                if out.instruction is not None and out.instruction is not side:
                    cache.instructions[instr_row] = out.instruction  # new, or with its vector
        finally:
            if was:
                self.net.train(True)
        cache.trim()
        return q

    def _score_groups(
        self, groups: dict[StateKey, list[tuple[int, str, int]]], n: int
    ) -> NDArray[np.float64]:
        """Score ``groups[state] = [(out index, action, step), ...]`` into an array of n."""
        out = np.zeros(n, dtype=np.float64)
        if not self._warm_tried:
            self._warm_tried = True
            self._warm_start()
        keys = list(groups)
        for s in range(0, len(keys), self.contexts_per_batch):
            chunk = keys[s : s + self.contexts_per_batch]
            texts: list[str] = []
            parts = []
            for key in chunk:
                part = self.context_texts(key)
                parts.append(part)
                texts.extend(self.context_text_list(part))
                texts.extend(a for _, a, _ in groups[key])
            if self.encoder.added_tokens > MAX_CACHED_TOKENS:
                # bounded memory in long searches: start the token cache afresh
                # (the warm start's states stay)
                # (states depend on batch-mates only by float rounding, see the encoder)
                self.encoder.reset()
            row_of = dict(zip(texts, self.encoder.rows(texts), strict=True))
            contexts: list[Context] = []
            candidates: list[Candidate] = []
            where: list[int] = []
            for k, (key, part) in enumerate(zip(chunk, parts, strict=True)):
                contexts.append(self.context_rows(part, row_of))
                for i, action, step in groups[key]:
                    candidates.append(
                        Candidate(
                            k,
                            row_of[action],
                            mention_index(action, part[2]),
                            step,
                            self.steps_left(step),
                        )
                    )
                    where.append(i)
            out[where] = self._forward(contexts, candidates)
        return out

    @property
    def token_cache(self) -> Path | None:
        """The token-state file this PRM was trained with (``train-prm`` sets it).

        It is loaded into the frozen encoder before the next scoring call, when the
        encoder holds no states yet (:meth:`FrozenTextEncoder.warm_start`); None:
        start from nothing. Set it to None before scoring to save the memory, or to
        another such file.
        """
        return self._token_cache

    @token_cache.setter
    def token_cache(self, path: str | os.PathLike[str] | None) -> None:
        self._token_cache = None if path is None else Path(path)
        self._warm_tried = False  # tried again at the next scoring call

    def _warm_start(self) -> None:
        """Load :attr:`token_cache` into an encoder that holds no states yet (or warn)."""
        if self.token_cache is None or len(self.encoder.store):
            return
        if self.encoder.warm_start(self.token_cache) == 0:
            warnings.warn(
                f"the PRM's token cache {self.token_cache} was not loaded "
                f"({_not_loaded(self.token_cache, self.encoder.tag)}); every text is "
                "encoded from nothing",
                stacklevel=5,
            )

    # --------------------------------------------------------------- scoring
    def _score(self, items: list[ScoreItem]) -> NDArray[np.float64]:
        q = np.empty(len(items), dtype=np.float64)
        groups: dict[StateKey, list[tuple[int, str, int]]] = {}
        todo: dict[tuple[StateKey, str, int], list[int]] = {}  # distinct new items -> positions
        for i, it in enumerate(items):
            key = self.state_key(it)
            ck = (key, str(it.action), self.step_of(it))
            if self.cache_size and ck in self._cache:
                self._cache.move_to_end(ck)
                q[i] = self._cache[ck]
                self.stats.cache_hits += 1
                continue
            if ck not in todo:  # a repeat within the call is scored once
                groups.setdefault(key, []).append((len(todo), ck[1], ck[2]))
                todo[ck] = []
            todo[ck].append(i)
        if todo:
            vals = self._score_groups(groups, len(todo))
            for (ck, where), v in zip(todo.items(), vals, strict=True):
                q[where] = v
                if self.cache_size:
                    self._cache[ck] = float(v)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return q

    def clear_cache(self) -> None:
        """Forget cached scores and the network's kept work (needed after the weights change).

        Token states stay. Matched pairs, encoded contexts and instruction sides
        (:class:`~agentprm_gym.prm.net_cache.NetCache`) also empty themselves when a
        weight changes in a way torch records; after any other change of the weights,
        call this. It also picks up parameters swapped into ``net``.
        """
        self._cache.clear()
        self._net_cache.clear()

    def __deepcopy__(self, memo: dict[int, Any]) -> StatePRM:
        """A copy as :meth:`PRM.__deepcopy__`, with an empty :class:`NetCache` of its own."""
        kept, self._net_cache = self._net_cache, NetCache()
        try:
            return super().__deepcopy__(memo)  # type: ignore[return-value]
        finally:
            self._net_cache = kept

    # ---------------------------------------------------------------- saving
    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``model.safetensors`` (the network) and ``prm_config.json``.

        A ``tiny`` encoder (random weights, corpus-built vocabulary) is saved too,
        under ``encoder/``; a pretrained encoder is named in the config and
        loaded from its package or path.

        Raises:
            TypeError: If the network is not a trainable :class:`StateNet` (the
                stacked members an ensemble scores with: save the ensemble).
        """
        if not isinstance(self.net, StateNet):
            raise TypeError(
                f"a {type(self.net).__name__} is not saved: save the ensemble it was built from"
            )
        from safetensors.torch import save_file

        from agentprm_gym.prm.model import PRM_CONFIG_NAME, WEIGHTS_NAME

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}
        save_file(state, str(d / WEIGHTS_NAME), metadata={"format": "pt"})
        if self.config["encoder"] == "tiny":
            e = d / _ENCODER_DIR
            e.mkdir(exist_ok=True)
            enc_state = {
                k: v.detach().cpu().contiguous() for k, v in self.encoder.model.state_dict().items()
            }
            save_file(enc_state, str(e / WEIGHTS_NAME), metadata={"format": "pt"})
            self.encoder.model.config.save_pretrained(str(e))
            backend = getattr(self.encoder.tokenizer, "backend_tokenizer", None)
            if backend is not None:
                # saved as built: calling the tokenizer set these, and they are part of
                # the encoder's tag, so a reloaded encoder could not use the token cache
                backend.no_truncation()
                backend.no_padding()
            self.encoder.tokenizer.save_pretrained(str(e))
        config = dict(self.config)
        if self.token_cache is not None:
            # relative to the checkpoint, so a moved tree of runs keeps the link
            config["token_cache"] = os.path.relpath(Path(self.token_cache).resolve(), d.resolve())
        with (d / PRM_CONFIG_NAME).open("w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, sort_keys=True)
            f.write("\n")
        return d

    @classmethod
    def from_config_dir(
        cls, d: Path, config: dict[str, Any], device: str | torch.device | None = "cpu", **kw: Any
    ) -> StatePRM:
        """Load from a directory whose ``prm_config.json`` was already read and checked."""
        from safetensors.torch import load_file

        from agentprm_gym.prm.model import (
            WEIGHTS_NAME,
            CheckpointError,
            bf16_supported,
            check_weights,
            resolve_device,
        )

        dev = resolve_device(device)
        try:
            model, tok = _load_encoder(str(config.get("encoder", "minilm")), d, ())
        except (OSError, ValueError, ImportError) as e:
            raise CheckpointError(f"{d}: cannot load the frozen encoder ({e})") from None
        enc_weights = d / _ENCODER_DIR / WEIGHTS_NAME
        if config.get("encoder") == "tiny" and not enc_weights.is_file():
            raise CheckpointError(f"{d}: missing file {_ENCODER_DIR}/{WEIGHTS_NAME} (tiny encoder)")
        if enc_weights.is_file():
            try:
                model.load_state_dict(load_file(str(enc_weights)), strict=True)
            except Exception as e:
                raise CheckpointError(f"{enc_weights}: does not load ({e})") from None
        enc = FrozenTextEncoder(
            model,
            tok,
            str(config.get("encoder", "minilm")),
            max_tokens=int(config.get("max_tokens", 64)),
            device=dev,
            bf16=bf16_supported(dev),
        )
        try:
            net = StateNet(
                enc.dim,
                d=int(config["d"]),
                heads=int(config["heads"]),
                layers=int(config["layers"]),
                dropout=float(config.get("dropout", 0.1)),
                max_pieces=int(config.get("max_pieces", MAX_PIECES)),
                max_history=int(config.get("max_history", 4)),
                coverage=config.get("coverage", False) is True,
                exact=config.get("exact", False) is True,
                # checkpoints from before the option ran the history through the context;
                # only an explicit false gives the newer layout (strict loading catches a
                # config that names the wrong one)
                history_in_context=config.get("history_in_context", True) is not False,
                previous=int(config.get("previous_observations", 0)),
                page_pool=config.get("page_pool", False) is True,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise CheckpointError(f"{d}: bad state-PRM config ({e})") from None
        try:
            state = load_file(str(d / WEIGHTS_NAME))
        except Exception as e:
            raise CheckpointError(f"{d / WEIGHTS_NAME}: corrupt weights file ({e})") from None
        check_weights(d / WEIGHTS_NAME, state, net.state_dict())
        net.load_state_dict(state, strict=True)
        prm = cls(enc, net, config, device=dev, **kw)
        cached = config.get("token_cache")
        if isinstance(cached, str):
            prm.token_cache = (d / cached).resolve()
        return prm

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], **kwargs: Any) -> StatePRM:
        """Load a state PRM saved by :meth:`save_pretrained`."""
        from agentprm_gym.prm.model import AgentPRM

        prm = AgentPRM.from_pretrained(directory, **kwargs)
        if not isinstance(prm, StatePRM):
            from agentprm_gym.prm.model import CheckpointError

            raise CheckpointError(f"{directory}: not a state-encoder PRM")
        return prm


def _not_loaded(path: Path, tag: str) -> str:
    """Why the token-state file at ``path`` did not load into an encoder of ``tag``."""
    from agentprm_gym.prm.text_encoder import TokenStore

    if not path.is_file():
        return "it is missing"
    got = TokenStore.tag_of(path)
    if got is None:
        return "it is not a readable token-state file"
    if got == tag:
        return "it holds no texts"
    mine, theirs = tag.split("|"), got.split("|")
    if len(mine) == len(theirs) == 5 and mine[:3] + mine[4:] == theirs[:3] + theirs[4:]:
        return f"it was made at another precision ({theirs[3]}, not {mine[3]})"
    return "another encoder made it (a run on the same data may have replaced it)"
