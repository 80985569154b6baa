"""The state-encoder PRM: one encoding per state, same numbers item by item, saved exactly."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agentprm_gym.prm import training as T
from agentprm_gym.prm.base import ScoreItem
from agentprm_gym.prm.loading import load_prm
from agentprm_gym.prm.metrics import ranking_accuracy
from agentprm_gym.prm.model import AgentPRM, CheckpointError
from agentprm_gym.prm.state_model import StatePRM
from agentprm_gym.prm.state_net import Candidate, Context, StateNet, pack_inputs
from agentprm_gym.prm.steps import episode_steps, split_by_task
from agentprm_gym.prm.train_data import StateSteps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402


def _corpus(eps):
    return [f"{i.history[-1]} {i.action} {i.instruction}" for e in eps for i in e.items]


def _prm(
    eps,
    seed=0,
    step_limit=10,
    coverage=True,
    exact=False,
    history_in_context=False,
    previous=0,
    page_pool=False,
):
    return StatePRM.create(
        "tiny",
        tiny_corpus=_corpus(eps),
        seed=seed,
        step_limit=step_limit,
        d=32,
        heads=4,
        coverage=coverage,
        exact=exact,
        history_in_context=history_in_context,
        previous_observations=previous,
        page_pool=page_pool,
    )


#: Network layouts: (history in the context, previous observations read, page pooled).
LAYOUTS = [(False, 0, False), (True, 0, False), (False, 2, False), (False, 0, True)]


@pytest.fixture(scope="module")
def eps():
    return episode_steps(corridor_trajectories(range(6), 3, eps=0.5, seed=3))


STATE = ScoreItem(
    "Walk to room 3.",
    (
        ("You are in room 0 of 3. A pit [SEP] lies beside the path.", "wait"),
        "You are in room 0 of 3. [SEP] A pit lies beside the path.",
    ),
    "go[next]",
)
ACTIONS = ["go[next]", "wait", "jump[pit]", "go[back]", "wait"]


@pytest.mark.parametrize(("history_in_context", "previous", "page_pool"), LAYOUTS)
def test_one_state_many_candidates_equals_item_by_item(
    eps, history_in_context, previous, page_pool
):
    prm = _prm(eps, history_in_context=history_in_context, previous=previous, page_pool=page_pool)
    grouped = prm.score_candidates(STATE, ACTIONS)
    prm.clear_cache()
    single = np.array([prm.score([STATE._replace(action=a)])[0] for a in ACTIONS])
    prm.clear_cache()
    mixed = prm.score([STATE._replace(action=a) for a in ACTIONS] + list(eps[0].items))
    np.testing.assert_allclose(grouped, single, atol=1e-6)
    np.testing.assert_allclose(mixed[: len(ACTIONS)], single, atol=1e-6)
    assert grouped[1] == grouped[4]  # the same action in the same state
    assert len(set(np.round(grouped[:4], 6))) == 4  # candidates are told apart


def _spy(monkeypatch, record):
    """Calls of ``StateNet.forward_cached``, each as ``record(inputs, instruction side)``."""
    seen = []
    real = StateNet.forward_cached

    def spy(self, x, known=None, contexts=(), instruction=None):
        seen.append(record(x, instruction))
        return real(self, x, known, contexts, instruction)

    monkeypatch.setattr(StateNet, "forward_cached", spy)
    return seen


def test_a_state_context_runs_once_for_all_its_candidates(eps, monkeypatch):
    prm = _prm(eps)
    seen = _spy(monkeypatch, lambda x, _: (x.ctx_seq.shape[0], x.cand_ctx.shape[0]))
    prm.score_candidates(STATE, ACTIONS)
    # one context, one forward pass, four candidates: the repeated "wait" is scored once
    assert seen == [(1, 4)]


def test_one_observation_runs_the_context_once_for_all_its_histories(eps, monkeypatch):
    """Split history: states that differ only in their past actions share one context row,
    and the past actions still change the scores."""
    prm = _prm(eps)
    seen = _spy(
        monkeypatch, lambda x, _: (x.ctx_seq.shape[0], x.cand_ctx.shape[0], x.cand_hist.shape[1])
    )
    other = STATE._replace(history=(("o", "jump[pit]"), *STATE.history[1:]))
    none = STATE._replace(history=STATE.history[-1:])
    q = prm.score([STATE, other, none])
    assert seen == [(1, 3, 1)]  # one observation, three states, at most one past action
    assert len(set(np.round(q, 6))) == 3  # each history gives its own score
    for item, together in zip((STATE, other, none), q, strict=True):
        prm.clear_cache()  # scored alone, matched afresh: the shared row changes nothing
        np.testing.assert_allclose(prm.score([item])[0], together, atol=1e-6)
    old = _prm(eps, history_in_context=True)
    seen.clear()
    old.score([STATE, other, none])
    assert seen == [(3, 3, 0)]  # the old network runs every (observation, history) apart


@pytest.mark.parametrize("history_in_context", [False, True])
def test_inputs_packed_for_the_other_layout_are_refused(eps, history_in_context):
    prm = _prm(eps, history_in_context=history_in_context)
    store = prm.encoder.store
    instr, past, piece, act = prm.encoder.rows(["Walk to room 3.", "wait", "room 0", "go[next]"])
    ctx = [Context(instr, (past,), (piece,))]
    cand = [Candidate(0, act, -1, 1, 5)]
    with pytest.raises(ValueError, match="packed with split_history"):
        prm.net(pack_inputs(store, ctx, cand, "cpu", split_history=history_in_context))
    prm.net(pack_inputs(store, ctx, cand, "cpu", split_history=not history_in_context))


def _spy_pairs(monkeypatch):
    return _spy(monkeypatch, lambda x, _: (len(x.new_pos), len(x.known_pos)))


def test_matched_pairs_are_reused_across_states_with_the_same_scores(eps, monkeypatch):
    prm = _prm(eps)
    seen = _spy_pairs(monkeypatch)
    first = prm.score_candidates(STATE, ACTIONS)
    prm._cache.clear()  # scores forgotten, matched pairs kept
    again = prm.score_candidates(STATE, ACTIONS)
    # the same page one step later: its pieces are matched already
    later = STATE._replace(history=(("o", "look"), *STATE.history))
    prm.score_candidates(later, ACTIONS)
    (new1, known1), (new2, known2), (new3, known3) = seen
    # the page's context is kept too, so its pieces need no pair: only the candidates' and
    # past actions' pairs are in the later calls, all known but the added past action
    assert known1 == 0 and new1 > 0 and new2 == 0 and 0 < known2 < new1
    assert new3 == 1 and known3 == known2
    np.testing.assert_allclose(again, first, atol=1e-6)
    fresh = _prm(eps)  # same seed, no kept vectors: the reference numbers
    fresh.encoder.store = prm.encoder.store  # the same token states (see the encoder's rounding)
    np.testing.assert_allclose(
        fresh.score_candidates(later, ACTIONS), prm.score_candidates(later, ACTIONS), atol=1e-6
    )


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"history_in_context": True},
        {"previous": 1, "page_pool": True},
        {"exact": True},
        {"coverage": False},
    ],
    ids=["default", "history-in-context", "previous-page-pool", "exact", "no-coverage"],
)
def test_encoded_contexts_are_reused_with_the_same_scores(eps, monkeypatch, variant):
    prm = _prm(eps, **variant)
    seen = _spy(monkeypatch, lambda x, _: (len(x.ctx_new), len(x.ctx_known)))
    prm.score_candidates(STATE, ACTIONS)
    other = STATE._replace(history=(("o", "jump[pit]"), *STATE.history[1:]))
    longer = STATE._replace(history=(("o", "look"), *STATE.history))
    items = [other._replace(action=a) for a in ACTIONS] + [longer, *eps[0].items]
    together = prm.score(items)
    assert seen[0] == (1, 0)
    new, known = seen[1]
    # the same page after other past actions: a known row (the previous observations are
    # read beside the row), unless the history is in the context (a row per history)
    assert known == (0 if variant.get("history_in_context") else 1) and new >= 1
    fresh = _prm(eps, **variant)  # same seed, nothing cached: the reference numbers
    np.testing.assert_allclose(together, fresh.score(items), atol=1e-6)
    prm._cache.clear()
    seen.clear()
    np.testing.assert_allclose(prm.score(items), together, atol=1e-6)
    assert seen[0][0] == 0  # every row known now


def test_an_instruction_side_is_kept_with_the_same_scores(eps, monkeypatch):
    prm = _prm(eps)
    given = _spy(monkeypatch, lambda x, side: (x.n_instr, side is not None))
    prm.score_candidates(STATE, ACTIONS)
    later = STATE._replace(history=(("o", "look"), *STATE.history))  # one new past action
    got = prm.score_candidates(later, ACTIONS)
    assert given == [(1, False), (1, True)] and len(prm._net_cache.instructions) == 1
    fresh = _prm(eps)
    fresh.encoder.store = prm.encoder.store  # the same token states (see the encoder's rounding)
    np.testing.assert_allclose(got, fresh.score_candidates(later, ACTIONS), atol=1e-6)
    # two instructions in one call: each is matched in the batch, nothing is passed
    other = later._replace(instruction="Walk to room 1.")
    prm.clear_cache()  # both instructions are read anew
    prm.score([later, other])
    assert given[-1] == (2, False)


def test_a_known_context_needs_its_vectors(eps):
    prm = _prm(eps)
    store = prm.encoder.store
    instr, piece, act = prm.encoder.rows(["Walk to room 3.", "room 0", "go[next]"])
    ctx = [Context(instr, (), (piece,))]
    cand = [Candidate(0, act, 0, 1, 5)]
    x = pack_inputs(
        store, ctx, cand, "cpu", split_history=True, known_contexts={(instr, (), (piece,))}
    )
    assert x.ctx_known == [0] and x.ctx_new == [] and x.n_instr == 1  # the action is matched
    with pytest.raises(ValueError, match="1 contexts are known"):
        prm.net.forward_cached(x)
    with torch.inference_mode():
        full = prm.net.forward_cached(pack_inputs(store, ctx, cand, "cpu", split_history=True))
        part = prm.net.forward_cached(x, None, [full.contexts[0, :2]])
        with pytest.raises(ValueError, match="has 2 positions, its known vectors 1"):
            prm.net.forward_cached(x, None, [full.contexts[0, :1]])
        assert full.instruction.row == instr and full.instruction.vector is not None
        other = full.instruction._replace(row=piece)
        with pytest.raises(ValueError, match=f"store row {piece} for inputs that read row {instr}"):
            prm.net.forward_cached(x, None, [full.contexts[0, :2]], other)
        again = prm.net.forward_cached(x, None, [full.contexts[0, :2]], full.instruction)
    torch.testing.assert_close(part.logits, full.logits)
    torch.testing.assert_close(again.logits, full.logits)


def test_a_network_swapped_in_is_not_served_the_old_ones_work(eps):
    prm, ref = _prm(eps), _prm(eps)
    before = prm.score_candidates(STATE, ACTIONS)
    prm.net = ref.net = _prm(eps, seed=1).net  # another network, no clear_cache()
    prm._cache.clear()
    after = prm.score_candidates(STATE, ACTIONS)
    np.testing.assert_allclose(after, ref.score_candidates(STATE, ACTIONS), atol=1e-6)
    assert not np.allclose(after, before)


def test_matched_pairs_are_forgotten_when_a_weight_changes(eps, monkeypatch):
    prm = _prm(eps)
    before = prm.score_candidates(STATE, ACTIONS)
    assert len(prm._net_cache.contexts) == len(prm._net_cache.instructions) == 1
    with torch.no_grad():
        prm.net.match_mlp[0].weight.mul_(1.5)  # an in-place update, as an optimiser step
    prm._cache.clear()
    kept = _spy(monkeypatch, lambda x, side: (len(x.ctx_known), side is not None))
    seen = _spy_pairs(monkeypatch)
    after = prm.score_candidates(STATE, ACTIONS)
    assert seen[0][1] == 0 and kept[0] == (0, False)  # nothing reused
    assert not np.allclose(after, before)
    copy = __import__("copy").deepcopy(prm)
    assert not len(copy._net_cache)  # the network's kept work is not copied
    copy._cache.clear()  # make the copy run its network
    np.testing.assert_allclose(copy.score_candidates(STATE, ACTIONS), after, atol=1e-6)
    assert seen[-1][1] == 0


def test_matched_pairs_are_forgotten_with_the_token_store_or_by_clear_cache(eps, monkeypatch):
    prm = _prm(eps)
    prm.score_candidates(STATE, ACTIONS)
    seen = _spy_pairs(monkeypatch)
    prm._cache.clear()
    prm.encoder.reset()  # a new token store: rows mean other texts now
    prm.score_candidates(STATE, ACTIONS)
    prm.clear_cache()
    prm.score_candidates(STATE, ACTIONS)
    assert [known for _, known in seen] == [0, 0]


def test_clear_cache_picks_up_parameters_swapped_into_the_net(eps):
    prm = _prm(eps)
    other = __import__("copy").deepcopy(prm)
    with torch.no_grad():
        for p in other.net.parameters():
            p.mul_(1.3)
    prm.score_candidates(STATE, ACTIONS)
    new = {k: v.clone() for k, v in other.net.state_dict().items()}
    prm.net.load_state_dict(new, assign=True)  # new Parameter objects
    prm.clear_cache()
    np.testing.assert_allclose(
        prm.score_candidates(STATE, ACTIONS), other.score_candidates(STATE, ACTIONS), atol=1e-6
    )
    with torch.no_grad():  # later in-place updates of the new parameters are seen
        prm.net.match_mlp[0].weight.mul_(1.5)  # matching weights: pair vectors change
        other.net.match_mlp[0].weight.mul_(1.5)
    prm._cache.clear()
    other.clear_cache()
    np.testing.assert_allclose(
        prm.score_candidates(STATE, ACTIONS), other.score_candidates(STATE, ACTIONS), atol=1e-6
    )


def test_step_index_and_steps_left_are_visible(eps):
    prm = _prm(eps)
    later = STATE._replace(history=(("o", "wait"),) * 5 + (STATE.history[-1],))
    early = STATE._replace(history=(("o", "wait"),) * 4 + (STATE.history[-1],))
    # the same observation and last actions, only the step index differs
    assert prm.state_key(later) == prm.state_key(early)
    q = prm.score([early, later])
    assert abs(q[0] - q[1]) > 1e-6
    # with the env's step limit unknown the steps-left input is "unknown", not a guess
    blind = _prm(eps, step_limit=None)
    assert blind.steps_left(3) == -1 and prm.steps_left(3) == 7 and prm.steps_left(12) == 0


@pytest.mark.parametrize(("history_in_context", "previous", "page_pool"), LAYOUTS)
def test_save_load_round_trip_gives_the_same_scores(
    eps, tmp_path, history_in_context, previous, page_pool
):
    prm = _prm(eps, history_in_context=history_in_context, previous=previous, page_pool=page_pool)
    T.train_prm(prm, eps, config=T.TrainConfig(labels="gae", epochs=1, progress=False))
    before = prm.score_candidates(STATE, ACTIONS)
    d = prm.save_pretrained(tmp_path / "prm")
    cfg = json.loads((d / "prm_config.json").read_text())
    assert cfg["architecture"] == "state" and cfg["step_limit"] == 10
    assert cfg["history_in_context"] is history_in_context
    assert cfg["previous_observations"] == previous and cfg["page_pool"] is page_pool
    for loaded in (AgentPRM.from_pretrained(d), load_prm(d), StatePRM.from_pretrained(d)):
        assert isinstance(loaded, StatePRM)
        assert loaded.encoder.tag == prm.encoder.tag  # so it can read the run's token cache
        # a fresh encoder cache encodes the texts in other batches: bf16 kernels may
        # differ in the last bits of the token states (1e-6 here), nothing more
        assert loaded.net.split_history is not history_in_context
        assert loaded.net.previous == loaded.previous == previous
        assert loaded.net.page_pool is page_pool
        np.testing.assert_allclose(loaded.score_candidates(STATE, ACTIONS), before, atol=2e-5)


@pytest.mark.parametrize(
    "missing", [("coverage", "exact", "history_in_context"), ("exact", "history_in_context")]
)
def test_checkpoints_from_before_the_coverage_and_exact_channels_load(eps, tmp_path, missing):
    """A config without ``coverage``/``exact``/``history_in_context`` (saved before they
    existed) loads the old network: the history runs through the context encoder."""
    prm = _prm(eps, coverage="coverage" not in missing, exact=False, history_in_context=True)
    before = prm.score_candidates(STATE, ACTIONS)
    d = prm.save_pretrained(tmp_path / "old")
    cfg = json.loads((d / "prm_config.json").read_text())
    for key in missing:
        del cfg[key]
    (d / "prm_config.json").write_text(json.dumps(cfg))
    loaded = StatePRM.from_pretrained(d)
    assert loaded.net.coverage is ("coverage" not in missing)
    assert not loaded.net.exact
    assert not loaded.net.split_history
    np.testing.assert_allclose(loaded.score_candidates(STATE, ACTIONS), before, atol=2e-5)
    new = _prm(eps, exact=True).save_pretrained(tmp_path / "new")
    cfg = json.loads((new / "prm_config.json").read_text())
    assert cfg["coverage"] is True and cfg["exact"] is True
    net = StatePRM.from_pretrained(new).net
    assert net.coverage and net.exact
    default = StatePRM.create("tiny", tiny_corpus=_corpus(eps), d=32, heads=4).net
    # the defaults of new networks
    assert default.coverage and not default.exact and default.split_history


def test_bad_checkpoints_give_clear_errors(eps, tmp_path):
    d = _prm(eps).save_pretrained(tmp_path / "prm")
    cfg = json.loads((d / "prm_config.json").read_text())
    (d / "prm_config.json").write_text(json.dumps({**cfg, "architecture": "lstm"}))
    with pytest.raises(CheckpointError, match="unknown PRM architecture 'lstm'"):
        AgentPRM.from_pretrained(d)
    (d / "prm_config.json").write_text(json.dumps({**cfg, "d": 64}))
    with pytest.raises(CheckpointError, match="does not match its config") as err:
        AgentPRM.from_pretrained(d)
    assert len(str(err.value)) < 400 and "\n" not in str(err.value)  # one line, a few tensors
    (d / "prm_config.json").write_text(json.dumps(cfg))
    (d / "model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(CheckpointError, match="corrupt weights"):
        AgentPRM.from_pretrained(d)


def test_token_states_are_cached_on_disk_and_reused(eps, tmp_path):
    cache = tmp_path / "tokens"
    a = _prm(eps)
    first = StateSteps(a, eps, cache)
    assert first.texts_encoded == first.texts_total > 0
    b = _prm(eps)  # same encoder (same seed and corpus): the cache is valid for it
    second = StateSteps(b, eps, cache)
    assert second.texts_encoded == 0
    np.testing.assert_array_equal(a.encoder.store.states, b.encoder.store.states)
    other = StatePRM.create("tiny", tiny_corpus=["other words"], d=32, heads=4)
    assert other.encoder.tag != a.encoder.tag  # another vocabulary: another encoder
    assert StateSteps(other, eps, cache).texts_encoded > 0  # so the cache is not used


def test_token_store_head_keeps_the_first_rows_as_copies(eps):
    enc = _prm(eps).encoder
    enc.rows(["alpha beta", "gamma 12.5 dollars", "delta"])
    head = enc.store.head(2)
    assert head.index == {k: r for k, r in enc.store.index.items() if r < 2} and len(head) == 2
    n = enc.store.start[1] + enc.store.length[1]  # rows are in the order of encoding
    assert head.tokens == n and head.start == enc.store.start[:2]
    np.testing.assert_array_equal(head.states, enc.store.states[:n])
    np.testing.assert_array_equal(head.numbers, enc.store.numbers[:n])
    np.testing.assert_array_equal(head.ids, enc.store.ids[:n])
    head.states[0, 0] = 99  # a copy: the original is untouched
    assert enc.store.states[0, 0] != 99
    assert len(enc.store.head(0)) == 0 and enc.store.head(0).tokens == 0


def test_a_warm_start_loads_saved_states_and_a_reset_keeps_them(eps, tmp_path):
    a = _prm(eps)
    a.encoder.rows(["alpha beta", "gamma 12.5 dollars"])
    path = a.encoder.store.save(tmp_path / "tokens")
    b = _prm(eps).encoder  # the same encoder (same seed and corpus)
    assert b.warm_start(tmp_path / "missing") == 0
    assert b.warm_start(path) == 2 and b.added_tokens == 0
    assert b.warm_start(path) == 0  # only into an empty store
    encoded = []
    real = b._encode
    b._encode = lambda pairs, progress: (encoded.extend(t for _, t in pairs), real(pairs, progress))
    b.rows(["alpha beta", "delta"])
    assert encoded == ["delta"]  # the loaded text is not encoded again
    assert b.added_tokens == b.store.tokens - a.encoder.store.tokens > 0
    b.reset()
    assert sorted(b.store.index.values()) == [0, 1] and b.added_tokens == 0
    np.testing.assert_array_equal(b.store.states, a.encoder.store.states)
    b.reset(keep_loaded=False)
    assert len(b.store) == 0 and b.added_tokens == 0
    assert b.warm_start(path) == 2  # empty again, so it loads
    other = StatePRM.create("tiny", tiny_corpus=["other words"], d=32, heads=4).encoder
    assert other.warm_start(path) == 0 and len(other.store) == 0  # another encoder's file


def test_a_trained_prm_names_its_token_cache_and_loads_it_to_score(eps, tmp_path):
    cache = tmp_path / "data" / "tokens"
    prm = _prm(eps)
    cfg = T.TrainConfig(labels="gae", epochs=1, progress=False, cache_path=str(cache))
    T.train_prm(prm, eps, config=cfg)
    assert prm.token_cache == cache.resolve()
    before = prm.score_candidates(STATE, ACTIONS)
    d = prm.save_pretrained(tmp_path / "runs" / "prm")
    saved = json.loads((d / "prm_config.json").read_text())["token_cache"]
    assert saved == "../../data/tokens"  # relative: a moved tree of runs keeps the link

    def scored(prm):
        """The scores of STATE's actions, and the texts the encoder had to encode."""
        new = []
        real = prm.encoder._encode
        prm.encoder._encode = lambda pairs, progress: (
            new.extend(t for _, t in pairs),
            real(pairs, progress),
        )
        return prm.score_candidates(STATE, ACTIONS), new

    loaded = load_prm(d)
    assert loaded.token_cache == cache.resolve() and len(loaded.encoder.store) == 0
    after, new = scored(loaded)
    assert len(loaded.encoder.store) > len(new)  # the training texts came from the file
    assert "Walk to room 3." not in new  # the corridor's instruction was in training
    np.testing.assert_allclose(after, before, atol=2e-5)
    loaded.save_pretrained(tmp_path / "moved")  # saved again elsewhere: still the same file
    again = json.loads((tmp_path / "moved" / "prm_config.json").read_text())["token_cache"]
    assert (tmp_path / "moved" / again).resolve() == cache.resolve()
    cold = load_prm(d)
    cold.token_cache = None  # the user's choice: start cold
    after, new = scored(cold)
    assert "Walk to room 3." in new and len(cold.encoder.store) == len(new)
    np.testing.assert_allclose(after, before, atol=2e-5)
    cache.unlink()  # a missing file: scoring starts cold, with a warning, no error
    with pytest.warns(UserWarning, match="token cache .* not loaded .it is missing"):
        after, new = scored(load_prm(d))
    assert "Walk to room 3." in new
    np.testing.assert_allclose(after, before, atol=2e-5)
    assert "token_cache" not in json.loads(
        _prm(eps).save_pretrained(tmp_path / "plain").joinpath("prm_config.json").read_text()
    )


def test_the_bound_on_kept_states_counts_only_those_added_after_the_warm_start(
    eps, tmp_path, monkeypatch
):
    from agentprm_gym.prm import state_model

    a = _prm(eps)
    before = a.score_candidates(STATE, ACTIONS)
    path = a.encoder.store.save(tmp_path / "tokens")
    b = _prm(eps)
    b.token_cache = path
    monkeypatch.setattr(state_model, "MAX_CACHED_TOKENS", 0)  # every call starts afresh
    encoded = []
    real = b.encoder._encode
    b.encoder._encode = lambda pairs, progress: (
        encoded.extend(t for _, t in pairs),
        real(pairs, progress),
    )
    stores = []
    for _ in range(3):
        b.clear_cache()
        np.testing.assert_allclose(b.score_candidates(STATE, ACTIONS), before, atol=1e-6)
        stores.append(b.encoder.store)
    assert encoded == [] and len(b.encoder.store) == len(a.encoder.store)
    assert stores[0] is stores[1] is stores[2]  # nothing added, so never started afresh
    b.encoder.rows(["a text no one has seen"])  # one added: the next call starts afresh
    b.clear_cache()
    np.testing.assert_allclose(b.score_candidates(STATE, ACTIONS), before, atol=1e-6)
    assert b.encoder.store is not stores[0] and encoded == ["a text no one has seen"]
    assert len(b.encoder.store) == len(a.encoder.store)  # back to the loaded states


def test_assigning_a_store_leaves_nothing_loaded_for_reset_to_keep(eps, tmp_path):
    a = _prm(eps).encoder
    a.rows(["alpha beta"])
    path = a.store.save(tmp_path / "tokens")
    b = _prm(eps).encoder
    assert b.warm_start(path) == 1
    b.store = a.store  # another store: its texts are not the loaded ones
    b.rows(["gamma"])
    assert b.added_tokens == b.store.tokens
    b.reset()
    assert len(b.store) == 0


def test_a_token_cache_that_does_not_load_is_explained(eps, tmp_path):
    from agentprm_gym.prm.state_model import _not_loaded
    from agentprm_gym.prm.text_encoder import TokenStore

    enc = _prm(eps).encoder
    name, dim, tokens, precision, digest = enc.tag.split("|")
    other = "fp32" if precision == "bf16" else "bf16"

    def saved(tag, texts=1):
        store = TokenStore(enc.dim, tag)
        for i in range(texts):
            store.add(f"k{i}", np.zeros((2, enc.dim)), np.zeros((2, 2)))
        return store.save(tmp_path / f"{len(list(tmp_path.iterdir()))}")

    assert _not_loaded(tmp_path / "nothing", enc.tag) == "it is missing"
    (tmp_path / "junk").write_bytes(b"not a store")
    assert _not_loaded(tmp_path / "junk", enc.tag) == "it is not a readable token-state file"
    at = saved("|".join((name, dim, tokens, other, digest)))
    assert (
        _not_loaded(at, enc.tag) == f"it was made at another precision ({other}, not {precision})"
    )
    assert _not_loaded(saved(enc.tag + "x"), enc.tag).startswith("another encoder made it")
    assert _not_loaded(saved(enc.tag, texts=0), enc.tag) == "it holds no texts"


def test_training_keeps_its_saved_states_and_names_only_a_file_it_can_read(eps, tmp_path):
    cfg = T.TrainConfig(labels="gae", epochs=1, progress=False, cache_path=str(tmp_path / "a"))
    prm = _prm(eps)
    T.train_prm(prm, eps, config=cfg)
    assert prm.token_cache == (tmp_path / "a").resolve()
    assert prm.encoder.added_tokens == 0  # on disk: kept as a loaded PRM keeps them
    rows = len(prm.encoder.store)
    prm.encoder.reset()
    assert len(prm.encoder.store) == rows
    # trained again in the same process: nothing new to encode, so nothing is saved at b
    again = T.TrainConfig(labels="gae", epochs=1, progress=False, cache_path=str(tmp_path / "b"))
    prm.token_cache = None
    T.train_prm(prm, eps, config=again)
    assert not (tmp_path / "b").exists() and prm.token_cache is None


def test_setting_the_token_cache_tries_it_at_the_next_call(eps, tmp_path):
    a = _prm(eps)
    a.score_candidates(STATE, ACTIONS)
    path = a.encoder.store.save(tmp_path / "tokens")
    b = _prm(eps)
    b.score_candidates(STATE, ACTIONS)  # tried (nothing named), and the encoder filled
    b.encoder.reset()
    b.token_cache = path
    b.clear_cache()
    b.score_candidates(STATE, ACTIONS)
    assert b.encoder._base_rows == len(a.encoder.store)  # loaded, not skipped


def test_state_ids_number_the_states_the_network_reads(eps):
    prm = _prm(eps)
    data = StateSteps(prm, eps)
    keys = [prm.state_key(it) for e in eps for it in e.items]
    assert len(data.state_ids) == len(keys) == int(data.offsets[-1])
    for i in range(len(keys)):
        for j in range(i):
            assert (data.state_ids[i] == data.state_ids[j]) == (keys[i] == keys[j])
    # the rollouts of a task share their first state
    assert len(set(data.state_ids.tolist())) < len(keys)


@pytest.mark.parametrize(("history_in_context", "previous", "page_pool"), LAYOUTS)
def test_training_step_predictions_equal_scoring(eps, history_in_context, previous, page_pool):
    prm = _prm(eps, history_in_context=history_in_context, previous=previous, page_pool=page_pool)
    prm.net.eval()
    data = StateSteps(prm, eps)
    idx = list(range(int(data.offsets[-1])))
    with torch.no_grad():
        m = data.predict(idx).numpy()
    items = [it for e in eps for it in e.items]
    np.testing.assert_allclose(m, prm.score(items), atol=1e-5)


@pytest.mark.parametrize(("history_in_context", "previous", "page_pool"), LAYOUTS)
def test_kept_pairs_give_the_same_predictions_and_skip_the_matching(
    eps, history_in_context, previous, page_pool
):
    prm = _prm(
        eps,
        exact=True,
        history_in_context=history_in_context,
        previous=previous,
        page_pool=page_pool,
    )
    prm.net.eval()
    data = StateSteps(prm, eps)
    n = int(data.offsets[-1])
    halves = [list(range(0, n // 2)), list(range(n // 2, n))]
    with torch.no_grad():
        plain = [data.predict(h) for h in halves]
    assert data.pairs is None
    data.keep_pairs()
    matched = []
    real_match = prm.net._match

    def counting(flat, x, side=None):
        matched.append(len(x.pair_text))
        return real_match(flat, x, side)

    prm.net._match = counting
    with torch.no_grad():
        first = [data.predict(h) for h in halves]  # fills the kept pairs
        again = [data.predict(h) for h in halves]  # every pair is kept now
        both = data.predict(list(range(n)))
    assert len(matched) == 2  # the first pass matched (once per half), the later ones not
    assert len(data.pairs) == sum(matched)  # each pair matched once
    for a, b, c in zip(plain, first, again, strict=True):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6)
        torch.testing.assert_close(c, a, rtol=0, atol=1e-6)
    torch.testing.assert_close(both, torch.cat(plain), rtol=0, atol=1e-6)
    # the matching layers have no dropout: a pair's vector is the same in training mode
    prm.net.train()
    x = pack_inputs(
        prm.encoder.store,
        data.contexts[:1],
        [c for c in data.candidates if c.context == 0],
        prm.device,
        split_history=prm.net.split_history,
    )
    with torch.no_grad():
        _, train_pairs = prm.net.forward_with_pairs(x)
    kept = torch.stack([data.pairs[k] for k in x.pair_keys])
    torch.testing.assert_close(train_pairs, kept, rtol=0, atol=1e-6)


def test_training_freezes_the_matching_layers_once_their_rate_is_zero(eps, monkeypatch):
    """The frozen matcher gets no gradient, pairs are kept, and the model trains as before.

    With the gradient clipping out of the way (the one place the frozen matcher's
    gradients counted), training with the freeze ends at the weights of training
    without it.
    """
    monkeypatch.setattr(T.torch.nn.utils, "clip_grad_norm_", lambda *a, **k: None)
    cfg = T.TrainConfig(
        labels="gae", epochs=3, batch_size=8, lr=1e-3, seed=0, progress=False, matcher_lr_end=0.5
    )
    watched = []  # the network being trained
    steps = []  # per optimiser step: (matcher rate, the matcher has a gradient)

    class Watch(torch.optim.AdamW):
        def step(self, closure=None):
            has = watched[-1].proj[0].weight.grad is not None
            steps.append((self.param_groups[-1]["lr"], has))
            return super().step(closure)

    frozen_data = []
    real_freeze = T._freeze_matcher

    def freeze(params, data):
        real_freeze(params, data)
        frozen_data.append(data)

    monkeypatch.setattr(T.torch.optim, "AdamW", Watch)
    monkeypatch.setattr(T, "_freeze_matcher", freeze)
    prm = _prm(eps)
    watched.append(prm.net)
    T.train_prm(prm, eps, config=cfg)
    frozen_at = prm.config["training"]["matcher_frozen_after_step"]
    assert len(frozen_data) == 1 and frozen_data[0].pairs  # frozen once, pairs kept
    assert 0 < frozen_at == sum(rate > 0 for rate, _ in steps) < len(steps)
    assert [has for _, has in steps] == [k < frozen_at for k in range(len(steps))]
    assert all(p.requires_grad for p in prm.net.parameters())  # trainable again after
    # the same training without the freeze ends at the same weights
    monkeypatch.setattr(T, "_freeze_matcher", lambda params, data: None)
    steps.clear()
    ref = _prm(eps)
    watched.append(ref.net)
    T.train_prm(ref, eps, config=cfg)
    assert all(has for _, has in steps)
    for (name, a), b in zip(prm.net.named_parameters(), ref.net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    # one schedule for every layer: nothing freezes
    plain = _prm(eps)
    watched.append(plain.net)
    T.train_prm(plain, eps, config=dataclasses.replace(cfg, epochs=1, matcher_lr_end=1.0))
    assert plain.config["training"]["matcher_frozen_after_step"] is None


def test_a_failed_run_leaves_the_matching_layers_trainable_as_it_found_them(eps, monkeypatch):
    prm = _prm(eps)
    fixed = prm.net.proj[1].weight  # frozen by the caller before training
    fixed.requires_grad_(False)
    real = T._batch_loss

    def failing(*args, **kwargs):
        if not prm.net.proj[0].weight.requires_grad:  # the trainer has frozen the matcher
            raise RuntimeError("stopped after the freeze")
        return real(*args, **kwargs)

    monkeypatch.setattr(T, "_batch_loss", failing)
    cfg = T.TrainConfig(
        labels="gae", epochs=2, batch_size=8, lr=1e-3, seed=0, progress=False, matcher_lr_end=0.5
    )
    with pytest.raises(RuntimeError, match="stopped after the freeze"):
        T.train_prm(prm, eps, config=cfg)
    assert not fixed.requires_grad
    assert all(p.requires_grad for p in prm.net.parameters() if p is not fixed)


def test_training_goes_on_when_scoring_starts_the_token_store_afresh(eps, monkeypatch):
    """Scoring starts the encoder's token store afresh past ``MAX_CACHED_TOKENS``.

    The held-out check between epochs scores through the PRM, so on large data
    the store is replaced in the middle of training; the step sets keep the store
    their rows index, and training ends where it ends without the reset.
    """
    from agentprm_gym.prm import state_model

    train, val = split_by_task(eps, 0.34, seed=0)
    cfg = T.TrainConfig(labels="gae", epochs=2, batch_size=8, lr=1e-3, seed=0, progress=False)
    ref = _prm(train)
    T.train_prm(ref, train, val, cfg)
    monkeypatch.setattr(state_model, "MAX_CACHED_TOKENS", 0)  # every scoring call resets
    prm = _prm(train)
    replaced = []
    real_reset = prm.encoder.reset

    def reset():
        replaced.append(prm.encoder.store)
        real_reset()

    monkeypatch.setattr(prm.encoder, "reset", reset)
    T.train_prm(prm, train, val, cfg)
    assert len(replaced) >= 2  # a reset in each epoch's held-out check
    for (name, a), b in zip(ref.net.state_dict().items(), prm.net.state_dict().values()):
        torch.testing.assert_close(b, a, msg=name)


@pytest.mark.parametrize(("coverage", "exact"), [(True, False), (False, False), (True, True)])
def test_tiny_state_prm_training_improves_ranking(coverage, exact):
    """Runs in well under a minute on an idle 2-core CPU.

    With the coverage channel an untrained network already ranks the corridor
    well (its random projections keep "room 3" in the instruction close to "room
    3" in an action), so training has less to add; without it, far more.
    """
    eps = episode_steps(corridor_trajectories(range(16), 6, eps=0.5, seed=0))
    train, val = split_by_task(eps, 0.25, seed=0)
    test = episode_steps(corridor_trajectories(range(100, 106), 3, eps=0.5, seed=1, split="test"))
    prm = _prm(train, coverage=coverage, exact=exact)
    acc0, n = ranking_accuracy(prm, test, seed=0)
    cfg = T.TrainConfig(labels="gae", epochs=4, batch_size=16, seed=0, progress=False)
    res = T.train_prm(prm, train, val, cfg)
    acc1, _ = ranking_accuracy(prm, test, seed=0)
    assert n > 20
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < losses[0], losses
    least, gain = (0.95, 0.05) if coverage else (0.8, 0.15)
    assert acc1 >= least and acc1 > acc0 + gain, (acc0, acc1)


def test_token_states_depend_on_batch_mates_only_by_rounding(eps):
    """Texts share packed encoder rows, each attending to itself alone."""
    prm = _prm(eps)
    enc = prm.encoder
    (r,) = enc.rows(["go to room 3 now"])
    a, n = enc.store.start[r], enc.store.length[r]
    alone = enc.store.states[a : a + n].astype(np.float32)
    enc.reset()
    rows = enc.rows(["x", "a much longer text about rooms and pits", "go to room 3 now", "y z"])
    s, n = enc.store.start[rows[2]], enc.store.length[rows[2]]
    together = enc.store.states[s : s + n].astype(np.float32)
    # stored in float16 (spacing 0.002 at these magnitudes), from products that round by
    # the row's make-up; a text that saw its row-mates would be 0.012 off here
    assert np.abs(alone).max() < 4
    np.testing.assert_allclose(together, alone, atol=0.005)


def test_token_store_round_trips_in_one_file_and_refuses_another_tag(eps, tmp_path):
    from agentprm_gym.prm.text_encoder import TokenStore

    enc = _prm(eps).encoder
    enc.rows(["alpha beta", "gamma 12.5 dollars", "delta"])
    path = enc.store.save(tmp_path / "cache")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # no side files left
    back = TokenStore.load(path, enc.dim, enc.tag)
    assert back is not None and back.index == enc.store.index
    np.testing.assert_array_equal(back.states, enc.store.states)
    np.testing.assert_array_equal(back.numbers, enc.store.numbers)
    np.testing.assert_array_equal(back.ids, enc.store.ids)
    assert TokenStore.load(path, enc.dim, enc.tag + "x") is None
    from safetensors.numpy import save_file

    # a version-1 file is rebuilt, not read (even one that holds every array)
    old = tmp_path / "v1"
    arrays = {k: getattr(enc.store, k) for k in ("states", "numbers", "ids")}
    arrays |= {k: np.asarray(getattr(enc.store, k)) for k in ("start", "length")}
    keys = json.dumps(sorted(enc.store.index, key=enc.store.index.__getitem__))
    meta = {"format": "agentprm-gym/token-store", "version": "1", "tag": enc.tag, "keys": keys}
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(old), metadata=meta)
    assert TokenStore.load(old, enc.dim, enc.tag) is None
    path.write_bytes(b"garbage")
    assert TokenStore.load(path, enc.dim, enc.tag) is None


def test_a_tiny_checkpoint_without_its_encoder_is_refused(eps, tmp_path):
    import shutil

    d = _prm(eps).save_pretrained(tmp_path / "prm")
    shutil.rmtree(d / "encoder")
    with pytest.raises(CheckpointError, match="encoder"):
        AgentPRM.from_pretrained(d)


def _side(net, instr):
    """The coverage part of an instruction's side (what ``_cover`` reads)."""
    none = torch.empty(0)
    return net._instruction_side(none, none, instr, none, none)


def test_coverage_by_hand():
    """A text holding every instruction token covers it fully; a text of opposites only partly."""
    torch.manual_seed(0)
    net = StateNet(8, d=8, heads=2, coverage=True)
    with torch.no_grad():
        net.cov_t.weight.copy_(net.cov_i.weight)
        net.cov_t.bias.copy_(net.cov_i.bias)
    instr = torch.randn(5, 8)
    imp = net.cov_w(instr).softmax(0).t()  # (heads, tokens): sums to 1 per head
    vi = net._heads(net.cov_v(instr))  # (tokens, heads, d/heads)
    same = torch.nn.functional.normalize(net._heads(net.cov_t(instr)), dim=-1)
    # pair 0: the instruction's own tokens; pair 1: each of them negated (cosine -1 -> 0)
    texts = torch.cat([same, -same])
    local = torch.tensor([0] * 5 + [1] * 5)
    with torch.no_grad():
        out = net._cover(texts, local, 2, _side(net, instr))
    h, d = 2, 8
    cov, got, lack = out[:, :h], out[:, h : h + d], out[:, h + d :]
    full = torch.einsum("hl,lhd->hd", imp, vi).reshape(d)
    torch.testing.assert_close(cov[0], torch.ones(h))
    torch.testing.assert_close(got[0], full)
    torch.testing.assert_close(lack[0], torch.zeros(d))
    # each negated token's best match is another negated token: below 1, so partly missing
    assert (cov[1] < 1).all()
    torch.testing.assert_close(got[1] + lack[1], full)


def test_token_ids_are_stored_with_special_tokens_as_minus_one(eps):
    enc = _prm(eps).encoder
    a, b = enc.rows(["room 3", "go to room 3"])
    st = enc.store

    def ids(r):
        return st.ids[st.start[r] : st.start[r] + st.length[r]].tolist()

    special = set(enc.tokenizer.all_special_ids)
    want = [-1 if t in special else t for t in enc.tokenizer("room 3")["input_ids"]]
    assert ids(a) == want and want[0] == -1 and want[-1] == -1  # [CLS] ... [SEP]
    inner = [t for t in want if t >= 0]
    assert ids(b)[-1 - len(inner) : -1] == inner  # the same word pieces, the same ids


def test_exact_coverage_by_hand():
    """The exact share and the absent vector weigh the instruction tokens a text holds verbatim."""
    torch.manual_seed(0)
    net = StateNet(8, d=8, heads=2, coverage=True, exact=True)
    instr = torch.randn(4, 8)
    imp = net.cov_w(instr).softmax(0).t()  # (heads, tokens)
    vi = net._heads(net.cov_v(instr))  # (tokens, heads, d/heads)
    texts = torch.nn.functional.normalize(net._heads(net.cov_t(torch.randn(3, 8))), dim=-1)
    local = torch.tensor([0, 0, 1])  # pair 0: two tokens; pair 1: one token
    eq = torch.zeros(3, 4)
    eq[0, 2] = 1.0  # pair 0's first token is instruction token 2
    eq[1, 0] = 1.0  # pair 0's second token is instruction token 0
    with torch.no_grad():
        out = net._cover(texts, local, 2, _side(net, instr), eq)
    h, d = 2, 8
    share, absent = out[:, h + 2 * d : 2 * h + 2 * d], out[:, 2 * h + 2 * d :]
    assert out.shape == (2, 2 * h + 3 * d)
    torch.testing.assert_close(share[0], imp[:, 0] + imp[:, 2])
    torch.testing.assert_close(share[1], torch.zeros(h))
    want0 = torch.einsum("hl,lhd->hd", imp[:, [1, 3]], vi[[1, 3]]).reshape(d)
    torch.testing.assert_close(absent[0], want0)
    torch.testing.assert_close(absent[1], torch.einsum("hl,lhd->hd", imp, vi).reshape(d))


def test_exact_flag_sees_only_the_instructions_word_pieces(eps):
    """The exact channel changes a score only through ids the instruction shares with a text."""
    prm = _prm(eps, exact=True)
    store = prm.encoder.store
    instr, same, other = prm.encoder.rows(["walk to room 3", "room 3 is here", "a pit lies"])
    ctx = [Context(instr, (), (same, other))]
    cands = [Candidate(0, same, 0, 1, 5), Candidate(0, other, 1, 1, 5)]
    x = pack_inputs(store, ctx, cands, torch.device("cpu"), split_history=True)
    with torch.no_grad():
        prm.net.eval()
        base = prm.net(x)
        # ids of the unrelated text that match nothing: changing them changes nothing
        x.ids[x.tok_text == x.tok_text.max()] = -1
        torch.testing.assert_close(prm.net(x), base)
        # hiding the shared word pieces of "room 3 is here" changes the scores
        x.ids[x.tok_text == 1] = -1
        assert not torch.allclose(prm.net(x), base)


def test_the_network_without_exact_has_the_shapes_of_older_checkpoints(eps):
    """exact=False is the network checkpoints were saved with before the channel existed."""
    d, heads = 32, 4
    net = _prm(eps, exact=False).net
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["match_mlp.0.weight"] == (2 * d, 3 * d + 6)
    assert shapes["pair_out.0.weight"] == (d, 5 * d + heads)
    with_exact = {k: tuple(v.shape) for k, v in _prm(eps, exact=True).net.state_dict().items()}
    assert with_exact.keys() == shapes.keys()  # the same parameters, two of them wider
    assert {k for k in shapes if shapes[k] != with_exact[k]} == {
        "match_mlp.0.weight",
        "pair_out.0.weight",
    }
    # and token ids do not reach it
    prm = _prm(eps)
    store = prm.encoder.store
    instr, same = prm.encoder.rows(["walk to room 3", "room 3 is here"])
    ctx, cand = [Context(instr, (), (same,))], [Candidate(0, same, 0, 1, 5)]
    x = pack_inputs(store, ctx, cand, "cpu", split_history=True)
    with torch.no_grad():
        prm.net.eval()
        base = prm.net(x)
        x.ids[:] = -1
        torch.testing.assert_close(prm.net(x), base, rtol=0, atol=0)


@pytest.mark.parametrize("exact", [False, True])
def test_kept_pairs_of_one_instruction_beside_new_pairs_of_another(eps, exact):
    """Keys and values are projected per instruction whatever pairs the cache already holds."""
    prm = _prm(eps, exact=exact)
    a = ScoreItem(
        "Walk to room 3.", ("You are in room 0 of 3. [SEP] A pit lies here.",), "go[next]"
    )
    b = ScoreItem(
        "Jump over the pit in room 2.", ("You are in room 2 of 3. [SEP] A pit.",), "jump[pit]"
    )
    both = [a, a._replace(action="wait"), b, b._replace(action="go[back]")]
    cold = prm.score(both)
    prm.clear_cache()
    prm.score([a, a._replace(action="wait")])  # every pair of a's instruction is now kept
    prm._cache.clear()  # drop the scores, keep the matched pairs
    np.testing.assert_allclose(prm.score(both), cold, atol=1e-6)


def test_previous_observations_are_part_of_the_state(eps):
    """Two states that differ only in an earlier observation: one key and one score for a
    PRM that reads only the current observation, two for one that reads the previous."""
    moved = STATE._replace(
        history=(("You are in room 1 of 3. Nothing here.", "wait"), STATE.history[-1])
    )
    blind, seeing = _prm(eps), _prm(eps, previous=1)
    assert blind.state_key(moved) == blind.state_key(STATE)
    assert seeing.state_key(STATE)[3] == (STATE.history[0][0],)
    assert seeing.state_key(moved) != seeing.state_key(STATE)
    assert blind.score([moved])[0] == blind.score([STATE])[0]
    assert abs(seeing.score([moved])[0] - seeing.score([STATE])[0]) > 1e-6
    first = STATE._replace(history=STATE.history[-1:])  # the first step has none
    assert seeing.state_key(first)[3] == ()
    assert np.isfinite(seeing.score([first])).all()


def test_the_state_keeps_the_last_n_previous_observations_oldest_first(eps):
    turns = tuple((f"You are in room {i} of 3.", "go[next]") for i in range(3))
    item = STATE._replace(history=(*turns, STATE.history[-1]))
    prm = _prm(eps, previous=2)
    assert prm.state_key(item)[3] == ("You are in room 1 of 3.", "You are in room 2 of 3.")
    texts = prm.context_texts(prm.state_key(item))
    assert texts[3] == [["You are in room 1 of 3."], ["You are in room 2 of 3."]]
    # with learned recency offsets the two previous observations are told apart
    with torch.no_grad():
        prm.net.prev_rec_k.normal_(0, 1.0)
        prm.net.prev_rec_v.normal_(0, 1.0)
    prm.clear_cache()
    swapped = STATE._replace(history=(turns[0], turns[2], turns[1], STATE.history[-1]))
    assert abs(prm.score([item])[0] - prm.score([swapped])[0]) > 1e-6


@pytest.mark.parametrize(("coverage", "exact"), [(True, False), (False, False), (True, True)])
def test_matcher_parameters_are_the_matching_layers_and_nothing_else(eps, coverage, exact):
    net = _prm(eps, coverage=coverage, exact=exact).net
    names = {id(p): n for n, p in net.named_parameters()}
    modules = {names[id(p)].split(".")[0] for p in net.matcher_parameters()}
    want = {"proj", "m_q", "m_k", "m_v", "m_o", "match_mlp", "pair_out", "instr_out"}
    want |= {"cov_t", "cov_i", "cov_v", "cov_w"} if coverage else set()
    assert modules == want
    # every parameter of those modules, once
    expected = [n for n in names.values() if n.split(".")[0] in want]
    assert sorted(names[id(p)] for p in net.matcher_parameters()) == sorted(expected)


def test_matcher_lr_end_stops_the_matching_layers_and_trains_the_rest(eps, monkeypatch):
    """The matching layers' rate reaches 0 at ``matcher_lr_end``; the rest learn on."""
    prm = _prm(eps)
    matcher = {id(p) for p in prm.net.matcher_parameters()}
    params = dict(prm.net.named_parameters())
    steps = []  # per optimiser step: (group rates, did proj / head weights move)

    class Recording(torch.optim.AdamW):
        def step(self, closure=None):
            was = params["proj.0.weight"].detach().clone(), params["head.1.weight"].detach().clone()
            out = super().step(closure)
            moved = [
                not torch.equal(w, params[n])
                for w, n in zip(was, ("proj.0.weight", "head.1.weight"))
            ]
            steps.append(([g["lr"] for g in self.param_groups], moved))
            return out

    cfg = T.TrainConfig(
        labels="gae", epochs=2, batch_size=8, lr=1e-3, seed=0, progress=False, matcher_lr_end=0.5
    )
    frozen = {}  # the matching weights at the first step whose rate is 0

    class Watch(Recording):
        def step(self, closure=None):
            out = super().step(closure)
            if len(self.param_groups) > 1 and self.param_groups[1]["lr"] == 0 and not frozen:
                frozen.update({id(p): p.detach().clone() for p in prm.net.matcher_parameters()})
            return out

    monkeypatch.setattr(T.torch.optim, "AdamW", Watch)
    T.train_prm(prm, eps, config=cfg)
    assert len(steps) >= 8
    assert frozen and len(frozen) == len(matcher)
    assert all(torch.equal(frozen[id(p)], p) for p in prm.net.matcher_parameters())
    stopped = 0
    peak = max(range(len(steps)), key=lambda k: steps[k][0][0])
    for k, ((rest, match), (proj_moved, head_moved)) in enumerate(steps):
        if k > peak:  # past the warm-up: read the fraction done off the others' rate
            done = 1.0 - 0.95 * rest / 1e-3  # (1 − done) / (1 − 0.05) = rest / 1e-3
            assert match == pytest.approx(1e-3 * max(0.0, (0.5 - done) / 0.45), abs=1e-12)
        else:
            assert match == rest  # the common warm-up
        assert head_moved  # the other layers learn to the end (their last rate > 0)
        assert proj_moved == (match > 0), k
        stopped += match == 0
    assert 0.4 * len(steps) <= stopped <= 0.6 * len(steps)
    # the default: one group, one schedule
    steps.clear()
    plain = _prm(eps)
    params.update(plain.net.named_parameters())
    T.train_prm(plain, eps, config=dataclasses.replace(cfg, epochs=1, matcher_lr_end=1.0))
    assert all(len(rates) == 1 and moved == [True, True] for rates, moved in steps)


def test_matcher_lr_factor_hand_worked():
    f = T.matcher_lr_factor
    assert f(0, 100, 0.05, 0.5) == pytest.approx(0.2)  # the common warm-up
    assert f(4, 100, 0.05, 0.5) == 1.0
    assert f(10, 100, 0.05, 0.5) == pytest.approx(0.4 / 0.45)  # (0.5 − 0.1) / (0.5 − 0.05)
    assert f(27, 100, 0.05, 0.5) == pytest.approx(0.23 / 0.45)
    assert f(50, 100, 0.05, 0.5) == 0.0 and f(99, 100, 0.05, 0.5) == 0.0
    assert f(10, 100, 0.05, 0.5, time_spent=0.4) == pytest.approx(0.1 / 0.45)  # the clock
    for step in range(100):  # end = 1 is the common schedule
        assert f(step, 100, 0.05, 1.0) == pytest.approx(T.lr_factor(step, 100, 0.05))
    for end in (0.05, 0.01, 1.5):
        with pytest.raises(ValueError, match="end must lie"):
            f(0, 100, 0.05, end)
