"""Type words of a product title: the nouns WebShop's type reward compares.

WebShop's ``get_type_reward`` parses both titles with spaCy's small English
model and keeps, lower-cased, the tokens tagged ``NOUN`` or ``PROPN``, as a
list (a repeated noun counts twice in the goal title's length). Its title score
is ``|set(bought nouns) ∩ set(goal nouns)| / len(goal nouns)``.

Two ways to get those words here:

* :func:`rule_type_words` (the default, no dependency): a tokenizer that splits
  the way spaCy's English tokenizer splits product titles (hyphens and slashes
  between words, a number from its unit, brackets and trailing commas), then
  keeps every token that is not a closed-class word (article, preposition,
  conjunction, pronoun, auxiliary), a number or punctuation, or a verb marked
  by its neighbour (after "to", before a particle). On title-cased
  product titles spaCy's tagger calls nearly every remaining word ``PROPN`` (it
  tags "Listed", "Bar" or "Casual" as nouns or verbs by context, which no word
  list can follow), so this keeps what spaCy keeps up to such context cases.
  ``benchmarks/webshop_reward_parity.py`` measures how often the whole reward
  still agrees with WebShop's own.
* :class:`SpacyTypeWords` (the ``webshop-spacy`` extra): spaCy itself, with a
  model package installed by the user (``en_core_web_sm``, as WebShop loads).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "TypeWordsFn",
    "rule_type_words",
    "tokenize_title",
    "SpacyTypeWords",
    "type_words_fn",
    "CLOSED_CLASS_WORDS",
    "NUMBER_WORDS",
    "TAGGERS",
]

#: A title -> its type words (lower case, in title order, repeats kept).
TypeWordsFn = Callable[[str], list[str]]


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Names accepted by :func:`type_words_fn`.
TAGGERS: tuple[str, ...] = ("rules", "spacy")

#: Words spaCy's English tagger never tags NOUN or PROPN in a title: articles and
#: other determiners, prepositions, conjunctions, pronouns, auxiliaries and particles.
CLOSED_CLASS_WORDS: frozenset[str] = _word_set(
    """
    a an the this that these those all any each every no some both either neither another
    such what which whose
    for by of in on with without to from at into onto upon up down over under about after
    before between through per via against along among around behind below beneath beside
    besides beyond during inside near off out outside since than till until within across
    toward towards as like unlike
    and or but nor & yet so
    i you he she it we they me him her us them my your his its our their mine yours hers ours
    theirs myself yourself itself ourselves themselves
    is are was were be been being am do does did have has had can could will would shall
    should may might must
    not n't 's '
    """
)

#: Number words: spaCy tags them NUM ("Four Way Stretch").
NUMBER_WORDS: frozenset[str] = _word_set(
    """
    zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion dozen
    """
)
#: Particles that make the word before them a verb ("Built In", "Pull On", "Lace Up").
_PARTICLES = _word_set("in on up out down")

#: Unit symbols spaCy's tokenizer splits off a preceding number ("12oz" -> "12", "oz").
_UNITS = _word_set(
    """
    km m dm cm mm nm yd in ft kg g mg lb lbs oz ml l mb kb gb tb mph kmh hz khz mhz ghz
    """
)
_UPPER_UNITS = _word_set("T G M K KB MB GB TB")
_OPEN = "([{\"'“‘«<$£€¥#"
_CLOSE = ")]}\"'”’»>,;:!?%"
_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:[.,]\d+)*|\.\d+)$")
_ABBREV_RE = re.compile(r"^(?:[A-Za-z]\.){2,}$")
_ABBREVIATIONS = _word_set("co. corp. inc. ltd. no. vs. etc. jr. sr. st. mr. mrs. ms. dr.")
_NUM_UNIT_RE = re.compile(r"^(\d+(?:\.\d+)?)([A-Za-z]+)$")
# a hyphen between a letter or digit and a letter, a comma between letters, or any slash
# splits a word
_INFIX_RE = re.compile(r"(?<=[A-Za-z0-9])(-)(?=[A-Za-z])|(?<=[A-Za-z])(,)(?=[A-Za-z])|(/)")
_HAS_ALNUM = re.compile(r"[A-Za-z0-9]")


def _is_abbreviation(chunk: str) -> bool:
    return bool(_ABBREV_RE.match(chunk)) or chunk.lower() in _ABBREVIATIONS


def _split_affixes(chunk: str) -> list[str]:
    head: list[str] = []
    tail: list[str] = []
    while chunk and chunk[0] in _OPEN:
        head.append(chunk[0])
        chunk = chunk[1:]
    while chunk and (chunk[-1] in _CLOSE or (chunk[-1] == "." and not _is_abbreviation(chunk))):
        if chunk.endswith("'s") or chunk.endswith("’s"):
            break
        tail.insert(0, chunk[-1])
        chunk = chunk[:-1]
    core: list[str] = []
    if chunk:
        if chunk.lower().endswith(("'s", "’s")) and len(chunk) > 2:
            core = [chunk[:-2], chunk[-2:]]
        else:
            core = [chunk]
    return head + core + tail


def _split_infixes(token: str) -> list[str]:
    parts = [p for p in _INFIX_RE.split(token) if p]
    out: list[str] = []
    for p in parts:
        m = _NUM_UNIT_RE.match(p)
        if m and (m.group(2).lower() in _UNITS or m.group(2) in _UPPER_UNITS):
            out.extend([m.group(1), m.group(2)])
        else:
            out.append(p)
    return out


def tokenize_title(title: str) -> list[str]:
    """Split a title into tokens the way spaCy's English tokenizer splits titles.

    Args:
        title: A product title.

    Returns:
        The tokens, punctuation included, in order.
    """
    tokens: list[str] = []
    for chunk in title.split():
        for piece in _split_affixes(chunk):
            if len(piece) == 1 or not _HAS_ALNUM.search(piece):
                tokens.append(piece)
            else:
                tokens.extend(_split_infixes(piece))
    return tokens


def rule_type_words(title: str) -> list[str]:
    """The title's type words by rule (spaCy's NOUN/PROPN tokens, approximated).

    A token is dropped if it is punctuation, a number or number word, a
    closed-class word (:data:`CLOSED_CLASS_WORDS`), the verb of an infinitive
    (the word after "to": "Easy To Apply") or a verb with its particle (the word
    before "in", "on", "up", "out", "down": "Built In", "Pull On"). Every other
    token is kept.

    Args:
        title: A product title.

    Returns:
        The kept tokens, lower-cased, in title order (repeats kept).
    """
    toks = tokenize_title(title)
    low = [t.lower() for t in toks]
    out = []
    for i, (tok, w) in enumerate(zip(toks, low, strict=True)):
        if not _HAS_ALNUM.search(tok) or _NUMBER_RE.match(tok):
            continue
        if w in CLOSED_CLASS_WORDS or w in NUMBER_WORDS:
            continue
        if i > 0 and low[i - 1] == "to":
            continue
        if i + 1 < len(low) and low[i + 1] in _PARTICLES:
            continue
        out.append(w)
    return out


class SpacyTypeWords:
    """Type words from a spaCy pipeline, as WebShop computes them (NOUN/PROPN tokens).

    Args:
        model: A spaCy model package name or path (WebShop loads ``en_core_web_sm``).

    Raises:
        ImportError: If spaCy or the model is not installed (with how to install them).
    """

    _POS = frozenset(("NOUN", "PROPN", "PNOUN"))

    def __init__(self, model: str = "en_core_web_sm") -> None:
        try:
            import spacy
        except ImportError as exc:
            raise ImportError(
                "type_tagger='spacy' needs spaCy: pip install 'agentprm-gym[webshop-spacy]'"
            ) from exc
        try:
            self._nlp: Any = spacy.load(model)
        except OSError as exc:
            raise ImportError(
                f"spaCy model {model!r} is not installed: python -m spacy download {model}"
            ) from exc
        self.model = model
        self._cache: dict[str, list[str]] = {}

    def __call__(self, title: str) -> list[str]:
        """The NOUN/PROPN tokens of ``title``, lower-cased, in order (cached per title)."""
        words = self._cache.get(title)
        if words is None:
            words = [t.text.lower() for t in self._nlp(title) if t.pos_ in self._POS]
            self._cache[title] = words
        return list(words)


def type_words_fn(tagger: str = "rules", model: str = "en_core_web_sm") -> TypeWordsFn:
    """The type-word function named ``tagger`` (``"rules"`` or ``"spacy"``).

    Raises:
        ValueError: For an unknown tagger name.
        ImportError: For ``"spacy"`` without spaCy or its model.
    """
    if tagger == "rules":
        return rule_type_words
    if tagger == "spacy":
        return SpacyTypeWords(model)
    raise ValueError(f"unknown type tagger {tagger!r}; choose one of {list(TAGGERS)}")
