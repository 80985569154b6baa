"""The base class's contract, on a minimal counter env defined here."""

from __future__ import annotations

import pickle

import pytest
from gymnasium.utils.env_checker import check_env

from agentprm_gym.core.base_env import EpisodeEndedError, TextAgentEnv, Transition
from agentprm_gym.core.snapshot import EnvSnapshot, SnapshotError


class CounterEnv(TextAgentEnv):
    """Reach the target count with `inc`; `dec` goes back. Tasks: target = 1 + task_id % 4."""

    def __init__(self, split: str = "train", **kw):
        super().__init__(split=split, **kw)
        self.count = 0
        self.target = 0

    def num_tasks(self, split):
        return 10 if split == "train" else 5

    def _begin_task(self, split, task_id):
        self.count = 0
        self.target = 1 + task_id % 4
        return self._view()

    def _view(self):
        return f"count={self.count}"

    def _apply(self, action):
        a = action.strip()
        if a == "inc":
            self.count += 1
        elif a == "dec" and self.count > 0:
            self.count -= 1
        else:
            return Transition(self._error_observation(f"bad {a!r}"), 0.0, False, f"bad {a!r}")
        won = self.count == self.target
        return Transition(self._view(), 1.0 if won else 0.0, won, None)

    def admissible_actions(self):
        return ["inc", "dec"] if self.count else ["inc"]

    @property
    def instruction(self):
        return f"count to {self.target}"

    @property
    def won(self):
        return self.count == self.target

    def _get_payload(self):
        return (self.count, self.target)

    def _set_payload(self, payload):
        self.count, self.target = payload

    def expert_action(self):
        return "inc"

    def expert_steps_left(self):
        return self.target - self.count


def test_check_env_passes():
    check_env(CounterEnv(), skip_render_check=True)


def test_info_keys_and_seeded_task_choice():
    env = CounterEnv()
    _, info = env.reset(seed=5)
    for k in ("instruction", "admissible_actions", "action_error", "won"):
        assert k in info
    t1 = info["task_id"]
    _, info2 = CounterEnv().reset(seed=5)
    assert info2["task_id"] == t1


def test_options_pick_task_and_split():
    env = CounterEnv()
    _, info = env.reset(options={"task_id": 3, "split": "test"})
    assert (info["task_id"], info["split"]) == (3, "test")
    with pytest.raises(ValueError, match="out of range"):
        env.reset(options={"task_id": 5, "split": "test"})
    with pytest.raises(ValueError, match="unknown split"):
        env.reset(options={"split": "nope"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"taskid": 1})
    with pytest.raises(TypeError):
        env.reset(options={"task_id": "1"})


def test_invalid_action_keeps_state_and_reports():
    env = CounterEnv()
    env.reset(seed=0)
    before = env.get_state()
    obs, r, term, trunc, info = env.step("jump")
    assert info["action_error"] == "bad 'jump'" and "Invalid action" in obs
    assert (r, term, trunc) == (0.0, False, False)
    assert env.count == before.payload[0]


def test_non_str_action_is_type_error_and_huge_action_is_invalid():
    env = CounterEnv()
    env.reset(seed=0)
    with pytest.raises(TypeError, match="expects the action as a str"):
        env.step(3)  # type: ignore[arg-type]
    _, _, _, _, info = env.step("x" * 20_000)
    assert "limit" in info["action_error"]


def test_step_after_end_raises():
    env = CounterEnv()
    with pytest.raises(EpisodeEndedError):
        env.step("inc")
    env.reset(options={"task_id": 0})
    _, r, term, _, info = env.step("inc")
    assert term and r == 1.0 and info["won"] and info["admissible_actions"] == []
    with pytest.raises(EpisodeEndedError, match="reset"):
        env.step("inc")


def test_snapshot_roundtrip_and_pickle():
    env = CounterEnv()
    env.reset(options={"task_id": 3})
    env.step("inc")
    snap = env.get_state()
    rest1 = [env.step(a)[:4] for a in ("inc", "dec", "inc", "inc")]
    env.set_state(pickle.loads(pickle.dumps(snap)))
    rest2 = [env.step(a)[:4] for a in ("inc", "dec", "inc", "inc")]
    assert rest1 == rest2


def test_snapshot_from_other_env_is_refused():
    class Other(CounterEnv):
        pass

    a, b = CounterEnv(), Other()
    a.reset(seed=0)
    b.reset(seed=0)
    with pytest.raises(SnapshotError, match="snapshot is from"):
        b.set_state(a.get_state())
    with pytest.raises(SnapshotError):
        a.set_state("not a snapshot")  # type: ignore[arg-type]


def test_bad_render_mode():
    with pytest.raises(ValueError, match="render_mode"):
        CounterEnv(render_mode="rgb_array")
    env = CounterEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "count=0"


def test_snapshot_identity_compares_the_payload_key_in_place_of_the_payload():
    def snap(payload, key=None, steps=1):
        return EnvSnapshot("E", "E", "train", 0, steps, False, "obs", None, payload, None, key)

    assert snap([1, 2]).identity() == snap([1, 2]).identity() != snap([1, 3]).identity()
    # a key stands in for the payload: equal keys, equal identities whatever the payload holds
    assert snap(object(), key=(1, 2)).identity() == snap(object(), key=(1, 2)).identity()
    assert snap([1], key=(1, 2)).identity() != snap([1], key=(1, 3)).identity()
    assert snap([1], key=(1,)).identity() != snap([1], key=(1,), steps=2).identity()
    # a keyed payload never collides with an unkeyed one
    assert snap((True, (1,))).identity() != snap([1], key=(1,)).identity()
