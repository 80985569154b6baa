import numpy as np

from agentprm_gym.envs.webshop.catalog import generate_catalog
from agentprm_gym.envs.webshop.goals import (
    NO_PRICE_CAP,
    GeneratedGoals,
    draw_price_cap,
    instruction_query,
    split_sizes,
)


def test_split_sizes():
    assert split_sizes(10_000) == (500, 9_500)
    assert split_sizes(1_000) == (500, 500)
    assert split_sizes(999) == (499, 500)
    assert split_sizes(6) == (3, 3)


def test_goals_follow_products():
    cat = generate_catalog(1500, seed=0)
    goals = GeneratedGoals(cat, seed=0)
    assert goals.num_tasks("test") == 500 and goals.num_tasks("train") == 1000
    asins = set()
    for split in ("test", "train"):
        for i in range(0, goals.num_tasks(split), 7):
            g = goals.get(split, i)
            p = cat.by_asin(g.asin)
            asins.add(g.asin)
            assert 1 <= len(g.attributes) <= 3
            assert set(g.attributes) <= set(p.attributes)
            opts = dict(p.options)
            assert [n for n, _ in g.options] == list(opts)
            for n, v in g.options:
                assert v in opts[n]
                assert f"{n}: {v}" in g.instruction
            assert g.price_upper > p.price
            assert g.instruction.endswith(f"and price lower than {g.price_upper:.2f} dollars")
            for a in g.attributes:
                assert a in g.instruction
            assert g.query in g.instruction
            assert g.name == p.name and g.category == p.category
    # test goals and train goals are different products (one goal per product)
    test_asins = {goals.get("test", i).asin for i in range(500)}
    train_asins = {goals.get("train", i).asin for i in range(1000)}
    assert not test_asins & train_asins


def test_goals_deterministic_and_lazy():
    cat = generate_catalog(800, seed=2)
    a = GeneratedGoals(cat, seed=2)
    b = GeneratedGoals(cat, seed=2)
    assert a.get("train", 123) == b.get("train", 123)
    assert a.get("test", 5) == b.get("test", 5)
    assert a.get("test", 5) is a.get("test", 5)  # cached


def test_price_cap_rule():
    rng = np.random.default_rng(0)
    caps = {draw_price_cap(23.5, rng) for _ in range(200)}
    # two of the four multiples of 10 above 23.5 (30, 40, 50, 60); the larger one
    assert caps == {40.0, 50.0, 60.0}
    assert draw_price_cap(985.0, rng) == NO_PRICE_CAP


def test_instruction_query():
    text = (
        "i am looking for a women's dress that is elastic waist with color: red, "
        "and size: large, and price lower than 50.00 dollars"
    )
    assert instruction_query(text) == "women's dress elastic waist"
    assert instruction_query("i need a long clip-in hair extension which is natural looking") == (
        "long clip-in hair extension natural looking"
    )
