"""The frozen text encoder: bf16 linear weights cast once give the very states autocast gives."""

from __future__ import annotations

import numpy as np
import torch

from agentprm_gym.prm.text_encoder import FrozenTextEncoder, _bf16_linears, pack_rows
from agentprm_gym.prm.tiny import build_tiny_backbone, build_tiny_tokenizer

TEXTS = ["Walk to room 3.", "go[next]", "spf 30 sunscreen, price lower than 60.00 dollars"]


def _tiny():
    torch.manual_seed(0)
    tok = build_tiny_tokenizer(TEXTS)
    return build_tiny_backbone(len(tok)).eval(), tok


def _states(model, ids):
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state


def test_bf16_linears_compute_what_autocast_computes_and_share_the_rest():
    model, tok = _tiny()
    runner = _bf16_linears(model)
    for text in TEXTS:
        ids = torch.tensor([tok(text)["input_ids"]])
        assert torch.equal(_states(runner, ids), _states(model, ids))
    linears = [m for m in runner.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(m.weight.dtype == torch.bfloat16 for m in linears)
    # the model itself is untouched (its weights are saved and digested as given)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    emb = runner.embeddings.word_embeddings.weight
    assert emb is model.embeddings.word_embeddings.weight  # shared, not copied


def test_a_tied_linear_weight_is_shared_not_cast():
    """A weight a linear layer shares with an embedding stays float32 (autocast casts it)."""
    model, tok = _tiny()
    head = torch.nn.Linear(model.config.hidden_size, model.config.vocab_size, bias=False)
    head.weight = model.embeddings.word_embeddings.weight  # tied, as in a language-model head
    both = torch.nn.ModuleDict({"body": model, "head": head})
    runner = _bf16_linears(both)
    assert runner["head"].weight is both["head"].weight
    assert runner["body"].embeddings.word_embeddings.weight is runner["head"].weight
    x = torch.randn(3, model.config.hidden_size)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(runner["head"](x), both["head"](x))


def test_the_encoder_runs_the_cast_copy_under_bf16_and_keeps_its_tag():
    model, tok = _tiny()
    plain = FrozenTextEncoder(model, tok, "tiny", bf16=False)
    fast = FrozenTextEncoder(model, tok, "tiny", bf16=True)
    assert fast._runner is not None and plain._runner is None
    plain.packs = fast.packs = False  # one text per row: the states of the text alone, exactly
    # the tag digests the weights as given: recomputed after the copy was made, it is
    # the same (only the precision field differs from the float32 encoder's)
    tag = fast.tag
    fast._fingerprint = None
    assert fast.tag == tag and tag.split("|")[-1] == plain.tag.split("|")[-1]
    rows = fast.rows(TEXTS)
    ids = torch.tensor([tok(TEXTS[2])["input_ids"]])
    want = _states(model, ids)[0].to(torch.float16).numpy()
    st = fast.store
    got = st.states[st.start[rows[2]] : st.start[rows[2]] + st.length[rows[2]]]
    assert (got == want).all()
    fast.bf16 = False  # switched off later: the float32 model runs, as plain does
    fast.reset()
    rows = fast.rows(TEXTS)
    got = fast.store.states[fast.store.start[rows[2]] : fast.store.start[rows[2]] + len(want)]
    plain_rows = plain.rows(TEXTS)
    st = plain.store
    assert (got == st.states[st.start[plain_rows[2]] : st.start[plain_rows[2]] + len(want)]).all()


def test_pack_rows_by_hand():
    # longest first; a row takes texts until the next does not fit (next fit, decreasing)
    assert pack_rows([3, 9, 5, 4, 2], 10) == [[1], [2, 3], [0, 4]]
    assert pack_rows([5, 5, 5], 10) == [[0, 1], [2]]  # ties by index
    assert pack_rows([12, 1], 10) == [[0], [1]]  # longer than a row: a row of its own
    assert pack_rows([], 10) == []


def _alone(enc, text):
    ids = torch.tensor(
        [enc.tokenizer(text, truncation=True, max_length=enc.max_tokens)["input_ids"]]
    )
    with torch.inference_mode():
        return enc.model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]


def test_packed_rows_give_each_text_its_states_alone():
    """Several texts share an encoder row, each attending to itself with its own positions."""
    words = [
        "spf",
        "30",
        "sunscreen",
        "price",
        "lower",
        "than",
        "60.00",
        "dollars",
        "walk",
        "to",
        "room",
        "3",
        "go",
        "next",
    ]
    texts = [" ".join(words[: 1 + (7 * k) % len(words)]) + f" {k}" for k in range(40)]
    tok = build_tiny_tokenizer(texts)
    model = build_tiny_backbone(len(tok)).eval()
    enc = FrozenTextEncoder(model, tok, "tiny", bf16=False, max_tokens=16, batch_size=64)
    assert enc.packs  # a BERT model
    passes = enc._passes([len(x) for x in tok(texts, truncation=True, max_length=16)["input_ids"]])
    assert any(len(row) > 1 for rows in passes for row in rows)  # texts do share rows
    # several rows of different widths share a pass: the shorter ones are padded
    widths = [
        [sum(len(tok(texts[i])["input_ids"][:16]) for i in row) for row in rows] for rows in passes
    ]
    assert any(len(set(w)) > 1 for w in widths), widths
    assert sorted(i for rows in passes for row in rows for i in row) == list(range(len(texts)))
    seen = []
    rows = enc.rows(texts, progress=seen.append)
    assert sum(seen) == len(texts)
    st = enc.store
    for text, r in zip(texts, rows):
        want = _alone(enc, text).numpy()
        got = st.states[st.start[r] : st.start[r] + st.length[r]].astype(np.float32)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=2e-3)  # float16 storage
        assert (st.ids[st.start[r] : st.start[r] + st.length[r]] >= -1).all()
    # the same texts one per row (packing off) store the same ids and number features
    one = FrozenTextEncoder(model, tok, "tiny", bf16=False, max_tokens=16)
    one.packs = False
    one_rows = one.rows(texts)
    for r, q in zip(rows, one_rows):
        a, b = (
            slice(st.start[r], st.start[r] + st.length[r]),
            slice(one.store.start[q], one.store.start[q] + one.store.length[q]),
        )
        assert (st.ids[a] == one.store.ids[b]).all()
        assert (st.numbers[a] == one.store.numbers[b]).all()
        np.testing.assert_allclose(
            st.states[a].astype(np.float32), one.store.states[b].astype(np.float32), atol=2e-3
        )


def test_packing_works_with_eager_attention():
    """The mask is additive, so an attention that adds it to the scores masks too."""
    texts = ["walk to room 3 now", "go next", "spf 30 sunscreen under 60 dollars please"]
    tok = build_tiny_tokenizer(texts)
    torch.manual_seed(0)
    model = build_tiny_backbone(len(tok)).eval()
    model.config._attn_implementation = "eager"
    enc = FrozenTextEncoder(model, tok, "tiny", bf16=False)
    assert enc.packs
    ids = [tok(t)["input_ids"] for t in texts]
    both, at = enc._forward([ids])[0], 0
    for x in ids:
        alone = _alone(enc, tok.decode(x, skip_special_tokens=True))
        np.testing.assert_allclose(both[at : at + len(x)], alone.numpy(), atol=1e-5)
        at += len(x)


class _TwoDimMaskOnly(torch.nn.Module):
    """A BERT that refuses anything but a 2D attention mask, as transformers 4.x does."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.config = inner, inner.config

    def forward(self, input_ids, attention_mask=None, **kwargs):
        if attention_mask is not None and attention_mask.dim() != 2:
            raise ValueError("Wrong shape for attention_mask")
        return self.inner(input_ids=input_ids, attention_mask=attention_mask, **kwargs)


def test_an_encoder_that_refuses_packed_rows_encodes_one_text_per_row():
    model, tok = _tiny()
    enc = FrozenTextEncoder(_TwoDimMaskOnly(model), tok, "tiny", bf16=False)
    assert not enc.packs
    rows = enc.rows(TEXTS)
    st = enc.store
    for text, r in zip(TEXTS, rows):
        got = st.states[st.start[r] : st.start[r] + st.length[r]].astype(np.float32)
        np.testing.assert_allclose(got, _alone(enc, text).numpy(), atol=2e-3)
