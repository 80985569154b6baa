"""WebShop's purchase reward (``get_reward`` of web_agent_site/engine/goal.py).

    R = r_type × (matched goal attributes + matched goal options + 1[price ≤ cap])
                 / (|goal attributes| + |goal options| + 1)

* **Attributes**: a goal attribute matches if ``rapidfuzz.fuzz.token_set_ratio``
  (with thefuzz's default processing, as WebShop calls it) with one of the
  product's attributes is > 85, or else if it is a substring of the lower-cased
  title, bullet points or description.
* **Options**: chosen and goal option values are color-normalized (the first
  known color name found in the string replaces it) and a goal option matches
  if its token-set ratio with a chosen value is > 85.
* **Price**: 1 if the price is at most the cap.
* **Type** (r_type): ``query_match`` (same product query), ``category_match``
  (at least 2 shared breadcrumb levels) and ``title_score`` (share of the goal
  title's *type words* found in the bought title). r_type is 1.0; 0.5 if none
  of ``query_match``, ``category_match``, ``title_score > 0.2`` holds; 0.1 if
  ``title_score < 0.1``; 0.0 if ``title_score == 0``; when the goal title has
  no type words ``title_score`` is 0.2, as in WebShop.

Replacement for spaCy: WebShop keeps the title tokens spaCy tags NOUN or
PROPN. Without spaCy, *type words* are the title's alphabetic tokens of 3+
letters that are not in a fixed list of stop words, adjectives, marketing
words, colors and units (:data:`NON_NOUN_WORDS`). On product titles this keeps
what spaCy keeps (brand and product nouns) and drops what it drops
(determiners, adjectives, numbers), with small differences on words spaCy
would tag by context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.wordbanks import COLORS

__all__ = [
    "RewardResult",
    "get_reward",
    "attribute_matches",
    "option_matches",
    "type_reward",
    "normalize_color",
    "type_words",
    "NON_NOUN_WORDS",
    "MATCH_THRESHOLD",
]

#: Fuzzy-match threshold (token-set ratio must exceed it).
MATCH_THRESHOLD = 85

#: Words that are never type words (see the module docstring).
NON_NOUN_WORDS: frozenset[str] = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "are",
        "was",
        "you",
        "your",
        "our",
        "its",
        "not",
        "all",
        "any",
        "per",
        "new",
        "best",
        "premium",
        "professional",
        "natural",
        "organic",
        "classic",
        "modern",
        "vintage",
        "upgraded",
        "portable",
        "free",
        "long",
        "lasting",
        "high",
        "quality",
        "easy",
        "soft",
        "lightweight",
        "compact",
        "heavy",
        "duty",
        "ultra",
        "mini",
        "pro",
        "smart",
        "wireless",
        "casual",
        "slim",
        "fit",
        "comfort",
        "athletic",
        "everyday",
        "designer",
        "gourmet",
        "artisan",
        "family",
        "size",
        "healthy",
        "small",
        "batch",
        "authentic",
        "rustic",
        "industrial",
        "mid",
        "century",
        "farmhouse",
        "contemporary",
        "minimalist",
        "scandinavian",
        "gentle",
        "salon",
        "grade",
        "vegan",
        "luxury",
        "daily",
        "advanced",
        "large",
        "medium",
        "extra",
        "pack",
        "set",
        "design",
        "model",
        "inch",
        "inches",
        "ounce",
        "ounces",
        "count",
        "fl",
        "oz",
        "lbs",
        "value",
        "piece",
        "pieces",
        "pcs",
        "compatible",
        "adjustable",
        "waterproof",
        "resistant",
        "proof",
        "non",
        "use",
        "men",
        "women",
        "mens",
        "womens",
        "kids",
        "great",
        "perfect",
        "multi",
        "black",
        "white",
        "red",
        "blue",
        "navy",
        "green",
        "grey",
        "gray",
        "pink",
        "beige",
        "brown",
        "purple",
        "yellow",
        "orange",
        "gold",
        "silver",
        "ivory",
        "teal",
        "khaki",
        "burgundy",
        "coffee",
        "olive",
        "cream",
        "light",
        "dark",
        "rose",
        "multicolor",
    ]
)
_WORD_RE = re.compile(r"[a-z]+")


class RewardResult(NamedTuple):
    """The reward of a purchase and its components (WebShop's verbose info)."""

    reward: float
    r_type: float
    r_att: float
    r_option: float | None
    r_price: float
    query_match: bool
    category_match: bool
    title_score: float
    num_attr_matches: int
    num_option_matches: int


def _ratio(a: str, b: str) -> float:
    """Token-set ratio with thefuzz's default processing (lower case, punctuation to spaces)."""
    return fuzz.token_set_ratio(a, b, processor=default_process)


def normalize_color(text: str) -> str:
    """The first color of the color list found in ``text``, else ``text`` (WebShop's rule)."""
    for c in COLORS:
        if c in text:
            return c
    return text


def type_words(title: str) -> set[str]:
    """The title's type words: spaCy's NOUN/PROPN filter replaced by a word list."""
    return {w for w in _WORD_RE.findall(title.lower()) if len(w) > 2 and w not in NON_NOUN_WORDS}


def attribute_matches(product: Product, goal_attributes: Sequence[str]) -> int:
    """Number of goal attributes the product has (fuzzy, or substring of its text)."""
    n = 0
    text = None
    for g in goal_attributes:
        if any(_ratio(p, g) > MATCH_THRESHOLD for p in product.attributes):
            n += 1
            continue
        if text is None:
            text = (
                product.name.lower(),
                " ".join(product.bullet_points).lower(),
                product.description.lower(),
            )
        if any(g in t for t in text):
            n += 1
    return n


def option_matches(chosen: Iterable[str], goal_options: Iterable[str]) -> int:
    """Number of goal option values matched by a chosen value (color-normalized, fuzzy)."""
    chosen_n = [normalize_color(o) for o in chosen]
    n = 0
    for g in goal_options:
        gn = normalize_color(g)
        if any(_ratio(p, gn) > MATCH_THRESHOLD for p in chosen_n):
            n += 1
    return n


def type_reward(product: Product, goal: Goal) -> tuple[float, bool, bool, float]:
    """``(r_type, query_match, category_match, title_score)`` as WebShop computes them."""
    query_match = product.query.strip().lower() == goal.query.strip().lower()
    p_cat = {x.strip() for x in product.product_category.split("›")}
    g_cat = {x.strip() for x in goal.product_category.split("›")}
    category_match = len(p_cat & g_cat) >= 2
    desired = type_words(goal.name)
    title_score = len(type_words(product.name) & desired) / len(desired) if desired else 0.2
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return r_type, query_match, category_match, title_score


def get_reward(
    product: Product, goal: Goal, price: float, chosen_options: Iterable[str]
) -> RewardResult:
    """The reward of buying ``product`` at ``price`` with ``chosen_options`` for ``goal``.

    Args:
        product: The bought product.
        goal: The task's goal.
        price: The price paid.
        chosen_options: The option values selected on the item page.

    Returns:
        The reward and its components. ``r_option`` is None for goals without
        options (as in WebShop).
    """
    r_type, qm, cm, ts = type_reward(product, goal)
    n_att = attribute_matches(product, goal.attributes)
    goal_vals = goal.option_values
    n_opt = option_matches(list(chosen_options), goal_vals)
    r_price = 1.0 if price <= goal.price_upper else 0.0
    total = (n_att + n_opt + r_price) / (len(goal.attributes) + len(goal_vals) + 1)
    return RewardResult(
        reward=float(total * r_type),
        r_type=float(r_type),
        r_att=n_att / len(goal.attributes) if goal.attributes else 0.0,
        r_option=n_opt / len(goal_vals) if goal_vals else None,
        r_price=r_price,
        query_match=qm,
        category_match=cm,
        title_score=float(ts),
        num_attr_matches=n_att,
        num_option_matches=n_opt,
    )
