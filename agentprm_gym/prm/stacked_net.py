"""Several trained :class:`~agentprm_gym.prm.state_net.StateNet` members in one forward pass.

An ensemble of state PRMs (``train-prm --members K``) scores an item with each
member's network and averages. On a state's few dozen pieces a network's time
goes mostly to the fixed cost of its many small torch calls, not to their
arithmetic, so asking two members costs about twice one. :class:`StackedStateNet`
holds the members' weights stacked along a leading *member* axis and runs the
forward pass of :meth:`StateNet.forward_cached` once for all of them: every
layer is one batched product over the members (and the layers that read the
same input, such as an instruction's keys, values and coverage projections,
are one product), while packing, gathering and masking, which depend on the
inputs only, are done once.

It is for scoring only (no gradients, no dropout) and copies the members'
weights when built: after a member's weights change, build it again
(:meth:`stale` says whether they changed in a way torch records).
:class:`~agentprm_gym.prm.ensemble.EnsemblePRM` does both. It mirrors
:class:`StateNet`'s scoring pass step by step (a single network keeps its own:
the batched products are no faster for one), and ``tests/prm/test_stacked_net.py``
checks every member's numbers against its own network for every option of
:class:`StateNet`, so a change to one that the other lacks fails there.

Shapes follow :meth:`StateNet.forward_cached` with a member axis added:
``logits`` are ``(K, n_cand)``; the vectors a caller keeps between calls carry
the member axis *second*, so that row ``i`` of a pair's or context's output is
what one key maps to: ``pairs`` ``(n_pair, K, d)``, ``contexts`` ``(n_new_ctx,
S_new, K, d)``, and a known context row ``(positions, K, d)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from agentprm_gym.prm.state_net import (
    _MENTION_WINDOW,
    InstructionSide,
    NetInputs,
    NetOutput,
    StateNet,
    check_cached_inputs,
    match_by_instruction,
)

__all__ = ["StackedStateNet", "stackable"]


def stackable(nets: Sequence[StateNet]) -> bool:
    """Whether networks can be stacked into one :class:`StackedStateNet`.

    Args:
        nets: The networks.

    Returns:
        True if there is at least one and all have one architecture: the same
        options, context layers and parameter names and shapes.
    """
    if not nets:
        return False
    first = nets[0]
    options = ("d", "heads", "coverage", "exact", "split_history", "previous", "page_pool")
    shapes = [(n, p.shape) for n, p in first.named_parameters()]
    return all(
        all(getattr(net, o) == getattr(first, o) for o in options)
        and len(net.context.layers) == len(first.context.layers)
        and [(n, p.shape) for n, p in net.named_parameters()] == shapes
        for net in nets[1:]
    )


class _Linear(nn.Module):
    """Linear layers of K members (and several layers that read one input, side by side).

    ``wt`` is ``(K, in, out)`` (the weights transposed), ``b`` ``(K, 1, out)``; with
    ``shared`` also the members' layers side by side as one ``(in, K·out)`` matrix,
    for an input all members share (:meth:`shared`).
    """

    def __init__(self, layers: Sequence[Sequence[nn.Linear]], shared: bool = False) -> None:
        super().__init__()
        # layers[k] are member k's layers whose outputs sit side by side
        wt = [torch.cat([lin.weight.detach().t() for lin in row], 1) for row in layers]
        b = [torch.cat([_bias(lin) for lin in row]) for row in layers]
        self.register_buffer("wt", torch.stack(wt).contiguous(), persistent=False)
        self.register_buffer("b", torch.stack(b).unsqueeze(1), persistent=False)
        if shared:
            k, n_in, n_out = self.wt.shape
            side_by_side = self.wt.permute(1, 0, 2).reshape(n_in, k * n_out).contiguous()
            self.register_buffer("w_shared", side_by_side, persistent=False)
            self.register_buffer("b_shared", self.b.reshape(k * n_out), persistent=False)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """``(K, ..., in)`` → ``(K, ..., out)``: member k's layers on its own input."""
        shape = x.shape
        y = torch.baddbmm(self.b, x.reshape(shape[0], -1, shape[-1]), self.wt)
        return y.view(*shape[:-1], y.shape[-1])

    def shared(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., in)`` → ``(K, ..., out)``: every member's layers on one input."""
        k, _, n_out = self.wt.shape
        y = torch.addmm(self.b_shared, x.reshape(-1, x.shape[-1]), self.w_shared)
        return y.view(*x.shape[:-1], k, n_out).movedim(-2, 0)


class _Norm(nn.Module):
    """Layer norms of K members over the last axis of ``(K, ..., d)``."""

    def __init__(self, norms: Sequence[nn.LayerNorm]) -> None:
        super().__init__()
        self.eps = float(norms[0].eps)
        self.register_buffer("w", torch.stack([n.weight.detach() for n in norms]), persistent=False)
        self.register_buffer("b", torch.stack([n.bias.detach() for n in norms]), persistent=False)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised ``x`` (same shape)."""
        view = (len(self.w), *[1] * (x.dim() - 2), self.w.shape[-1])
        y = nn.functional.layer_norm(x, self.w.shape[-1:], eps=self.eps)
        return torch.addcmul(self.b.view(view), y, self.w.view(view))


def _stack(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack([t.detach() for t in tensors]).contiguous()


class StackedStateNet(nn.Module):
    """The members' networks as one, for scoring: ``logits`` ``(K, n_cand)``.

    Args:
        nets: Trained networks of one architecture (:func:`stackable`).

    Raises:
        ValueError: Without networks, or with networks of different architectures.
    """

    def __init__(self, nets: Sequence[StateNet]) -> None:
        super().__init__()
        nets = list(nets)
        if not stackable(nets):
            raise ValueError("stacked networks need one architecture (see stackable)")
        first = nets[0]
        self.members = len(nets)
        self.d, self.heads, self.scale = first.d, first.heads, first.scale
        self.coverage, self.exact = first.coverage, first.exact
        self.split_history, self.previous, self.page_pool = (
            first.split_history,
            first.previous,
            first.page_pool,
        )
        self.n_cov = first.n_cov
        self._sources = [p for net in nets for p in net.parameters()]
        self._versions = self._seen()

        def lin(*names: str, shared: bool = False) -> _Linear:
            return _Linear([[_get(net, n) for n in names] for net in nets], shared)

        def norm(name: str) -> _Norm:
            return _Norm([_get(net, name) for net in nets])

        self.proj, self.proj_norm = lin("proj.0", shared=True), norm("proj.1")
        # an instruction's keys, values (and coverage projections, importance) in one product
        instr = ("m_k", "m_v") + (("cov_i", "cov_v", "cov_w") if self.coverage else ())
        self.instr_side = lin(*instr)
        self.text_side = lin("m_q", *(("cov_t",) if self.coverage else ()))
        self.m_o = lin("m_o")
        self.mlp0, self.mlp2 = lin("match_mlp.0"), lin("match_mlp.2")
        self.pair_out, self.pair_norm = lin("pair_out.0"), norm("pair_out.1")
        self.instr_out, self.instr_norm = lin("instr_out.0"), norm("instr_out.1")
        tables = ["type_emb.weight", "pos_emb.weight", "step_emb.weight", "left_emb.weight"]
        tables += ["no_mention"] + (
            ["prev_type", "prev_rec_k", "prev_rec_v"] if self.previous else []
        )
        for source in tables:
            name = source.removesuffix(".weight")
            stacked = _stack([net.get_parameter(source) for net in nets])
            self.register_buffer(name, stacked, persistent=False)
        self.layers = nn.ModuleList()
        for i in range(len(first.context.layers)):
            pre = f"context.layers.{i}."
            layer = nn.Module()
            layer.norm1, layer.norm2 = norm(pre + "norm1"), norm(pre + "norm2")
            layer.qkv = _Linear(
                [
                    [_InProj(_get(net, pre + "self_attn"))]  # type: ignore[list-item]
                    for net in nets
                ]
            )
            layer.out = lin(pre + "self_attn.out_proj")
            layer.ff1, layer.ff2 = lin(pre + "linear1"), lin(pre + "linear2")
            self.layers.append(layer)
        self.ctx_norm = norm("ctx_norm")
        self.cand_in, self.cand_norm = lin("cand_in.0"), norm("cand_in.1")
        self.c_norm1, self.c_norm2 = norm("c_norm1"), norm("c_norm2")
        self.c_q, self.c_kv, self.c_o = lin("c_q"), lin("c_k", "c_v"), lin("c_o")
        self.c_ff1, self.c_ff2 = lin("c_ff.0"), lin("c_ff.2")
        if self.split_history:
            self.hist_norm = norm("hist_norm")
        if self.page_pool:
            self.pool_in, self.pool_norm = lin("pool_in.0"), norm("pool_in.1")
        if self.previous:
            self.prev_norm = norm("prev_norm")
        self.head_norm = norm("head.0")
        self.head1, self.head3 = lin("head.1"), lin("head.3")
        self.eval()

    def _seen(self) -> list[tuple[int, int]]:
        # a cast or move gives a parameter new storage; an in-place write bumps its version
        return [(p.data_ptr(), p._version) for p in self._sources]

    def stale(self) -> bool:
        """Whether a member's weights changed since this was built (in a way torch records)."""
        return self._seen() != self._versions

    def _split_heads(self, t: torch.Tensor) -> torch.Tensor:
        return t.view(*t.shape[:-1], self.heads, self.d // self.heads)

    # ---------------------------------------------------------------- matching
    def _instruction_side(
        self, instr: torch.Tensor, nums: torch.Tensor, ids: torch.Tensor, row: int = -1
    ) -> InstructionSide:
        """The stacked side of one instruction from its projected tokens ``(K, L, d)``."""
        d = self.d
        y = self.instr_side.run(instr)
        k, v = self._split_heads(y[..., :d]), self._split_heads(y[..., d : 2 * d])
        ci = imp = vi = None
        if self.coverage:
            ci = nn.functional.normalize(self._split_heads(y[..., 2 * d : 3 * d]), dim=-1)
            vi = self._split_heads(y[..., 3 * d : 4 * d])
            imp = y[..., 4 * d :].softmax(1).transpose(1, 2)  # (K, H, L)
        return InstructionSide(k, v, nums, ids, ci, imp, vi, None, row)

    def _one_instruction(self, flat: torch.Tensor, x: NetInputs) -> InstructionSide:
        n = x.text_len[0]
        return self._instruction_side(
            flat[:, :n], x.numbers[:n].clone(), x.ids[:n].clone(), x.instr_rows[0]
        )

    def _match_instruction(
        self,
        q: torch.Tensor,
        ct: torch.Tensor | None,
        ids: torch.Tensor | None,
        side: InstructionSide,
        local: torch.Tensor | None,
        n_pairs: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """:meth:`StateNet._match_instruction` with a leading member axis."""
        k, v = side.keys, side.values  # (K, L, H, dh)
        w = (torch.matmul(q.transpose(1, 2), k.permute(0, 2, 3, 1)) * self.scale).softmax(-1)
        att = torch.matmul(w, v.transpose(1, 2)).transpose(1, 2)  # (K, m, H, dh)
        nf = torch.matmul(w.mean(1), side.numbers)  # (K, m, NF)
        eq = None
        if ids is not None:
            eq = ((ids.unsqueeze(1) == side.ids) & (ids >= 0).unsqueeze(1)).to(nf.dtype)
            has = eq.amax(-1, keepdim=True) if len(side.ids) else nf.new_zeros(len(ids), 1)
            nf = torch.cat([nf, has.expand(len(nf), -1, -1)], -1)
        cov = None
        if ct is not None:
            cov = self._cover(ct, local, n_pairs, side, eq)
        return att, nf, cov

    def _cover(
        self,
        ct: torch.Tensor,
        local: torch.Tensor,
        n_pairs: int,
        side: InstructionSide,
        eq: torch.Tensor | None,
    ) -> torch.Tensor:
        """:meth:`StateNet._cover` with a leading member axis: ``(K, n_pairs, n_cov)``."""
        ci, imp, vi = side.cover_keys, side.importance, side.cover_values
        n_k = len(ct)
        sim = torch.einsum("kmhd,klhd->kmhl", ct, ci)
        best = sim.new_full((n_k, n_pairs, *sim.shape[2:]), -1.0).scatter_reduce(
            1, local.view(1, -1, 1, 1).expand_as(sim), sim, "amax", include_self=True
        )  # (K, P, H, L)
        imp_p = imp.unsqueeze(1)  # (K, 1, H, L)
        covered = best.clamp_min(0.0) * imp_p
        missing = (1.0 - best.clamp_min(0.0)) * imp_p
        got = torch.einsum("kphl,klhd->kphd", covered, vi).reshape(n_k, n_pairs, self.d)
        lack = torch.einsum("kphl,klhd->kphd", missing, vi).reshape(n_k, n_pairs, self.d)
        out = [covered.sum(-1), got, lack]
        if eq is not None:
            held = eq.new_zeros(n_pairs, eq.shape[1]).scatter_reduce(
                0, local.view(-1, 1).expand_as(eq), eq, "amax", include_self=True
            )  # (P, L)
            out.append((held[None, :, None] * imp_p).sum(-1))
            absent = (1.0 - held)[None, :, None] * imp_p
            out.append(torch.einsum("kphl,klhd->kphd", absent, vi).reshape(n_k, n_pairs, self.d))
        return torch.cat(out, -1)

    def _match_many(
        self,
        q: torch.Tensor,
        ct: torch.Tensor | None,
        pt_ids: torch.Tensor | None,
        flat: torch.Tensor,
        x: NetInputs,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """:meth:`StateNet._match_many` with a leading member axis."""

        def side_of(j: int) -> InstructionSide:
            a, n = x.text_first[j], x.text_len[j]
            return self._instruction_side(
                flat[:, a : a + n], x.numbers[a : a + n], x.ids[a : a + n]
            )

        n_att = x.numbers.shape[1] + int(self.exact)
        return match_by_instruction(
            x, side_of, self._match_instruction, (q, ct, pt_ids), n_att, self.n_cov, 1
        )

    def _match(
        self, flat: torch.Tensor, x: NetInputs, side: InstructionSide | None
    ) -> torch.Tensor:
        """:meth:`StateNet._match` with a leading member axis: ``(K, n_new_pairs, d)``."""
        d, n_k = self.d, len(flat)
        qf = flat[:, x.pt_tok]  # (K, m, d)
        y = self.text_side.run(qf)
        q = self._split_heads(y[..., :d])
        ct = None
        if self.coverage:
            ct = nn.functional.normalize(self._split_heads(y[..., d:]), dim=-1)
        pt_ids = x.ids[x.pt_tok] if self.exact else None
        if x.one_instruction:
            side = self._one_instruction(flat, x) if side is None else side
            att, att_num, cov = self._match_instruction(
                q, ct, pt_ids, side, x.pt_pair, len(x.pair_text)
            )
        else:
            att, att_num, cov = self._match_many(q, ct, pt_ids, flat, x)
        af = self.m_o.run(att.reshape(n_k, -1, d))
        own = x.numbers[x.pt_tok].expand(n_k, -1, -1)
        numeric = [own, att_num, own[..., 1:2] - att_num[..., 1:2], own[..., :1] * att_num[..., :1]]
        f = self.mlp2.run(
            nn.functional.gelu(self.mlp0.run(torch.cat([qf, af, qf * af, *numeric], -1)))
        )
        n_pair = len(x.pair_text)
        count = f.new_zeros(n_pair, 1).index_add_(0, x.pt_pair, f.new_ones(f.shape[1], 1))
        mean_f = f.new_zeros(n_k, n_pair, d).index_add_(1, x.pt_pair, f) / count
        max_f = f.new_full((n_k, n_pair, d), -1e4).scatter_reduce(
            1, x.pt_pair.view(1, -1, 1).expand_as(f), f, "amax", include_self=True
        )
        mean_q = qf.new_zeros(n_k, n_pair, d).index_add_(1, x.pt_pair, qf) / count
        feats = [mean_f, max_f, mean_q] + ([cov] if cov is not None else [])
        return self.pair_norm.run(self.pair_out.run(torch.cat(feats, -1)))

    # ----------------------------------------------------------------- context
    def _encode_context(self, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """:meth:`StateNet._encode_context` in eval mode, with a leading member axis."""
        n_k, n_seq, s_len, d = seq.shape
        flat_ix: torch.Tensor | None = mask.reshape(-1).nonzero().squeeze(-1)
        full = len(flat_ix) == n_seq * s_len
        x = seq.reshape(n_k, -1, d)
        if full:
            flat_ix = None
        else:
            x = x.index_select(1, flat_ix)
        keep = None if full else mask.view(1, n_seq, 1, 1, s_len).expand(n_k, -1, -1, -1, -1)
        if keep is not None:
            keep = keep.reshape(n_k * n_seq, 1, 1, s_len)
        heads, dh = self.heads, d // self.heads
        for layer in self.layers:
            qkv = layer.qkv.run(layer.norm1.run(x))
            if flat_ix is not None:
                qkv = qkv.new_zeros(n_k, n_seq * s_len, 3 * d).index_copy(1, flat_ix, qkv)
            q, k, v = qkv.view(n_k * n_seq, s_len, 3, heads, dh).permute(2, 0, 3, 1, 4).unbind(0)
            o = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
            o = o.transpose(1, 2).reshape(n_k, n_seq * s_len, d)
            if flat_ix is not None:
                o = o.index_select(1, flat_ix)
            x = x + layer.out.run(o)
            x = x + layer.ff2.run(nn.functional.gelu(layer.ff1.run(layer.norm2.run(x))))
        out = self.ctx_norm.run(x)
        if flat_ix is not None:
            out = x.new_zeros(n_k, n_seq * s_len, d).index_copy(1, flat_ix, out)
        return out.view(n_k, n_seq, s_len, d)

    # ----------------------------------------------------------------- forward
    def forward(self, x: NetInputs) -> torch.Tensor:
        """Every member's logits of ``Q``, ``(K, n_cand)`` (see :meth:`forward_cached`)."""
        return self.forward_cached(x).logits

    @torch.inference_mode()
    def forward_cached(
        self,
        x: NetInputs,
        known: torch.Tensor | None = None,
        known_contexts: Sequence[torch.Tensor] = (),
        instruction: InstructionSide | None = None,
    ) -> NetOutput:
        """Every member's :meth:`StateNet.forward_cached`, in one pass.

        Args:
            x: Inputs from :func:`~agentprm_gym.prm.state_net.pack_inputs` (packed
                with ``split_history=self.split_history``).
            known: ``(n_known, K, d)`` vectors of the pairs at ``x.known_pos``
                (rows of an earlier call's ``pairs``).
            known_contexts: ``(positions, K, d)`` vectors of the rows at ``x.ctx_known``.
            instruction: The stacked side of ``x``'s one instruction from an earlier
                call, or None.

        Returns:
            ``logits`` ``(K, n_cand)``, ``pairs`` ``(n_pair, K, d)``, ``contexts``
            ``(n_new_ctx, S_new, K, d)`` and the instruction side (stacked).

        Raises:
            ValueError: As :meth:`StateNet.forward_cached`.
        """
        check_cached_inputs(self, x, known, known_contexts, instruction)
        n_k, d = self.members, self.d
        flat = self.proj_norm.run(self.proj.shared(torch.cat([x.tokens, x.numbers], -1)))
        side = None
        if x.n_instr == 1:
            side = self._one_instruction(flat, x) if instruction is None else instruction
        if not x.known_pos:
            pair = self._match(flat, x, side)
        else:
            pair = flat.new_empty(n_k, len(x.pair_keys), d)
            pair[:, x.known_pos] = known.to(flat.dtype).transpose(0, 1)
            if x.new_pos:
                pair[:, x.new_pos] = self._match(flat, x, side)
        n_ctx, s_len = len(x.ctx_len), x.ctx_width
        seq_mask = torch.arange(s_len, device=flat.device) < x.ctx_len.unsqueeze(1)
        h_new = flat.new_zeros(n_k, 0, 1, d)
        if x.ctx_new:
            if side is not None and side.vector is not None:
                instr = side.vector.unsqueeze(1).expand(-1, len(x.ctx_new), -1)
            else:
                tok = x.tok_text[: x.instr_tokens]
                tcount = flat.new_zeros(x.n_instr, 1).index_add_(0, tok, flat.new_ones(len(tok), 1))
                text_mean = flat.new_zeros(n_k, x.n_instr, d).index_add_(
                    1, tok, flat[:, : x.instr_tokens]
                )
                mean = (text_mean / tcount)[:, x.ctx_instr]
                instr = self.instr_norm.run(self.instr_out.run(mean))
                if side is not None:
                    side = side._replace(vector=instr[:, 0].clone())
            new_mask = x.ctx_seq >= 0
            new_mask[:, 0] = True
            seq = pair[:, x.ctx_seq.clamp_min(0)]
            seq[:, :, 0] = instr
            seq = seq + self.type_emb[:, x.ctx_type] + self.pos_emb[:, x.ctx_pos]
            h_new = self._encode_context(seq, new_mask)
        if not x.ctx_known:
            h = h_new
        else:
            h = flat.new_zeros(n_k, n_ctx, s_len, d)
            if x.ctx_new:
                h[:, x.ctx_new, : h_new.shape[2]] = h_new
            for row, vectors in zip(x.ctx_known, known_contexts, strict=True):
                h[:, row, : len(vectors)] = vectors.to(flat.dtype).transpose(0, 1)
        logits = self._candidates(x, pair, h, seq_mask)
        contexts = h_new.permute(1, 2, 0, 3)
        return NetOutput(logits, pair.transpose(0, 1), contexts, side)

    def _candidates(
        self, x: NetInputs, pair: torch.Tensor, h: torch.Tensor, seq_mask: torch.Tensor
    ) -> torch.Tensor:
        """The candidate block of :meth:`StateNet.forward_cached`: ``(K, n_cand)`` logits."""
        n_k, d = self.members, self.d
        n_ctx, s_len = seq_mask.shape
        ctx = x.cand_ctx
        pos = x.cand_mention.unsqueeze(1) + torch.arange(_MENTION_WINDOW, device=ctx.device)
        ok = (x.cand_mention >= 0).unsqueeze(1) & (pos < s_len)
        pos = pos.clamp(0, s_len - 1)
        ctx_col = ctx.unsqueeze(1)
        ok = ok & seq_mask[ctx_col, pos]
        named = torch.where(ok.unsqueeze(-1), h[:, ctx_col, pos], self.no_mention.unsqueeze(1))
        c = self.cand_norm.run(
            self.cand_in.run(torch.cat([pair[:, x.cand_pair], named.flatten(2)], -1))
        )
        c = c + self.step_emb[:, x.cand_step] + self.left_emb[:, x.cand_left]
        if self.page_pool:
            top = h.masked_fill(~seq_mask[None, :, :, None], float("-inf")).amax(2)
            mean = h.sum(2) / seq_mask.sum(1, keepdim=True)
            pooled = self.pool_norm.run(self.pool_in.run(torch.cat([top, mean], -1)))
            c = c + pooled[:, ctx]
        q = self._split_heads(self.c_q.run(self.c_norm1.run(c)))  # (K, n_cand, H, dh)
        slot, n_slot = x.cand_slot, x.n_slot
        kv = self.c_kv.run(h)
        k_ctx, v_ctx = self._split_heads(kv[..., :d]), self._split_heads(kv[..., d:])
        q_rows = q.new_zeros(n_k, n_ctx, n_slot, *q.shape[2:])
        q_rows[:, ctx, slot] = q
        w = torch.einsum("kcmhd,kcshd->kcmhs", q_rows, k_ctx)[:, ctx, slot]  # (K, n_cand, H, S)
        mask = seq_mask[ctx]
        hist_v = None
        if self.split_history and x.cand_hist.shape[1]:
            hv = (
                pair[:, x.cand_hist.clamp_min(0)]
                + self.type_emb[:, 1, None, None]
                + self.pos_emb[:, x.cand_hist_pos]
            )
            hkv = self.c_kv.run(self.hist_norm.run(hv))
            w = torch.cat(
                [w, torch.einsum("knhd,knjhd->knhj", q, self._split_heads(hkv[..., :d]))], -1
            )
            hist_v = self._split_heads(hkv[..., d:])
            mask = torch.cat([mask, x.cand_hist >= 0], 1)
        n_hist = w.shape[-1] - s_len
        prev_v = None
        n_prev = min(self.previous, x.cand_prev.shape[1])
        if n_prev and x.prev_seq.shape[1]:
            pv = pair[:, x.prev_seq.clamp_min(0)] + self.pos_emb[:, x.prev_pos]
            pv = self.prev_norm.run(pv + self.prev_type[:, None, None])
            rows = x.cand_prev[:, :n_prev]
            pkv = self.c_kv.run(pv)[:, rows.clamp_min(0)]  # (K, n_cand, n_prev, P, 2d)
            kp = pkv[..., :d] + self.prev_rec_k[:, None, :n_prev, None]
            vp = pkv[..., d:] + self.prev_rec_v[:, None, :n_prev, None]
            kp = self._split_heads(kp.flatten(2, 3))
            prev_v = self._split_heads(vp.flatten(2, 3))
            w = torch.cat([w, torch.einsum("knhd,knjhd->knhj", q, kp)], -1)
            real = (rows >= 0).unsqueeze(-1) & (x.prev_seq[rows.clamp_min(0)] >= 0)
            mask = torch.cat([mask, real.flatten(1)], 1)
        w = (w * self.scale).masked_fill(~mask[None, :, None], float("-inf")).softmax(-1)
        w_rows = w.new_zeros(n_k, n_ctx, n_slot, w.shape[2], s_len)
        w_rows[:, ctx, slot] = w[..., :s_len]
        att = torch.einsum("kcmhs,kcshd->kcmhd", w_rows, v_ctx)[:, ctx, slot]
        if hist_v is not None:
            att = att + torch.einsum("knhj,knjhd->knhd", w[..., s_len : s_len + n_hist], hist_v)
        if prev_v is not None:
            att = att + torch.einsum("knhj,knjhd->knhd", w[..., s_len + n_hist :], prev_v)
        c = c + self.c_o.run(att.reshape(n_k, -1, d))
        c = c + self.c_ff2.run(nn.functional.gelu(self.c_ff1.run(self.c_norm2.run(c))))
        y = self.head3.run(nn.functional.gelu(self.head1.run(self.head_norm.run(c))))
        return y.squeeze(-1)


class _InProj(nn.Module):
    """A multi-head attention's packed in-projection, seen as one linear layer."""

    def __init__(self, att: nn.MultiheadAttention) -> None:
        super().__init__()
        self.weight = att.in_proj_weight
        self.bias = att.in_proj_bias


def _bias(layer: nn.Module) -> torch.Tensor:
    """A linear layer's bias (zeros where it has none)."""
    if layer.bias is None:
        return layer.weight.detach().new_zeros(len(layer.weight))
    return layer.bias.detach()


def _get(net: nn.Module, name: str) -> nn.Module:
    """The sub-module ``name`` (dotted) of ``net``."""
    return net.get_submodule(name)
