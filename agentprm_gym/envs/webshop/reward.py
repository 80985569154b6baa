"""WebShop's purchase reward (``get_reward`` of web_agent_site/engine/goal.py).

    R = r_type × (matched goal attributes + matched goal options + 1[price ≤ cap])
                 / (|goal attributes| + |goal options| + 1)

* **Attributes**: a goal attribute matches if its fuzzy score
  (:func:`~agentprm_gym.envs.webshop.normalize.fuzzy_score`, thefuzz's rounded
  token-set ratio) with one of the product's attributes is above 85, or else if
  it is a substring of the lower-cased title, bullet points (joined by spaces)
  or description.
* **Options**: each chosen value and each goal option is color-normalized
  (:func:`~agentprm_gym.envs.webshop.normalize.normalize_color`: the first of
  WebShop's 102 colors found as a substring) and a goal option matches if its
  fuzzy score with a chosen value is above 85. As in WebShop, what is compared
  for a goal option depends on how the goal stores its options: goals with
  option *values only* (WebShop's human goals; here option names "") compare
  the value; goals with *named* options (WebShop's synthetic goals, a dict, and
  the generated goals here) pass ``(name, value)`` pairs, so the pair is
  color-normalized only when its value is exactly a color name and is
  otherwise compared as the text of the pair (``"('size', 'large')"``, whose
  tokens are the name's and the value's).
* **Price**: 1 if the price is at most the cap.
* **Type** (r_type): ``query_match`` (the same query string),
  ``category_match`` (at least 2 shared breadcrumb levels) and ``title_score``
  (``|set(bought type words) ∩ set(goal type words)| / len(goal type words)``,
  the goal's list counting repeats; 0.2 when the goal title has none). r_type
  is 1.0; 0.5 if none of ``query_match``, ``category_match``, ``title_score >
  0.2`` holds; 0.1 if ``title_score < 0.1``; 0.0 if ``title_score == 0``.
  WebShop's type words are the title's NOUN/PROPN tokens by spaCy; see
  :mod:`agentprm_gym.envs.webshop.type_words` for the rule-based default and the
  optional spaCy tagger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.normalize import (
    MATCH_THRESHOLD,
    fuzzy_score,
    normalize_color,
)
from agentprm_gym.envs.webshop.type_words import TypeWordsFn, rule_type_words

__all__ = [
    "RewardResult",
    "GoalOption",
    "get_reward",
    "attribute_matches",
    "goal_option_items",
    "option_score",
    "option_matches",
    "title_score",
    "type_reward",
    "normalize_color",
    "MATCH_THRESHOLD",
]

#: What WebShop compares for one goal option: a value, or a ``(name, value)`` pair.
GoalOption = str | tuple[str, str]


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


def attribute_matches(product: Product, goal_attributes: Sequence[str]) -> int:
    """Number of goal attributes the product has (fuzzy, or substring of its text)."""
    n = 0
    text: tuple[str, str, str] | None = None
    for g in goal_attributes:
        if any(fuzzy_score(p, g) > MATCH_THRESHOLD for p in product.attributes):
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


def goal_option_items(options: Sequence[tuple[str, str]]) -> list[GoalOption]:
    """The goal options as WebShop compares them: values, or ``(name, value)`` pairs.

    Goals whose option names are all empty (value lists, as WebShop's human
    goals) give their values; goals with named options (dicts, as WebShop's
    synthetic goals) give their ``(name, value)`` pairs.
    """
    if any(name for name, _ in options):
        return [(name, value) for name, value in options]
    return [value for _, value in options]


def option_score(chosen: str, goal_option: GoalOption) -> int:
    """The fuzzy score of a chosen value against a goal option, both color-normalized."""
    return fuzzy_score(normalize_color(chosen), normalize_color(goal_option))


def option_matches(chosen: Iterable[str], goal_options: Iterable[GoalOption]) -> int:
    """Number of goal options matched by a chosen value (color-normalized, fuzzy)."""
    chosen_n = [normalize_color(o) for o in chosen]
    n = 0
    for g in goal_options:
        gn = normalize_color(g)
        if any(fuzzy_score(p, gn) > MATCH_THRESHOLD for p in chosen_n):
            n += 1
    return n


def title_score(bought_words: Sequence[str], goal_words: Sequence[str]) -> float:
    """Shared distinct type words over the goal's type-word count (0.2 for none)."""
    if not goal_words:
        return 0.2
    return len(set(bought_words) & set(goal_words)) / len(goal_words)


def type_reward(
    product: Product, goal: Goal, type_words: TypeWordsFn = rule_type_words
) -> tuple[float, bool, bool, float]:
    """``(r_type, query_match, category_match, title_score)`` as WebShop computes them."""
    query_match = product.query == goal.query
    p_cat = {x.strip() for x in product.product_category.split("›")}
    g_cat = {x.strip() for x in goal.product_category.split("›")}
    category_match = len(p_cat & g_cat) >= 2
    ts = title_score(type_words(product.name), type_words(goal.name))
    r_type = 1.0
    if not (query_match or category_match or ts > 0.2):
        r_type = 0.5
    if ts < 0.1:
        r_type = 0.1
    if ts == 0.0:
        r_type = 0.0
    return r_type, query_match, category_match, ts


def get_reward(
    product: Product,
    goal: Goal,
    price: float,
    chosen_options: Iterable[str],
    type_words: TypeWordsFn = rule_type_words,
) -> RewardResult:
    """The reward of buying ``product`` at ``price`` with ``chosen_options`` for ``goal``.

    Args:
        product: The bought product.
        goal: The task's goal.
        price: The price paid.
        chosen_options: The option values selected on the item page.
        type_words: Title -> type words (default: the rule-based tagger).

    Returns:
        The reward and its components. ``r_option`` is None for goals without
        options (as in WebShop).
    """
    r_type, qm, cm, ts = type_reward(product, goal, type_words)
    n_att = attribute_matches(product, goal.attributes)
    items = goal_option_items(goal.options)
    n_opt = option_matches(list(chosen_options), items)
    r_price = 1.0 if price <= goal.price_upper else 0.0
    total = (n_att + n_opt + r_price) / (len(goal.attributes) + len(items) + 1)
    return RewardResult(
        reward=float(total * r_type),
        r_type=float(r_type),
        r_att=n_att / len(goal.attributes) if goal.attributes else 0.0,
        r_option=n_opt / len(items) if items else None,
        r_price=r_price,
        query_match=qm,
        category_match=cm,
        title_score=float(ts),
        num_attr_matches=n_att,
        num_option_matches=n_opt,
    )
