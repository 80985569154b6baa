"""benchmarks/webshop_page_ambiguity.py: what the products listed where the expert leaves are worth."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agentprm_gym.core.trajectory import Step, Trajectory, read_trajectories, write_trajectories
from agentprm_gym.prm.base import PRM
from agentprm_gym.prm.metrics import ranking_choices
from agentprm_gym.prm.segments import action_argument
from agentprm_gym.prm.steps import episode_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402
from helpers.webshop_episodes import write_noisy_test_episodes  # noqa: E402

pa = load_benchmark("webshop_page_ambiguity")


def test_the_goal_bought_with_its_options_is_worth_the_full_reward():
    env = gym.make("AgentPRM/WebShop-v0")
    env.reset(seed=0, options={"task_id": 2, "split": "test"})
    shop, goal = env.unwrapped.shop, env.unwrapped.goal
    assert pa.best_reward(shop.catalog.by_asin(goal.asin), goal) == pytest.approx(1.0)
    # a product of another task's goal is worth less for this one
    other = shop.goals.get("test", 3)
    assert pa.best_reward(shop.catalog.by_asin(other.asin), goal) < 1.0
    env.close()


def test_pages_where_the_expert_opens_a_result_list_the_goal(tmp_path, capsys):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=6)
    res = pa.page_ambiguity(str(data))
    assert res["result"]["pages"] >= 1
    # the expert opens a result only where the goal is listed, and the goal is worth 1.0
    assert res["result"]["with_full_reward"] == 1.0
    assert res["result"]["full_reward_products"] >= 1.0
    for r in res.values():
        assert 0.0 <= r["with_full_reward"] <= 1.0 and 0.0 <= r["best_reward"] <= 1.0
    assert pa.main(["--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["kinds"] == res


def test_a_file_of_another_env_is_refused(tmp_path, capsys):
    data = tmp_path / "a.jsonl"
    step = Step("o", "go[x]", expert_action="go[x]", admissible_actions=["click[b0abcdefgh]"])
    write_trajectories(data, [Trajectory("AgentPRM/ALFWorld-v0", 0, "test", "expert", "i", [step])])
    assert pa.main(["--data", str(data)]) == 2
    assert "not AgentPRM/WebShop-v0" in capsys.readouterr().err


def test_episodes_that_are_not_this_shops_tasks_are_refused(tmp_path):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=1)
    record = json.loads(data.read_text().splitlines()[0])
    for change, message in (
        ({"task_id": 10**6}, "no test task 1000000"),
        ({"split": "dev"}, "split 'dev'"),
        ({"instruction": "buy a spaceship"}, "another instruction"),
    ):
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps({**record, **change}) + "\n")
        with pytest.raises(ValueError, match=message):
            pa.page_ambiguity(str(bad))


def test_a_task_of_each_split_is_valued_against_its_own_goal(tmp_path):
    env = gym.make("AgentPRM/WebShop-v0")
    shop = env.unwrapped.shop
    goal = shop.goals.get("test", 0)
    other = shop.goals.get("train", 0)
    page = [f"click[{goal.asin}]", "click[next >]"]
    steps = [
        Step("page", "click[next >]", expert_action=f"click[{goal.asin}]", admissible_actions=page)
    ]
    data = tmp_path / "mixed.jsonl"
    write_trajectories(
        data,
        [
            Trajectory("AgentPRM/WebShop-v0", 0, "test", "noisy:0.5", goal.instruction, steps),
            Trajectory("AgentPRM/WebShop-v0", 0, "train", "noisy:0.5", other.instruction, steps),
        ],
    )
    res = pa.page_ambiguity(str(data))["result"]
    # the test goal's own product is worth 1.0 for it; for the train task it is worth less
    expected = (1.0 + (pa.best_reward(shop.catalog.by_asin(goal.asin), other) >= 1.0)) / 2
    assert res["pages"] == 2 and res["with_full_reward"] == pytest.approx(expected)
    env.close()


def test_why_the_other_product_falls_short_by_hand():
    """The first reason that holds, in order: full reward, price, type, attribute, option."""
    from agentprm_gym.envs.webshop.reward import RewardResult

    def r(reward=0.5, r_price=1.0, r_type=1.0, r_att=1.0):
        return RewardResult(reward, r_type, r_att, 1.0, r_price, 1.0, 1.0, 1.0, 0, 0)

    assert pa._reason(r(reward=1.0)) == "also worth 1.0"
    assert pa._reason(r(r_price=0.0, r_att=0.5)) == "over the price cap"
    assert pa._reason(r(r_type=0.5, r_att=0.5)) == "wrong type"
    assert pa._reason(r(r_att=0.5)) == "lacks an attribute"
    assert pa._reason(r()) == "lacks an option"


class _PagePRM(PRM):
    """Scores opening a product by the page alone: higher for a product listed higher,
    +0.1 for a title with "Garden" in it, lower the higher its price."""

    name = "page"

    def _score(self, items):
        out = []
        for it in items:
            parts = str(it.history[-1]).split(" [SEP] ")
            at = pa._entry(parts, action_argument(it.action))
            if at < 0:
                out.append(0.0)
                continue
            rank = pa._entries(parts).index(at)
            price = pa._listed_price(parts, at) or 0.0
            out.append(0.5 - rank / 40 + 0.1 * ("Garden" in parts[at + 1]) - price / 1e5)
        return np.asarray(out)


def test_result_pairs_group_the_ranked_pairs_of_two_products(tmp_path, capsys):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=12)
    res = pa.result_pairs(str(data), prm="random")
    assert res and list(res) == [k for k in pa.REASONS if k in res]
    for reason, r in res.items():
        assert r["pairs"] >= 1
        assert r["prm_wins"] == 0.5  # the random PRM ties every pair
        if reason == "also worth 1.0":
            assert r["other_reward"] == pytest.approx(1.0)
        else:
            assert 0.0 <= r["other_reward"] < 1.0
        if reason == "over the price cap":
            assert r["page_rules_wins"] == 1.0  # the expert's product is under the cap
    # a PRM that prefers the product listed higher wins what the rank alone wins, pair by
    # pair: the expert's action is scored as the expert's, in its own group
    by_rank = pa.result_pairs(str(data), prm=_PagePRM())
    episodes = episode_steps(read_trajectories(data))
    shop = pa_shop()
    goals = [pa._goal(shop, e.trajectory, str(data)) for e in episodes]
    want: dict[str, list[float]] = {}
    for c in ranking_choices(episodes, 0):
        if not (pa._RESULT.fullmatch(c.expert) and pa._RESULT.fullmatch(c.other)):
            continue
        page = str(episodes[c.episode].items[c.step].history[-1])
        product = shop.catalog.by_asin(action_argument(c.other))
        reason = pa._reason(pa.best_buy(product, goals[c.episode]))
        want.setdefault(reason, []).append(pa.page_rules_pick(page, c.expert, c.other, 1e9))
    assert {k: v["prm_wins"] for k, v in by_rank.items()} == pytest.approx(
        {k: float(np.mean(v)) for k, v in want.items()}
    )
    assert pa.main(["--data", str(data), "--pairs"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["prm"] is None
    assert {k: v["pairs"] for k, v in line["pairs"].items()} == {
        k: v["pairs"] for k, v in res.items()
    }
    assert all(v["prm_wins"] is None for v in line["pairs"].values())


def pa_shop():
    return gym.make("AgentPRM/WebShop-v0").unwrapped.shop


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prm", "random"], "--prm needs --pairs or --probe"),
        (["--probe"], "--probe needs --prm"),
        (["--pairs", "--returns"], "separate reports"),
        (["--returns", "--prm", "random"], "--prm needs --pairs or --probe"),
        (["--probe", "--prm", "random", "--max-pairs", "0"], "at least 1"),
        (["--pairs", "--max-combos", "0"], "at least 1"),
        (["--returns", "--seed", "3"], "--seed is for --pairs and --probe"),
        (["--pairs", "--max-pairs", "3"], "--max-pairs is for --probe"),
        (["--probe", "--prm", "random", "--max-combos", "9"], "--max-combos is for"),
    ],
)
def test_options_a_report_would_ignore_are_refused(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        pa.main(["--data", str(tmp_path / "any.jsonl"), *args])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("mode", [["--pairs"], ["--probe", "--prm", "random"], ["--returns"]])
def test_files_without_what_a_report_reads_give_a_clear_error(tmp_path, capsys, mode):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert pa.main(["--data", str(empty), *mode]) == 2
    assert "webshop_page_ambiguity: " in capsys.readouterr().err
    other = tmp_path / "a.jsonl"
    step = Step("o", "go[x]", expert_action="go[x]", admissible_actions=["click[b0abcdefgh]"])
    write_trajectories(other, [Trajectory("AgentPRM/ALFWorld-v0", 0, "test", "e", "i", [step])])
    assert pa.main(["--data", str(other), *mode]) == 2
    assert "not AgentPRM/WebShop-v0" in capsys.readouterr().err


def test_page_rules_prefer_a_product_under_the_cap_then_the_one_listed_higher():
    page = (
        "Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > [SEP] B0AAAAAAAA [SEP] "
        "Sunscreen, Spf 30 [SEP] $70.00 [SEP] B0BBBBBBBB [SEP] Face Cream [SEP] $19.99 [SEP] "
        "B0CCCCCCCC [SEP] Lotion [SEP] $5.00 to $12.50"
    )
    a, b, c = "click[b0aaaaaaaa]", "click[b0bbbbbbbb]", "click[b0cccccccc]"
    assert pa.page_rules_pick(page, a, b, 60.0) == 0.0  # a is over the cap
    assert pa.page_rules_pick(page, b, a, 60.0) == 1.0
    assert pa.page_rules_pick(page, a, b, 100.0) == 1.0  # both under: a is listed higher
    assert pa.page_rules_pick(page, c, b, 60.0) == 0.0  # a range: its first amount counts
    assert pa.page_rules_pick(page, c, b, 10.0) == 1.0  # b over, c's first amount under
    assert pa.page_rules_pick(page, "click[b0zzzzzzzz]", b, 60.0) == 0.0  # not listed: last


PAGE = [
    "Back to Search",
    "Page 1 (Total results: 50)",
    "Next >",
    "B0AAAAAAAA",
    "Sunscreen, Spf 30",
    "$70.00",
    "B0BBBBBBBB",
    "Face Cream",
    "$19.99",
    "B0CCCCCCCC",
    "Lotion",
    "$5.00",
]


def test_probe_edits_by_hand():
    price_high, price_low, title, top, bottom = pa._edits(PAGE, 6)  # Face Cream
    assert price_high[8] == "$9999.00" and price_low[8] == "$0.01"
    assert title[7] == pa._UNRELATED_TITLE and title[:7] == PAGE[:7]
    assert top[3:6] == ["B0BBBBBBBB", "Face Cream", "$19.99"] and top[6:9] == PAGE[3:6]
    assert bottom[9:12] == ["B0BBBBBBBB", "Face Cream", "$19.99"] and bottom[6:9] == PAGE[9:12]
    for page in (top, bottom):
        assert sorted(page) == sorted(PAGE)
    # the last product moved to the bottom stays where it is
    assert pa._edits(PAGE, 9)[4] == PAGE


def test_renamed_id_by_hand():
    assert pa.renamed_id("B0YAEH4KW4") == "B0LNRU9XJ9"
    assert pa.renamed_id("b0yaeh4kw4") == "b0lnru9xj9"
    # another id of the same shape, still read as a result click
    assert pa._RESULT.fullmatch(f"click[{pa.renamed_id('b0aaaaa000')}]")
    assert pa.renamed_id("B0AAAAA000") == "B0NNNNN555"


def test_with_renamed_id_renames_whole_words_in_any_case():
    text = "click[b0aaaaa000] B0AAAAA000 [SEP] xb0aaaaa000 b0aaaaa0001 B0BBBBB000"
    assert pa._with_renamed_id(text, "B0AAAAA000") == (
        "click[b0nnnnn555] B0NNNNN555 [SEP] xb0aaaaa000 b0aaaaa0001 B0BBBBB000"
    )


class _RecordingPRM(PRM):
    """Scores every item 0 and keeps each call's items."""

    name = "recording"

    def __init__(self):
        super().__init__()
        self.calls = []

    def _score(self, items):
        self.calls.append(list(items))
        return np.zeros(len(items))


def test_probe_renames_the_id_wherever_the_prm_reads_it(tmp_path):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=12)
    prm = _RecordingPRM()
    pa.result_probe(str(data), prm, max_pairs=4)
    assert 1 <= len(prm.calls) <= 4
    for items in prm.calls:
        assert len(items) == len(pa.PROBES) + 1
        first, renamed = items[0], items[-1]
        asin = action_argument(first.action)
        assert renamed.action == f"click[{pa.renamed_id(asin)}]"
        before = str(first.history[-1]).split(" [SEP] ")
        after = str(renamed.history[-1]).split(" [SEP] ")
        changed = [k for k, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert len(changed) == 1 and after[changed[0]] == pa.renamed_id(before[changed[0]])
        assert before[changed[0]].lower() == asin
        assert [type(h) for h in renamed.history] == [type(h) for h in first.history]
        assert all(isinstance(a, str) for h in renamed.history[:-1] for a in h)
        assert all(asin not in str(h).lower() for h in renamed.history)
        # the other edits keep the action and the earlier turns
        for it in items[1:-1]:
            assert it.action == first.action and it.history[:-1] == first.history[:-1]


def test_probe_moves_a_page_reading_prm_the_way_its_page_was_edited(tmp_path, capsys):
    data = write_noisy_test_episodes(tmp_path / "t.jsonl", episodes=12)
    res = pa.result_probe(str(data), _PagePRM(), max_pairs=4)
    assert list(res) == list(pa.PROBES)
    high, low, title, top, bottom, renamed = (res[k] for k in pa.PROBES)
    assert 1 <= high["pairs"] == low["pairs"] == title["pairs"] == renamed["pairs"] <= 4
    # the id is renamed on the page and in the action alike: the stub, which finds the
    # product by the action's id and reads its rank, title and price, scores it the same
    assert renamed["mean_abs_change"] == 0.0
    assert high["mean_change"] < 0 < low["mean_change"]  # the stub values cheap products
    assert title["mean_change"] == pytest.approx(0.1)  # "Garden" in the title
    for moved, sign in ((top, 1), (bottom, -1)):  # products already there are not counted
        assert moved["pairs"] <= high["pairs"]
        if moved["pairs"]:
            assert sign * moved["mean_change"] > 0
            assert moved["mean_abs_change"] == pytest.approx(abs(moved["mean_change"]))
    tied = pa.result_probe(str(data), "random", max_pairs=2)
    assert all(r["mean_change"] in (0.0, None) for r in tied.values())
    assert pa.main(["--data", str(data), "--probe", "--prm", "random", "--max-pairs", "2"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert all(r["pairs"] <= 2 for r in line["probe"].values())


def test_returns_by_rank_by_hand(tmp_path, capsys):
    page = " [SEP] ".join(PAGE)
    instruction = "i need face cream, and price lower than 60.00 dollars"

    def episode(action, reward):
        steps = [Step(page, action), Step("item page", "click[buy now]", reward=reward)]
        return Trajectory("AgentPRM/WebShop-v0", 0, "test", "noisy:0.5", instruction, steps)

    data = tmp_path / "r.jsonl"
    trajs = [
        episode("click[b0aaaaaaaa]", 0.2),  # rank 0, $70.00: over the cap
        episode("click[b0bbbbbbbb]", 1.0),  # rank 1, under
        episode("click[b0bbbbbbbb]", 0.5),
        episode("click[next >]", 0.0),  # not a product
    ]
    write_trajectories(data, trajs)
    rows = {r["rank"]: r for r in pa.returns_by_rank(str(data))}
    assert rows["0"]["over_cap"] == 1 and rows["0"]["over_cap_reward"] == pytest.approx(0.2)
    assert rows["0"]["under_cap"] == 0 and rows["0"]["under_cap_reward"] is None
    assert rows["1"]["under_cap"] == 2 and rows["1"]["under_cap_reward"] == pytest.approx(0.75)
    assert all(rows[k]["under_cap"] + rows[k]["over_cap"] == 0 for k in ("2", "3", "4+"))
    # a fifth product with a thousands comma: rank 4 counts as "4+", over the cap
    more = PAGE + ["B0DDDDDDDD", "Tonic", "$1.00", "B0EEEEEEEE", "Serum", "$1,299.00"]
    long_page = " [SEP] ".join(more)
    steps = [Step(long_page, "click[b0eeeeeeee]"), Step("item", "click[buy now]", reward=0.4)]
    write_trajectories(
        data, [Trajectory("AgentPRM/WebShop-v0", 0, "test", "noisy:0.5", instruction, steps)]
    )
    rows = {r["rank"]: r for r in pa.returns_by_rank(str(data))}
    assert rows["4+"]["over_cap"] == 1 and rows["4+"]["over_cap_reward"] == pytest.approx(0.4)
    assert pa.main(["--data", str(data), "--returns"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["returns"] == pa.returns_by_rank(str(data))
