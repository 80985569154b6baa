"""Type words: the rule tokenizer/tagger against spaCy's, and the optional spaCy tagger."""

from __future__ import annotations

import sys

import pytest

from agentprm_gym.envs.webshop.type_words import (
    SpacyTypeWords,
    rule_type_words,
    tokenize_title,
    type_words_fn,
)

#: Tokenizations recorded from spaCy 3.8.18's English tokenizer (``spacy.blank("en")``).
SPACY_TOKENS = {
    "4K Ultra HD": ["4", "K", "Ultra", "HD"],
    "4k Video": ["4k", "Video"],
    "2pcs Tweezers": ["2pcs", "Tweezers"],
    "65-inch TV": ["65", "-", "inch", "TV"],
    "Crew Neck T-Shirt": ["Crew", "Neck", "T", "-", "Shirt"],
    "USB-C Cable": ["USB", "-", "C", "Cable"],
    "100% Cotton": ["100", "%", "Cotton"],
    "$20 Gift": ["$", "20", "Gift"],
    "10ft Cord": ["10", "ft", "Cord"],
    "D.O.N. Issue": ["D.O.N.", "Issue"],
    "(Silver)": ["(", "Silver", ")"],
    "Men's Shoes": ["Men", "'s", "Shoes"],
    "Kitchen & Bath": ["Kitchen", "&", "Bath"],
    "SC-HT830V": ["SC", "-", "HT830V"],
    "DVD/VCR": ["DVD", "/", "VCR"],
    "12oz": ["12", "oz"],
    "8GB": ["8", "GB"],
    "2.5mm": ["2.5", "mm"],
    "Shoes,Black": ["Shoes", ",", "Black"],
    "Coffee Bar.": ["Coffee", "Bar", "."],
    "Acme Co.": ["Acme", "Co."],
    "Set of 2, Black": ["Set", "of", "2", ",", "Black"],
    "Pack [2 Count]": ["Pack", "[", "2", "Count", "]"],
    "1,000 Pieces": ["1,000", "Pieces"],
    '5-Pack 12.5" Bowl': ["5", "-", "Pack", "12.5", '"', "Bowl"],
}


@pytest.mark.parametrize(("title", "tokens"), sorted(SPACY_TOKENS.items()))
def test_tokenizer_splits_like_spacy(title: str, tokens: list[str]) -> None:
    assert tokenize_title(title) == tokens


def test_rule_type_words_hand_worked() -> None:
    # numbers, number words, punctuation, closed-class words, the verb after "to" and the
    # verb before a particle are dropped; repeats are kept
    assert rule_type_words("Lumora Shampoo for Dry Hair - Sulfate Free, 2 Pack") == [
        "lumora",
        "shampoo",
        "dry",
        "hair",
        "sulfate",
        "free",
        "pack",
    ]
    assert rule_type_words("Four Way Stretch Leggings, Easy To Apply") == [
        "way",
        "stretch",
        "leggings",
        "easy",
    ]
    assert rule_type_words("Built In Microphone Earbuds, Pull On Closure") == [
        "microphone",
        "earbuds",
        "closure",
    ]
    assert rule_type_words("Bar Stool Bar") == ["bar", "stool", "bar"]
    assert rule_type_words("The 3 of Us") == []


def test_type_words_fn_names() -> None:
    assert type_words_fn("rules") is rule_type_words
    with pytest.raises(ValueError, match="unknown type tagger"):
        type_words_fn("nltk")


def test_spacy_tagger_without_spacy_says_how_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ImportError
    with pytest.raises(ImportError, match=r"agentprm-gym\[webshop-spacy\]"):
        SpacyTypeWords()


class _Tok:
    def __init__(self, text: str, pos: str) -> None:
        self.text = text
        self.pos_ = pos


def test_spacy_tagger_keeps_noun_and_propn_tokens(monkeypatch) -> None:
    tagged = [("UL", "PROPN"), ("Listed", "VERB"), ("2", "NUM"), ("Bar", "NOUN"), ("Bar", "NOUN")]

    class _Spacy:
        @staticmethod
        def load(name: str):
            assert name == "some_model"
            return lambda text: [_Tok(t, p) for t, p in tagged]

    monkeypatch.setitem(sys.modules, "spacy", _Spacy)
    words = SpacyTypeWords("some_model")
    assert words("UL Listed 2 Bar Bar") == ["ul", "bar", "bar"]
