"""Stacked members: one forward pass gives every member's own numbers."""

from __future__ import annotations

import pytest
import torch

from agentprm_gym.prm.stacked_net import StackedStateNet, stackable
from agentprm_gym.prm.state_model import StatePRM
from agentprm_gym.prm.state_net import Candidate, Context, StateNet, pack_inputs

WORDS = "walk to room 3 wait go room 0 room 1 next jump pit 30 under dollars lies here back"


@pytest.fixture(scope="module")
def prm() -> StatePRM:
    return StatePRM.create("tiny", tiny_corpus=[WORDS], d=16)


def _nets(prm: StatePRM, k: int = 2, d: int = 16, **options) -> list[StateNet]:
    """``k`` width-``d`` networks of one architecture, every weight moved off its initial
    value and each member's differently (no zero bias or identity norm hides a term)."""
    nets = []
    for seed in range(k):
        torch.manual_seed(seed)
        net = StateNet(
            enc_dim=prm.net.proj[0].in_features - 2, d=d, heads=4, dropout=0.0, **options
        )
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.1 * torch.randn_like(p))
        nets.append(net.eval())
    return nets


def _batch(prm: StatePRM, split_history: bool, previous: bool, one_instruction: bool, **kw):
    """States with uneven candidates, a row without any, mentions at a row's end, and
    (unless ``one_instruction``) a second instruction."""
    texts = ["walk to room 3", "wait", "go", "room 0", "room 1", "go[next]", "jump pit 30"]
    texts += ["under 30 dollars", "a pit lies here", "back"]
    instr, a, b, p0, p1, act, jump, under, lies, back = prm.encoder.rows(texts)
    other = instr if one_instruction else under
    prev = [((p1, lies),), ((p0,), (p1, lies)), (), ((p0,),), ((lies,), (p0, p1))]
    contexts = [
        Context(instr, (a,), (p0, p1, lies), prev[0] if previous else ()),
        Context(instr, (b, a), (p0, p1, lies), prev[1] if previous else ()),
        Context(other, (), (p1,)),
        Context(instr, (), (lies, p0), prev[3] if previous else ()),
        Context(instr, (b,), (p0,), prev[4] if previous else ()),
    ]
    spec = [(1, act, 0), (0, jump, 1), (1, back, 2), (1, lies, -1), (2, act, 0), (0, act, 2)]
    spec += [(4, under, 0), (1, under, 1)]
    candidates = [Candidate(k, row, m, k + 1, 6 - k) for k, row, m in spec]
    return pack_inputs(
        prm.encoder.store, contexts, candidates, "cpu", split_history=split_history, **kw
    )


OPTIONS = [
    {"history_in_context": False},
    {"history_in_context": True},
    {"history_in_context": False, "exact": True},
    {"history_in_context": False, "coverage": False},
    {"history_in_context": False, "previous": 2},
    {"history_in_context": False, "page_pool": True, "exact": True},
    {"history_in_context": True, "page_pool": True},
]


@pytest.mark.parametrize("one_instruction", [True, False])
@pytest.mark.parametrize("options", OPTIONS)
def test_every_member_gets_its_own_logits_pairs_and_contexts(prm, options, one_instruction):
    nets = _nets(prm, 3, **options)
    split = not options["history_in_context"]
    x = _batch(prm, split, bool(options.get("previous")), one_instruction)
    assert x.one_instruction is one_instruction
    stacked = StackedStateNet(nets)
    with torch.inference_mode():
        out = stacked.forward_cached(x)
        assert out.logits.shape == (3, len(x.cand_ctx))
        for k, net in enumerate(nets):
            want = net.forward_cached(x)
            torch.testing.assert_close(out.logits[k], want.logits, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(out.pairs[:, k], want.pairs, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(out.contexts[:, :, k], want.contexts, atol=1e-5, rtol=1e-5)
    assert (out.instruction is not None) is one_instruction
    # the members differ: a mix-up of members would show
    assert (out.logits[0] - out.logits[1]).abs().max() > 1e-3


@pytest.mark.parametrize("one_instruction", [True, False])
@pytest.mark.parametrize("options", OPTIONS)
def test_kept_pairs_contexts_and_instruction_give_the_numbers_of_a_full_pass(
    prm, options, one_instruction
):
    """What one call returns (pairs, context rows, the instruction's side), passed back as
    known, gives every member the logits of a pass that computes everything."""
    nets = _nets(prm, 2, **options)
    split = not options["history_in_context"]
    previous = bool(options.get("previous"))
    stacked = StackedStateNet(nets)
    x = _batch(prm, split, previous, one_instruction)
    with torch.inference_mode():
        first = stacked.forward_cached(x)
        keep = list(range(0, len(x.pair_keys), 2))
        pairs = {x.pair_keys[i]: first.pairs[i] for i in keep}
        lengths = x.ctx_len.tolist()
        rows = {x.ctx_keys[r]: first.contexts[j, : lengths[r]] for j, r in enumerate(x.ctx_new)}
        rows = dict(list(rows.items())[1:])  # one row encoded again
        y = _batch(prm, split, previous, one_instruction, known=pairs, known_contexts=rows)
        assert y.known_pos and y.ctx_known and y.ctx_new
        again = stacked.forward_cached(
            y,
            torch.stack([pairs[y.pair_keys[i]] for i in y.known_pos]),
            [rows[y.ctx_keys[r]] for r in y.ctx_known],
            first.instruction,
        )
    torch.testing.assert_close(again.logits, first.logits, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(stacked(x), first.logits)  # forward: the logits


def test_only_networks_of_one_architecture_stack(prm):
    a, b = _nets(prm, 2, history_in_context=False)
    assert stackable([a, b]) and stackable([a]) and not stackable([])
    (exact,) = _nets(prm, 1, history_in_context=False, exact=True)
    (wide,) = _nets(prm, 1, d=32, history_in_context=False)
    (old,) = _nets(prm, 1, history_in_context=True)
    for other in (exact, wide, old):
        assert not stackable([a, other])
        with pytest.raises(ValueError, match="one architecture"):
            StackedStateNet([a, other])


def test_a_changed_member_weight_makes_the_stack_stale(prm):
    a, b = _nets(prm, 2, history_in_context=False)
    stacked = StackedStateNet([a, b])
    assert not stacked.stale()
    with torch.no_grad():
        b.head[3].bias.add_(1.0)
    assert stacked.stale()
    assert not StackedStateNet([a, b]).stale()


def test_inputs_packed_for_the_other_layout_are_refused(prm):
    stacked = StackedStateNet(_nets(prm, 2, history_in_context=False))
    x = _batch(prm, False, False, True)
    with pytest.raises(ValueError, match="split_history"):
        stacked.forward_cached(x)
