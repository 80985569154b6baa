"""Shopping goals: instruction text, goal attributes, goal options and price cap.

A :class:`Goal` has the fields WebShop's goal dicts carry (asin, category,
query, name, product_category, instruction_text, attributes, goal_options,
price_upper). For the synthetic catalog, :class:`GeneratedGoals` makes one goal
per product, in a seeded shuffled order, lazily (goal ``i`` is a pure function
of the catalog and ``i``), so even a 100,000-product catalog costs nothing
until a task is played. As in WebShop, the first 500 goals are the ``test``
split and the rest ``train`` (for fewer than 1,000 goals: the first half).

The price cap follows WebShop: of the first four multiples of $10 above the
product's price, two are drawn and the larger one is the cap ("and price lower
than N dollars"); products above $980 get no cap (``price_upper = 1e6``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from agentprm_gym.envs.webshop.catalog import Catalog, Product

__all__ = [
    "Goal",
    "GoalSet",
    "GeneratedGoals",
    "ListGoals",
    "PRICE_RANGE",
    "NO_PRICE_CAP",
    "draw_price_cap",
    "instruction_query",
    "split_sizes",
    "goal_for_product",
]

#: WebShop's candidate price caps.
PRICE_RANGE: tuple[float, ...] = tuple(10.0 * i for i in range(1, 100))
#: ``price_upper`` of goals without a price condition.
NO_PRICE_CAP = 1_000_000.0
_TEST_GOALS = 500

_OPENERS = (
    "i need {art}{attrs} {noun}",
    "i am looking for {art}{noun} that is {attrs}",
    "i want {art}{noun} which is {attrs}",
    "find me {art}{attrs} {noun}",
    "i'd like to buy {art}{noun} that is {attrs}",
    "i'm looking for {art}{attrs} {noun}",
    "can you get me {art}{noun} that is {attrs}",
)

_LEAD_RE = re.compile(
    r"^(?:i need|i am looking for|i'm looking for|i want to buy|i want|find me|"
    r"i'd like to buy|i would like|can you get me|i'm searching for|please find|"
    r"search for|get me|buy me|i wish to buy)\s+"
)
_OPTION_TEXT_RE = re.compile(r"\s+with\s+[a-z ]+:\s.*$")
_PRICE_TEXT_RE = re.compile(r",?\s*and price lower than .*$")
_QUERY_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "that",
        "is",
        "are",
        "which",
        "and",
        "for",
        "of",
        "with",
        "some",
        "to",
        "me",
        "i",
        "it",
        "its",
        "this",
        "be",
        "in",
    ]
)
_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9'.\-]*")


class Goal(NamedTuple):
    """One shopping task (WebShop's goal dict as an immutable record).

    Attributes:
        asin: The product the goal was made from.
        instruction: The instruction text shown to the agent.
        attributes: Goal attributes (matched against the bought product).
        options: Goal options as ``((name, value), ...)``.
        price_upper: Price cap in dollars (:data:`NO_PRICE_CAP` if none).
        name: Title of the goal product (WebShop's ``name``; used by r_type).
        query: Query of the goal product.
        category: Category of the goal product.
        product_category: Breadcrumb of the goal product.
    """

    asin: str
    instruction: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    price_upper: float
    name: str
    query: str
    category: str
    product_category: str

    @property
    def option_values(self) -> tuple[str, ...]:
        """The goal option values."""
        return tuple(v for _, v in self.options)


def split_sizes(n_goals: int) -> tuple[int, int]:
    """``(n_test, n_train)``: the first 500 goals are test (the first half if < 1,000)."""
    n_test = _TEST_GOALS if n_goals >= 2 * _TEST_GOALS else n_goals // 2
    return n_test, n_goals - n_test


def draw_price_cap(price: float, rng: np.random.Generator) -> float:
    """WebShop's price cap: the larger of two draws among the 4 multiples of $10 above price."""
    above = [p for p in PRICE_RANGE if p > price][:4]
    if len(above) < 2:
        return NO_PRICE_CAP
    i, j = rng.choice(len(above), size=2, replace=False)
    return max(above[int(i)], above[int(j)])


def price_text(price_upper: float) -> str:
    """The instruction suffix for a price cap ("" for none)."""
    if price_upper >= NO_PRICE_CAP:
        return ""
    return f", and price lower than {price_upper:.2f} dollars"


def instruction_query(instruction: str) -> str:
    """A search query derived from an instruction by plain text rules.

    Drops the opening phrase ("i need", "i am looking for", ...), the option
    text (" with color: red, and size: xl") and the price text, then stop words.

    Args:
        instruction: The instruction text.

    Returns:
        The query (may be empty for an instruction made only of stop words).
    """
    t = instruction.lower().strip()
    t = _PRICE_TEXT_RE.sub("", t)
    t = _OPTION_TEXT_RE.sub("", t)
    t = _LEAD_RE.sub("", t)
    toks = [w.strip(".,'") for w in _TOKEN_RE.findall(t)]
    return " ".join(w for w in toks if w and w not in _QUERY_STOP)


def _article(noun: str, follow: str) -> str:
    if noun.endswith("s") and not noun.endswith("ss"):
        return ""
    return "an " if follow[:1] in "aeiou" else "a "


def _join_attrs(attrs: Sequence[str]) -> str:
    if len(attrs) == 1:
        return attrs[0]
    return ", ".join(attrs[:-1]) + " and " + attrs[-1]


def goal_for_product(product: Product, rng: np.random.Generator) -> Goal:
    """Make a synthetic goal for ``product`` (attributes, options, price cap, text).

    Args:
        product: The goal product.
        rng: Source of the random choices.

    Returns:
        The goal.
    """
    attrs = list(product.attributes)
    k = min(len(attrs), int(rng.integers(1, 4)))
    pick = sorted(rng.choice(len(attrs), size=k, replace=False).tolist())
    g_attrs = tuple(attrs[i] for i in pick)
    options = tuple(
        (name, values[int(rng.integers(len(values)))]) for name, values in product.options if values
    )
    cap = draw_price_cap(product.price, rng)
    noun = _noun_of(product)
    opener = _OPENERS[int(rng.integers(len(_OPENERS)))]
    attrs_text = _join_attrs(g_attrs)
    follow = attrs_text if "{art}{attrs}" in opener else noun
    text = opener.format(art=_article(noun, follow), attrs=attrs_text, noun=noun)
    if options:
        text += " with " + ", and ".join(f"{n}: {v}" for n, v in options)
    text += price_text(cap)
    return Goal(
        asin=product.asin,
        instruction=text,
        attributes=g_attrs,
        options=options,
        price_upper=cap,
        name=product.name,
        query=product.query,
        category=product.category,
        product_category=product.product_category,
    )


def _noun_of(product: Product) -> str:
    """The type noun a shopper would say: the product's query (e.g. "running shoes")."""
    return product.query


class GoalSet:
    """A task list split into ``test`` (first goals) and ``train`` (the rest)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def goal(self, index: int) -> Goal:
        """Goal number ``index`` of the whole list."""
        raise NotImplementedError

    def num_tasks(self, split: str) -> int:
        """Number of goals in ``split``."""
        n_test, n_train = split_sizes(len(self))
        return n_test if split == "test" else n_train

    def get(self, split: str, task_id: int) -> Goal:
        """Goal ``task_id`` of ``split``."""
        n_test, _ = split_sizes(len(self))
        return self.goal(task_id if split == "test" else n_test + task_id)


class GeneratedGoals(GoalSet):
    """One synthetic goal per catalog product, in a seeded shuffled order, made lazily.

    Args:
        catalog: The catalog.
        seed: Seed of the order and of each goal's choices.
    """

    def __init__(self, catalog: Catalog, seed: int = 0) -> None:
        self.catalog = catalog
        self.seed = int(seed)
        self.order = np.random.default_rng([self.seed, 0x60A1]).permutation(len(catalog))
        self._cache: dict[int, Goal] = {}

    def __len__(self) -> int:
        return len(self.catalog)

    def goal(self, index: int) -> Goal:
        """Goal ``index`` (made on first use, then cached)."""
        g = self._cache.get(index)
        if g is None:
            if not 0 <= index < len(self.catalog):
                raise IndexError(f"goal index {index} out of range")
            rng = np.random.default_rng([self.seed, 0x60A1, index])
            g = goal_for_product(self.catalog[int(self.order[index])], rng)
            self._cache[index] = g
        return g


class ListGoals(GoalSet):
    """Goals given as a list (e.g. loaded from WebShop's data files).

    Args:
        goals: The goals, in task order.
    """

    def __init__(self, goals: Sequence[Goal]) -> None:
        self.goals = tuple(goals)

    def __len__(self) -> int:
        return len(self.goals)

    def goal(self, index: int) -> Goal:
        """Goal ``index``."""
        return self.goals[index]
