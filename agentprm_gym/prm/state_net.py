"""The trainable network of the state-encoder PRM, and how its inputs are packed.

Everything text-shaped arrives as rows of a :class:`~agentprm_gym.prm.text_encoder.TokenStore`
(frozen token states). :class:`StateNet` computes, for a batch of *contexts*
(distinct states) and *candidates* (actions considered in those states):

1. **Token projection.** Each token's frozen state and number features go
   through one linear layer and a layer norm to width ``d``.
2. **Matching against the instruction.** Every observation piece, past action
   and candidate action cross-attends, token by token, to the tokens of its
   state's instruction; an MLP over ``[x, attended, x·attended]`` and mean and
   max pooling give one vector per (text, instruction) pair. This is where
   "spf 30" or "under 60 dollars" in the instruction meets a title or a price.
   With ``coverage`` (the default for new networks) the match also runs the
   other way: each instruction token's best cosine match among the text's
   tokens, weighted by a learned importance of the instruction's tokens, says
   how much of what is asked for the text covers and what it leaves out.
   With ``exact`` (off by default) both directions also see exact matches of
   vocabulary ids: whether a text token is a word piece of the instruction,
   and which of the instruction's word pieces the text holds verbatim ("30"
   in "spf 30" is 30, not a number near it).
3. **Context.** A transformer encoder runs over the sequence ``[instruction,
   observation pieces]`` of each distinct (instruction, observation), with
   learned type and position embeddings, so a piece sees its neighbours (a
   result's id, title and price sit side by side) and the page as a whole.
   The last past actions (their matched vectors, with type and recency
   embeddings, layer-normed) are a state's *history*. With
   ``history_in_context`` (the network of checkpoints saved before the option
   existed) they are part of
   the context sequence, so every (observation, history) runs the encoder
   apart; otherwise (the default) the encoder runs once per distinct
   observation, however many histories reach it (about a third as often on
   WebShop training batches), and the history joins at the candidates.
4. **Candidates.** Each candidate starts from its own matched vector, the
   contextual vectors of the piece it names and the two after it (a result's
   id, title and price; learned "nothing there" vectors where there is none),
   and embeddings of the step index and of the steps left before
   truncation; a decoder layer lets it attend to its state's context and
   history (never to other candidates), and a linear head gives the logit of
   ``Q(s, a)``. Opt-in: with ``previous`` it also attends to the pieces of the
   observations before the current one (their matched vectors), and with
   ``page_pool`` it gets its context row pooled (max and mean).

A state's context is computed once for all its candidates, and a candidate's
score depends only on its own state: scoring one candidate or a hundred gives
the same number. The matched vector of a (text, instruction) pair depends only
on the two texts, the contextual vectors of a context row only on its texts,
and an instruction's side of the matching (:class:`InstructionSide`) only on the
instruction, so a caller may keep them: :meth:`StateNet.forward_cached` returns
them and takes them back, and :func:`pack_inputs` leaves out the pairs and
context rows it is told are known.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from agentprm_gym.prm.text_encoder import NUMBER_FEATURES, TokenStore

__all__ = [
    "MAX_STEP_EMBED",
    "Candidate",
    "Context",
    "ContextKey",
    "InstructionSide",
    "MatchFn",
    "Matched",
    "NetInputs",
    "NetOutput",
    "StateNet",
    "check_cached_inputs",
    "match_by_instruction",
    "pack_inputs",
]

#: Pieces a candidate reads from where its argument is named on (an id, then its title and price).
_MENTION_WINDOW = 3
#: Numeric comparison features per matched token: own [is_number, value], attended
#: instruction [is_number, value], value difference, both-numbers.
_NUMERIC = 2 * NUMBER_FEATURES + 2
#: Largest step index / steps-left value with its own embedding (larger ones share the last).
MAX_STEP_EMBED = 64


#: ``(instruction row, past-action rows, piece rows)`` of a context row: its contextual
#: vectors depend on these and the weights only (the past actions are empty for networks
#: that keep the history out of the context).
ContextKey = tuple[int, tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Context:
    """One distinct state, as store rows.

    Attributes:
        instruction: Row of the instruction.
        history: Rows of the last past actions, oldest first.
        pieces: Rows of the current observation's pieces, in order.
        previous: The pieces' rows of the observations before the current one,
            oldest first (the last one is the previous step's); empty at the
            first step or for networks that do not read them.
    """

    instruction: int
    history: tuple[int, ...]
    pieces: tuple[int, ...]
    previous: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One action considered in a context.

    Attributes:
        context: Index of its context in the batch's context list.
        action: Row of the action text.
        mention: Index of the observation piece the action names, or -1.
        step: Step index ``t`` of the state (0 at reset).
        steps_left: Steps the env's step limit leaves, ``limit - t`` (-1: unknown).
    """

    context: int
    action: int
    mention: int
    step: int
    steps_left: int


@dataclass
class NetInputs:
    """Tensors for one :meth:`StateNet.forward` call (see :func:`pack_inputs`)."""

    tokens: torch.Tensor  # (n_tok, enc_dim) float32: every text's real tokens, flat
    numbers: torch.Tensor  # (n_tok, 2)
    ids: torch.Tensor  # (n_tok,) vocabulary id of each flat token, -1 = special token
    tok_text: torch.Tensor  # (n_tok,) text of each flat token
    text_first: list[int]  # first flat token of each text
    text_len: list[int]  # tokens of each text
    n_instr: int  # the instructions read in this pass are the first texts
    instr_rows: list[int]  # their store rows
    instr_tokens: int  # ... and their tokens are the first tokens
    pt_pair: torch.Tensor  # (n_pair_tok,) pair of each flat pair token
    pt_tok: torch.Tensor  # (n_pair_tok,) flat token of each pair token
    pair_text: torch.Tensor  # (n_pair,) index into texts
    pair_instr: torch.Tensor  # (n_pair,) index into texts
    # context rows to encode in this pass ("new" rows; all rows unless the caller knows some)
    ctx_instr: torch.Tensor  # (n_new_ctx,) index into texts
    ctx_seq: torch.Tensor  # (n_new_ctx, S_new) index into pairs, -1 = padding
    ctx_type: torch.Tensor  # (n_new_ctx, S_new) 1 = past action, 2 = piece
    ctx_pos: torch.Tensor  # (n_new_ctx, S_new)
    ctx_len: torch.Tensor  # (n_ctx,) positions of every context row (1 + its texts)
    ctx_width: int  # the most positions of a context row (1 without rows)
    cand_ctx: torch.Tensor  # (n_cand,)
    cand_pair: torch.Tensor  # (n_cand,) index into pairs
    cand_mention: torch.Tensor  # (n_cand,) position in ctx sequence, -1 = none
    cand_step: torch.Tensor  # (n_cand,)
    cand_left: torch.Tensor  # (n_cand,)
    cand_hist: torch.Tensor  # (n_cand, H) history pairs of split-history inputs, -1 = none
    cand_hist_pos: torch.Tensor  # (n_cand, H) recency of each (1 = the last action)
    # (n_cand,) rank of each candidate among its context row's candidates (0-based, in
    # candidate order): (cand_ctx, cand_slot) pairs are distinct and cand_slot < n_slot
    cand_slot: torch.Tensor
    n_slot: int  # most candidates of one context row
    prev_seq: torch.Tensor  # (n_prev, P) pairs of each distinct previous observation, -1 = pad
    prev_pos: torch.Tensor  # (n_prev, P) piece position (1-based)
    # (n_cand, N) previous-observation row of each candidate by recency (column 0 = the
    # previous step's observation), -1 = none
    cand_prev: torch.Tensor
    pair_keys: list[tuple[int, int]]  # (text row, instruction row) of every pair
    new_pos: list[int]  # pairs matched in this pass (pair_text etc. list these)
    known_pos: list[int]  # pairs whose vectors the caller supplies
    ctx_keys: list[ContextKey]  # what every context row is made of
    ctx_new: list[int]  # rows encoded in this pass, in ctx_seq's order
    ctx_known: list[int]  # rows whose contextual vectors the caller supplies
    split_history: bool = False  # packed with the history at the candidates (pack_inputs)
    # the batch holds one instruction and every pair to match has tokens: each pair token
    # attends to the same instruction, and a pair's index is its rank among the pairs
    one_instruction: bool = False


class InstructionSide(NamedTuple):
    """What the network derives from one instruction's tokens alone.

    It depends only on the instruction and the weights, so a caller may keep it
    for later calls (:meth:`StateNet.forward_cached`).

    Attributes:
        keys: ``(L, H, dh)`` the matching attention's keys of the instruction's tokens.
        values: ``(L, H, dh)`` its values.
        numbers: ``(L, NUMBER_FEATURES)`` the tokens' number features.
        ids: ``(L,)`` their vocabulary ids (-1: special token).
        cover_keys: ``(L, H, dh)`` normalised coverage projections (None without
            ``coverage``).
        importance: ``(H, L)`` the learned weight of each token (None without
            ``coverage``).
        cover_values: ``(L, H, dh)`` coverage value vectors (None without ``coverage``).
        vector: ``(d,)`` the instruction's position in a context row (None until a
            call encodes a context row of it).
        row: The instruction's store row (-1: not known).
    """

    keys: torch.Tensor
    values: torch.Tensor
    numbers: torch.Tensor
    ids: torch.Tensor
    cover_keys: torch.Tensor | None
    importance: torch.Tensor | None
    cover_values: torch.Tensor | None
    vector: torch.Tensor | None
    row: int = -1


class NetOutput(NamedTuple):
    """What :meth:`StateNet.forward_cached` gives back.

    Attributes:
        logits: ``(n_cand,)`` logits of ``Q``.
        pairs: ``(n_pair, d)``: ``pairs[i]`` is the vector of ``pair_keys[i]``.
        contexts: ``(n_new_ctx, S_new, d)``: the contextual vectors of the rows
            encoded in this pass (``ctx_new``), zeros after each row's
            ``ctx_len``.
        instruction: The side of the pass's one instruction (``n_instr == 1``),
            else None.
    """

    logits: torch.Tensor
    pairs: torch.Tensor
    contexts: torch.Tensor
    instruction: InstructionSide | None


def pack_inputs(
    store: TokenStore,
    contexts: list[Context],
    candidates: list[Candidate],
    device: torch.device,
    known: Container[tuple[int, int]] = frozenset(),
    split_history: bool = False,
    known_contexts: Container[ContextKey] = frozenset(),
) -> NetInputs:
    """Gather the store rows a batch needs into padded tensors.

    Every distinct text row is gathered once, and every distinct (text,
    instruction) pair is matched once, however many states and candidates
    share it. With ``split_history`` (networks built with
    ``history_in_context=False``) the context rows are the distinct
    (instruction, pieces) of the contexts, and each candidate carries its own
    state's history rows (``cand_hist``). Pairs in ``known`` (``(text row,
    instruction row)``) are not matched at all: the caller passes their vectors to
    :meth:`StateNet.forward_cached`, and their texts' tokens are not
    gathered unless another part of the batch needs them. The previous
    observations of the contexts (:attr:`Context.previous`) become rows of
    ``prev_seq``, one per distinct (instruction, pieces), and each candidate
    names its state's rows by recency (``cand_prev``).

    Context rows whose :data:`ContextKey` is in ``known_contexts`` are not
    encoded: the caller passes their contextual vectors to
    :meth:`StateNet.forward_cached` (``ctx_known`` lists those rows), and
    their pieces are not matched unless another part of the batch needs them.
    The instructions that new rows and new pairs read are the first texts
    (``n_instr``; ``instr_rows`` names their store rows).
    """
    text_ix: dict[int, int] = {}

    def tix(row: int) -> int:
        return text_ix.setdefault(row, len(text_ix))

    pair_ix: dict[tuple[int, int], int] = {}
    pair_keys: list[tuple[int, int]] = []

    def pix(row: int, instr_row: int) -> int:
        key = (row, instr_row)
        i = pair_ix.get(key)
        if i is None:
            i = pair_ix[key] = len(pair_keys)
            pair_keys.append(key)
        return i

    seqs: list[ContextKey]
    if split_history:
        seq_of: dict[ContextKey, int] = {}
        ctx_of = [seq_of.setdefault((c.instruction, (), c.pieces), len(seq_of)) for c in contexts]
        seqs = list(seq_of)
    else:
        ctx_of = list(range(len(contexts)))
        seqs = [(c.instruction, c.history, c.pieces) for c in contexts]
    n_ctx = len(seqs)
    ctx_len = np.asarray([1 + len(h) + len(p) for _, h, p in seqs], dtype=np.int64)
    ctx_new = [k for k, key in enumerate(seqs) if key not in known_contexts]
    ctx_known = [k for k, key in enumerate(seqs) if key in known_contexts]
    s_len = int(ctx_len[ctx_new].max(initial=1))
    ctx_seq = np.full((len(ctx_new), s_len), -1, dtype=np.int64)
    ctx_type = np.zeros((len(ctx_new), s_len), dtype=np.int64)
    ctx_pos = np.zeros((len(ctx_new), s_len), dtype=np.int64)
    for k, (instr, history, pieces) in enumerate(seqs[i] for i in ctx_new):
        j = 1
        for h, row in enumerate(history):
            ctx_seq[k, j] = pix(row, instr)
            ctx_type[k, j] = 1
            ctx_pos[k, j] = len(history) - h
            j += 1
        for p, row in enumerate(pieces):
            ctx_seq[k, j] = pix(row, instr)
            ctx_type[k, j] = 2
            ctx_pos[k, j] = p + 1
            j += 1
    n_cand = len(candidates)
    cand_ctx = np.zeros(n_cand, dtype=np.int64)
    cand_pair = np.zeros(n_cand, dtype=np.int64)
    cand_mention = np.full(n_cand, -1, dtype=np.int64)
    cand_step = np.zeros(n_cand, dtype=np.int64)
    cand_left = np.zeros(n_cand, dtype=np.int64)
    n_hist = max((len(c.history) for c in contexts), default=0) if split_history else 0
    cand_hist = np.full((n_cand, n_hist), -1, dtype=np.int64)
    cand_hist_pos = np.zeros((n_cand, n_hist), dtype=np.int64)
    cand_slot = np.zeros(n_cand, dtype=np.int64)
    row_count = [0] * n_ctx
    # previous observations: one row per distinct (instruction, pieces)
    prev_of: dict[tuple[int, tuple[int, ...]], int] = {}
    n_prev_obs = max((len(c.previous) for c in contexts), default=0)
    ctx_prev = np.full((len(contexts), n_prev_obs), -1, dtype=np.int64)
    for k, c in enumerate(contexts):
        for j, pieces in enumerate(reversed(c.previous)):
            ctx_prev[k, j] = prev_of.setdefault((c.instruction, pieces), len(prev_of))
    prev_len = max((len(p) for _, p in prev_of), default=0)
    prev_seq = np.full((len(prev_of), prev_len), -1, dtype=np.int64)
    prev_pos = np.zeros((len(prev_of), prev_len), dtype=np.int64)
    for r, (instr, pieces) in enumerate(prev_of):
        for p, row in enumerate(pieces):
            prev_seq[r, p] = pix(row, instr)
            prev_pos[r, p] = p + 1
    cand_prev = np.full((n_cand, n_prev_obs), -1, dtype=np.int64)
    for i, c in enumerate(candidates):
        ctx = contexts[c.context]
        cand_ctx[i] = ctx_of[c.context]
        cand_slot[i] = row_count[cand_ctx[i]]
        row_count[cand_ctx[i]] += 1
        cand_prev[i] = ctx_prev[c.context]
        cand_pair[i] = pix(c.action, ctx.instruction)
        if split_history:
            for h, row in enumerate(ctx.history):
                cand_hist[i, h] = pix(row, ctx.instruction)
                cand_hist_pos[i, h] = len(ctx.history) - h
        if 0 <= c.mention < len(ctx.pieces):
            in_seq = 0 if split_history else len(ctx.history)
            cand_mention[i] = 1 + in_seq + c.mention
        cand_step[i] = min(max(c.step, 0), MAX_STEP_EMBED - 1)
        # 0 = unknown limit; 1.. = steps left (clamped)
        cand_left[i] = 0 if c.steps_left < 0 else min(c.steps_left, MAX_STEP_EMBED - 2) + 1

    new_pos: list[int] = []
    known_pos: list[int] = []
    for i, key in enumerate(pair_keys):
        (known_pos if key in known else new_pos).append(i)
    # the instructions that are read (by new rows and new pairs) are the first texts
    for instr in [seqs[k][0] for k in ctx_new] + [pair_keys[i][1] for i in new_pos]:
        tix(instr)
    n_instr = len(text_ix)
    ctx_instr = np.asarray([text_ix[seqs[k][0]] for k in ctx_new], dtype=np.int64)
    pair_text = [tix(pair_keys[i][0]) for i in new_pos]
    pair_instr = [tix(pair_keys[i][1]) for i in new_pos]
    rows = sorted(text_ix, key=text_ix.__getitem__)
    lengths = np.asarray([store.length[r] for r in rows], dtype=np.int64)
    starts = np.asarray([store.start[r] for r in rows], dtype=np.int64)
    tok_text = np.repeat(np.arange(len(rows)), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    tok_pos = np.arange(len(tok_text)) - first
    flat = np.repeat(starts, lengths) + tok_pos
    text_first = np.cumsum(lengths) - lengths
    p_text = np.asarray(pair_text, dtype=np.int64)
    p_len = lengths[p_text]
    pt_pair = np.repeat(np.arange(len(p_len)), p_len)
    pt_tok = np.repeat(text_first[p_text], p_len) + (
        np.arange(len(pt_pair)) - np.repeat(np.cumsum(p_len) - p_len, p_len)
    )

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device)

    return NetInputs(
        tokens=t(store.states[flat].astype(np.float32)),
        numbers=t(store.numbers[flat]),
        ids=t(store.ids[flat].astype(np.int64)),
        tok_text=t(tok_text),
        text_first=text_first.tolist(),
        text_len=lengths.tolist(),
        n_instr=n_instr,
        instr_rows=rows[:n_instr],
        instr_tokens=int(lengths[:n_instr].sum()),
        pt_pair=t(pt_pair),
        pt_tok=t(pt_tok),
        pair_text=t(np.asarray(pair_text, dtype=np.int64)),
        pair_instr=t(np.asarray(pair_instr, dtype=np.int64)),
        ctx_instr=t(ctx_instr),
        ctx_seq=t(ctx_seq),
        ctx_type=t(ctx_type),
        ctx_pos=t(ctx_pos),
        ctx_len=t(ctx_len),
        ctx_width=int(ctx_len.max(initial=1)),
        cand_ctx=t(cand_ctx),
        cand_pair=t(cand_pair),
        cand_mention=t(cand_mention),
        cand_step=t(cand_step),
        cand_left=t(cand_left),
        cand_hist=t(cand_hist),
        cand_hist_pos=t(cand_hist_pos),
        cand_slot=t(cand_slot),
        n_slot=max(row_count, default=0),
        prev_seq=t(prev_seq),
        prev_pos=t(prev_pos),
        cand_prev=t(cand_prev),
        pair_keys=pair_keys,
        new_pos=new_pos,
        known_pos=known_pos,
        ctx_keys=seqs,
        ctx_new=ctx_new,
        ctx_known=ctx_known,
        split_history=split_history,
        one_instruction=n_instr == 1 and bool((p_len > 0).all()),
    )


def _linear_parts(layer: nn.Linear, parts: list[torch.Tensor]) -> torch.Tensor:
    """``layer(torch.cat(parts, -1))``, as one matrix product per part with gradients on.

    In training the product of one odd-width input (384 + 2 or 384 + 6 columns) is
    slow in the backward pass (about 1.6 times as long as 384 columns here); a wide
    part whose width is a multiple of 8 and a narrow one multiply faster apart.
    Without gradients (scoring: small inputs, no backward pass) the concatenated
    product is the faster one and is used.

    Args:
        layer: The linear layer; its inputs are the parts' columns, in order.
        parts: Tensors whose last dimensions add up to ``layer.in_features``.

    Returns:
        The layer's output.

    Raises:
        ValueError: If the parts' widths do not add up to the layer's inputs.
    """
    width = sum(part.shape[-1] for part in parts)
    if not parts or width != layer.in_features:
        raise ValueError(f"parts of width {width} for a layer of {layer.in_features} inputs")
    if not torch.is_grad_enabled():
        return layer(torch.cat(parts, -1))
    out, start = None, 0
    for i, part in enumerate(parts):
        # a contiguous copy: a strided slice of the weight sends the product to a slow path
        w = layer.weight[:, start : start + part.shape[-1]].contiguous()
        start += part.shape[-1]
        y = nn.functional.linear(part, w, layer.bias if i == 0 else None)
        out = y if out is None else out + y
    return out


def check_cached_inputs(
    net: nn.Module,
    x: NetInputs,
    known: torch.Tensor | None,
    known_contexts: Sequence[torch.Tensor],
    instruction: InstructionSide | None,
) -> None:
    """Check the arguments of a ``forward_cached`` call against each other.

    Raises:
        ValueError: If ``x`` was packed for the other layout than ``net.split_history``,
            known pairs or contexts are missing or of the wrong length, or the
            instruction side is another instruction's.
    """
    if x.split_history is not net.split_history:
        raise ValueError(
            f"inputs packed with split_history={x.split_history} for a network with "
            f"split_history={net.split_history}: pack with pack_inputs(..., "
            "split_history=net.split_history)"
        )
    n_known = len(x.known_pos)
    if n_known and (known is None or len(known) != n_known):
        raise ValueError(f"{n_known} pairs are known to pack_inputs but not passed here")
    if len(known_contexts) != len(x.ctx_known):
        raise ValueError(
            f"{len(x.ctx_known)} contexts are known to pack_inputs, "
            f"{len(known_contexts)} passed here"
        )
    for r, vectors in zip(x.ctx_known, known_contexts, strict=True):
        instr_row, history, pieces = x.ctx_keys[r]
        if len(vectors) != 1 + len(history) + len(pieces):
            raise ValueError(
                f"context row {r} has {1 + len(history) + len(pieces)} positions, "
                f"its known vectors {len(vectors)}"
            )
    if x.n_instr == 1 and instruction is not None and instruction.row != x.instr_rows[0]:
        raise ValueError(
            f"an instruction side of store row {instruction.row} for inputs that read "
            f"row {x.instr_rows[0]}"
        )


#: What the matching of some pair tokens against one instruction gives: attended vectors
#: per token, number features per token, coverage per pair (None without coverage).
Matched = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]
#: ``match(queries, coverage projections, ids, side, local, n_pairs)``: the matching of
#: some pair tokens against one instruction's side (``StateNet._match_instruction``).
MatchFn = Callable[
    [
        torch.Tensor,
        torch.Tensor | None,
        torch.Tensor | None,
        InstructionSide,
        torch.Tensor | None,
        int,
    ],
    Matched,
]


def match_by_instruction(
    x: NetInputs,
    side_of: Callable[[int], InstructionSide],
    match: MatchFn,
    tokens: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None],
    n_att: int,
    n_cov: int,
    axis: int,
) -> Matched:
    """Match a batch's pair tokens instruction by instruction, and put the results back.

    For each distinct instruction ``j`` of the pairs to match, its pair tokens are
    selected and matched against ``side_of(j)`` by ``match``; with coverage
    (``n_cov`` > 0) each of them is numbered by its pair among that instruction's
    pairs.

    Args:
        x: The packed inputs.
        side_of: The side of the instruction that is text ``j`` of the batch.
        match: The matching of one instruction's tokens.
        tokens: ``(queries, coverage projections or None, vocabulary ids or None)``
            of every pair token; the tokens lie along ``axis`` (the ids along 0).
        n_att: Number features per token that ``match`` gives.
        n_cov: Coverage features per pair (0: none).
        axis: The axis of the tokens (and pairs) in the queries and in what
            ``match`` gives: 0 for one network, 1 for members stacked first.

    Returns:
        The attended vectors and number features in pair-token order, and the
        coverage in pair order (zeros for a pair without tokens; None without coverage).
    """
    q, ct, ids = tokens
    instr_of_pt = x.pair_instr[x.pt_pair]
    parts, nparts, where = [], [], []
    cov_parts: list[torch.Tensor] = []
    cov_where: list[torch.Tensor] = []
    for j in torch.unique(x.pair_instr).tolist():
        sel = (instr_of_pt == j).nonzero().squeeze(-1)
        pairs_j, local = None, None
        if n_cov:
            pairs_j, local = torch.unique(x.pt_pair[sel], return_inverse=True)
        att_j, nf, cov_j = match(
            q.index_select(axis, sel),
            None if ct is None else ct.index_select(axis, sel),
            None if ids is None else ids[sel],
            side_of(j),
            local,
            0 if pairs_j is None else len(pairs_j),
        )
        parts.append(att_j)
        nparts.append(nf)
        where.append(sel)
        if cov_j is not None:
            cov_parts.append(cov_j)
            cov_where.append(pairs_j)
    order = torch.cat(where)
    lead = q.shape[:axis]
    att = torch.empty_like(q).index_copy(axis, order, torch.cat(parts, axis))
    att_num = q.new_empty(*lead, q.shape[axis], n_att)
    att_num = att_num.index_copy(axis, order, torch.cat(nparts, axis))
    cov = None
    if n_cov:
        cov = q.new_zeros(*lead, len(x.pair_text), n_cov)
        if cov_parts:
            cov = cov.index_copy(axis, torch.cat(cov_where), torch.cat(cov_parts, axis))
    return att, att_num, cov


class StateNet(nn.Module):
    """Matching, context and candidate layers over frozen token states.

    Args:
        enc_dim: Width of the frozen encoder's states.
        d: Width of this network.
        heads: Attention heads.
        layers: Context encoder layers.
        dropout: Dropout in the transformer layers.
        max_pieces: Largest piece position with its own embedding.
        max_history: Past actions a context holds.
        coverage: Also match the other way round: how well each instruction
            token is covered by the text (False: checkpoints from before it).
        exact: Also compare vocabulary ids: an exact-match flag per text token,
            and (with ``coverage``) the weighted share of the instruction's word
            pieces the text holds verbatim and the weighted sum of the vectors of
            those it lacks. Special tokens (id -1) never match.
        history_in_context: Run the past actions through the context encoder
            with the pieces (checkpoints from before this option). False: the
            encoder runs once per distinct observation and each candidate
            attends to its state's past actions beside the context; its inputs
            must then be packed with ``split_history`` (:attr:`split_history`).
        previous: Observations before the current one that each candidate also
            attends to, piece by piece (their matched vectors, with position,
            type and recency): 0 (checkpoints from before this option) reads the
            current observation only. Needs ``history_in_context=False``.
        page_pool: Also give each candidate its context's contextual vectors
            pooled over the whole row (max and mean): what the best-matching
            piece of the page looks like, without having to attend to it.
            False: checkpoints from before this option.
    """

    def __init__(
        self,
        enc_dim: int,
        d: int = 128,
        heads: int = 4,
        layers: int = 2,
        dropout: float = 0.1,
        max_pieces: int = 96,
        max_history: int = 4,
        coverage: bool = True,
        exact: bool = False,
        history_in_context: bool = True,
        previous: int = 0,
        page_pool: bool = False,
    ) -> None:
        super().__init__()
        if previous < 0 or (previous and history_in_context):
            raise ValueError(
                f"previous={previous}: must be >= 0, and > 0 needs history_in_context=False"
            )
        self.d = d
        self.coverage = coverage
        self.exact = exact
        #: Inputs for this network are packed with ``pack_inputs(..., split_history=...)``.
        self.split_history = not history_in_context
        self.proj = nn.Sequential(nn.Linear(enc_dim + NUMBER_FEATURES, d), nn.LayerNorm(d))
        if d % heads:
            raise ValueError(f"d ({d}) must be a multiple of heads ({heads})")
        self.heads = heads
        self.scale = (d // heads) ** -0.5
        self.m_q, self.m_k, self.m_v, self.m_o = (nn.Linear(d, d) for _ in range(4))
        self.match_mlp = nn.Sequential(
            nn.Linear(3 * d + _NUMERIC + int(exact), 2 * d), nn.GELU(), nn.Linear(2 * d, d)
        )
        pair_in = 3 * d
        self.n_cov = 0
        if coverage:
            self.cov_t, self.cov_i, self.cov_v = (nn.Linear(d, d) for _ in range(3))
            self.cov_w = nn.Linear(d, heads)
            self.n_cov = 2 * d + heads + (d + heads if exact else 0)
            pair_in += self.n_cov
        self.pair_out = nn.Sequential(nn.Linear(pair_in, d), nn.LayerNorm(d))
        self.instr_out = nn.Sequential(nn.Linear(d, d), nn.LayerNorm(d))
        self.type_emb = nn.Embedding(3, d)
        self.pos_emb = nn.Embedding(max_pieces + max_history + 2, d)
        self.context = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(
                d, heads, 2 * d, dropout, activation="gelu", batch_first=True, norm_first=True
            ),
            layers,
            enable_nested_tensor=False,
        )
        self.ctx_norm = nn.LayerNorm(d)
        self.no_mention = nn.Parameter(torch.zeros(_MENTION_WINDOW, d))
        self.step_emb = nn.Embedding(MAX_STEP_EMBED, d)
        self.left_emb = nn.Embedding(MAX_STEP_EMBED, d)
        self.cand_in = nn.Sequential(nn.Linear((1 + _MENTION_WINDOW) * d, d), nn.LayerNorm(d))
        self.c_norm1, self.c_norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_q, self.c_k, self.c_v, self.c_o = (nn.Linear(d, d) for _ in range(4))
        self.c_ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        if self.split_history:
            self.hist_norm = nn.LayerNorm(d)
        #: Whether each candidate gets its context row pooled (max and mean).
        self.page_pool = bool(page_pool)
        if self.page_pool:
            self.pool_in = nn.Sequential(nn.Linear(2 * d, d), nn.LayerNorm(d))
        #: Previous observations each candidate reads (0: none).
        self.previous = int(previous)
        if self.previous:
            self.prev_type = nn.Parameter(torch.zeros(d))
            self.prev_norm = nn.LayerNorm(d)
            # per recency, an offset of the keys and of the values
            self.prev_rec_k = nn.Parameter(torch.zeros(self.previous, d))
            self.prev_rec_v = nn.Parameter(torch.zeros(self.previous, d))
            nn.init.normal_(self.prev_type, std=0.02)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))
        nn.init.normal_(self.no_mention, std=0.02)

    def matcher_parameters(self) -> list[nn.Parameter]:
        """The parameters of the matching layers.

        These turn a text's frozen token states and its instruction's into the
        pair's vector (and the instruction's own vector), before any context or
        candidate layer.
        """
        names = ("proj", "m_q", "m_k", "m_v", "m_o", "match_mlp", "pair_out", "instr_out")
        names += ("cov_t", "cov_i", "cov_v", "cov_w") if self.coverage else ()
        return [p for n in names for p in getattr(self, n).parameters()]

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        return t.view(*t.shape[:-1], self.heads, self.d // self.heads)

    def _instruction_side(
        self,
        k: torch.Tensor,
        v: torch.Tensor,
        instr: torch.Tensor,
        nums: torch.Tensor,
        ids: torch.Tensor,
        row: int = -1,
    ) -> InstructionSide:
        """An :class:`InstructionSide`, without its vector, from keys, values and tokens."""
        ci = imp = vi = None
        if self.coverage:
            ci = torch.nn.functional.normalize(self._heads(self.cov_i(instr)), dim=-1)
            imp = self.cov_w(instr).softmax(0).t()
            vi = self._heads(self.cov_v(instr))
        return InstructionSide(k, v, nums, ids, ci, imp, vi, None, row)

    def _one_instruction(self, flat: torch.Tensor, x: NetInputs) -> InstructionSide:
        """The side of the batch's one instruction (``x.n_instr == 1``)."""
        instr = flat[: x.text_len[0]]
        return self._instruction_side(
            self._heads(self.m_k(instr)),
            self._heads(self.m_v(instr)),
            instr,
            x.numbers[: len(instr)].clone(),  # copies: the side may outlive the batch
            x.ids[: len(instr)].clone(),
            x.instr_rows[0],
        )

    def _match(
        self, flat: torch.Tensor, x: NetInputs, side: InstructionSide | None = None
    ) -> torch.Tensor:
        """One vector per (text, instruction) pair: token-level cross-attention + pooling.

        ``side`` is the batch's one instruction's (``x.n_instr == 1``), or None.
        """
        qf = flat[x.pt_tok]  # (n_pt, d): the pair text's tokens
        q = self._heads(self.m_q(qf))
        nums = x.numbers
        ct = (
            torch.nn.functional.normalize(self._heads(self.cov_t(qf)), dim=-1)
            if self.coverage
            else None
        )
        pt_ids = x.ids[x.pt_tok] if self.exact else None
        if x.one_instruction:
            # every pair is matched against one instruction (a state's own call, a
            # search within one task): no selection and no scatter back; every pair
            # has tokens, so a token's pair index is its local one
            side = self._one_instruction(flat, x) if side is None else side
            att, att_num, cov = self._match_instruction(
                q, ct, pt_ids, side, x.pt_pair, len(x.pair_text)
            )
        else:
            # each distinct instruction's keys/values are projected once, its queries batched
            att, att_num, cov = self._match_many(q, ct, pt_ids, flat, x)
        af = self.m_o(att.reshape(len(qf), self.d))
        own = nums[x.pt_tok]
        # a direct numeric channel: compare a number with the instruction's (price caps, sizes)
        # (with exact, att_num's last column is the token's exact-match flag)
        numeric = torch.cat(
            [own, att_num, own[:, 1:2] - att_num[:, 1:2], own[:, :1] * att_num[:, :1]], -1
        )
        f = self.match_mlp[2](
            self.match_mlp[1](
                _linear_parts(self.match_mlp[0], [torch.cat([qf, af, qf * af], -1), numeric])
            )
        )
        n_pair = len(x.pair_text)
        count = torch.zeros(n_pair, 1, device=f.device, dtype=f.dtype)
        count.index_add_(0, x.pt_pair, torch.ones(len(f), 1, device=f.device, dtype=f.dtype))
        mean_f = f.new_zeros(n_pair, self.d).index_add_(0, x.pt_pair, f) / count
        max_f = f.new_full((n_pair, self.d), -1e4).scatter_reduce(
            0, x.pt_pair.unsqueeze(-1).expand_as(f), f, "amax", include_self=True
        )
        mean_q = qf.new_zeros(n_pair, self.d).index_add_(0, x.pt_pair, qf) / count
        feats = [mean_f, max_f, mean_q]
        if cov is not None:
            feats.append(cov)
        return self.pair_out(torch.cat(feats, -1))

    def _match_instruction(
        self,
        q: torch.Tensor,
        ct: torch.Tensor | None,
        ids: torch.Tensor | None,
        side: InstructionSide,
        local: torch.Tensor | None,
        n_pairs: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """What the tokens of some pairs take from their one instruction.

        Args:
            q: ``(m, H, dh)`` queries of the pairs' tokens.
            ct: ``(m, H, dh)`` their normalised coverage projections (None without
                ``coverage``).
            ids: ``(m,)`` their vocabulary ids (None without ``exact``).
            side: The instruction's keys, values, number features, ids and coverage
                projections.
            local: ``(m,)`` each token's pair, numbered ``0 .. n_pairs - 1`` (needed
                with ``coverage`` only).
            n_pairs: How many pairs the tokens belong to.

        Returns:
            ``(attended (m, H, dh), number features (m, NUMBER_FEATURES [+ 1 with
            exact: the exact-match flag]), coverage (n_pairs, n_cov) or None)``.
        """
        # (H, m, L): per head, a (m, dh) x (dh, L) product
        k, v, instr_ids = side.keys, side.values, side.ids
        w = (torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0)) * self.scale).softmax(-1)
        att = torch.matmul(w, v.transpose(0, 1)).transpose(0, 1)  # (m, H, dh)
        # the instruction's number features where each token looks (heads averaged)
        nf = w.mean(0) @ side.numbers
        eq = None
        if ids is not None:
            # (m, L): a text token is the very word piece of an instruction token
            # (special tokens, id -1, never are)
            eq = ((ids.unsqueeze(1) == instr_ids) & (ids >= 0).unsqueeze(1)).to(nf.dtype)
            has = eq.amax(-1, keepdim=True) if len(instr_ids) else nf.new_zeros(len(nf), 1)
            nf = torch.cat([nf, has], -1)
        cov = None
        if ct is not None:
            cov = self._cover(ct, local, n_pairs, side, eq)
        return att, nf, cov

    def _match_many(
        self,
        q: torch.Tensor,
        ct: torch.Tensor | None,
        pt_ids: torch.Tensor | None,
        flat: torch.Tensor,
        x: NetInputs,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """:meth:`_match_instruction` for a batch of several instructions.

        Each distinct instruction's pair tokens are selected and attend to its tokens
        together; the results are put back in pair-token order (coverage in pair
        order; a pair without tokens gets zeros).

        Args:
            q: ``(n_pt, H, dh)`` queries of every pair token.
            ct: ``(n_pt, H, dh)`` their normalised coverage projections (None without
                ``coverage``).
            pt_ids: ``(n_pt,)`` their vocabulary ids (None without ``exact``).
            flat: ``(n_tok, d)`` every projected token of the batch.
            x: The packed inputs.

        Returns:
            As :meth:`_match_instruction`, for all pair tokens and all pairs.
        """
        # keys and values only for the instructions' tokens (the other texts only query)
        k_all = self._heads(self.m_k(flat[: x.instr_tokens]))
        v_all = self._heads(self.m_v(flat[: x.instr_tokens]))

        def side_of(j: int) -> InstructionSide:
            a, n = x.text_first[j], x.text_len[j]
            return self._instruction_side(
                k_all[a : a + n],
                v_all[a : a + n],
                flat[a : a + n],
                x.numbers[a : a + n],
                x.ids[a : a + n],
            )

        n_att = x.numbers.shape[1] + int(self.exact)
        return match_by_instruction(
            x, side_of, self._match_instruction, (q, ct, pt_ids), n_att, self.n_cov, 0
        )

    def _cover(
        self,
        ct: torch.Tensor,
        local: torch.Tensor,
        n_pairs: int,
        side: InstructionSide,
        eq: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """How well each pair's text covers one instruction's tokens (``side``).

        For every instruction token and head, the best cosine similarity with
        any token of the text; the instruction's tokens are weighted by a
        learned importance (softmax per head). Returns, per pair, the weighted
        coverage per head and the weighted sums of the instruction's value
        vectors covered and not covered: ``(n_pairs, heads + 2·d)``. With
        ``eq`` (``(m, L)``: text token ``i`` has the id of instruction token
        ``l``), also the weighted share of instruction tokens the text holds
        verbatim per head and the weighted sum of the value vectors of those it
        does not: ``heads + d`` more. The instruction's special tokens (id -1)
        are never held, so they add the same amount to every text of one
        instruction and do not change how its texts compare.
        """
        ci, imp, vi = side.cover_keys, side.importance, side.cover_values  # (L,H,dh), (H,L)
        sim = torch.einsum("mhd,lhd->mhl", ct, ci)  # (m, H, L)
        best = sim.new_full((n_pairs, *sim.shape[1:]), -1.0)
        best = best.scatter_reduce(
            0, local.view(-1, 1, 1).expand_as(sim), sim, "amax", include_self=True
        )  # (P, H, L)
        covered = best.clamp_min(0.0) * imp  # (P, H, L)
        missing = (1.0 - best.clamp_min(0.0)) * imp
        got = torch.einsum("phl,lhd->phd", covered, vi).reshape(n_pairs, self.d)
        lack = torch.einsum("phl,lhd->phd", missing, vi).reshape(n_pairs, self.d)
        out = [covered.sum(-1), got, lack]
        if eq is not None:
            held = eq.new_zeros(n_pairs, eq.shape[1]).scatter_reduce(
                0, local.view(-1, 1).expand_as(eq), eq, "amax", include_self=True
            )  # (P, L): the text holds instruction token l verbatim
            out.append((held.unsqueeze(1) * imp).sum(-1))
            absent = (1.0 - held).unsqueeze(1) * imp  # (P, H, L)
            out.append(torch.einsum("phl,lhd->phd", absent, vi).reshape(n_pairs, self.d))
        return torch.cat(out, -1)

    def _encode_context(self, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Run the context encoder over the real positions of padded sequences.

        Computes what ``self.ctx_norm(self.context(seq, src_key_padding_mask=~mask))``
        computes at the real positions (``mask``), with the same parameters and the
        same dropout placement and rates (a dropout's random mask may be drawn
        differently), but the token-wise layers (layer norms, projections, feed-forward)
        run on the real positions only, packed: only the attention itself sees the
        padding (as masked keys). Sequences of one batch differ in length (on
        WebShop training batches a third of the padded positions are padding).
        Padded positions of the result are zeros.

        Args:
            seq: ``(B, S, d)`` input sequences.
            mask: ``(B, S)``, True at real positions; every row has one.

        Returns:
            ``(B, S, d)`` contextual vectors, layer-normed.
        """
        n_seq, s_len, d = seq.shape
        flat_ix: torch.Tensor | None = mask.reshape(-1).nonzero().squeeze(-1)  # real positions
        # without padding (one state's call, rows of one length) nothing is packed or masked
        full = len(flat_ix) == n_seq * s_len
        x = seq.reshape(-1, d)
        if full:
            flat_ix = None
        else:
            x = x.index_select(0, flat_ix)  # (N, d)
        keep = None if full else mask.reshape(n_seq, 1, 1, s_len)  # real keys only
        heads, dh = self.heads, d // self.heads
        # the layers are built in __init__: norm_first, one packed in-projection, no
        # final norm in the encoder (ctx_norm follows); a dropout is the identity when
        # not training, so it is not called then
        for layer in self.context.layers:
            att = layer.self_attn
            qkv = nn.functional.linear(layer.norm1(x), att.in_proj_weight, att.in_proj_bias)
            if flat_ix is not None:
                qkv = qkv.new_zeros(n_seq * s_len, 3 * d).index_copy(0, flat_ix, qkv)
            q, k, v = qkv.view(n_seq, s_len, 3, heads, dh).permute(2, 0, 3, 1, 4)
            o = nn.functional.scaled_dot_product_attention(
                q, k, v, attn_mask=keep, dropout_p=att.dropout if att.training else 0.0
            )  # (B, H, S, dh)
            o = o.transpose(1, 2).reshape(n_seq * s_len, d)
            if flat_ix is not None:
                o = o.index_select(0, flat_ix)
            if layer.training:
                x = x + layer.dropout1(att.out_proj(o))
                x = x + layer._ff_block(layer.norm2(x))
            else:
                x = x + att.out_proj(o)
                x = x + layer.linear2(layer.activation(layer.linear1(layer.norm2(x))))
        out = self.ctx_norm(x)
        if flat_ix is not None:
            out = x.new_zeros(n_seq * s_len, d).index_copy(0, flat_ix, out)
        return out.view(n_seq, s_len, d)

    def forward(self, x: NetInputs) -> torch.Tensor:
        """Logits of ``Q`` for every candidate of the batch, shape ``(n_cand,)``."""
        return self.forward_with_pairs(x)[0]

    def forward_with_pairs(
        self, x: NetInputs, known: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits as :meth:`forward`, and the vector of every (text, instruction) pair.

        Args:
            x: Inputs from :func:`pack_inputs`.
            known: Vectors of the pairs at ``x.known_pos``, in that order (from an
                earlier call with the same matching weights, in either mode: the
                matching has no dropout); required when ``pack_inputs`` was given
                known pairs.

        Returns:
            ``(logits, pairs)``: ``pairs[i]`` is the vector of ``x.pair_keys[i]``.

        Raises:
            ValueError: As :meth:`forward_cached`.
        """
        out = self.forward_cached(x, known)
        return out.logits, out.pairs

    def forward_cached(
        self,
        x: NetInputs,
        known: torch.Tensor | None = None,
        known_contexts: Sequence[torch.Tensor] = (),
        instruction: InstructionSide | None = None,
    ) -> NetOutput:
        """Logits as :meth:`forward`, with what a caller may keep for later calls.

        Args:
            x: Inputs from :func:`pack_inputs`.
            known: Vectors of the pairs at ``x.known_pos``, in that order (from an
                earlier call with the same matching weights, in either mode: the
                matching has no dropout); required when ``pack_inputs`` was given
                known pairs.
            known_contexts: Contextual vectors of the rows at ``x.ctx_known``, in
                that order, each ``(x.ctx_len[row], d)`` (a row of
                :attr:`NetOutput.contexts` of an earlier call in eval mode with the
                same weights); required when ``pack_inputs`` was given known contexts.
            instruction: The side of ``x``'s one instruction (``x.n_instr == 1``)
                from an earlier call's :attr:`NetOutput.instruction` in eval mode
                with the same weights; ignored when ``x`` reads none or several.

        Returns:
            The logits, every pair's vector and the new context rows' vectors.

        Raises:
            ValueError: If ``x`` was packed for the other layout (``split_history``),
                known pairs or contexts are missing or of the wrong length, or the
                instruction side is another instruction's.
        """
        check_cached_inputs(self, x, known, known_contexts, instruction)
        flat = self.proj[1](_linear_parts(self.proj[0], [x.tokens, x.numbers]))  # (n_tok, d)
        side = None
        if x.n_instr == 1:
            side = self._one_instruction(flat, x) if instruction is None else instruction
        if not x.known_pos:
            pair = self._match(flat, x, side)
        else:
            pair = flat.new_empty(len(x.pair_keys), self.d)
            pair[x.known_pos] = known.to(flat.dtype)
            if len(x.new_pos):
                pair[x.new_pos] = self._match(flat, x, side)
        n_ctx, s_len = len(x.ctx_len), x.ctx_width
        seq_mask = torch.arange(s_len, device=flat.device) < x.ctx_len.unsqueeze(1)
        h_new = flat.new_zeros(0, 1, self.d)
        if len(x.ctx_new):
            # context sequence per new row: [instruction, pieces] (or, with the history in
            # the context, [instruction, past actions, pieces]); the instructions are the
            # first texts, and their tokens the first tokens
            if side is not None and side.vector is not None:
                instr = side.vector.expand(len(x.ctx_new), -1)
            else:
                tok = x.tok_text[: x.instr_tokens]
                ones = flat.new_ones(len(tok), 1)
                tcount = flat.new_zeros(x.n_instr, 1).index_add_(0, tok, ones)
                text_mean = flat.new_zeros(x.n_instr, self.d).index_add_(
                    0, tok, flat[: x.instr_tokens]
                )
                instr = self.instr_out((text_mean / tcount)[x.ctx_instr])
                if side is not None:  # one instruction: every row's is the same vector
                    side = side._replace(vector=instr[0].clone())
            new_mask = x.ctx_seq >= 0
            new_mask[:, 0] = True
            seq = pair[x.ctx_seq.clamp_min(0)]
            seq[:, 0] = instr
            seq = seq + self.type_emb(x.ctx_type) + self.pos_emb(x.ctx_pos)
            h_new = self._encode_context(seq, new_mask)
        if not x.ctx_known:
            h = h_new
        else:
            h = flat.new_zeros(n_ctx, s_len, self.d)
            if x.ctx_new:
                h[x.ctx_new, : h_new.shape[1]] = h_new
            for row, vectors in zip(x.ctx_known, known_contexts, strict=True):
                h[row, : len(vectors)] = vectors.to(flat.dtype)
        # candidates: own vector + the named pieces' context, then attend to the context
        ctx = x.cand_ctx
        # (n_cand, window): the named piece and the ones after it, where there are any
        pos = x.cand_mention.unsqueeze(1) + torch.arange(_MENTION_WINDOW, device=ctx.device)
        ok = (x.cand_mention >= 0).unsqueeze(1) & (pos < s_len)
        pos = pos.clamp(0, s_len - 1)
        ctx_col = ctx.unsqueeze(1)
        ok = ok & seq_mask[ctx_col, pos]
        named = torch.where(ok.unsqueeze(-1), h[ctx_col, pos], self.no_mention)  # (n_cand, w, d)
        c = self.cand_in(torch.cat([pair[x.cand_pair], named.flatten(1)], -1))
        c = c + self.step_emb(x.cand_step) + self.left_emb(x.cand_left)
        if self.page_pool:
            top = h.masked_fill(~seq_mask.unsqueeze(-1), float("-inf")).amax(1)  # (n_ctx, d)
            mean = h.sum(1) / seq_mask.sum(1, keepdim=True)  # padded positions are zeros
            c = c + self.pool_in(torch.cat([top, mean], -1))[ctx]
        # one cross-attention + FFN block. The context's keys and values are projected
        # once per row and never copied per candidate: a row's candidates are stacked
        # (slot = rank among the row's candidates) and attend together, and each
        # candidate keeps its own scores. Past actions (split history) are each
        # candidate's own keys and values.
        q = self._heads(self.c_q(self.c_norm1(c)))  # (n_cand, H, dh)
        slot, n_slot = x.cand_slot, x.n_slot
        k_ctx = self._heads(self.c_k(h))  # (n_ctx, S, H, dh)
        v_ctx = self._heads(self.c_v(h))
        q_rows = q.new_zeros(n_ctx, n_slot, *q.shape[1:]).index_put((ctx, slot), q)
        w = torch.einsum("cmhd,cshd->cmhs", q_rows, k_ctx)[ctx, slot]  # (n_cand, H, S)
        mask = seq_mask[ctx]
        hist_v = None
        if self.split_history and x.cand_hist.shape[1]:
            # each candidate's own state's past actions join the keys and values
            hv = (
                pair[x.cand_hist.clamp_min(0)]
                + self.type_emb.weight[1]
                + self.pos_emb(x.cand_hist_pos)
            )
            hv = self.hist_norm(hv)
            w = torch.cat([w, torch.einsum("nhd,nkhd->nhk", q, self._heads(self.c_k(hv)))], -1)
            hist_v = self._heads(self.c_v(hv))  # (n_cand, H_hist, H, dh)
            mask = torch.cat([mask, x.cand_hist >= 0], 1)
        n_hist = w.shape[-1] - s_len
        prev_v = None
        n_prev = min(self.previous, x.cand_prev.shape[1])
        if n_prev and x.prev_seq.shape[1]:
            # the pieces of the previous observations: matched vectors (not contextualised),
            # projected once per distinct observation, gathered per candidate
            pv = pair[x.prev_seq.clamp_min(0)] + self.pos_emb(x.prev_pos) + self.prev_type
            pv = self.prev_norm(pv)  # (n_prev_rows, P, d)
            rows = x.cand_prev[:, :n_prev]
            kp = self.c_k(pv)[rows.clamp_min(0)] + self.prev_rec_k[:n_prev, None]
            vp = self.c_v(pv)[rows.clamp_min(0)] + self.prev_rec_v[:n_prev, None]
            kp = self._heads(kp.flatten(1, 2))  # (n_cand, n_prev * P, H, dh)
            prev_v = self._heads(vp.flatten(1, 2))
            w = torch.cat([w, torch.einsum("nhd,nkhd->nhk", q, kp)], -1)
            real = (rows >= 0).unsqueeze(-1) & (x.prev_seq[rows.clamp_min(0)] >= 0)
            mask = torch.cat([mask, real.flatten(1)], 1)
        w = (w * self.scale).masked_fill(~mask.unsqueeze(1), float("-inf")).softmax(-1)
        w_rows = w.new_zeros(n_ctx, n_slot, w.shape[1], s_len).index_put(
            (ctx, slot), w[..., :s_len]
        )
        att = torch.einsum("cmhs,cshd->cmhd", w_rows, v_ctx)[ctx, slot]  # (n_cand, H, dh)
        if hist_v is not None:
            att = att + torch.einsum("nhk,nkhd->nhd", w[..., s_len : s_len + n_hist], hist_v)
        if prev_v is not None:
            att = att + torch.einsum("nhk,nkhd->nhd", w[..., s_len + n_hist :], prev_v)
        if self.drop.training:
            c = c + self.drop(self.c_o(att.reshape(len(c), self.d)))
            c = c + self.drop(self.c_ff(self.c_norm2(c)))
        else:  # the dropouts are the identity
            c = c + self.c_o(att.reshape(len(c), self.d))
            c = c + self.c_ff(self.c_norm2(c))
        return NetOutput(self.head(c).squeeze(-1), pair, h_new, side)
