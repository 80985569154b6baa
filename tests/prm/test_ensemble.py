"""The ensemble PRM: the members' mean, one state encoding per member, saved exactly."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agentprm_gym.prm.base import PRM
from agentprm_gym.prm.ensemble import EnsemblePRM, write_ensemble_config
from agentprm_gym.prm.loading import load_prm
from agentprm_gym.prm.model import AgentPRM, CheckpointError
from agentprm_gym.prm.stacked_net import StackedStateNet
from agentprm_gym.prm.state_model import StatePRM
from agentprm_gym.prm.state_net import StateNet
from agentprm_gym.prm.steps import episode_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402


@pytest.fixture(scope="module")
def eps():
    return episode_steps(corridor_trajectories(range(4), 2, eps=0.5, seed=3))


def _member(eps, seed):
    corpus = [f"{i.history[-1]} {i.action} {i.instruction}" for e in eps for i in e.items]
    return StatePRM.create("tiny", tiny_corpus=corpus, seed=seed, step_limit=10, d=32)


@pytest.fixture(scope="module")
def members(eps):
    """Two members with one frozen encoder and differently initialised networks."""
    a = _member(eps, 0)
    b = copy.deepcopy(a)
    torch.manual_seed(1)
    for p in b.net.parameters():
        torch.nn.init.normal_(p, std=0.1)
    b.clear_cache()
    return a, b


class _Constant(PRM):
    """A PRM that is not a state PRM."""

    def _score(self, items):
        return np.full(len(items), 0.25)


def _items(eps):
    return [it for e in eps for it in e.items]


def test_scores_are_the_members_mean(eps, members):
    items = _items(eps)
    want = (members[0].score(items) + members[1].score(items)) / 2
    assert np.abs(members[0].score(items) - members[1].score(items)).max() > 1e-3
    # one member after the other: exactly their mean
    np.testing.assert_allclose(EnsemblePRM(members, fuse=False).score(items), want, atol=1e-12)
    # the members' networks stacked into one pass: the same up to float rounding
    ens = EnsemblePRM(members)
    assert isinstance(ens.fused.net, StackedStateNet)
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)


def test_members_that_differ_are_asked_one_after_the_other(eps, members):
    items = _items(eps)
    other = copy.deepcopy(members[1])
    other.max_history = 2  # another state key: the stacked pass would read other states
    narrow = copy.deepcopy(members[1])  # the same frozen encoder, a narrower network
    narrow.net = StateNet(enc_dim=narrow.net.proj[0].in_features - 2, d=16, heads=4).eval()
    narrow.clear_cache()
    assert EnsemblePRM([members[0], narrow]).members[1].encoder is members[0].encoder
    for ens in (
        EnsemblePRM([members[0], other]),  # another setting
        EnsemblePRM([members[0], narrow]),  # another architecture
        EnsemblePRM([members[0], _Constant()]),  # not a state PRM
        EnsemblePRM(members, fuse=False),
    ):
        assert ens.fused is None
        want = np.mean([m.score(items) for m in ens.members], axis=0)
        np.testing.assert_allclose(ens.score(items), want, atol=1e-12)


@pytest.mark.parametrize(
    ("setting", "value"), [("max_history", 1), ("max_pieces", 0), ("step_limit", 4)]
)
def test_the_stacked_pass_takes_the_members_settings(eps, members, setting, value):
    """Members changed alike after loading (fewer past actions, no pieces, or another
    step limit, than their config says) are stacked with their settings, not with their
    config's."""
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    items = _items(eps)
    before = ens.score(items)
    for m in ens.members:
        setattr(m, setting, value)
        m.clear_cache()
    want = np.mean([m.score(items) for m in ens.members], axis=0)
    assert np.abs(want - before).max() > 1e-4
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)
    assert getattr(ens.fused, setting) == value


def test_a_members_new_network_is_stacked(eps, members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    items = _items(eps)
    before = ens.score(items)
    net = copy.deepcopy(ens.members[0].net)  # another network of the same architecture
    with torch.no_grad():
        net.head[3].bias.add_(1.0)
    ens.members[1].net = net
    ens.members[1].clear_cache()
    want = np.mean([m.score(items) for m in ens.members], axis=0)
    assert np.abs(want - before).max() > 1e-3
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)


def test_cache_hits_of_the_stacked_pass_count_for_the_ensemble(eps, members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    items = _items(eps)
    ens.score(items)
    hits = ens.stats.cache_hits
    ens.score(items)
    assert ens.stats.cache_hits - hits == len(items)


def test_members_that_cannot_be_stacked_are_checked_once(eps, members, monkeypatch):
    import agentprm_gym.prm.ensemble as ensemble_module

    calls = []
    real = ensemble_module._fuse
    monkeypatch.setattr(ensemble_module, "_fuse", lambda *a: calls.append(1) or real(*a))
    ens = EnsemblePRM([members[0], _Constant()])
    for _ in range(3):
        ens.score(_items(eps)[:4])
    assert len(calls) == 1
    ens.clear_cache()  # tried again after a clear
    ens.score(_items(eps)[:4])
    assert len(calls) == 2


def test_settings_reach_the_stacked_pass_once_built(eps, members, tmp_path):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    ens.score(_items(eps)[:3])
    ens.contexts_per_batch = 3
    assert ens.fused.contexts_per_batch == 3
    ens.token_cache = tmp_path / "tokens"
    assert ens.fused.token_cache == tmp_path / "tokens"
    assert ens.fused.contexts_per_batch == 3
    with pytest.raises(TypeError, match="save the ensemble"):
        ens.fused.save_pretrained(tmp_path / "stacked")


def test_the_stacked_pass_follows_a_members_new_weights(eps, members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    items = _items(eps)
    before = ens.score(items)
    with torch.no_grad():  # an in-place write torch records
        ens.members[1].net.head[3].bias.add_(1.0)
    for m in ens.members:
        m.clear_cache()  # the members' own score caches; the stacked pass is built again
    want = np.mean([m.score(items) for m in ens.members], axis=0)
    assert np.abs(want - before).max() > 1e-3
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)
    copied = copy.deepcopy(ens)  # a copy stacks its own members' weights
    with torch.no_grad():
        copied.members[0].net.head[3].bias.sub_(1.0)
    copied.clear_cache()
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)
    mean = np.mean([m.score(items) for m in copied.members], axis=0)
    np.testing.assert_allclose(copied.score(items), mean, atol=1e-6)
    assert np.abs(mean - want).max() > 1e-3


def test_clear_cache_picks_up_a_write_torch_does_not_record(eps, members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    items = _items(eps)
    before = ens.score(items)
    ens.members[0].net.head[3].bias.data.add_(1.0)  # no version bump: not seen as stale
    assert not ens.fused.net.stale()
    np.testing.assert_allclose(ens.score(items), before)  # as documented: cached
    ens.clear_cache()
    want = np.mean([m.score(items) for m in ens.members], axis=0)
    assert np.abs(want - before).max() > 1e-3
    np.testing.assert_allclose(ens.score(items), want, atol=1e-6)


def test_one_state_many_candidates_equals_item_by_item(eps, members):
    ens = EnsemblePRM(members)
    item = _items(eps)[3]
    actions = ["wait", "go east", "go west", item.action]
    together = ens.score_candidates(item, actions)
    ens.clear_cache()
    alone = [ens.score([item._replace(action=a)])[0] for a in actions]
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_members_with_one_encoder_share_it(members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    assert ens.members[0].encoder is ens.members[1].encoder


def test_save_load_round_trip_gives_the_same_scores(eps, members, tmp_path):
    ens = EnsemblePRM(members, {"training": {"seeds": [0, 1]}})
    items = _items(eps)
    want = ens.score(items)
    ens.save_pretrained(tmp_path / "ens")
    config = json.loads((tmp_path / "ens" / "prm_config.json").read_text())
    assert config["architecture"] == "ensemble" and config["members"] == ["member-0", "member-1"]
    assert config["training"] == {"seeds": [0, 1]}
    for loaded in (load_prm(tmp_path / "ens"), AgentPRM.from_pretrained(tmp_path / "ens")):
        assert isinstance(loaded, EnsemblePRM) and len(loaded.members) == 2
        np.testing.assert_allclose(loaded.score(items), want, atol=1e-7)


def test_saved_members_load_their_token_cache_once_into_the_shared_encoder(eps, members, tmp_path):
    items = _items(eps)
    cached = copy.deepcopy(members[0].encoder)
    cached.reset()
    cached.rows([it.instruction for it in items])
    path = cached.store.save(tmp_path / "tokens")
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    for m in ens.members:
        m.token_cache = path
    want = ens.score(items)
    ens.save_pretrained(tmp_path / "ens")
    loaded = load_prm(tmp_path / "ens")
    enc = loaded.members[0].encoder
    assert enc is loaded.members[1].encoder
    loads = []
    real = enc.warm_start
    enc.warm_start = lambda p: loads.append(real(p)) or loads[-1]
    np.testing.assert_allclose(loaded.score(items), want, atol=1e-5)
    assert loads[0] == len(cached.store) > 0  # loaded by the first member
    assert loads[1:] in ([], [0])  # the other found the states already there
    assert loaded.token_cache == path.resolve()
    loaded.token_cache = None  # the ensemble's switch reaches every member
    assert [m.token_cache for m in loaded.members] == [None, None]


def test_contexts_per_batch_reaches_every_member(members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    ens.contexts_per_batch = 3
    assert ens.contexts_per_batch == 3
    assert [m.contexts_per_batch for m in ens.members] == [3, 3]


def test_batch_size_is_none_without_cross_encoder_members(members):
    ens = EnsemblePRM([copy.deepcopy(m) for m in members])
    assert ens.batch_size is None
    ens.batch_size = 8  # reaches no state-PRM member, and does not fail
    assert ens.batch_size is None


def test_bad_ensembles_give_clear_errors(members, tmp_path):
    with pytest.raises(ValueError, match="at least one member"):
        EnsemblePRM([])
    members[0].save_pretrained(tmp_path / "m0")
    for names, msg in (
        ([], "non-empty list"),
        ("m0", "non-empty list"),
        (["../m0"], "not a sub-directory"),
        (["nope"], "no PRM directory"),
    ):
        d = tmp_path / f"bad{len(list(tmp_path.iterdir()))}"
        write_ensemble_config(d, [], None)
        config = json.loads((d / "prm_config.json").read_text())
        config["members"] = names
        (d / "prm_config.json").write_text(json.dumps(config))
        with pytest.raises(CheckpointError, match=msg):
            load_prm(d)
