"""Training steps prepared once per run, for either PRM architecture.

The trainer (:mod:`agentprm_gym.prm.training`) sees every step of every
training episode as one flat index and asks a *step set* for the model's
``M_t`` at a batch of indices, with gradients. What is prepared once:

- :class:`CrossEncoderSteps` (:class:`~agentprm_gym.prm.model.AgentPRM`): each
  step's formatted text, tokenized; identical inputs share one forward pass.
- :class:`StateSteps` (:class:`~agentprm_gym.prm.state_model.StatePRM`): each
  step's state (instruction, observation pieces, past actions and, for PRMs
  that read them, the previous observations' pieces) and candidate,
  with every distinct text's frozen token states computed once (and loaded
  from, or saved to, an on-disk cache when a path is given). A batch runs each
  distinct state's context once for all the steps that share it. Once the
  trainer freezes the matching layers, the step set also keeps every matched
  (text, instruction) pair (:meth:`StateSteps.keep_pairs`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch

from agentprm_gym.prm.steps import EpisodeSteps

if TYPE_CHECKING:
    from agentprm_gym.prm.state_model import ContextTexts

__all__ = ["CrossEncoderSteps", "StateSteps", "StepSet", "make_step_set"]


class StepSet(Protocol):
    """Steps of a list of episodes, flattened: step ``i`` of episode ``e`` is ``offsets[e] + i``.

    ``state_ids[i]`` numbers the state of step ``i``: steps with equal ids show the
    model the same state (for the state PRM: the same page and last past actions; the
    step index may differ), and the within-state loss groups them.
    """

    offsets: np.ndarray
    state_ids: np.ndarray

    def predict(self, idx: Sequence[int]) -> torch.Tensor:
        """``M_t = sigmoid(logit)`` at the flat indices ``idx`` (gradients on)."""
        ...


class CrossEncoderSteps:
    """All steps formatted and tokenized once for the cross-encoder.

    ``src[i]`` is the first step whose input is identical to step ``i``'s;
    identical inputs in a batch go through the network once. ``state_ids`` number
    the distinct (instruction, history) of the steps.
    """

    def __init__(self, prm: Any, episodes: Sequence[EpisodeSteps]) -> None:
        self.prm = prm
        self.offsets = np.cumsum([0] + [len(e) for e in episodes])
        texts = [prm.format(it) for e in episodes for it in e.items]
        enc = prm.tokenizer(texts, truncation=True, max_length=prm.max_length)
        self.ids: list[list[int]] = enc["input_ids"]
        self.pad_id = int(prm.tokenizer.pad_token_id or 0)
        first: dict[tuple[int, ...], int] = {}
        self.src = np.array(
            [first.setdefault(tuple(seq), i) for i, seq in enumerate(self.ids)], dtype=np.int64
        )
        states: dict[tuple[Any, ...], int] = {}
        self.state_ids = np.array(
            [
                states.setdefault((str(it.instruction), *map(str, it.history)), len(states))
                for e in episodes
                for it in e.items
            ],
            dtype=np.int64,
        )

    def _collate(self, idx: Sequence[int]) -> dict[str, torch.Tensor]:
        n = max(len(self.ids[i]) for i in idx)
        ids = torch.full((len(idx), n), self.pad_id, dtype=torch.long)
        att = torch.zeros((len(idx), n), dtype=torch.long)
        for r, i in enumerate(idx):
            seq = self.ids[i]
            ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            att[r, : len(seq)] = 1
        dev = self.prm.device
        return {"input_ids": ids.to(dev), "attention_mask": att.to(dev)}

    def predict(self, idx: Sequence[int]) -> torch.Tensor:
        """M at ``idx``; identical inputs run once and share the output (and its gradient)."""
        uniq, inverse = np.unique(self.src[list(idx)], return_inverse=True)
        with self.prm.autocast():
            logits = self.prm.net(**self._collate(uniq.tolist()))
        inv = torch.as_tensor(inverse.ravel(), device=self.prm.device)
        return torch.sigmoid(logits.float())[inv]


class StateSteps:
    """All steps as (state, candidate) pairs over cached frozen token states.

    ``state_ids[i]`` is the index of step ``i``'s state among the distinct
    :meth:`~agentprm_gym.prm.state_model.StatePRM.state_key` of the steps.

    The set keeps the token store its rows index (``store``): scoring may start
    the encoder's store afresh when it grows past
    :data:`~agentprm_gym.prm.state_model.MAX_CACHED_TOKENS` (the held-out check
    between epochs scores through it), and the set's rows stay valid. The set then
    holds the old store while the encoder fills the new one.

    Args:
        prm: A :class:`~agentprm_gym.prm.state_model.StatePRM`.
        episodes: The episodes.
        cache_path: Where the token states are kept on disk (loaded if present
            and made by the same encoder; saved after encoding); None keeps them
            in memory only.
        progress: Called as ``progress(done, total)`` while texts are encoded.
    """

    def __init__(
        self,
        prm: Any,
        episodes: Sequence[EpisodeSteps],
        cache_path: str | Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        from agentprm_gym.prm.segments import mention_index
        from agentprm_gym.prm.state_net import Candidate
        from agentprm_gym.prm.text_encoder import text_key

        self.prm = prm
        self.offsets = np.cumsum([0] + [len(e) for e in episodes])
        enc = prm.encoder
        if cache_path is not None:
            enc.warm_start(cache_path)  # where the encoder holds no states yet
        keys: dict[Any, int] = {}
        parts: list[ContextTexts] = []
        steps: list[tuple[int, str, int]] = []
        for ep in episodes:
            for it in ep.items:
                key = prm.state_key(it)
                k = keys.get(key)
                if k is None:
                    k = keys[key] = len(parts)
                    parts.append(prm.context_texts(key))
                steps.append((k, str(it.action), prm.step_of(it)))
        texts: dict[str, None] = {}
        for part in parts:
            texts.update(dict.fromkeys(prm.context_text_list(part)))
        texts.update(dict.fromkeys(a for _, a, _ in steps))
        new = sum(1 for t in texts if text_key(t) not in enc.store)
        self.texts_total = len(texts)
        self.texts_encoded = new
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], new)

        if progress is not None:
            progress(0, new)
        row_of = dict(zip(texts, enc.rows(list(texts), tick), strict=True))
        #: The token store whose rows the contexts and candidates name.
        self.store = enc.store
        if cache_path is not None:
            if new:
                self.store.save(cache_path)
            enc.mark_loaded()  # on disk now: kept as a PRM loaded from the file keeps them
        self.contexts = [prm.context_rows(part, row_of) for part in parts]
        self.candidates = [
            Candidate(k, row_of[a], mention_index(a, parts[k][2]), t, prm.steps_left(t))
            for k, a, t in steps
        ]
        self.state_ids = np.asarray([k for k, _, _ in steps], dtype=np.int64)
        #: Matched vectors kept between batches, by (text row, instruction row); None
        #: until :meth:`keep_pairs`.
        self.pairs: dict[tuple[int, int], torch.Tensor] | None = None

    def keep_pairs(self) -> None:
        """From now on keep each (text, instruction) pair's matched vector between batches.

        A pair's vector depends only on its two texts and the matching layers'
        weights (those layers have no dropout), so once those weights stop changing
        each pair need only be matched once: later batches take its vector from here
        and run neither the matching nor its backward pass. The caller must keep the
        matching layers fixed from this call on (the trainer calls it once their
        learning rate has reached 0 for good, and stops their gradients).
        """
        if self.pairs is None:
            self.pairs = {}

    def predict(self, idx: Sequence[int]) -> torch.Tensor:
        """M at ``idx``; each distinct state's context runs once for all its steps.

        After :meth:`keep_pairs`, pairs kept from earlier batches are not matched
        again, and the newly matched ones are kept.
        """
        from agentprm_gym.prm.state_net import pack_inputs

        local: dict[int, int] = {}
        cands = []
        for i in idx:
            c = self.candidates[i]
            cands.append(replace(c, context=local.setdefault(c.context, len(local))))
        ctxs = [self.contexts[k] for k in local]
        kept = self.pairs
        x = pack_inputs(
            self.store,
            ctxs,
            cands,
            self.prm.device,
            known=frozenset() if kept is None else kept,
            split_history=self.prm.net.split_history,
        )
        # without kept pairs nothing is known, and this is the plain forward pass
        known = torch.stack([kept[x.pair_keys[i]] for i in x.known_pos]) if x.known_pos else None
        logits, pairs = self.prm.net.forward_with_pairs(x, known)
        if kept is not None and x.new_pos:
            new = pairs[x.new_pos].detach()  # one copy of the new rows only
            kept.update(zip((x.pair_keys[i] for i in x.new_pos), new, strict=True))
        return torch.sigmoid(logits.float())


def make_step_set(
    prm: Any,
    episodes: Sequence[EpisodeSteps],
    cache_path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StepSet:
    """The step set that fits ``prm``'s architecture."""
    from agentprm_gym.prm.state_model import StatePRM

    if isinstance(prm, StatePRM):
        return StateSteps(prm, episodes, cache_path, progress)
    return CrossEncoderSteps(prm, episodes)
