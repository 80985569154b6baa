"""Our WebShop reward against rewards recorded from WebShop's own code (benchmarks/data)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from helpers.benchmark_scripts import load_benchmark  # noqa: E402

parity = load_benchmark("webshop_reward_parity")


def test_rule_tagger_agrees_with_webshop_on_99_percent_of_recorded_purchases() -> None:
    reference = json.loads(parity.DEFAULT_REFERENCE.read_text(encoding="utf-8"))
    assert len(reference["cases"]) == 2000
    out = parity.compare(reference, "rules", show=0)
    assert out["agree_within_0.01"] >= 0.99
    # buying the goal product itself (title score 1) agrees in every case
    assert out["by_kind"]["goal product"] == 1.0


def test_named_and_unnamed_goal_options_are_both_in_the_sample() -> None:
    reference = json.loads(parity.DEFAULT_REFERENCE.read_text(encoding="utf-8"))
    named = [c["named_options"] for c in reference["cases"]]
    assert 0.6 < sum(named) / len(named) < 0.9


def test_export_writes_webshop_dicts(tmp_path) -> None:
    path = tmp_path / "cases.json"
    parity.export(path, 5, 3)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data["cases"]) == 5
    c = data["cases"][0]
    assert set(c["purchased"]) >= {"query", "product_category", "name", "Title", "Attributes"}
    assert set(c["goal_dict"]) >= {"attributes", "goal_options", "price_upper", "name", "query"}
    assert isinstance(c["goal_dict"]["goal_options"], dict if c["named_options"] else list)
