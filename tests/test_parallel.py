"""The executor: inline, local processes and Ray give the same results."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from agentprm_gym.parallel import (
    InlineExecutor,
    ProcessExecutor,
    make_executor,
    worker_cache,
    worker_env,
    worker_policy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.shard_fns import cached_token, die_on_3, square_with_pid  # noqa: E402


def test_make_executor_choices():
    assert isinstance(make_executor(1), InlineExecutor)
    ex = make_executor(2)
    assert isinstance(ex, ProcessExecutor) and ex.parallelism == 2
    ex.close()
    with pytest.raises(ValueError):
        ProcessExecutor(0)
    with pytest.raises(ValueError, match="start_method"):
        ProcessExecutor(2, start_method="fork")


def test_inline_and_processes_give_the_same_results():
    shards = list(range(23))
    inline = list(InlineExecutor().imap_unordered(square_with_pid, shards))
    assert [r[:2] for r in inline] == [(x, x * x) for x in shards]
    with ProcessExecutor(2, max_in_flight=3) as ex:
        got = list(ex.imap_unordered(square_with_pid, shards))
    assert sorted(r[:2] for r in got) == [(x, x * x) for x in shards]
    assert os.getpid() not in {r[2] for r in got}


def test_worker_cache_builds_once_per_process():
    assert worker_cache("k-test", lambda: [1]) is worker_cache("k-test", lambda: [2])
    with ProcessExecutor(2) as ex:
        vals = list(ex.imap_unordered(cached_token, range(20)))
    assert 1 <= len(set(vals)) <= 2


def test_a_dying_worker_raises_instead_of_hanging():
    with ProcessExecutor(2) as ex, pytest.raises(BrokenProcessPool):
        list(ex.imap_unordered(die_on_3, range(8)))


def test_nothing_imports_ray_unless_asked():
    code = (
        "import sys, agentprm_gym.parallel as p, agentprm_gym.collection, "
        "agentprm_gym.prm.mc, agentprm_gym.commands.collect;"
        "ex = p.make_executor(2); ex.close();"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """A real local Ray instance with 2 CPUs whose workers can import tests/helpers."""
    ray = pytest.importorskip("ray")
    tests_dir = str(Path(__file__).resolve().parent)
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (tests_dir, old) if p)
    try:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = old
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_collect_and_mc_labels_equal_local_ones(tmp_path, local_ray):
    """Ray collect (with MC labels) and the Ray MC labeller give the local records exactly."""
    from helpers.chain_env import CORRIDOR_ID, corridor_env_spec

    from agentprm_gym.collection import collect, mc_label_file

    spec = corridor_env_spec()
    kw = dict(env=spec, tasks=8, per_task=3, seed=5, mc_rollouts=4, show_progress=False)
    local = collect(CORRIDOR_ID, "noisy:0.5", tmp_path / "local.jsonl", **kw)
    on_ray = collect(CORRIDOR_ID, "noisy:0.5", tmp_path / "ray.jsonl", ray_address="auto", **kw)
    assert on_ray.executor == "ray:auto"
    assert local.episodes_written == on_ray.episodes_written == 24
    assert _lines(tmp_path / "local.jsonl") == _lines(tmp_path / "ray.jsonl")
    assert local.mc_cost == on_ray.mc_cost

    lab = dict(env=spec, seed=2, show_progress=False)
    plain = tmp_path / "plain.jsonl"
    collect(CORRIDOR_ID, "random", plain, env=spec, tasks=4, per_task=2, show_progress=False)
    mc_label_file(plain, tmp_path / "l_local.jsonl", "noisy:0.5", 4, **lab)
    mc_label_file(plain, tmp_path / "l_ray.jsonl", "noisy:0.5", 4, ray_address="auto", **lab)
    assert _lines(tmp_path / "l_local.jsonl") == _lines(tmp_path / "l_ray.jsonl")
    assert local_ray.is_initialized()  # a joined instance is left running

    # The command line: --ray ADDRESS gives the same file as the local run.
    from helpers.chain_env import registered_corridor

    from agentprm_gym.cli import main

    cli_out = tmp_path / "cli.jsonl"
    args = ["collect", "--env", CORRIDOR_ID, "--policy", "noisy:0.5", "--tasks", "8"]
    args += ["--per-task", "3", "--seed", "5", "--mc", "4", "--no-progress"]
    with registered_corridor():
        assert main([*args, "--out", str(cli_out), "--ray", "auto"]) == 0
    assert _lines(cli_out) == _lines(tmp_path / "local.jsonl")


def _lines(path):
    return set(Path(path).read_text().splitlines())


def test_worker_env_keys_on_the_whole_spec():
    from helpers.chain_env import corridor_env_spec

    a = worker_env(corridor_env_spec(max_episode_steps=5))
    assert a is worker_env(corridor_env_spec(max_episode_steps=5))
    b = worker_env(corridor_env_spec(max_episode_steps=6))
    assert a is not b and b.spec.max_episode_steps == 6
    assert worker_env(corridor_env_spec(5), {"trap": False}) is not a
    assert worker_policy("random") is worker_policy("random")
