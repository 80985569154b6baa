from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from agentprm_gym.prm import labels as L
from agentprm_gym.prm import training as T
from agentprm_gym.prm.metrics import ranking_accuracy
from agentprm_gym.prm.model import AgentPRM
from agentprm_gym.prm.steps import canonical_order, episode_steps, split_by_task
from agentprm_gym.prm.train_data import CrossEncoderSteps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402


def _tiny(train, seed=0):
    corpus = [f"{i.history[-1]} {i.action} {i.instruction}" for e in train for i in e.items]
    return AgentPRM.create("tiny", tiny_corpus=corpus, seed=seed, max_length=64, max_turns=1)


def test_loss_formulas_hand_worked():
    pred = torch.tensor([0.2, 0.5, 0.9])
    tgt = torch.tensor([0.0, 1.0, 1.0])
    full = torch.tensor([True, True, True])
    total, lq, la = T.prm_loss(pred, tgt, full, torch.tensor([False, True, True]), beta=1.0)
    assert lq.item() == pytest.approx(0.5 * (0.04 + 0.25 + 0.01) / 3)
    # progress: model (0.3, 0.4) vs target (1.0, 0.0) -> (0.49 + 0.16) / 2
    assert la.item() == pytest.approx(0.325)
    assert total.item() == pytest.approx(0.05 + 0.325)
    # beta scales L_A; a pair across an episode boundary is not counted
    total, _, la = T.prm_loss(pred, tgt, full, torch.tensor([False, True, False]), beta=2.0)
    assert la.item() == pytest.approx(0.49)
    assert total.item() == pytest.approx(0.05 + 0.98)
    # ORM mask: only the last step, no pairs
    mask = torch.tensor([False, False, True])
    total, lq, la = T.prm_loss(pred, tgt, mask, torch.tensor([False, False, False]), beta=1.0)
    assert (
        lq.item() == pytest.approx(0.005)
        and la.item() == 0.0
        and total.item() == pytest.approx(0.005)
    )


def test_weighted_loss_hand_worked():
    pred = torch.tensor([0.2, 0.5, 0.9])
    tgt = torch.tensor([0.0, 1.0, 1.0])
    full = torch.tensor([True, True, True])
    pair = torch.tensor([False, True, True])
    w = torch.tensor([1.0, 2.0, 5.0])
    total, lq, la = T.prm_loss(pred, tgt, full, pair, beta=1.0, weight=w)
    # squared errors 0.04, 0.25, 0.01 weighted 1, 2, 5 over a weight of 8
    assert lq.item() == pytest.approx(0.5 * (0.04 + 0.5 + 0.05) / 8)
    # progress errors 0.49 (pair 0-1, step 1's weight 2) and 0.16 (pair 1-2, weight 5)
    assert la.item() == pytest.approx((2 * 0.49 + 5 * 0.16) / 7)
    # equal weights give the unweighted loss; the mask drops a step's weight too
    same = T.prm_loss(pred, tgt, full, pair, 1.0, weight=torch.full((3,), 3.0))
    plain = T.prm_loss(pred, tgt, full, pair, 1.0)
    assert [x.item() for x in same] == pytest.approx([x.item() for x in plain])
    mask = torch.tensor([True, False, True])
    _, lq, _ = T.prm_loss(pred, tgt, mask, torch.zeros(3, dtype=torch.bool), 1.0, weight=w)
    assert lq.item() == pytest.approx(0.5 * (0.04 + 0.05) / 6)


def test_within_state_loss_hand_worked():
    pred = torch.tensor([0.2, 0.6, 0.5, 0.9])
    tgt = torch.tensor([0.0, 1.0, 0.3, 0.4])
    full = torch.ones(4, dtype=torch.bool)
    group = torch.tensor([7, 7, 3, 5])
    # state 7: model deviations (-0.2, 0.2), target ones (-0.5, 0.5): errors 0.3, -0.3;
    # states 3 and 5 hold one step each and add 0; the mean runs over all 4 steps
    lw = T.within_state_loss(pred, tgt, full, group)
    assert lw.item() == pytest.approx(0.5 * (0.09 + 0.09) / 4)
    # L_Q = the state means' error (per step) + L_W, exactly
    _, lq, _ = T.prm_loss(pred, tgt, full, torch.zeros(4, dtype=torch.bool), beta=0.0)
    means = 0.5 * (2 * (0.4 - 0.5) ** 2 + (0.5 - 0.3) ** 2 + (0.9 - 0.4) ** 2) / 4
    assert lq.item() == pytest.approx(means + lw.item())
    # an unlabelled step leaves its state's means and the mean over steps: with step 2
    # in state 7 too but unlabelled, state 7's means stay 0.4 and 0.5
    mask = torch.tensor([True, True, False, True])
    three = torch.tensor([7, 7, 7, 5])
    assert T.within_state_loss(pred, tgt, mask, three).item() == pytest.approx(0.09 / 3)
    # weights: state 7's means become (1·0.2 + 4·0.6)/5 = 0.52 and (0 + 4·1.0)/5 = 0.8,
    # errors (-0.32 + 0.8, 0.08 - 0.2) = (0.48, -0.12), weighted over a weight of 7
    w = torch.tensor([1.0, 4.0, 1.0, 1.0])
    lw = T.within_state_loss(pred, tgt, full, group, w)
    assert lw.item() == pytest.approx(0.5 * (0.48**2 + 4 * 0.12**2) / 7)
    assert lw.item() != pytest.approx(T.within_state_loss(pred, tgt, full, group).item())
    # equal weights give the unweighted loss; no labelled step gives 0
    same = T.within_state_loss(pred, tgt, full, group, torch.full((4,), 2.0))
    assert same.item() == pytest.approx(T.within_state_loss(pred, tgt, full, group).item())
    assert T.within_state_loss(pred, tgt, torch.zeros(4, dtype=torch.bool), group).item() == 0


def test_within_weight_adds_eta_times_the_within_state_loss():
    eps = episode_steps(corridor_trajectories([1, 2], 4, eps=0.5, seed=3))
    prm = _tiny(eps)
    prm.net.eval()
    data = CrossEncoderSteps(prm, eps)
    # rollouts of a task start in the same state: the ids group them
    starts = data.state_ids[data.offsets[:-1].astype(int)]
    assert len(set(starts.tolist())) == 2 and len(data.state_ids) == data.offsets[-1]
    batch = list(range(len(eps)))
    cfg = T.TrainConfig(labels="gae")
    with torch.no_grad():
        plain = T._batch_loss(data, eps, batch, None, cfg, 1.0)
        both = T._batch_loss(data, eps, batch, None, cfg, 1.0, within=2.0)
    assert plain[3].item() == 0.0 and both[3].item() > 0
    assert both[0].item() == pytest.approx(plain[0].item() + 2.0 * both[3].item())
    with pytest.raises(ValueError, match="within_weight"):
        T.train_prm(prm, eps, config=T.TrainConfig(within_weight=-1.0, progress=False))


def test_within_weight_falls_linearly_to_zero_over_training(monkeypatch):
    eps = episode_steps(corridor_trajectories(range(4), 3, eps=0.5, seed=2))
    seen = []
    inner = T._batch_loss

    def spy(*args, within=0.0, **kw):
        seen.append(within)
        return inner(*args, within=within, **kw)

    monkeypatch.setattr(T, "_batch_loss", spy)
    cfg = T.TrainConfig(labels="gae", epochs=2, batch_size=8, progress=False, within_weight=3.0)
    res = T.train_prm(_tiny(eps), eps, config=cfg)
    # step k of the n planned gets η·max(0, 1 − k/n) (n: the batches of an epoch in the
    # canonical order, times the epochs, as the learning rate's decay counts them)
    ordered = canonical_order(eps)
    n = 2 * len(T._batches([len(e) for e in ordered], range(len(ordered)), 8))
    assert len(seen) == res.optimizer_steps > 2
    assert seen == pytest.approx([3.0 * max(0.0, 1 - k / n) for k in range(len(seen))])
    assert res.history[0]["train_lw"] > 0
    seen.clear()
    T.train_prm(_tiny(eps), eps, config=T.TrainConfig(labels="gae", epochs=1, progress=False))
    assert seen and set(seen) == {0.0}


def test_loss_gradient_does_not_flow_into_targets():
    pred = torch.tensor([0.2, 0.6], requires_grad=True)
    tgt = torch.tensor([0.5, 1.0], requires_grad=True)
    total, _, _ = T.prm_loss(
        pred, tgt, torch.tensor([True, True]), torch.tensor([False, True]), 1.0
    )
    total.backward()
    assert tgt.grad is None and pred.grad is not None


def test_episode_targets_per_kind():
    ep = episode_steps(corridor_trajectories([1], 1, eps=0.0))[0]  # expert: 3 steps, won
    v = np.array([0.2, 0.4, 0.7])
    t, m = T.episode_targets(ep, "gae", v, lam=0.9, gamma=1.0)
    np.testing.assert_allclose(t, L.gae_targets(v, ep.rewards, 1.0, 0.9))
    assert m.all() and t[-1] == 1.0
    t, _ = T.episode_targets(ep, "td0", v)
    np.testing.assert_allclose(t, [0.4, 0.7, 1.0])
    t, _ = T.episode_targets(ep, "pvm")
    np.testing.assert_allclose(t, [1.0, 1.0, 1.0])
    t, m = T.episode_targets(ep, "outcome")
    assert m.tolist() == [False, False, True] and t[-1] == 1.0
    with pytest.raises(ValueError, match="collect with --mc N"):
        T.episode_targets(ep, "mc")
    with pytest.raises(ValueError, match="need the model's values"):
        T.episode_targets(ep, "gae")
    ep.mc_soft = np.array([0.5, 0.75, 1.0])
    np.testing.assert_allclose(T.episode_targets(ep, "mc")[0], ep.mc_soft)


def test_gae_targets_come_from_each_batch_own_predictions(monkeypatch):
    """Algorithm 1: the λ-return targets of a batch are computed from that batch's M."""
    train = episode_steps(corridor_trajectories(range(3), 2, seed=5))
    prm = _tiny(train)
    real = T.episode_targets
    seen = []

    def spy(ep, kind, values=None, **kw):
        if kind == "gae":
            # the values are the current model's predictions of exactly this episode
            seen.append(np.asarray(values).copy())
        return real(ep, kind, values, **kw)

    monkeypatch.setattr(T, "episode_targets", spy)
    res = T.train_prm(
        prm, train, config=T.TrainConfig(labels="gae", epochs=3, batch_size=4, progress=False)
    )
    n_batches = sum(h["batches"] for h in res.history)
    assert len(seen) >= n_batches  # at least one episode per optimiser step
    # the same episode's values differ between its first and last visit: targets move
    first, last = seen[0], next(v for v in reversed(seen) if len(v) == len(seen[0]))
    assert np.abs(first - last).max() > 1e-4
    shifts = [h["target_shift"] for h in res.history[1:]]
    assert all(s is not None and s > 0 for s in shifts), shifts
    assert res.history[0]["target_shift"] is None or res.history[0]["target_shift"] >= 0
    seen.clear()
    r = T.train_prm(prm, train, config=T.TrainConfig(labels="pvm", epochs=1, progress=False))
    assert seen == [] and "target_shift" not in r.history[0]  # fixed labels


def test_deterministic_given_seed_and_time_budget():
    train = episode_steps(corridor_trajectories(range(2), 2, seed=1))
    cfg = T.TrainConfig(labels="gae", epochs=1, batch_size=4, seed=7, progress=False)
    r1 = T.train_prm(_tiny(train), train, config=cfg)
    r2 = T.train_prm(_tiny(train), train, config=cfg)
    assert r1.final_loss == r2.final_loss and r1.optimizer_steps == r2.optimizer_steps
    cut = T.TrainConfig(labels="pvm", epochs=5, batch_size=2, max_minutes=1e-9, progress=False)
    r3 = T.train_prm(_tiny(train), train, config=cut)
    assert r3.stopped_early and r3.optimizer_steps == 1 and r3.epochs_run == 1


def test_lr_factor_hand_worked():
    f = T.lr_factor
    assert f(0, 100, 0.05) == pytest.approx(0.2)  # warm-up: (0 + 1) / (0.05 · 100)
    assert f(4, 100, 0.05) == 1.0
    assert f(50, 100, 0.05) == pytest.approx(0.5 / 0.95)
    assert f(99, 100, 0.05) == pytest.approx(0.01 / 0.95)  # the last step still learns
    assert f(100, 100, 0.05) == 0.0
    assert f(0, 1, 0.05) == 1.0  # a single step gets the full rate
    assert f(0, 10, 0.0) == 1.0 and f(5, 10, 0.0) == pytest.approx(0.5)
    # under a budget the clock can be further along than the steps
    assert f(10, 100, 0.05, time_spent=0.9) == pytest.approx(0.1 / 0.95)
    assert f(10, 100, 0.05, time_spent=0.01) == pytest.approx(0.9 / 0.95)  # steps ahead
    assert f(10, 100, 0.05, time_spent=1.5) == 0.0
    assert f(0, 100, 0.05, time_spent=5.0) == pytest.approx(0.2)  # the first step runs
    assert f(1, 100, 0.05, time_spent=0.03) == pytest.approx(0.6)  # warm-up by time


def test_bad_warmup_fraction_is_refused():
    train = episode_steps(corridor_trajectories(range(2), 2, seed=1))
    with pytest.raises(ValueError, match="warmup_fraction"):
        T.train_prm(_tiny(train), train, config=T.TrainConfig(warmup_fraction=0.7))


def test_learning_rate_reaches_zero_by_the_deadline():
    """Under a time budget the schedule decays by time as well as by steps."""
    train = episode_steps(corridor_trajectories(range(2), 2, seed=1))
    # far more epochs than fit: the step schedule alone would barely have decayed
    cut = T.TrainConfig(labels="pvm", epochs=10_000, batch_size=2, max_minutes=1e-9, progress=False)
    r = T.train_prm(_tiny(train), train, config=cut)
    assert r.stopped_early and r.history[-1]["lr"] == 0.0
    # without a budget: linear decay by steps, to 0 after the last step
    full = T.TrainConfig(labels="pvm", epochs=2, batch_size=2, lr=1e-3, progress=False)
    h = T.train_prm(_tiny(train), train, config=full).history
    assert 0.0 < h[0]["lr"] < 1e-3 and h[-1]["lr"] == 0.0


def test_the_same_episodes_in_another_order_train_the_same_model():
    train = episode_steps(corridor_trajectories(range(4), 3, eps=0.5, seed=2))
    cfg = T.TrainConfig(labels="gae", epochs=2, batch_size=4, seed=3, progress=False)
    shuffled = [train[i] for i in np.random.default_rng(0).permutation(len(train))]
    assert [e.trajectory.task_id for e in shuffled] != [e.trajectory.task_id for e in train]
    a, b = _tiny(train), _tiny(shuffled)
    T.train_prm(a, train, config=cfg)
    T.train_prm(b, shuffled, config=cfg)
    sa, sb = a.net.state_dict(), b.net.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_canonical_order_sorts_by_task_and_seed_and_never_ties_different_episodes():
    eps = episode_steps(corridor_trajectories([2, 0, 1], 2, eps=0.5, seed=4))
    got = canonical_order(reversed(eps))
    keys = [e.trajectory.task_id for e in got]  # the helper sets no seeds
    assert keys == sorted(keys) and canonical_order(eps) == got
    twin = copy.deepcopy(got[0].trajectory)
    twin.meta = {**twin.meta, "note": "another label"}
    (extra,) = episode_steps([twin])
    assert canonical_order([extra, got[0]]) == canonical_order([got[0], extra])


def test_mc_without_labels_fails_early():
    train = episode_steps(corridor_trajectories(range(2), 1))
    with pytest.raises(ValueError, match="collect with --mc N"):
        T.train_prm(_tiny(train), train, config=T.TrainConfig(labels="mc", progress=False))
    with pytest.raises(ValueError, match="labels must be one of"):
        T.train_prm(_tiny(train), train, config=T.TrainConfig(labels="nope", progress=False))


def test_tiny_training_lowers_loss_and_improves_ranking():
    """Runs in well under a minute on an idle 2-core CPU."""
    eps = episode_steps(corridor_trajectories(range(16), 6, eps=0.5, seed=0))
    train, val = split_by_task(eps, 0.25, seed=0)
    assert train and val
    test = episode_steps(corridor_trajectories(range(100, 106), 3, eps=0.5, seed=1, split="test"))
    prm = _tiny(train)
    cfg = T.TrainConfig(labels="gae", epochs=3, batch_size=8, seed=0, progress=False)
    loss0 = T.dataset_loss(prm, train, cfg)
    acc0, n = ranking_accuracy(prm, test, seed=0)
    res = T.train_prm(prm, train, val, cfg)
    loss1 = T.dataset_loss(prm, train, cfg)
    acc1, _ = ranking_accuracy(prm, test, seed=0)
    assert n > 20
    # Most of the loss is the irreducible noise of the noisy policy's outcomes,
    # so the drop is small but strict, both on the data and epoch over epoch.
    assert loss1 < loss0, (loss0, loss1)
    losses = [h["train_loss"] for h in res.history]
    assert losses[-1] < losses[0], losses
    assert acc1 >= 0.8 and acc1 > acc0 + 0.15, (acc0, acc1)
    assert len(res.history) == 3 and res.heldout["val_ranking_accuracy"] is not None
    assert res.train_seconds > 0 and np.isfinite(res.final_loss)


def test_batch_runs_each_distinct_input_once_with_the_same_loss_and_gradient():
    eps = episode_steps(corridor_trajectories([1, 2], 4, eps=0.0))  # repeated expert rollouts
    prm = _tiny(eps)
    prm.net.eval()  # no dropout, so one pass per distinct input must equal one per copy
    data = CrossEncoderSteps(prm, eps)
    assert len(np.unique(data.src)) < len(data.src)
    tg = np.linspace(0.1, 0.9, len(data.src))
    mk = np.ones(len(data.src), dtype=bool)
    batch = list(range(len(eps)))
    calls = []
    hook = prm.net.register_forward_hook(lambda m, a, kw_out: calls.append(1))
    cfg = T.TrainConfig(labels="pvm")
    loss, _, _, _, idx, _ = T._batch_loss(data, eps, batch, (tg, mk), cfg, beta=1.0)
    loss.backward()
    grad = [p.grad.clone() for p in prm.net.parameters() if p.grad is not None]
    hook.remove()
    prm.net.zero_grad()
    # Reference: every step through the network on its own.
    assert idx == list(range(len(data.src)))
    logits = prm.net(**data._collate(idx))
    pair = [i > lo for lo, hi in zip(data.offsets[:-1], data.offsets[1:]) for i in range(lo, hi)]
    ref, _, _ = T.prm_loss(
        torch.sigmoid(logits.float()),
        torch.as_tensor(tg, dtype=torch.float32),
        torch.as_tensor(mk),
        torch.as_tensor(pair),
        1.0,
    )
    ref.backward()
    ref_grad = [p.grad for p in prm.net.parameters() if p.grad is not None]
    assert calls == [1]
    # equal up to float noise (the two passes pad and batch differently)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-3)
    for g, r in zip(grad, ref_grad, strict=True):
        assert (g - r).norm() <= 1e-2 * r.norm() + 1e-6


def test_epoch_order_keeps_each_task_together():
    eps = episode_steps(corridor_trajectories([1, 2, 3], 3, eps=0.5))
    order = T._task_order(eps, np.random.default_rng(0))
    assert sorted(order) == list(range(len(eps)))
    tasks = [eps[i].task_id for i in order]
    # each task's episodes form one run
    runs = [t for k, t in enumerate(tasks) if k == 0 or t != tasks[k - 1]]
    assert sorted(runs) == sorted(set(tasks))


def test_training_weights_every_step_by_its_own_propensity(monkeypatch):
    from agentprm_gym.prm.propensity import trajectory_weights

    eps = episode_steps(corridor_trajectories(range(6), 3, eps=0.5, seed=2))
    train, val = split_by_task(eps, 0.34, seed=0)
    assert train and val
    seen = []
    inner = T._batch_loss

    def spy(data, episodes, eps_idx, fixed, cfg, beta, weights=None, **kw):
        seen.append((data.offsets, list(episodes), list(eps_idx), weights))
        return inner(data, episodes, eps_idx, fixed, cfg, beta, weights, **kw)

    monkeypatch.setattr(T, "_batch_loss", spy)
    cfg = T.TrainConfig(
        labels="gae", epochs=1, batch_size=8, progress=False, weighting="propensity"
    )
    T.train_prm(_tiny(train), train, val, cfg)
    checked = 0
    for offsets, episodes, idx, weights in seen:
        assert weights is not None
        for e in idx:  # the weights of an episode's steps are that episode's, in order
            got = weights[offsets[e] : offsets[e + 1]]
            np.testing.assert_allclose(got, trajectory_weights(episodes[e].trajectory))
            checked += len(got)
    assert checked > sum(len(e) for e in train)  # training batches and the held-out loss
    # weights that are not all equal change the loss
    monkeypatch.setattr(T, "_batch_loss", inner)
    prm = _tiny(train)
    plain = T.dataset_loss(prm, train, T.TrainConfig(labels="pvm"))
    weighted = T.dataset_loss(prm, train, T.TrainConfig(labels="pvm", weighting="propensity"))
    assert abs(weighted - plain) > 1e-6, (weighted, plain)
