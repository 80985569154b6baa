"""``load_prm``: PRM specs."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agentprm_gym.prm import OraclePRM, RandomPRM, load_prm


def test_names():
    env = gym.make("AgentPRM/WebShop-v0")
    p = load_prm("oracle", env=env)
    assert isinstance(p, OraclePRM) and p.env is env
    assert load_prm("oracle:0.5").decay == 0.5
    assert isinstance(load_prm("random"), RandomPRM)
    with pytest.raises(ValueError, match="takes no seed"):
        load_prm("random:7")


def test_bad_specs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no PRM directory"):
        load_prm(tmp_path / "missing")
    with pytest.raises(ValueError):
        load_prm("random:x")
    with pytest.raises(ValueError):
        load_prm("oracle:2")


@pytest.mark.slow
def test_saved_agentprm_directory_drives_search_wrapper_and_cli(tmp_path, capsys):
    """A (untrained, tiny) AgentPRM saved to disk loads by path and plugs into everything."""
    pytest.importorskip("torch")
    from agentprm_gym.agents import NoisyExpertPolicy
    from agentprm_gym.cli import main
    from agentprm_gym.prm import AgentPRM
    from agentprm_gym.search import beam_search
    from agentprm_gym.wrappers import PRMReward

    AgentPRM.create("tiny", seed=0).save_pretrained(tmp_path / "prm")
    prm = load_prm(str(tmp_path / "prm"))
    assert isinstance(prm, AgentPRM) and not prm.requires_state
    env = gym.make("AgentPRM/WebShop-v0")
    res = beam_search(env, NoisyExpertPolicy(0.5), prm, 2, 2, seed=0, split="test")
    assert res.ledger.prm_items > 0 and 0.0 <= res.score <= 1.0
    wrapped = PRMReward(env, prm, mode="progress")
    _, info = wrapped.reset(seed=0)
    *_, info = wrapped.step(info["admissible_actions"][0])
    assert 0.0 <= info["prm"]["promise"] <= 1.0
    code = main(
        [
            "search",
            "--env",
            "AgentPRM/WebShop-v0",
            "--policy",
            "noisy:0.5",
            "--prm",
            str(tmp_path / "prm"),
            "--method",
            "bon",
            "--n",
            "2",
            "--episodes",
            "2",
            "--json",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"prm_items": 4' in out


def test_episode_prm_loads_once_per_process_and_starts_each_episode_with_an_empty_cache(
    tmp_path,
):
    pytest.importorskip("torch")
    from agentprm_gym.prm import AgentPRM
    from agentprm_gym.prm.loading import episode_prm

    AgentPRM.create("tiny", seed=0).save_pretrained(tmp_path / "prm")
    spec = str(tmp_path / "prm")
    prm = episode_prm(spec, "test-episode-prm")
    items = [("buy a mug", ("home",), "search[mug]"), ("buy a mug", ("home",), "click[cup]")]
    first = prm.score(items)
    assert len(prm._cache) == 2
    # the next episode in this worker: the same model, but no score from another batch
    again = episode_prm(spec, "test-episode-prm")
    assert again is prm and len(prm._cache) == 0
    assert list(again.score(items)) == list(first)
    assert isinstance(episode_prm("random", "test-episode-prm"), RandomPRM)  # no cache to empty
