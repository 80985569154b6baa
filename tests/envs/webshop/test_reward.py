import dataclasses

import pytest

from agentprm_gym.envs.webshop.catalog import Product, Review
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.reward import (
    attribute_matches,
    get_reward,
    normalize_color,
    option_matches,
    type_reward,
    type_words,
)

SHAMPOO = Product(
    asin="B000000001",
    name="Lumora Organic Shampoo for Dry Hair - Sulfate Free",
    category="beauty",
    product_category="Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Shampoos",
    query="shampoo",
    attributes=("sulfate free", "paraben free", "dry hair"),
    options=(("size", ("8 fl oz", "16 fl oz")), ("scent", ("lavender", "citrus"))),
    price=12.99,
    price_tag="$12.99",
    bullet_points=("ARGAN OIL: nourishes hair",),
    description="A gentle shampoo that is cruelty free.",
    rating=4.5,
    reviews=(Review(5, "Great", "Love it"),),
)

GOAL = Goal(
    asin="B000000001",
    instruction="i need a sulfate free shampoo with argan oil",
    attributes=("sulfate free", "argan oil", "color safe"),
    options=(("size", "16 fl oz"), ("scent", "lavender")),
    price_upper=20.0,
    name=SHAMPOO.name,
    query="shampoo",
    category="beauty",
    product_category=SHAMPOO.product_category,
)


def test_attributes_fuzzy_and_substring():
    # "sulfate free": attribute; "argan oil": substring of the bullets; "color safe": nowhere
    assert attribute_matches(SHAMPOO, GOAL.attributes) == 2
    assert attribute_matches(SHAMPOO, ("cruelty free",)) == 1  # description substring
    assert attribute_matches(SHAMPOO, ("sulfate-free",)) == 1  # token-set ratio > 85
    assert attribute_matches(SHAMPOO, ("gluten free",)) == 0


def test_options_with_color_normalization():
    assert option_matches(["16 fl oz", "lavender"], ["16 fl oz", "lavender"]) == 2
    assert option_matches(["8 fl oz", "lavender"], ["16 fl oz", "lavender"]) == 1
    assert option_matches([], ["16 fl oz"]) == 0
    assert normalize_color("dark navy blue heather") == "navy blue"
    assert normalize_color("pack of 2") == "pack of 2"
    # "navy blue heather" normalizes to "navy blue" and matches the goal's "navy blue"
    assert option_matches(["navy blue heather"], ["navy blue"]) == 1


def test_full_reward_hand_worked():
    # attrs 2/3, options 2/2, price 1: (2 + 2 + 1) / (3 + 2 + 1) = 5/6, r_type 1
    r = get_reward(SHAMPOO, GOAL, 12.99, ["16 fl oz", "lavender"])
    assert r.reward == pytest.approx(5 / 6)
    assert r.r_type == 1.0 and r.query_match and r.category_match
    assert r.r_att == pytest.approx(2 / 3)
    assert r.r_option == 1.0
    assert r.r_price == 1.0
    # over the cap and one option wrong: (2 + 1 + 0) / 6
    r = get_reward(SHAMPOO, GOAL, 25.0, ["8 fl oz", "lavender"])
    assert r.reward == pytest.approx(3 / 6)
    assert r.r_price == 0.0 and r.r_option == 0.5


def test_goal_without_options_has_r_option_none():
    g = GOAL._replace(options=(), attributes=("sulfate free",))
    r = get_reward(SHAMPOO, g, 12.99, [])
    assert r.r_option is None
    assert r.reward == pytest.approx(1.0)


def _other(name, query, breadcrumb):
    return dataclasses.replace(SHAMPOO, name=name, query=query, product_category=breadcrumb)


def test_type_reward_levels():
    # same query: 1.0
    assert type_reward(SHAMPOO, GOAL)[0] == 1.0
    # no query/category match, but title overlap > 0.2 -> 1.0
    p = _other("Velora Shampoo Hair Treatment", "hair care", "Beauty › Bath")
    rt, qm, cm, ts = type_reward(p, GOAL)
    assert not qm and not cm
    # goal type words: lumora, shampoo, dry, hair, sulfate -> overlap shampoo, hair = 2/5
    assert type_words(GOAL.name) == {"lumora", "shampoo", "dry", "hair", "sulfate"}
    assert ts == pytest.approx(2 / 5) and rt == 1.0
    # small overlap (1/5 = 0.2, not > 0.2) and no match -> 0.5
    p = _other("Hair Dryer 1800W", "hair dryer", "Beauty › Tools")
    assert type_reward(p, GOAL)[0] == 0.5
    # overlap below 0.1 -> 0.1 (goal title with 11+ type words, one shared)
    g = GOAL._replace(name="Alpha Beta Gamma Delta Epsilon Zeta Theta Iota Kappa Lambda Shampoo")
    assert type_reward(SHAMPOO, g)[3] == pytest.approx(1 / 11)
    assert type_reward(SHAMPOO, g)[0] == 0.1
    # no overlap at all -> 0.0, even with the same query
    p = _other("Wireless Earbuds", "shampoo", "Electronics › Audio")
    assert type_reward(p, GOAL)[0] == 0.0
    r = get_reward(p, GOAL, 1.0, ["16 fl oz", "lavender"])
    assert r.reward == 0.0 and r.r_type == 0.0


def test_goal_title_without_type_words_scores_point_two():
    g = GOAL._replace(name="The Best Premium")
    assert type_reward(SHAMPOO, g)[3] == 0.2
