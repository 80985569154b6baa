"""A tiny from-config backbone and tokenizer, built locally (no download), for tests.

The tokenizer is a ``tokenizers`` WordPiece model whose vocabulary is the
printable ASCII alphabet plus the most frequent words of a corpus you pass (for
``train-prm --backbone tiny``: the training texts), so any ASCII text tokenizes
without ``[UNK]`` and the same corpus always gives the same ids. The backbone is a 2-layer BERT
with hidden size 64 built with ``from_config`` (random weights, seeded by the
caller's ``torch.manual_seed``).
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

__all__ = ["TINY_CONFIG", "build_tiny_tokenizer", "build_tiny_backbone"]

#: BERT settings of the tiny backbone (``vocab_size`` comes from the tokenizer).
TINY_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 512,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}

_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_tokenizer(corpus: Iterable[str] = (), vocab_size: int = 2000) -> Any:
    """A lower-casing WordPiece tokenizer whose vocabulary comes from ``corpus``.

    The vocabulary is, in this order: the BERT specials, every printable ASCII
    character word-initially and as a ``##`` continuation, then the most frequent
    whole words of ``corpus`` (ties broken alphabetically) up to ``vocab_size``.
    Words outside it split into characters. Built by counting, not by a
    trainer, so the same corpus always gives the same ids.

    Args:
        corpus: Texts to take frequent words from (may be empty).
        vocab_size: Largest vocabulary (specials and alphabet included).

    Returns:
        A ``transformers.PreTrainedTokenizerFast`` with BERT-style specials and
        ``[CLS] text [SEP]`` post-processing.
    """
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    alphabet = sorted(set(string.printable.lower()) - set(string.whitespace))
    vocab: dict[str, int] = {}
    for t in [*_SPECIALS, *alphabet, *("##" + c for c in alphabet)]:
        vocab.setdefault(t, len(vocab))
    counts: Counter[str] = Counter()
    for text in corpus:
        counts.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(text)))
    for word, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= vocab_size:
            break
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"])
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=TINY_CONFIG["max_position_embeddings"],
    )


def build_tiny_backbone(vocab_size: int) -> Any:
    """A randomly initialised 2-layer BERT built with ``AutoModel.from_config``."""
    from transformers import AutoModel, BertConfig

    cfg = BertConfig(vocab_size=int(vocab_size), **TINY_CONFIG)
    return AutoModel.from_config(cfg)
