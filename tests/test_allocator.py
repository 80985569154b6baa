"""The jemalloc re-run of ``train-prm``: when it happens, what it runs, and end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentprm_gym import allocator as A
from agentprm_gym.cli import main
from agentprm_gym.core.trajectory import write_trajectories

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402


class _Exec(Exception):
    """Raised by the stand-in for ``os.execve``, carrying its arguments."""


@pytest.fixture
def lib(tmp_path):
    p = tmp_path / "libjemalloc.so.2"
    p.write_bytes(b"")
    return str(p)


@pytest.fixture
def maps(tmp_path):
    p = tmp_path / "maps"
    p.write_text("7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    return p


@pytest.fixture
def execve(monkeypatch):
    def fake(path, args, env):
        raise _Exec(path, args, env)

    monkeypatch.setattr(A.os, "execve", fake)
    monkeypatch.setattr(A.sys, "platform", "linux")


def test_find_jemalloc_takes_the_first_file(tmp_path, lib):
    assert A.find_jemalloc([str(tmp_path / "missing.so"), lib, lib]) == lib
    assert A.find_jemalloc([str(tmp_path / "missing.so")]) is None
    assert A.find_jemalloc([str(tmp_path)]) is None  # a directory is not the library


def test_the_default_paths_look_in_this_architectures_folder_first(monkeypatch):
    monkeypatch.setattr(A.sysconfig, "get_config_var", lambda name: None)
    monkeypatch.setattr(A.platform, "machine", lambda: "aarch64")
    paths = A.jemalloc_paths()
    assert paths[0] == "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2"
    assert "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2" not in paths
    assert all(p.endswith("/libjemalloc.so.2") for p in paths)


def test_allocator_name_reads_the_memory_map(tmp_path, maps):
    assert A.allocator_name(maps) == "system"
    maps.write_text(maps.read_text() + "7f00-7f01 r--p 0 08:01 3 /data/libjemalloc-notes.txt\n")
    assert A.allocator_name(maps) == "system"  # only the library itself counts
    maps.write_text(maps.read_text() + "7f02-7f03 r-xp 0 08:01 2 /usr/lib/libjemalloc.so.2\n")
    assert A.allocator_name(maps) == "jemalloc"
    assert A.allocator_name(tmp_path / "no-such-file") == "system"


def test_jemalloc_environment_preloads_the_library_and_sets_the_guard():
    env = {"HOME": "/h"}
    out = A.jemalloc_environment(env, "/lib/j.so")
    assert out == {"HOME": "/h", "LD_PRELOAD": "/lib/j.so", A._GUARD: "1"}
    assert env == {"HOME": "/h"}  # a copy


def test_reexec_runs_this_command_line_again_under_jemalloc(execve, monkeypatch, lib, maps):
    argv = ["train-prm", "--data", "x.jsonl", "--out", "dir with space"]
    monkeypatch.setattr(
        A.sys, "orig_argv", ["python3", "-X", "utf8", "/venv/bin/agentprm-gym", *argv]
    )
    with pytest.raises(_Exec) as e:
        A.reexec_with_jemalloc(argv, env={"PATH": "/bin"}, paths=[lib], maps=maps)
    path, args, env = e.value.args
    assert path == sys.executable
    assert args == [sys.executable, "-X", "utf8", "/venv/bin/agentprm-gym", *argv]
    assert env == {"PATH": "/bin", "LD_PRELOAD": lib, A._GUARD: "1"}


@pytest.mark.parametrize(
    ("argv", "env", "why"),
    [
        (["eval-prm", "--prm", "d"], {}, "another subcommand"),
        ([], {}, "no subcommand"),
        (["train-prm", "--help"], {}, "help only"),
        (["train-prm", "-h"], {}, "help only"),
        (["train-prm"], {"AGENTPRM_ALLOCATOR": "system"}, "switched off"),
        (["train-prm"], {"AGENTPRM_ALLOCATOR": " System "}, "switched off, any case"),
        (["train-prm"], {A._GUARD: "1"}, "already the re-run"),
        (["train-prm"], {"LD_PRELOAD": "/usr/lib/libtcmalloc.so.4"}, "the user's preload"),
    ],
)
def test_reexec_does_nothing(execve, lib, maps, argv, env, why):
    assert A.reexec_with_jemalloc(argv, env=env, paths=[lib], maps=maps) is False, why


def test_reexec_does_nothing_without_the_library_or_with_it_loaded(execve, tmp_path, lib, maps):
    missing = [str(tmp_path / "missing.so")]
    assert A.reexec_with_jemalloc(["train-prm"], env={}, paths=missing, maps=maps) is False
    maps.write_text("7f02-7f03 r-xp 0 08:01 2 /usr/lib/libjemalloc.so.2\n")
    assert A.reexec_with_jemalloc(["train-prm"], env={}, paths=[lib], maps=maps) is False


@pytest.mark.parametrize("frozen", [False, True])
def test_reexec_does_nothing_off_linux_or_frozen(execve, monkeypatch, lib, maps, frozen):
    if frozen:
        monkeypatch.setattr(A.sys, "frozen", True, raising=False)
    else:
        monkeypatch.setattr(A.sys, "platform", "darwin")
    assert A.reexec_with_jemalloc(["train-prm"], env={}, paths=[lib], maps=maps) is False


def test_a_failed_exec_goes_on_here(monkeypatch, lib, maps):
    def fail(path, args, env):
        raise OSError("exec format error")

    monkeypatch.setattr(A.os, "execve", fail)
    monkeypatch.setattr(A.sys, "platform", "linux")
    assert A.reexec_with_jemalloc(["train-prm"], env={}, paths=[lib], maps=maps) is False


def test_only_the_installed_command_asks_for_the_rerun(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(A, "reexec_with_jemalloc", lambda argv: calls.append(list(argv)))
    assert main(["list"]) == 0  # called with arguments (tests, sweeps): never
    assert calls == []
    monkeypatch.setattr(sys, "argv", ["agentprm-gym", "list"])
    assert main() == 0  # the console script: main() reads sys.argv
    assert calls == [["list"]]
    capsys.readouterr()


def _train(tmp_path: Path, env: dict[str, str]) -> dict:
    data = tmp_path / "train.jsonl"
    if not data.exists():
        write_trajectories(data, corridor_trajectories(range(4), 2, seed=0))
    out = tmp_path / f"prm-{env.get('AGENTPRM_ALLOCATOR', 'default')}"
    code = "import sys; from agentprm_gym.cli import main; sys.exit(main())"
    args = ["train-prm", "--data", str(data), "--backbone", "tiny", "--epochs", "1"]
    args += ["--out", str(out), "--no-progress", "--no-cache", "--device", "cpu"]
    base = {k: v for k, v in os.environ.items() if k not in {"LD_PRELOAD", A._GUARD, A._SWITCH}}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "train_result.json").read_text())


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or A.find_jemalloc() is None,
    reason="jemalloc is not installed (Debian: libjemalloc2)",
)
def test_the_command_trains_under_jemalloc_unless_switched_off(tmp_path):
    # the command as installed (main() with no arguments) re-runs itself once
    assert _train(tmp_path, {})["allocator"] == "jemalloc"
    assert _train(tmp_path, {"AGENTPRM_ALLOCATOR": "system"})["allocator"] == "system"
