import re

import pytest

from agentprm_gym.envs.webshop.catalog import Product, generate_catalog
from agentprm_gym.envs.webshop.wordbanks import CATEGORIES


def test_same_seed_same_catalog():
    a = generate_catalog(500, seed=3)
    b = generate_catalog(500, seed=3)
    assert a.products == b.products
    assert a.key == b.key == "generated:500:3"


def test_other_seed_other_catalog():
    a = generate_catalog(200, seed=0)
    b = generate_catalog(200, seed=1)
    assert [p.asin for p in a.products] != [p.asin for p in b.products]
    assert a.key != b.key


def test_prefix_independent_of_size_is_not_assumed_but_sizes_work():
    for n in (1, 7, 1000):
        assert len(generate_catalog(n)) == n


def test_schema():
    cat = generate_catalog(2000, seed=0)
    asins = set()
    titles = set()
    seen_cats = set()
    for p in cat.products:
        assert isinstance(p, Product)
        assert re.fullmatch(r"B0[0-9A-Z]{8}", p.asin)
        asins.add(p.asin)
        titles.add(p.name)
        assert p.category in CATEGORIES
        seen_cats.add(p.category)
        assert " › " in p.product_category and len(p.product_category.split(" › ")) >= 3
        assert p.query and p.query == p.query.lower()
        assert 3 <= len(p.attributes) <= 5 and len(set(p.attributes)) == len(p.attributes)
        assert p.price > 0 and p.price_tag == f"${p.price:.2f}"
        assert 4 <= len(p.bullet_points) <= 5
        assert len(p.description) > 40
        assert p.rating is None or 3.0 <= p.rating <= 5.0
        values = [v for _, vs in p.options for v in vs]
        assert len(values) == len(set(values)), p.options  # unique across option names
        for name, vs in p.options:
            assert name == name.lower() and vs and all(v == v.lower() for v in vs)
            for v in vs:
                assert p.option_of(v) == name
                assert p.option_of(v.upper()) == name
        for r in p.reviews:
            assert 1 <= r.score <= 5 and r.title and r.body
    assert len(asins) == len(cat) and len(titles) == len(cat)
    assert seen_cats == set(CATEGORIES)
    # text varies: many distinct descriptions and title shapes
    assert len({p.description for p in cat.products}) > 1500
    assert sum(bool(p.options) for p in cat.products) > 0.8 * len(cat)


def test_lookup_by_asin_case_insensitive():
    cat = generate_catalog(100)
    p = cat[17]
    assert cat.by_asin(p.asin) is p
    assert cat.by_asin(p.asin.lower()) is p
    assert cat.by_asin("B0NOTHERE0") is None


def test_invalid_size():
    with pytest.raises(ValueError):
        generate_catalog(0)


@pytest.mark.slow
def test_hundred_thousand_products():
    cat = generate_catalog(100_000, seed=0)
    assert len(cat) == 100_000
    assert len(cat.index_of) == 100_000
