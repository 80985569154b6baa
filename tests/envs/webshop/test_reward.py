"""WebShop's purchase reward against WebShop's own tests and values.

``test_webshop_*`` carry over every assertion of WebShop's
``tests/web-agent-site/engine/test_goal.py`` (36) with its expected value, on
our types. Three of them (the title scores of the "similar" and "slightly
similar" names) fail in WebShop itself with a current spaCy model
(en_core_web_sm 3.8: 0.4, 0.3125 and 0.1667 where its test expects 0.333, 0.3
and 0.15); here they assert the value WebShop's code gives with that model,
from its recorded noun lists, and check that the rule tagger lands in the same
r_type bucket. The other expected values come from running WebShop's goal.py
(commit 64fa2a5) with spaCy 3.8 + en_core_web_sm 3.8.0, thefuzz 0.22.1.
"""

from __future__ import annotations

import dataclasses
import os
from math import isclose

import pytest

from agentprm_gym.envs.webshop.catalog import Product
from agentprm_gym.envs.webshop.goals import Goal
from agentprm_gym.envs.webshop.normalize import (
    COLOR_NAMES,
    fuzzy_match,
    fuzzy_score,
    normalize_color,
)
from agentprm_gym.envs.webshop.reward import (
    attribute_matches,
    get_reward,
    goal_option_items,
    option_matches,
    title_score,
    type_reward,
)
from agentprm_gym.envs.webshop.type_words import SpacyTypeWords, rule_type_words


def _product(**kw) -> Product:
    base = {
        "asin": "B000000001",
        "name": "",
        "category": "beauty",
        "product_category": "",
        "query": "",
        "attributes": (),
        "options": (),
        "price": 10.0,
        "price_tag": "$10.00",
        "bullet_points": (),
        "description": "",
        "rating": None,
        "reviews": (),
    }
    base.update(kw)
    return Product(**base)


def _goal(**kw) -> Goal:
    base = {
        "asin": "B000000001",
        "instruction": "",
        "attributes": (),
        "options": (),
        "price_upper": 1_000_000.0,
        "name": "",
        "query": "",
        "category": "beauty",
        "product_category": "",
    }
    base.update(kw)
    return Goal(**base)


SNEAKERS_GOAL = "Mens D.O.N. Issue 2 Gca Basketball Sneakers Shoes Casual - Off White"
SNEAKERS_BOUGHT = (
    "PEAK High Top Mens Basketball Shoes Lou Williams Streetball Master Breathable Non Slip "
    "Outdoor Sneakers"
)
CORD_GOAL_LONG = (
    "Saireed UL Listed 2 Prong Power Cord for JBL Bar 3.1 Bar 2.1 Channel 4K Ultra HD Soundbar "
    "Home Theater System Subwoofer"
)
CORD_GOAL = (
    "Saireed UL Listed 2 Prong Power Cord for JBL Bar 3.1 Bar 2.1 Channel 4K Ultra HD Soundbar"
)
CORD_BOUGHT = (
    "BRST AC Power Cord Outlet Socket Cable Plug Lead for Panasonic SC-HT830V DVD/VCR Combo "
    "Home Theater System"
)
KNOB_GOAL = "Rusticware 921ORB Kitchen and Bath Cabinet Knob"
TWEEZERS_BOUGHT = (
    "Minkissy 2pcs Stainless Steel Eyebrow Tweezers Blackhead Acne Remover Portable Makeup "
    "Tweezers (Silver)"
)

#: NOUN/PROPN tokens of en_core_web_sm 3.8.0 (spaCy 3.8.18), as WebShop's get_type_reward keeps them.
SPACY_NOUNS = {
    SNEAKERS_GOAL: "mens d.o.n. issue gca basketball sneakers shoes casual off white",
    SNEAKERS_BOUGHT: "peak high top mens basketball shoes lou williams streetball master "
    "breathable non slip outdoor sneakers",
    CORD_GOAL_LONG: "saireed ul prong power cord jbl bar channel k ultra hd soundbar home "
    "theater system subwoofer",
    CORD_GOAL: "saireed ul prong power cord jbl bar channel k ultra hd soundbar",
    CORD_BOUGHT: "brst ac power cord outlet socket cable plug lead panasonic sc ht830v dvd vcr "
    "combo home theater system",
}


def _r_type(ts: float, query_match: bool = False, category_match: bool = False) -> float:
    """WebShop's r_type levels from a title score (for the bucket checks)."""
    if ts == 0.0:
        return 0.0
    if ts < 0.1:
        return 0.1
    return 1.0 if (query_match or category_match or ts > 0.2) else 0.5


# ------------------------------------------------------- WebShop's test_get_type_reward
def test_webshop_type_reward_exact_query_and_category_cases() -> None:
    goal = _goal(query="Query 1", product_category="a › b › c", name="Name 1")
    bought = _product(query="Query 1", product_category="a › b › c", name="Name 1")
    r_type, qm, cm, ts = type_reward(bought, goal)
    assert r_type == 1.0
    assert qm is True
    assert cm is True
    assert ts == 1
    # query mismatch
    bought = dataclasses.replace(bought, query="Query 2")
    assert type_reward(bought, goal)[1] is False
    # out of order / non-matching / partially matching / duplicate categories
    for breadcrumb, expected in [
        ("b › c › a", True),
        ("d › e › f", False),
        ("a › d › b", True),
        ("a › a › b", True),
        ("a › a › d", False),
    ]:
        bought = dataclasses.replace(bought, product_category=breadcrumb)
        assert type_reward(bought, goal)[2] is expected, breadcrumb


@pytest.mark.parametrize(
    ("goal_name", "bought_name", "original", "webshop_test_expected"),
    [
        (SNEAKERS_GOAL, SNEAKERS_BOUGHT, 0.4, 0.333),
        (CORD_GOAL_LONG, CORD_BOUGHT, 0.3125, 0.3),
        (CORD_GOAL, CORD_BOUGHT, 1 / 6, 0.15),
    ],
)
def test_webshop_title_scores_with_a_current_tagger(
    goal_name: str, bought_name: str, original: float, webshop_test_expected: float
) -> None:
    # WebShop's test expects `webshop_test_expected` (abs_tol 0.01), written with an older
    # spaCy model; with en_core_web_sm 3.8 WebShop's own code gives `original`, which is what
    # this asserts (its own test fails there). The noun lists are that model's tags.
    goal_words = SPACY_NOUNS[goal_name].split()
    bought_words = SPACY_NOUNS[bought_name].split()
    assert isclose(title_score(bought_words, goal_words), original, abs_tol=1e-2)
    assert not isclose(original, webshop_test_expected, abs_tol=1e-2)
    # the rule tagger (no spaCy) gives a nearby score in the same r_type bucket
    rules = title_score(rule_type_words(bought_name), rule_type_words(goal_name))
    assert _r_type(rules) == _r_type(original)
    assert abs(rules - original) < 0.05


def test_rule_tagger_title_scores_hand_worked() -> None:
    # goal words: mens d.o.n. issue gca basketball sneakers shoes casual white ("off" is a
    # preposition to the rules, a noun to spaCy here); shared: mens basketball shoes sneakers
    assert rule_type_words(SNEAKERS_GOAL) == (
        ["mens", "d.o.n.", "issue", "gca", "basketball", "sneakers", "shoes", "casual", "white"]
    )
    assert title_score(rule_type_words(SNEAKERS_BOUGHT), rule_type_words(SNEAKERS_GOAL)) == 4 / 9
    # the rules keep "listed" and both "bar"s (spaCy: VERB); 5 and 2 shared words
    assert len(rule_type_words(CORD_GOAL_LONG)) == 18
    assert title_score(rule_type_words(CORD_BOUGHT), rule_type_words(CORD_GOAL_LONG)) == 5 / 18
    assert title_score(rule_type_words(CORD_BOUGHT), rule_type_words(CORD_GOAL)) == 2 / 14


def test_webshop_completely_different_names_score_below_005() -> None:
    goal = _goal(query="Query 1", product_category="a › b › c", name=KNOB_GOAL)
    bought = _product(query="Query 2", product_category="a › a › d", name=TWEEZERS_BOUGHT)
    assert type_reward(bought, goal)[3] < 0.05


# -------------------------------------------------- WebShop's test_get_attribute_reward
GOAL_ATTRS = ("tea tree", "essential oils", "natural ingredients")


def test_webshop_attribute_reward_cases() -> None:
    # exact match (fuzzy: "essential oil" ~ "essential oils")
    p = _product(attributes=("tea tree", "essential oil", "natural ingredients"))
    n = attribute_matches(p, GOAL_ATTRS)
    assert n / len(GOAL_ATTRS) == 1
    assert n == 3
    # partial match
    p = _product(attributes=("essential oil", "natural ingredients"))
    n = attribute_matches(p, GOAL_ATTRS)
    assert n / len(GOAL_ATTRS) == 2.0 / 3.0
    assert n == 2
    # goal attributes found in the bullet points and the description
    p = _product(
        bullet_points=("This shampoo has essential oils and smells like lemons",),
        description="Best shampoo on the market, made with natural ingredients",
    )
    n = attribute_matches(p, GOAL_ATTRS)
    assert n / len(GOAL_ATTRS) == 2.0 / 3.0
    assert n == 2
    # no match
    p = _product(
        attributes=("tea bag", "earl gray", "lipton"),
        name="English tea for breakfast",
        bullet_points=("Soothing aroma", "Calming, great feeling"),
        description="Best tea made by Lipton, great to pair with breakfast",
    )
    n = attribute_matches(p, GOAL_ATTRS)
    assert n / len(GOAL_ATTRS) == 0
    assert n == 0


# ----------------------------------------------------- WebShop's test_get_option_reward
@pytest.mark.parametrize(
    ("chosen", "goal", "matches"),
    [
        (["pack of 12", "grey", "XL"], ["grey", "XL", "pack of 12"], 3),  # exact
        (["pack of 12", "blue", "XL"], ["grey", "XL", "pack of 12"], 2),  # partial
        (["pack of 12", "powder snow", "XL"], ["cool powder snow", "XL", "pack of 12"], 3),
        (["goal 1", "goal 2"], [], 0),  # no goal options: r_option None
        ([], ["goal 1", "goal 2"], 0),  # nothing chosen
    ],
)
def test_webshop_option_reward_cases(chosen: list[str], goal: list[str], matches: int) -> None:
    n = option_matches(chosen, goal)
    assert n == matches
    r = _product(query="q", name="Name")
    g = _goal(query="q", name="Name", options=tuple(("", v) for v in goal))
    res = get_reward(r, g, 1.0, chosen)
    assert res.r_option == (matches / len(goal) if goal else None)


# ------------------------------------------------------------ WebShop's test_get_reward
def test_webshop_total_reward_cases() -> None:
    goal = _goal(
        query="Query 1",
        product_category="a › b › c",
        name=SNEAKERS_GOAL,
        attributes=GOAL_ATTRS,
        options=(("color", "grey"), ("size", "XL")),
        price_upper=40.0,
    )
    bought = _product(
        query="Query 1",
        product_category="a › b › c",
        name=SNEAKERS_GOAL,
        attributes=("tea tree", "essential oil", "natural ingredients"),
    )
    chosen = ["grey", "XL"]
    assert get_reward(bought, goal, 35, chosen).reward == 1
    # r_attributes varies. WebShop's test sets BulletPoints to a *string*, which its
    # ' '.join spreads into letters ("T h i s ..."): only the description matches.
    bought = dataclasses.replace(
        bought,
        attributes=(),
        bullet_points=tuple("This shampoo has essential oils and smells like lemons"),
        description="Best shampoo on the market, made with natural ingredients",
    )
    assert isclose(get_reward(bought, goal, 35, chosen).reward, 2.0 / 3.0, abs_tol=1e-2)
    # r_option varies
    goal = goal._replace(options=(("color", "grey"), ("size", "XL"), ("amount", "pack of 12")))
    assert isclose(get_reward(bought, goal, 35, chosen).reward, 0.5714, abs_tol=1e-2)
    # r_type varies: no query or category match, title score in [0.1, 0.2] -> r_type 0.5
    goal = goal._replace(name=CORD_GOAL)
    bought = dataclasses.replace(
        bought, name=CORD_BOUGHT, query="Query 2", product_category="a › d › e"
    )
    r = get_reward(bought, goal, 35, chosen)
    assert isclose(r.reward, 0.2857, abs_tol=1e-2)
    assert r.r_type == 0.5 and 0.1 <= r.title_score <= 0.2


# ----------------------------------------------------- WebShop's test_normalize_color
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("black forest", "black"),
        ("violet lavender", "lavender"),
        ("steelivy fuchsia", "fuchsia"),
        ("123alabaster", "alabaster"),
        ("webshop", "webshop"),
    ],
)
def test_webshop_normalize_color(text: str, expected: str) -> None:
    out = normalize_color(text)
    assert type(out) is str
    assert out == expected


def test_color_list_is_webshops_in_its_order() -> None:
    assert len(COLOR_NAMES) == 102
    assert COLOR_NAMES[:3] == ("alabaster", "apricot", "aqua")
    assert COLOR_NAMES[-3:] == ("white", "wine", "yellow")
    assert list(COLOR_NAMES) == sorted(COLOR_NAMES)


# ---------------------------------------------------------- the cases of issue #22
def test_color_substrings_match_as_in_webshop() -> None:
    # WebShop: 1.0 for each (first listed color found as a substring)
    assert normalize_color("light blue") == normalize_color("navy blue") == "blue"
    assert normalize_color("standard") == "tan"
    assert normalize_color("peppermint") == "mint"
    assert (
        option_matches(["navy blue", "standard", "mint"], ["light blue", "tan", "peppermint"]) == 3
    )
    assert option_matches(["navy blue"], [("color", "light blue")]) == 1


def test_named_goal_options_compare_the_pair_as_webshop_does() -> None:
    # WebShop passes dict goal options as (name, value) pairs: "x-large" matches "large" as a
    # bare value (token subset: 100) but not the pair ("size", "large") (score 83)
    assert option_matches(["x-large"], ["large"]) == 1
    assert option_matches(["x-large"], [("size", "large")]) == 0
    assert fuzzy_score("x-large", ("size", "large")) == 83
    # a pair whose value is exactly a color normalizes to it
    assert normalize_color(("color", "grey")) == "grey"
    assert normalize_color(("color", "light grey")) == ("color", "light grey")
    assert goal_option_items((("color", "red"), ("size", "xl"))) == [
        ("color", "red"),
        ("size", "xl"),
    ]
    assert goal_option_items((("", "red"), ("", "xl"))) == ["red", "xl"]


def test_fuzzy_score_rounds_like_thefuzz() -> None:
    # raw ratio 85.11 (2 * 20 / 47) rounds to 85: not above the threshold, no match
    assert fuzzy_score("abcdefghijklmnopqrst", "abcdefghijklmnopqrstuvwxyz0") == 85
    assert not fuzzy_match("abcdefghijklmnopqrst", "abcdefghijklmnopqrstuvwxyz0")
    assert fuzzy_score("pack of 3", "pack of 6") == 89  # ratio("of pack 3", "of pack 6")
    assert fuzzy_score("é tea", "tea") == 100  # Latin-1 letters are dropped first
    assert fuzzy_score(None, "tea") == 0


def test_two_letter_words_are_type_words() -> None:
    # WebShop (spaCy): "TV Stand" vs "TV Mount" scores 0.5
    assert title_score(rule_type_words("TV Mount"), rule_type_words("TV Stand")) == 0.5


def test_title_score_divides_by_the_goal_words_with_repeats() -> None:
    assert title_score(["bar"], ["bar", "bar", "cord"]) == 1 / 3
    assert title_score(["x"], []) == 0.2


def test_r_type_levels() -> None:
    goal = _goal(query="q", product_category="a › b", name="Alpha Beta Gamma Delta Epsilon")
    # no query/category match: title score 0.4 -> 1.0; 0.2 -> 0.5
    p = _product(query="other", product_category="c › d", name="Alpha Beta Omega")
    assert type_reward(p, goal)[:1] == (1.0,)
    p = dataclasses.replace(p, name="Alpha Omega")
    assert type_reward(p, goal)[0] == 0.5
    # below 0.1 -> 0.1 even with the same query; no shared word -> 0.0
    long_goal = goal._replace(name=" ".join(f"Word{c}" for c in "ABCDEFGHIJK"))
    p = _product(query="q", product_category="a › b", name="WordA Other")
    assert type_reward(p, long_goal)[0] == 0.1
    p = dataclasses.replace(p, name="Nothing Shared")
    assert type_reward(p, long_goal)[0] == 0.0
    # the query must be the same string (WebShop compares with ==)
    p = _product(query="Q", product_category="c › d", name="Alpha Omega")
    assert type_reward(p, goal)[1] is False


def test_spacy_tagger_live_matches_recorded_nouns() -> None:
    """With spaCy and a model installed (``AGENTPRM_SPACY_MODEL``, default en_core_web_sm)."""
    pytest.importorskip("spacy")
    model = os.environ.get("AGENTPRM_SPACY_MODEL", "en_core_web_sm")
    try:
        words = SpacyTypeWords(model)
    except ImportError as exc:
        pytest.skip(str(exc))
    for title, nouns in SPACY_NOUNS.items():
        assert words(title) == nouns.split(), title
    assert title_score(words(SNEAKERS_BOUGHT), words(SNEAKERS_GOAL)) == 0.4
