"""The sweep runner end to end on the corridor test env: outputs, resume, learned PRMs."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from agentprm_gym.benchmarking.config import load_config
from agentprm_gym.benchmarking.results import read_rows
from agentprm_gym.benchmarking.sweep import Sweep, SweepError
from agentprm_gym.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from helpers.chain_env import CORRIDOR_ID, registered_corridor  # noqa: E402

FIXED = f"""
name: corridor-fixed
envs:
  - id: {CORRIDOR_ID}
    policy: noisy:0.6
    test_tasks: 8
prms: [oracle, random]
methods: [policy, bon@1, bon@2, bon@4, beam@2x2, beam+prior@2x2]
seeds: [0, 1]
examples: 2
"""

LEARNED = f"""
name: corridor-learned
envs:
  - id: {CORRIDOR_ID}
    policy: noisy:0.5
    test_tasks: 8
collection: {{train_tasks: 6, per_task: 3, mc_rollouts: 2}}
train:
  args: ["--backbone", "tiny", "--epochs", "2"]
prms: [agentprm, pvm, mc-prm, oracle, random]
methods: [policy, bon@2, bon@4, beam@2x2]
examples: 2
"""


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny PRMs train and score fastest on one thread (no fight for the shared cores)."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _sweep(tmp_path, text, name):
    cfg = tmp_path / f"{name}.yaml"
    cfg.write_text(text)
    out = tmp_path / name
    with registered_corridor(max_episode_steps=12):
        rc = main(["bench", "sweep", "--config", str(cfg), "--out", str(out), "--json"])
    return rc, out


def test_fixed_prm_sweep_writes_everything_and_resumes(tmp_path, capsys):
    rc, out = _sweep(tmp_path, FIXED, "fixed")
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = read_rows(out / "results.csv")
    # the policy alone once per seed + 2 PRMs x 5 PRM methods per seed
    assert len(rows) == summary["rows"] == 2 * (1 + 2 * 5)
    for name in (
        "tables.md",
        "report.html",
        "provenance.json",
        "efficiency.csv",
        "examples.json",
        "success_vs_samples_Corridor-v0.png",
        "success_vs_compute_Corridor-v0.png",
    ):
        assert (out / name).stat().st_size > 0, name
    oracle_beam = [r for r in rows if r["prm"] == "oracle" and r["method"] == "beam@2x2"]
    alone = [r for r in rows if r["method"] == "policy (1 sample)"]
    assert len(alone) == 2 and all(r["prm"] == "-" and r["family"] == "policy" for r in alone)
    assert all(r["episodes"] == 8 for r in rows)
    # the oracle guides the search: beam with it beats the policy alone
    assert sum(r["success"] for r in oracle_beam) > sum(r["success"] for r in alone)
    assert all(r["samples"] > 0 and r["env_steps"] > 0 for r in rows)
    assert all(r["prm_items"] == 0 for r in alone)
    prior = [r for r in rows if r["family"] == "beam+prior"]
    assert {(r["prm"], r["method"]) for r in prior} == {
        ("oracle", "beam+prior@2x2"),
        ("random", "beam+prior@2x2"),
    }
    md = (out / "tables.md").read_text()
    assert "policy (1 sample)" in md and "greedy (policy)" not in md
    assert "Beam search with the policy prior (beam+prior, A = 1)" in md
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["packages"]["numpy"] and prov["wall_seconds"] >= 0
    assert (
        "git_commit" in (out / "tables.md").read_text()
        or "commit" in (out / "tables.md").read_text()
    )
    examples = json.loads((out / "examples.json").read_text())
    assert len(examples) == 2 and all(e["prm"] == "random" for e in examples)
    assert summary["missing_runs"] == 0
    assert "Incomplete" not in (out / "report.html").read_text()

    # resume: nothing to redo; a lost last row is redone alone, with the same numbers
    lines = (out / "results.csv").read_text().splitlines(keepends=True)
    (out / "results.csv").write_text("".join(lines[:-1]) + lines[-1][:15])  # torn row
    rc, _ = _sweep(tmp_path, FIXED, "fixed")
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rows_written"] == 1
    again = read_rows(out / "results.csv")
    key = lambda r: (r["prm"], r["method"], r["seed"])  # noqa: E731
    assert sorted((key(r), r["success"], r["samples"]) for r in again) == sorted(
        (key(r), r["success"], r["samples"]) for r in rows
    )

    # --report-only runs nothing and rewrites the outputs, counting the missing runs
    lines = (out / "results.csv").read_text().splitlines(keepends=True)
    (out / "results.csv").write_text("".join(lines[:-2]))
    (out / "tables.md").unlink()
    cfg = tmp_path / "fixed.yaml"
    with registered_corridor(max_episode_steps=12):
        rc = main(["bench", "sweep", "--config", str(cfg), "--out", str(out), "--report-only"])
    assert rc == 0 and (out / "tables.md").exists()
    assert len(read_rows(out / "results.csv")) == len(rows) - 2
    assert (
        "Incomplete: 2 of the 22 runs of the config are missing (or hold another number "
        "of episodes)." in (out / "report.html").read_text()
    )
    assert json.loads((out / "provenance.json").read_text())["report_only"] is True
    assert (
        main(
            ["bench", "sweep", "--config", str(cfg), "--out", str(tmp_path / "no"), "--report-only"]
        )
        == 2
    )


def test_repeated_rows_play_every_task_again_with_new_seeds(tmp_path, capsys):
    once = FIXED.replace("seeds: [0, 1]", "seeds: [0]").replace(
        "methods: [policy, bon@1, bon@2, bon@4, beam@2x2, beam+prior@2x2]",
        "methods: [policy, bon@2, beam@2x2]",
    )
    rc, out1 = _sweep(tmp_path, once, "once")
    assert rc == 0
    rc, out3 = _sweep(tmp_path, once + "repeats: {policy: 3, random: 3}\n", "thrice")
    assert rc == 0
    capsys.readouterr()
    one = {(r["prm"], r["method"]): r for r in read_rows(out1 / "results.csv")}
    three = {(r["prm"], r["method"]): r for r in read_rows(out3 / "results.csv")}
    repeated = {("-", "policy (1 sample)"), ("random", "beam@2x2")}
    for key, row in three.items():
        assert row["episodes"] == (24 if key in repeated else 8), key
        if key not in repeated:
            assert row["success"] == one[key]["success"] and row["samples"] == one[key]["samples"]
    # repeat 0 is the single run's episodes, the other two are new ones
    cfg = load_config(tmp_path / "thrice.yaml")
    sweep, env = Sweep(cfg, out3, show_progress=False), cfg.envs[0]
    beam = next(m for m in cfg.methods if m.name == "beam@2x2")
    single = sweep._jobs(env, env.id, "random", beam, 0)
    jobs = sweep._jobs(env, env.id, "random", beam, 0, repeats=3)
    assert [(j.seed, j.policy_seed) for j in jobs[:8]] == [(j.seed, j.policy_seed) for j in single]
    assert len({(j.seed, j.policy_seed) for j in jobs}) == 24
    assert [j.repeat for j in jobs] == [0] * 8 + [1] * 8 + [2] * 8
    # the examples come from repeat 0 only: the same episodes as the single run's
    ex1 = json.loads((out1 / "examples.json").read_text())
    assert json.loads((out3 / "examples.json").read_text()) == ex1
    assert "Repeated rows" in (out3 / "report.html").read_text()
    # resuming onto rows of another size is refused before anything runs
    cfg_file = tmp_path / "thrice.yaml"
    with registered_corridor(max_episode_steps=12):
        rc = main(["bench", "sweep", "--config", str(cfg_file), "--out", str(out1)])
    err = capsys.readouterr().err
    assert rc != 0 and "has 8 episodes and the config asks for 24" in err
    assert len(read_rows(out1 / "results.csv")) == len(one)


def test_bad_config_is_one_line_error(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("envs: []\n")
    assert main(["bench", "sweep", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "envs" in capsys.readouterr().err
    cfg.write_text(FIXED.replace(CORRIDOR_ID, "AgentPRM/NoSuch-v0"))
    assert main(["bench", "sweep", "--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert "unknown env id" in capsys.readouterr().err


def _train_prm_available() -> bool:
    from agentprm_gym.commands import train_prm

    return "not yet" not in getattr(train_prm, "HELP", "not yet")


@pytest.mark.skipif(not _train_prm_available(), reason="train-prm is not in this build yet")
def test_learned_prm_sweep(tmp_path, capsys):
    rc, out = _sweep(tmp_path, LEARNED, "learned")
    assert rc == 0, capsys.readouterr().err
    rows = read_rows(out / "results.csv")
    assert {r["prm"] for r in rows} == {"-", "agentprm", "pvm", "mc-prm", "oracle", "random"}
    costs = json.loads((out / "label_costs.json").read_text())[CORRIDOR_ID]
    assert costs["episodes"] == 18 and costs["mc_extra_env_steps"] > 0
    md = (out / "tables.md").read_text()
    assert "Table 1" in md and "Table 3" in md and "Compute efficiency" in md
    assert "ratio (samples + PRM items)" in md
    for prm in ("agentprm", "pvm", "mc-prm"):
        assert (out / "prms" / "Corridor" / prm / ".sweep_trained.json").exists()
    examples = json.loads((out / "examples.json").read_text())
    assert examples and examples[0]["prm"] == "agentprm"
    assert all(0.0 <= s["promise"] <= 1.0 for e in examples for s in e["steps"])
    # A moved sweep directory resumes: the trained PRMs are reused, not retrained.
    moved = tmp_path / "moved"
    out.rename(moved)
    (moved / "results.csv").unlink()
    stamps = {
        p: (moved / "prms" / "Corridor" / p / "model.safetensors").stat().st_mtime_ns
        for p in ("agentprm", "pvm", "mc-prm")
    }
    cfg = tmp_path / "learned.yaml"
    assert "training agentprm" in capsys.readouterr().err  # the first run trained
    with registered_corridor(max_episode_steps=12):
        rc = main(["bench", "sweep", "--config", str(cfg), "--out", str(moved), "--json"])
    assert rc == 0
    assert "training" not in capsys.readouterr().err
    for p, t in stamps.items():
        assert (moved / "prms" / "Corridor" / p / "model.safetensors").stat().st_mtime_ns == t
    again = read_rows(moved / "results.csv")
    assert [(r["prm"], r["method"], r["success"]) for r in again] == [
        (r["prm"], r["method"], r["success"]) for r in rows
    ]


def test_training_in_worker_processes_gives_the_same_prms(tmp_path, capsys):
    import shutil

    from agentprm_gym.benchmarking.config import load_config
    from agentprm_gym.benchmarking.sweep import Sweep

    rc, out = _sweep(tmp_path, LEARNED, "learned")
    assert rc == 0, capsys.readouterr().err
    cfg = load_config(tmp_path / "learned.yaml")
    two = tmp_path / "two-workers"
    shutil.copytree(out / "data", two / "data")
    from agentprm_gym.commands.bench_sweep import train_prm_job

    sweep = Sweep(cfg, two, workers=2, show_progress=False)
    pairs = [(e, p) for e in cfg.envs for p in cfg.learned_prms]
    with pytest.raises(SweepError, match="train_runner"):
        sweep.train_all(pairs)  # the library does not reach into the CLI by itself
    sweep.train_runner = train_prm_job
    # the workers know only the package's envs; the step limit reaches them in the argv
    with registered_corridor(max_episode_steps=12):
        sweep.train_all(pairs)
        err = capsys.readouterr().err
        assert "training 3 PRMs, 2 at a time" in err
        assert "no step limit known" not in err
        for env, prm in pairs:
            got = sweep.prm_dir(env, prm) / "model.safetensors"
            want = out / "prms" / env.short / prm.name / "model.safetensors"
            # digests, not bytes: pytest's diff of two large byte strings takes minutes
            digest = [hashlib.sha256(f.read_bytes()).hexdigest() for f in (got, want)]
            assert digest[0] == digest[1], prm.name
            assert json.loads((got.parent / "prm_config.json").read_text())["step_limit"] == 12
            assert sweep._trained(env, prm)
        sweep.train_all(pairs)  # all done: nothing is retrained
        assert "training" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("train_args", "want"),
    [
        ('["--backbone", "tiny"]', ["--step-limit", "12", "--backbone", "tiny"]),
        ('["--arch", "cross"]', ["--arch", "cross"]),
        ('["--arch=cross"]', ["--arch=cross"]),
        (
            '["--arch", "cross", "--arch", "state"]',
            ["--step-limit", "12", "--arch", "cross", "--arch", "state"],
        ),
        ('["--step-limit", "5"]', ["--step-limit", "5"]),
        ('["--step-limit=5"]', ["--step-limit=5"]),
        # abbreviated, as argparse allows
        ('["--arc", "cross"]', ["--arc", "cross"]),
        ('["--ar=cross"]', ["--ar=cross"]),
        ('["--step-l", "5"]', ["--step-l", "5"]),
    ],
)
def test_train_argv_gives_a_state_prm_the_registered_step_limit(tmp_path, train_args, want):
    cfg_file = tmp_path / "learned.yaml"
    cfg_file.write_text(LEARNED.replace('["--backbone", "tiny", "--epochs", "2"]', train_args))
    cfg = load_config(cfg_file)
    sweep = Sweep(cfg, tmp_path / "out", show_progress=False)
    env, prm = cfg.envs[0], cfg.learned_prms[0]
    with registered_corridor(max_episode_steps=12):
        assert sweep._train_argv(env, prm)[7:] == want
    # an env this process does not know: no limit to pass (train-prm then warns)
    assert sweep._train_argv(env, prm)[7:] == json.loads(train_args)


def test_a_marker_from_before_the_step_limit_argument_counts_if_the_prm_has_that_limit(tmp_path):
    cfg_file = tmp_path / "learned.yaml"
    cfg_file.write_text(LEARNED)
    cfg = load_config(cfg_file)
    sweep = Sweep(cfg, tmp_path / "out", show_progress=False)
    env, prm = cfg.envs[0], cfg.learned_prms[0]
    with registered_corridor(max_episode_steps=12):
        older = sweep._train_argv(env, prm, with_step_limit=False)
        assert "--step-limit" not in older and "--step-limit" in sweep._train_argv(env, prm)
        out = sweep.prm_dir(env, prm)
        out.mkdir(parents=True)
        marker = {"argv": older, "key": sweep._portable(older)}
        (out / ".sweep_trained.json").write_text(json.dumps(marker))
        for saved, trained in ((12, True), (None, False), (15, False)):
            (out / "prm_config.json").write_text(json.dumps({"step_limit": saved}))
            assert sweep._trained(env, prm) is trained, saved
        (out / "prm_config.json").unlink()
        assert not sweep._trained(env, prm)


def test_on_ray_prms_train_in_the_driver(tmp_path, monkeypatch):
    # Ray nodes need not see the rollout files: with --ray the PRMs train one by
    # one in this process, never in local worker processes.
    from agentprm_gym.benchmarking import sweep as sweep_mod
    from agentprm_gym.benchmarking.config import load_config

    cfg_file = tmp_path / "learned.yaml"
    cfg_file.write_text(LEARNED)
    cfg = load_config(cfg_file)
    sweep = sweep_mod.Sweep(cfg, tmp_path / "out", workers=2, ray_address="auto")
    trained = []
    monkeypatch.setattr(sweep_mod.Sweep, "train", lambda self, e, p: trained.append(p.name))
    monkeypatch.setattr(
        "agentprm_gym.parallel.make_executor", lambda *a, **k: pytest.fail("local workers used")
    )
    sweep.train_all([(e, p) for e in cfg.envs for p in cfg.learned_prms])
    assert trained == [p.name for p in cfg.learned_prms]


def test_provenance_names_the_commit_the_invocation_started_on(tmp_path, monkeypatch):
    import agentprm_gym.benchmarking.provenance as provenance
    from agentprm_gym.benchmarking.config import load_config
    from agentprm_gym.benchmarking.sweep import Sweep

    cfg = tmp_path / "fixed.yaml"
    cfg.write_text(FIXED)
    monkeypatch.setattr(provenance, "git_commit", lambda *a, **k: "start")
    sweep = Sweep(load_config(cfg), tmp_path / "out", show_progress=False)
    sweep.out.mkdir()
    # a commit made while a long sweep runs is not the code the sweep ran
    monkeypatch.setattr(provenance, "git_commit", lambda *a, **k: "later")
    with registered_corridor(max_episode_steps=12):
        sweep.write_outputs(1.0, report_only=True)
    assert json.loads((sweep.out / "provenance.json").read_text())["git_commit"] == "start"


def test_a_sweep_without_a_train_runner_stops_before_collecting(tmp_path, monkeypatch):
    from agentprm_gym.benchmarking import sweep as sweep_mod

    cfg_file = tmp_path / "learned.yaml"
    cfg_file.write_text(LEARNED)
    sweep = Sweep(load_config(cfg_file), tmp_path / "out", show_progress=False)
    monkeypatch.setattr(
        sweep_mod.Sweep, "collect", lambda *a: pytest.fail("collected with nothing to train")
    )
    with pytest.raises(SweepError, match="train_runner"):
        sweep.run()
