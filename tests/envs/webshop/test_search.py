import gymnasium as gym

import agentprm_gym  # noqa: F401
from agentprm_gym.envs.webshop.goals import instruction_query
from agentprm_gym.envs.webshop.search_engine import MAX_RESULTS, get_search_index, tokenize
from agentprm_gym.envs.webshop.shop_data import get_shop_data


def test_tokenize():
    assert tokenize("The Red MUG, for coffee & tea!") == ["red", "mug", "coffee", "tea"]


def test_goal_product_ranks_high():
    shop = get_shop_data(10_000, 0)
    top1 = 0
    in_results = 0
    n = 200
    for i in range(n):
        g = shop.goals.get("test", i)
        if shop.index.rank_of(g.name, g.asin) == 0:
            top1 += 1
        if shop.index.rank_of(instruction_query(g.instruction), g.asin) is not None:
            in_results += 1
    assert top1 >= 0.95 * n  # the title finds the product first
    assert in_results >= 0.4 * n  # the instruction's words often find it in the top 50


def test_results_sorted_bounded_and_relevant():
    shop = get_shop_data(10_000, 0)
    res = shop.index.search("wireless earbuds noise cancelling")
    assert 0 < len(res) <= MAX_RESULTS
    assert len(set(res)) == len(res)
    first = shop.catalog[res[0]]
    assert first.query == "wireless earbuds"
    assert shop.index.search("zzzz qqqq") == ()
    assert shop.index.search("") == ()
    # cached: the same tuple object comes back, whitespace and case normalized
    assert shop.index.search("Wireless  earbuds noise cancelling") is res


def test_index_shared_between_envs():
    a = gym.make("AgentPRM/WebShop-v0").unwrapped
    b = gym.make("AgentPRM/WebShop-v0", observation_mode="html").unwrapped
    assert a.shop is b.shop
    assert a.shop.index is b.shop.index is get_search_index(a.shop.catalog)
