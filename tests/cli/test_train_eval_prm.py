from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from agentprm_gym.allocator import allocator_name
from agentprm_gym.cli import main
from agentprm_gym.core.trajectory import write_trajectories

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.prm_trajectories import corridor_trajectories  # noqa: E402


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("prmdata")
    write_trajectories(d / "train.jsonl", corridor_trajectories(range(8), 3, seed=0))
    write_trajectories(
        d / "test.jsonl", corridor_trajectories(range(100, 104), 2, seed=1, split="test")
    )
    return d


def _last_json(out):
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "arch", [[], ["--arch", "cross", "--max-length", "64"]], ids=["state", "cross"]
)
def test_train_then_eval(data, capsys, arch):
    out = data / "prm"
    rc = main(
        [
            "train-prm",
            "--data",
            str(data / "train.jsonl"),
            "--labels",
            "gae",
            "--backbone",
            "tiny",
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "16",
            *arch,
            "--no-progress",
            "--device",
            "cpu",
            "--json",
        ]
    )
    assert rc == 0
    res = _last_json(capsys.readouterr().out)
    assert res["out"] == str(out) and res["labels"] == "gae"
    assert res["episodes"] + res["heldout_episodes"] == 24 and res["steps"] > 0
    assert res["train_seconds"] > 0 and res["final_loss"] > 0
    assert "val_ranking_accuracy" in res["heldout"]
    assert res["allocator"] == allocator_name()  # main([...]) itself never re-runs
    assert (out / "model.safetensors").is_file() and (out / "train_result.json").is_file()
    rc = main(["eval-prm", "--prm", str(out), "--data", str(data / "test.jsonl"), "--json"])
    assert rc == 0
    ev = _last_json(capsys.readouterr().out)
    assert 0.0 <= ev["ranking_accuracy"] <= 1.0 and ev["ranked_steps"] > 0
    assert ev["mse_vs_mc"] is None and ev["episodes"] == 8 and ev["steps"] > 0


def test_train_an_ensemble_then_eval(data, capsys):
    out = data / "ens"
    args = ["train-prm", "--data", str(data / "train.jsonl"), "--backbone", "tiny"]
    args += ["--out", str(out), "--epochs", "1", "--batch-size", "16", "--members", "2"]
    assert main([*args, "--seed", "5", "--no-progress", "--device", "cpu", "--json"]) == 0
    res = _last_json(capsys.readouterr().out)
    assert res["members"] == 2 and res["wall_seconds"] > 0
    assert res["allocator"] == allocator_name()
    assert [m["seed"] for m in res["member_results"]] == [5, 6]
    config = json.loads((out / "prm_config.json").read_text())
    assert config["architecture"] == "ensemble" and config["training"]["seeds"] == [5, 6]
    for k in (0, 1):
        assert (out / f"member-{k}" / "model.safetensors").is_file()
    assert main(["eval-prm", "--prm", str(out), "--data", str(data / "test.jsonl"), "--json"]) == 0
    ev = _last_json(capsys.readouterr().out)
    assert 0.0 <= ev["ranking_accuracy"] <= 1.0 and ev["ranked_steps"] > 0
    # one network in its place: the members go, and it loads
    assert main(_tiny_prm_args(data, out)) == 0
    assert f"replacing the PRM in {out}" in capsys.readouterr().err
    assert not (out / "member-0").exists() and (out / "model.safetensors").is_file()
    assert json.loads((out / "prm_config.json").read_text())["architecture"] == "state"
    assert main(["eval-prm", "--prm", str(out), "--data", str(data / "test.jsonl")]) == 0


def _tiny_prm_args(data, out, *extra):
    return ["train-prm", "--data", str(data / "train.jsonl"), "--backbone", "tiny"] + [
        "--out",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--step-limit",
        "10",
        "--no-progress",
        "--device",
        "cpu",
        *extra,
    ]


def _files(d: Path) -> dict[str, bytes]:
    return {str(f.relative_to(d)): f.read_bytes() for f in sorted(d.rglob("*")) if f.is_file()}


@pytest.fixture(scope="module")
def earlier_prm(data):
    """A trained PRM, copied by each test that tries to replace it."""
    out = data / "earlier-prm"
    assert main(_tiny_prm_args(data, out)) == 0
    return out


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_a_failing_member_stops_the_others_and_leaves_an_earlier_prm_as_it_was(
    data, earlier_prm, tmp_path, capsys
):
    from agentprm_gym.prm.loading import load_prm

    out = _copy(earlier_prm, tmp_path / "prm")
    before = _files(out)
    args = _tiny_prm_args(data, out, "--members", "2", "--max-minutes", "0.0001")
    capsys.readouterr()
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "budget" in err and "member " in err and "Traceback" not in err
    assert [line for line in err.splitlines() if "error" in line] == err.splitlines()[-1:]
    assert _files(out) == before  # byte for byte, and nothing staged left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prm"]
    assert load_prm(str(out)) is not None


def test_a_run_interrupted_while_it_saves_leaves_an_earlier_prm_as_it_was(
    data, earlier_prm, tmp_path, monkeypatch
):
    from agentprm_gym.prm.state_model import StatePRM

    out = _copy(earlier_prm, tmp_path / "prm")
    before = _files(out)
    save = StatePRM.save_pretrained

    def interrupted(self, directory):
        save(self, directory)
        raise KeyboardInterrupt  # Ctrl-C as the last file is written

    monkeypatch.setattr(StatePRM, "save_pretrained", interrupted)
    assert main(_tiny_prm_args(data, out, "--seed", "3")) == 130  # another network
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prm"]


def test_an_earlier_prm_is_replaced_with_a_notice_and_other_files_kept(
    data, earlier_prm, tmp_path, capsys
):
    from agentprm_gym.prm.loading import load_prm

    out = _copy(earlier_prm, tmp_path / "prm")
    (out / "notes.txt").write_text("mine")
    earlier = (out / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert main(_tiny_prm_args(data, out, "--seed", "3", "--json")) == 0
    captured = capsys.readouterr()
    assert f"replacing the PRM in {out}" in captured.err
    assert _last_json(captured.out)["out"] == str(out)
    assert (out / "model.safetensors").read_bytes() != earlier
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prm"]
    assert load_prm(str(out)) is not None


@pytest.fixture
def no_training(monkeypatch):
    """Fails the test if train-prm reads its data (which comes before any training)."""
    import agentprm_gym.commands.train_prm as command

    def read_episodes(*a, **k):
        raise AssertionError("train-prm read its data")

    monkeypatch.setattr(command, "read_episodes", read_episodes)


@pytest.mark.parametrize(
    "content,kind",
    [
        ({"notes.txt": "mine"}, "files that are not a PRM (notes.txt)"),
        ({"sft_info.json": "{}", "model.safetensors": "x", "config.json": "{}"}, "an sft output"),
    ],
)
def test_an_out_that_is_not_a_prm_is_refused_before_training(
    data, tmp_path, capsys, no_training, content, kind
):
    out = tmp_path / "taken"
    out.mkdir()
    for name, text in content.items():
        (out / name).write_text(text)
    assert main(_tiny_prm_args(data, out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("agentprm-gym train-prm: error: --out ") and kind in err
    assert len(err.splitlines()) == 1
    assert {n: (out / n).read_text() for n in content} == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_an_unwritable_out_is_refused_before_training(data, tmp_path, capsys, no_training):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for out in [blocker / "prm", *(["/proc/agentprm-x"] if Path("/proc/self").exists() else [])]:
        assert main(_tiny_prm_args(data, out)) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert f"--out {out} is not writable" in err and "no such file" not in err
    assert blocker.read_text() == "x"


def test_the_token_cache_is_built_once_before_the_members(data, tmp_path):
    from agentprm_gym.commands.train_prm import add_arguments, read_episodes
    from agentprm_gym.commands.train_prm_members import _prebuild_cache
    from agentprm_gym.prm.text_encoder import TokenStore

    p = argparse.ArgumentParser()
    add_arguments(p)
    cache = tmp_path / "tokens"
    args = p.parse_args(
        ["--data", str(data / "train.jsonl"), "--out", "x", "--backbone", "tiny"]
        + ["--cache", str(cache), "--step-limit", "10"]
    )
    args.epochs, args.batch_size = 1, 16
    assert _prebuild_cache(args, read_episodes(args, quiet=True), quiet=True) > 0
    from agentprm_gym.commands.train_prm import build_prm

    prm, _ = build_prm(args, read_episodes(args, quiet=True), 10, args.seed)
    store = TokenStore.load(cache, prm.encoder.dim, prm.encoder.tag)
    assert store is not None and len(store) > 0


def test_eval_random_prm(data, capsys):
    assert main(["eval-prm", "--prm", "random", "--data", str(data / "test.jsonl"), "--json"]) == 0
    got = _last_json(capsys.readouterr().out)
    # every step ties, and a tie counts one half
    assert got["ranked_steps"] > 0 and got["ranking_accuracy"] == 0.5


@pytest.mark.parametrize(
    "args,msg",
    [
        (["train-prm", "--data", "/nope.jsonl", "--out", "x"], "no trajectory file"),
        (
            [
                "train-prm",
                "--data",
                "{train}",
                "--out",
                "x",
                "--labels",
                "mc",
                "--backbone",
                "tiny",
            ],
            "collect with --mc N",
        ),
        (["train-prm", "--data", "{train}", "--out", "x", "--epochs", "0"], "--epochs"),
        (["train-prm", "--data", "{train}", "--out", "x", "--backbone", "/no/model"], "--backbone"),
        (["train-prm", "--data", "{train}", "--out", "x", "--lam", "2"], "--lam"),
        (["train-prm", "--data", "{train}", "--out", "x", "--members", "0"], "--members"),
        (
            ["train-prm", "--data", "{train}", "--out", "x", "--members", "2", "--no-cache"],
            "--no-cache",
        ),
        (["eval-prm", "--prm", "/no/prm", "--data", "{train}"], "no PRM directory"),
        (["eval-prm", "--prm", "{train}", "--data", "/nope.jsonl"], "no trajectory file"),
        (["eval-prm", "--prm", "{bad}", "--data", "{train}"], "missing file"),
    ],
)
def test_bad_input_is_one_line_error(data, capsys, args, msg):
    bad = data / "badprm"
    bad.mkdir(exist_ok=True)
    args = [a.format(train=data / "train.jsonl", bad=bad) for a in args]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc != 0
    assert msg in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
