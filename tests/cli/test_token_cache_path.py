"""Where train-prm keeps the frozen encoder's token states."""

from __future__ import annotations

import argparse

from agentprm_gym.commands.train_prm import token_cache_path


def _args(**kw):
    base = {
        "arch": "state",
        "no_cache": False,
        "cache": None,
        "data": "d.jsonl",
        "backbone": "minilm",
    }
    return argparse.Namespace(**{**base, **kw})


def test_a_pretrained_encoder_shares_one_file_per_data_file():
    assert token_cache_path(_args()) == "d.jsonl.tokens-minilm"
    assert token_cache_path(_args(), "minilm|384|64|bf16|abc") == "d.jsonl.tokens-minilm"


def test_each_tiny_encoder_gets_its_own_file():
    a = token_cache_path(_args(backbone="tiny"), "tiny|64|64|bf16|aaa")
    b = token_cache_path(_args(backbone="tiny"), "tiny|64|64|bf16|bbb")
    assert a.startswith("d.jsonl.tokens-tiny-") and b.startswith("d.jsonl.tokens-tiny-")
    assert a != b and a == token_cache_path(_args(backbone="tiny"), "tiny|64|64|bf16|aaa")


def test_an_explicit_file_or_none():
    assert token_cache_path(_args(backbone="tiny", cache="my.tokens"), "t") == "my.tokens"
    assert token_cache_path(_args(no_cache=True)) is None
    assert token_cache_path(_args(arch="cross")) is None
