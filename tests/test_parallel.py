"""The executor: inline, local processes and Ray give the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from agentprm_gym.parallel import (
    InlineExecutor,
    ProcessExecutor,
    default_worker_threads,
    group_for_workers,
    make_executor,
    worker_cache,
    worker_env,
    worker_policy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.shard_fns import (  # noqa: E402
    cached_token,
    die_on_3,
    sleep_unless_0,
    square_with_pid,
    torch_threads,
)


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


def test_workers_cap_their_math_threads():
    # one torch thread per worker: two workers with a thread per core each would
    # oversubscribe a 2-core machine (PRM scoring ran 3.7x slower per item)
    with ProcessExecutor(2, threads_per_worker=1) as ex:
        got = set(ex.imap_unordered(torch_threads, range(4)))
    assert got == {(1, "1")}
    with make_executor(2, threads_per_worker=2) as ex:
        assert set(ex.imap_unordered(torch_threads, range(2))) == {(2, "2")}
    assert ProcessExecutor(2).threads_per_worker == default_worker_threads(2)
    assert default_worker_threads(10**6) == 1
    with pytest.raises(ValueError, match="threads_per_worker"):
        ProcessExecutor(2, threads_per_worker=0)


def test_a_dying_worker_raises_instead_of_hanging():
    with ProcessExecutor(2) as ex, pytest.raises(BrokenProcessPool):
        list(ex.imap_unordered(die_on_3, range(8)))


def test_terminate_stops_long_shards_at_once():
    ex = ProcessExecutor(2)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="shard 0 failed"):
        list(ex.imap_unordered(sleep_unless_0, range(2)))
    ex.terminate()  # close() would wait a minute for shard 1
    assert time.perf_counter() - t0 < 45
    ex.terminate()  # a second call is a no-op


def test_nothing_imports_ray_unless_asked():
    code = (
        "import sys, agentprm_gym.parallel as p, agentprm_gym.collection, "
        "agentprm_gym.prm.mc, agentprm_gym.commands.collect, agentprm_gym.commands.search;"
        "ex = p.make_executor(2); ex.close();"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


#: Runs collect, search and a sweep on 2 local worker processes, then says whether Ray
#: was imported (argv[1]: the tests directory, argv[2]: a scratch directory).
_LOCAL_RUNS = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from helpers.chain_env import CORRIDOR_ID, registered_corridor
from agentprm_gym.cli import main
tmp = Path(sys.argv[2])
(tmp / "s.yaml").write_text(sys.argv[3])
with registered_corridor():
    common = ["--env", CORRIDOR_ID, "--policy", "noisy:0.5", "--workers", "2"]
    assert main(["collect", *common, "--tasks", "2", "--per-task", "2", "--mc", "2",
                 "--out", str(tmp / "c.jsonl"), "--no-progress"]) == 0
    assert main(["search", *common, "--episodes", "4", "--method", "bon", "--n", "2",
                 "--prm", "random"]) == 0
    assert main(["bench", "sweep", "--config", str(tmp / "s.yaml"), "--out", str(tmp / "sw"),
                 "--workers", "2", "--no-progress"]) == 0
print("RAY-IMPORTED", "ray" in sys.modules)
"""


def test_local_collect_search_and_sweep_do_not_import_ray(tmp_path):
    from helpers.chain_env import CORRIDOR_ID

    cfg = SWEEP.format(env=CORRIDOR_ID, tasks=2, methods="[policy, bon@2]", prms="[random]")
    tests_dir = str(Path(__file__).resolve().parent)
    out = subprocess.run(
        [sys.executable, "-c", _LOCAL_RUNS, tests_dir, str(tmp_path), cfg],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "RAY-IMPORTED False"
    assert (tmp_path / "sw" / "results.csv").exists()


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


def _last_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _untimed(summary):
    """A search summary without what depends on where and how fast it ran.

    The PRM calls go too: tasks searched in lockstep share them, and how many tasks
    share a call depends on how many workers there are.
    """
    drop = ("wall_seconds", "executor", "lockstep")
    d = {k: v for k, v in summary.items() if k not in drop}
    d["ledger"] = {k: v for k, v in d["ledger"].items() if k not in ("wall_seconds", "prm_calls")}
    return d


@pytest.mark.slow
def test_ray_search_over_many_episodes_equals_local_search(tmp_path, local_ray, capsys):
    """`search --ray` gives the local summary and the same --out file, line for line."""
    from helpers.chain_env import CORRIDOR_ID, registered_corridor

    from agentprm_gym.cli import main

    base = ["search", "--env", CORRIDOR_ID, "--policy", "noisy:0.6", "--episodes", "8"]
    base += ["--seed", "4", "--json"]
    methods = {
        "policy": ["--method", "policy"],
        "bon": ["--method", "bon", "--prm", "random", "--n", "3"],
        "beam": ["--method", "beam", "--prm", "oracle", "--n", "2", "--expand", "2"],
    }
    with registered_corridor():
        for name, method in methods.items():
            got = {}
            for where, extra in (("local", []), ("ray", ["--ray", "auto"])):
                out = tmp_path / f"{name}-{where}.jsonl"
                assert main([*base, *method, "--out", str(out), *extra]) == 0
                got[where] = _last_json(capsys)
            assert got["local"]["executor"] == "inline"
            assert got["ray"]["executor"] == "ray:auto"
            assert got["ray"]["episodes"] == 8
            assert _untimed(got["ray"]) == _untimed(got["local"]), name
            local_lines = (tmp_path / f"{name}-local.jsonl").read_text().splitlines()
            ray_lines = (tmp_path / f"{name}-ray.jsonl").read_text().splitlines()
            assert len(local_lines) == 8 and ray_lines == local_lines, name


#: A sweep config template: fixed PRMs only, so nothing is trained.
SWEEP = """
name: ray-equivalence
envs:
  - id: {env}
    policy: noisy:0.6
    test_tasks: {tasks}
prms: {prms}
methods: {methods}
seeds: [0, 1]
examples: 1
"""


@pytest.mark.slow
def test_ray_sweep_rows_equal_local_rows(tmp_path, local_ray):
    """`bench sweep --ray` writes the local results.csv rows (timing and machine aside)."""
    from helpers.chain_env import CORRIDOR_ID, registered_corridor

    from agentprm_gym.benchmarking.results import read_rows, row_key
    from agentprm_gym.cli import main

    cfg = tmp_path / "sweep.yaml"
    methods = "[policy, bon@2, beam@2x2]"
    cfg.write_text(SWEEP.format(env=CORRIDOR_ID, tasks=6, methods=methods, prms="[oracle, random]"))
    rows = {}
    with registered_corridor():
        for where, extra in (("local", []), ("ray", ["--ray", "auto"])):
            out = tmp_path / where
            argv = ["bench", "sweep", "--config", str(cfg), "--out", str(out), "--no-progress"]
            assert main([*argv, *extra]) == 0
            rows[where] = {
                row_key(r): {
                    k: v for k, v in r.items() if k not in ("wall_seconds", "git_commit", "machine")
                }
                for r in read_rows(out / "results.csv")
            }
    # the policy alone + 2 PRMs x (bon@2, beam@2x2), for each of 2 seeds
    assert len(rows["local"]) == 2 * (1 + 2 * 2)
    assert rows["ray"] == rows["local"]
    assert all(r["episodes"] == 6 for r in rows["ray"].values())
    for seed in (0, 1):
        name = Path("episodes") / "Corridor" / f"policy_seed{seed}.json"
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text()


def test_worker_env_keys_on_the_whole_spec():
    from helpers.chain_env import corridor_env_spec

    a = worker_env(corridor_env_spec(max_episode_steps=5))
    assert a is worker_env(corridor_env_spec(max_episode_steps=5))
    b = worker_env(corridor_env_spec(max_episode_steps=6))
    assert a is not b and b.spec.max_episode_steps == 6
    assert worker_env(corridor_env_spec(5), {"trap": False}) is not a
    assert worker_policy("random") is worker_policy("random")


@pytest.mark.parametrize(
    ("count", "size", "parallelism", "sizes"),
    [
        (100, 16, 1, [15, 15] + [14] * 5),  # one worker: 7 groups of at most 16
        (100, 16, 16, [7] * 4 + [6] * 12),  # 16 workers: one group each
        (8, 16, 2, [4, 4]),  # two workers, 8 items: 4 each, not 8 and none
        (10, 16, 3, [4, 3, 3]),
        (9, 16, 4, [3, 2, 2, 2]),
        (3, 16, 8, [1, 1, 1]),
        (7, 1, 1, [1] * 7),
        (32, 16, 1, [16, 16]),
        (0, 16, 2, []),
    ],
)
def test_group_for_workers(count, size, parallelism, sizes):
    items = range(5, 5 + count)
    groups = group_for_workers(items, size, parallelism)
    assert [len(g) for g in groups] == sizes
    assert [x for g in groups for x in g] == list(items)
