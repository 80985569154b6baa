"""The state PRM's network pieces against their plain reference computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from agentprm_gym.prm.state_model import StatePRM
from agentprm_gym.prm.state_net import Candidate, Context, StateNet, _linear_parts, pack_inputs


def _net(dropout: float = 0.1) -> StateNet:
    torch.manual_seed(0)
    return StateNet(enc_dim=12, d=16, heads=4, layers=2, dropout=dropout)


def _padded(lengths: list[int], s_len: int, d: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    seq = torch.randn(len(lengths), s_len, d, generator=g)
    mask = torch.arange(s_len)[None] < torch.tensor(lengths)[:, None]
    return seq, mask


def _padded_reference(net: StateNet, seq: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The context encoder as torch runs it on padded rows (padding zeroed, masked as keys)."""
    return net.ctx_norm(net.context(seq * mask.unsqueeze(-1), src_key_padding_mask=~mask))


@pytest.mark.parametrize("lengths", [[7, 2, 5, 1], [7], [3, 3]])
def test_packed_context_encoder_equals_the_padded_transformer(lengths):
    """Only real positions run the token-wise layers; they get what the padded
    encoder gives them (its padded positions are zeroed inputs, masked as keys)."""
    net = _net().eval()
    seq, mask = _padded(lengths, 7)
    with torch.no_grad():
        got = net._encode_context(seq, mask)
    # the reference runs with grad on: the plain layers, not the fused inference path
    ref = _padded_reference(net, seq, mask)
    torch.testing.assert_close(got[mask], ref[mask], atol=1e-5, rtol=1e-5)
    assert torch.count_nonzero(got[~mask]) == 0


@pytest.mark.parametrize("lengths", [[5, 2, 4], [5, 5]])
def test_packed_context_encoder_trains_without_dropout_like_the_padded_one(lengths):
    net = _net(dropout=0.0).train()
    seq, mask = _padded(lengths, 5)
    seq.requires_grad_(True)
    got = net._encode_context(seq, mask)
    (got[mask] ** 2).sum().backward()
    grad_got = seq.grad.clone()
    seq.grad = None
    ref = _padded_reference(net, seq, mask)
    (ref[mask] ** 2).sum().backward()
    torch.testing.assert_close(got[mask], ref[mask], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad_got, seq.grad, atol=1e-5, rtol=1e-5)
    assert torch.count_nonzero(grad_got[~mask]) == 0  # padding takes no part


def test_packed_context_encoder_applies_dropout_in_training():
    net = _net(dropout=0.5).train()
    seq, mask = _padded([4, 3], 4)
    torch.manual_seed(0)
    a = net._encode_context(seq, mask)
    torch.manual_seed(1)
    b = net._encode_context(seq, mask)
    assert not torch.allclose(a[mask], b[mask])
    net.eval()
    torch.testing.assert_close(net._encode_context(seq, mask), net._encode_context(seq, mask))


def test_linear_parts_equals_the_layer_on_the_concatenation():
    torch.manual_seed(0)
    layer = nn.Linear(11, 5)
    a, b, c = torch.randn(3, 8), torch.randn(3, 2), torch.randn(3, 1)
    torch.testing.assert_close(_linear_parts(layer, [a, b, c]), layer(torch.cat([a, b, c], -1)))
    torch.testing.assert_close(
        _linear_parts(layer, [torch.cat([a, b, c], -1)]), layer(torch.cat([a, b, c], -1))
    )
    with torch.no_grad():  # scoring takes the concatenated product: the same numbers
        torch.testing.assert_close(_linear_parts(layer, [a, b, c]), layer(torch.cat([a, b, c], -1)))
    with pytest.raises(ValueError, match="parts of width 10 for a layer of 11 inputs"):
        _linear_parts(layer, [a, b])
    with pytest.raises(ValueError, match="parts of width 0"):
        _linear_parts(layer, [])


def test_linear_parts_gradients_reach_every_slice_of_the_weight():
    torch.manual_seed(0)
    layer = nn.Linear(4, 3)
    ref = nn.Linear(4, 3)
    ref.load_state_dict(layer.state_dict())
    a, b = torch.randn(5, 3), torch.randn(5, 1)
    _linear_parts(layer, [a, b]).pow(2).sum().backward()
    ref(torch.cat([a, b], -1)).pow(2).sum().backward()
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad)
    torch.testing.assert_close(layer.bias.grad, ref.bias.grad)


@pytest.mark.parametrize(
    ("split_history", "rows", "slots", "n_slot"),
    [
        # two states of one observation share a context row when the history is split
        (True, [0, 0, 0, 0, 1], [0, 1, 2, 3, 0], 4),
        (False, [1, 0, 1, 1, 2], [0, 0, 1, 2, 0], 3),
    ],
)
def test_candidates_are_ranked_within_their_context_row_by_hand(split_history, rows, slots, n_slot):
    prm = StatePRM.create("tiny", tiny_corpus=["walk to room 3 wait room 0 room 1 go"], d=16)
    instr, a, b, p0, p1, act = prm.encoder.rows(
        ["walk to room 3", "wait", "go", "room 0", "room 1", "go[next]"]
    )
    contexts = [Context(instr, (a,), (p0,)), Context(instr, (b,), (p0,)), Context(instr, (), (p1,))]
    candidates = [Candidate(k, act, -1, 1, 5) for k in (1, 0, 1, 1, 2)]
    x = pack_inputs(prm.encoder.store, contexts, candidates, "cpu", split_history=split_history)
    assert x.cand_ctx.tolist() == rows
    assert x.cand_slot.tolist() == slots
    assert x.n_slot == n_slot


def _perturbed_net(prm: StatePRM, **kwargs) -> StateNet:
    """A width-16 network over ``prm``'s encoder, without dropout, every weight moved off
    its initial value (no zero biases or identity norms to hide a missing term)."""
    torch.manual_seed(0)
    net = StateNet(enc_dim=prm.net.proj[0].in_features - 2, d=16, heads=4, dropout=0.0, **kwargs)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net


def _reference_logits(net: StateNet, x, drop_scale: float = 1.0) -> torch.Tensor:
    """The network's forward pass written plainly: the padded ``nn.TransformerEncoder``
    and one candidate at a time, each with its own keys and values. ``drop_scale``
    stands for the candidate block's two dropouts (1: none)."""
    flat = net.proj(torch.cat([x.tokens, x.numbers], -1))
    pair = net._match(flat, x)
    text_mean = torch.stack([flat[x.tok_text == t].mean(0) for t in range(len(x.text_len))])
    mask = x.ctx_seq >= 0
    mask[:, 0] = True
    seq = pair[x.ctx_seq.clamp_min(0)]
    seq[:, 0] = net.instr_out(text_mean[x.ctx_instr])
    seq = seq + net.type_emb(x.ctx_type) + net.pos_emb(x.ctx_pos)
    h = _padded_reference(net, seq, mask)
    heads, dh = net.heads, net.d // net.heads
    out = []
    for n in range(len(x.cand_ctx)):
        row, mention = int(x.cand_ctx[n]), int(x.cand_mention[n])
        named = []
        for k in range(3):
            pos = mention + k
            there = mention >= 0 and pos < mask.shape[1] and bool(mask[row, pos])
            named.append(h[row, pos] if there else net.no_mention[k])
        c = net.cand_in(torch.cat([pair[x.cand_pair[n]], *named]))
        c = c + net.step_emb(x.cand_step[n]) + net.left_emb(x.cand_left[n])
        keys = h[row][mask[row]]
        if net.page_pool:
            c = c + net.pool_in(torch.cat([keys.max(0).values, keys.mean(0)]))
        k, v = net.c_k(keys), net.c_v(keys)
        if net.split_history:
            valid = x.cand_hist[n] >= 0
            hv = pair[x.cand_hist[n][valid]] + net.type_emb.weight[1]
            hv = net.hist_norm(hv + net.pos_emb(x.cand_hist_pos[n][valid]))
            k, v = torch.cat([k, net.c_k(hv)]), torch.cat([v, net.c_v(hv)])
        for j in range(min(net.previous, x.cand_prev.shape[1])):
            r = int(x.cand_prev[n, j])  # j = 0: the previous step's observation
            if r < 0:
                continue
            valid = x.prev_seq[r] >= 0
            pv = pair[x.prev_seq[r][valid]] + net.pos_emb(x.prev_pos[r][valid]) + net.prev_type
            pv = net.prev_norm(pv)
            k = torch.cat([k, net.c_k(pv) + net.prev_rec_k[j]])
            v = torch.cat([v, net.c_v(pv) + net.prev_rec_v[j]])
        q = net.c_q(net.c_norm1(c)).view(heads, dh)
        w = (torch.einsum("hd,khd->hk", q, k.view(-1, heads, dh)) / dh**0.5).softmax(-1)
        att = torch.einsum("hk,khd->hd", w, v.view(-1, heads, dh)).reshape(-1)
        c = c + drop_scale * net.c_o(att)
        c = c + drop_scale * net.c_ff(net.c_norm2(c))
        out.append(net.head(c).squeeze(-1))
    return torch.stack(out)


@pytest.mark.parametrize(
    ("history_in_context", "previous", "page_pool"),
    [(False, 0, False), (True, 0, False), (False, 2, False), (False, 0, True), (True, 0, True)],
)
def test_forward_equals_the_plain_per_candidate_computation(
    history_in_context, previous, page_pool
):
    """Uneven candidates per context row, a row without candidates, mentions at the end of
    a row, states with and without past actions (and with none, one or two previous
    observations, one shared by two states): logits and gradients as computed plainly."""
    words = "walk to room 3 wait go room 0 room 1 next jump pit 30 under dollars lies here back"
    prm = StatePRM.create("tiny", tiny_corpus=[words], d=16)
    texts = ["walk to room 3", "wait", "go", "room 0", "room 1", "go[next]", "jump pit 30"]
    texts += ["under 30 dollars", "a pit lies here", "back"]
    instr, a, b, p0, p1, act, jump, under, lies, back = prm.encoder.rows(texts)
    prev = [((p1, lies),), ((p0,), (p1, lies)), (), ((p0,),), ((lies,), (p0, p1))]
    contexts = [
        Context(instr, (a,), (p0, p1, lies), prev[0] if previous else ()),
        # the same observation after other actions
        Context(instr, (b, a), (p0, p1, lies), prev[1] if previous else ()),
        Context(under, (), (p1,)),
        Context(instr, (), (lies, p0), prev[3] if previous else ()),  # no candidates
        Context(instr, (b,), (p0,), prev[4] if previous else ()),
    ]
    spec = [(1, act, 0), (0, jump, 1), (1, back, 2), (1, lies, -1), (2, act, 0), (0, act, 2)]
    spec += [(4, under, 0), (1, under, 1)]
    candidates = [Candidate(k, row, m, k + 1, 6 - k) for k, row, m in spec]
    net = _perturbed_net(
        prm, history_in_context=history_in_context, previous=previous, page_pool=page_pool
    )
    x = pack_inputs(
        prm.encoder.store, contexts, candidates, "cpu", split_history=not history_in_context
    )
    # split: contexts 0 and 1 share their observation's row (6 candidates); else 4 at most
    assert x.n_slot == (4 if history_in_context else 6)
    if previous:  # one row per distinct (instruction, pieces), named by recency
        assert x.prev_seq.shape[0] == 4
        rows = {}
        for r in range(4):
            n = int((x.prev_seq[r] >= 0).sum())
            assert x.prev_pos[r][:n].tolist() == list(range(1, n + 1))
            rows[tuple(x.prev_seq[r][:n].tolist())] = r
        pairs = {key: i for i, key in enumerate(x.pair_keys)}
        row_of = {obs: rows[tuple(pairs[(p, instr)] for p in obs)] for obs in prev[1] + prev[4]}
        # candidate 0 is context 1's: the previous step's observation first
        assert x.cand_prev[0].tolist() == [row_of[(p1, lies)], row_of[(p0,)]]
        assert x.cand_prev[4].tolist() == [-1, -1]  # context 2 has none
    net.eval()
    torch.testing.assert_close(net(x), _reference_logits(net, x), atol=1e-5, rtol=1e-5)
    net.train()  # dropout 0: the same numbers, and the same gradients
    net(x).sin().sum().backward()
    got = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    _reference_logits(net, x).sin().sum().backward()
    for g, p in zip(got, net.parameters(), strict=True):
        torch.testing.assert_close(g, p.grad, atol=1e-5, rtol=1e-4)


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor


@pytest.mark.parametrize("lengths", [[7, 2, 5, 1], [7, 7]])
@pytest.mark.parametrize("attention_dropout", [0.0, 0.5])
def test_packed_context_encoder_puts_each_dropout_where_torch_does(attention_dropout, lengths):
    """Each of a layer's three dropouts becomes a distinct fixed scaling: a dropout moved,
    dropped or doubled changes the numbers. Attention dropout is random; with one seed both
    draw the same mask, so the outputs still agree."""
    net = _net(dropout=0.5).train()
    for i, layer in enumerate(net.context.layers):
        layer.dropout1, layer.dropout, layer.dropout2 = _Scale(0.3 + i), _Scale(1.7), _Scale(0.55)
        layer.self_attn.dropout = attention_dropout
    seq, mask = _padded(lengths, 7)
    torch.manual_seed(5)
    got = net._encode_context(seq, mask)
    torch.manual_seed(5)
    ref = _padded_reference(net, seq, mask)
    torch.testing.assert_close(got[mask], ref[mask], atol=1e-5, rtol=1e-5)


def test_previous_observations_need_the_history_outside_the_context():
    with pytest.raises(ValueError, match="history_in_context=False"):
        StateNet(enc_dim=8, d=16, history_in_context=True, previous=1)
    with pytest.raises(ValueError, match=">= 0"):
        StateNet(enc_dim=8, d=16, history_in_context=False, previous=-1)


@pytest.mark.parametrize(("coverage", "exact"), [(True, True), (True, False), (False, False)])
def test_pairs_of_one_instruction_match_as_in_a_batch_of_several(coverage, exact):
    """A batch of one instruction takes the direct path (no selection, no scatter back);
    its pairs' vectors equal those the same pairs get in a batch of two instructions."""
    words = "walk to room 3 wait go room 0 room 1 next jump pit 30 under dollars lies here back"
    prm = StatePRM.create("tiny", tiny_corpus=[words], d=16)
    texts = ["walk to room 3", "under 30 dollars", "wait", "room 0", "room 1 30", "go[next]"]
    texts += ["a pit lies here"]
    instr, other, a, p0, p1, act, lies = prm.encoder.rows(texts)
    one = [Context(instr, (a,), (p0, p1))]
    two = [Context(other, (), (p1, lies)), Context(instr, (a,), (p0, p1))]
    xa = pack_inputs(
        prm.encoder.store, one, [Candidate(0, act, 0, 1, 5)], "cpu", split_history=True
    )
    cands = [Candidate(1, act, 0, 1, 5), Candidate(0, act, -1, 0, 6)]
    xb = pack_inputs(prm.encoder.store, two, cands, "cpu", split_history=True)
    assert xa.one_instruction and not xb.one_instruction
    net = _perturbed_net(prm, coverage=coverage, exact=exact, history_in_context=False).eval()
    with torch.no_grad():
        logits_a, pairs_a = net.forward_with_pairs(xa)
        logits_b, pairs_b = net.forward_with_pairs(xb)
    where_b = {key: i for i, key in enumerate(xb.pair_keys)}
    for i, key in enumerate(xa.pair_keys):
        torch.testing.assert_close(pairs_a[i], pairs_b[where_b[key]], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits_a[0], logits_b[0], atol=1e-5, rtol=1e-5)


def _two_state_batch(prm: StatePRM, split_history: bool):
    """Packed inputs of two states of one instruction, three candidates."""
    instr, a, p0, p1, act, lies = prm.encoder.rows(
        ["walk to room 3", "wait", "room 0", "room 1", "go[next]", "a pit lies here"]
    )
    contexts = [Context(instr, (a,), (p0, p1, lies)), Context(instr, (), (p1,))]
    candidates = [Candidate(0, act, 1, 1, 5), Candidate(0, lies, -1, 1, 5)]
    candidates.append(Candidate(1, act, 0, 0, 6))
    return pack_inputs(prm.encoder.store, contexts, candidates, "cpu", split_history=split_history)


@pytest.mark.parametrize("history_in_context", [False, True])
def test_candidate_block_puts_its_dropouts_where_the_plain_computation_does(history_in_context):
    """In training the candidate block's dropout (a distinct fixed scaling here) scales
    its attention output and its feed-forward output, as the plain computation says; a
    dropout moved or dropped changes the numbers."""
    words = "walk to room 3 wait go room 0 room 1 next a pit lies here"
    prm = StatePRM.create("tiny", tiny_corpus=[words], d=16)
    net = _perturbed_net(prm, history_in_context=history_in_context).train()
    net.drop = _Scale(0.4)
    x = _two_state_batch(prm, split_history=not history_in_context)
    torch.testing.assert_close(
        net(x), _reference_logits(net, x, drop_scale=0.4), atol=1e-5, rtol=1e-5
    )
    net.eval()  # no dropout when scoring
    torch.testing.assert_close(net(x), _reference_logits(net, x), atol=1e-5, rtol=1e-5)


def test_a_pair_without_tokens_takes_the_path_of_several_instructions():
    """The one-instruction path numbers pairs by their tokens, so a text without tokens
    (never a real text: every one has at least its special tokens) turns it off."""
    prm = StatePRM.create("tiny", tiny_corpus=["walk to room 3 wait go"], d=16)
    instr, act = prm.encoder.rows(["walk to room 3", "go"])
    store = prm.encoder.store
    empty = store.add("<no tokens>", np.zeros((0, store.dim), np.float32), np.zeros((0, 2)))
    one = [Candidate(0, act, -1, 0, 5)]
    x = pack_inputs(store, [Context(instr, (), (act,))], one, "cpu", split_history=True)
    assert x.one_instruction
    x = pack_inputs(store, [Context(instr, (), (empty, act))], one, "cpu", split_history=True)
    assert not x.one_instruction
