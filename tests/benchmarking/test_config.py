"""Sweep config validation: good configs parse, bad ones name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentprm_gym.benchmarking.config import (
    GREEDY_METHOD,
    SweepConfigError,
    load_config,
    parse_config,
    parse_method,
)

CONFIGS = Path(__file__).resolve().parents[2] / "benchmarks" / "configs"


def _base(**kw):
    d = {
        "envs": [{"id": "AgentPRM/WebShop-v0", "policy": "noisy:0.5"}],
        "prms": ["agentprm", "pvm", "oracle", "random"],
        "methods": ["policy", "bon@4", "beam@2x2"],
    }
    d.update(kw)
    return d


def test_parse_methods():
    p = parse_method("policy")
    assert (p.name, p.family, p.budget, p.uses_prm) == ("policy (1 sample)", "policy", "1", False)
    assert parse_method("policy (1 sample)") == p
    g = parse_method("greedy")
    assert (g.name, g.family, g.budget, g.uses_prm) == (GREEDY_METHOD, "greedy", "1", False)
    m = parse_method("bon@16")
    assert (m.family, m.n, m.budget) == ("bon", 16, "16")
    b = parse_method("beam@4×8")
    assert (b.family, b.n, b.expand, b.budget, b.name) == ("beam", 4, 8, "4x8", "beam@4x8")
    assert b.prior == 0.0 and b.uses_prm
    bp = parse_method("beam+prior@4x4")
    assert (bp.family, bp.name, bp.budget, bp.prior) == ("beam+prior", "beam+prior@4x4", "4x4", 1.0)
    bq = parse_method("beam+prior=0.5@2x8")
    assert (bq.family, bq.name, bq.n, bq.expand, bq.prior) == (
        "beam+prior",
        "beam+prior=0.5@2x8",
        2,
        8,
        0.5,
    )
    assert parse_method(bq.name) == bq
    bad_ones = (
        "bon",
        "bon@0",
        "beam@2",
        "beam@0x2",
        "dfs@3",
        "beam+prior=0@2x2",
        "beam+prior=x@2x2",
    )
    for bad in bad_ones:
        with pytest.raises(SweepConfigError):
            parse_method(bad)


def test_greedy_needs_an_lm_policy():
    with pytest.raises(SweepConfigError, match=r"^methods: greedy .*noisy:0.5.*`policy`"):
        parse_config(_base(methods=["greedy", "bon@2"]))
    env = {"id": "X", "policy": "random", "methods": ["greedy"]}
    with pytest.raises(SweepConfigError, match=r"^envs\[0\]\.methods: greedy"):
        parse_config(_base(envs=[env]))
    lm = {"id": "X", "policy": "hf:smollm2"}
    c = parse_config(_base(envs=[lm], methods=["policy", "greedy"]))
    assert [m.name for m in c.methods] == ["policy (1 sample)", "greedy (temperature 0)"]


def test_defaults_and_learned_prms():
    c = parse_config(_base(collection={"train_tasks": 7}), name="x")
    assert c.name == "x" and c.seeds == (0,)
    assert c.envs[0].train_tasks == 7 and c.envs[0].short == "WebShop"
    assert [p.labels for p in c.prms] == ["gae", "pvm", None, None]
    assert [p.name for p in c.learned_prms] == ["agentprm", "pvm"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"envs": []}, "envs"),
        ({"envs": [{"id": "X"}]}, "envs[0].policy"),
        ({"envs": [{"id": "X", "policy": "random", "colour": 1}]}, "envs[0]"),
        ({"envs": [{"id": "X", "policy": "random", "test_tasks": 0}]}, "envs[0].test_tasks"),
        ({"prms": ["agentprm", "magic"]}, "prms[1]"),
        ({"prms": [{"name": "x", "labels": "bogus"}]}, "prms[0].labels"),
        ({"prms": [{"name": "oracle", "labels": "gae"}]}, "prms[0]"),
        ({"prms": ["pvm", "pvm"]}, "prms"),
        ({"methods": ["bon@x"]}, "methods[0]"),
        ({"seeds": "0"}, "seeds"),
        ({"collection": {"per_task": -1}}, "collection.per_task"),
        ({"collection": {"tasks": 3}}, "collection"),
        ({"surprise": True}, "config"),
        ({"train": {"args": 3}}, "train.args"),
        ({"repeats": 5}, "repeats"),
        ({"repeats": {"orm": 3}}, "repeats"),
        ({"repeats": {"policy": 2}, "methods": ["bon@4", "beam@2x2"]}, "repeats"),
        ({"repeats": {"random": 2}, "methods": ["policy", "bon@4"]}, "repeats"),
        ({"prms": [{"name": "policy", "labels": "gae"}]}, "prms[0]"),
        ({"repeats": {"random": 0}}, "repeats.random"),
        ({"lockstep": 0}, "lockstep"),
        ({"lockstep": "16"}, "lockstep"),
    ],
)
def test_bad_fields_are_named(patch, field):
    with pytest.raises(SweepConfigError) as e:
        parse_config(_base(**patch))
    assert str(e.value).startswith(field)


def test_per_env_methods():
    env = {"id": "X", "policy": "random", "methods": ["policy", "bon@2"]}
    c = parse_config(_base(envs=[env]))
    assert [m.name for m in c.envs[0].methods] == ["policy (1 sample)", "bon@2"]
    with pytest.raises(SweepConfigError, match=r"envs\[0\]\.methods\[0\]"):
        parse_config(_base(envs=[{**env, "methods": ["nope"]}]))


def test_repeats_apply_to_the_policy_row_and_a_prms_beams():
    c = parse_config(_base(repeats={"policy": 5, "random": 3}))
    by_name = {m.name: m for m in c.methods}
    assert c.repeats_for("-", by_name["policy (1 sample)"]) == 5
    assert c.repeats_for("random", by_name["beam@2x2"]) == 3
    prior = parse_config(_base(methods=["beam+prior@2x2"], repeats={"random": 4}))
    assert prior.repeats_for("random", prior.methods[0]) == 4
    assert c.repeats_for("random", by_name["bon@4"]) == 1  # BoN samples are shared
    assert c.repeats_for("agentprm", by_name["beam@2x2"]) == 1
    assert parse_config(_base()).repeats == {}


def test_custom_learned_prm():
    c = parse_config(_base(prms=[{"name": "td", "labels": "td0", "train_args": ["--epochs", 2]}]))
    assert c.prms[0].train_args == ("--epochs", "2")


def test_bad_yaml_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("envs: [\n  - id: x\n")
    with pytest.raises(SweepConfigError, match="not valid YAML"):
        load_config(p)
    p.write_text("- just a list\n")
    with pytest.raises(SweepConfigError, match="mapping"):
        load_config(p)


@pytest.mark.parametrize("name", ["quick", "standard", "llm"])
def test_shipped_configs_are_valid(name):
    c = load_config(CONFIGS / f"{name}.yaml")
    assert c.name == name
    assert c.envs and c.methods


def test_lockstep_defaults_to_16_and_parses():
    assert parse_config(_base()).lockstep == 16
    assert parse_config(_base(lockstep=1)).lockstep == 1
