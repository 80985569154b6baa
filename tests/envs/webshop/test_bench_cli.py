import json

from agentprm_gym.benchmarking.throughput import RESULT_KEYS, measure_throughput
from agentprm_gym.cli import main


def test_measure_throughput_in_process():
    res = measure_throughput(
        "AgentPRM/WebShop-v0", steps=300, fresh_process_make=False, snapshot_reps=100
    )
    d = res.to_dict()
    for k in RESULT_KEYS:
        assert k in d
    assert d["make_first_s"] is None
    assert res.steps == 300 and res.episodes >= 1
    assert res.steps_per_s > 0 and res.snapshot_us > 0
    assert res.step_ms_median > 0 and res.reset_ms_median > 0


def test_bench_throughput_json_and_csv(tmp_path, capsys):
    out = tmp_path / "t.csv"
    rc = main(
        [
            "bench",
            "throughput",
            "--env",
            "AgentPRM/WebShop-v0",
            "--steps",
            "200",
            "--no-subprocess",
            "--csv",
            str(out),
            "--json",
        ]
    )
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    d = json.loads(lines[-1])
    assert d["env"] == "AgentPRM/WebShop-v0"
    for k in RESULT_KEYS:
        assert k in d
    assert "steps/s" in lines[0]
    assert out.read_text().splitlines()[0].startswith("env,steps_per_s,")


def test_bench_first_make_in_subprocess():
    from agentprm_gym.benchmarking.throughput import measure_make_first

    t = measure_make_first("AgentPRM/WebShop-v0", {"num_products": 300})
    assert 0 < t < 60


def test_bench_unknown_env(capsys):
    assert main(["bench", "throughput", "--env", "AgentPRM/Nope-v0", "--steps", "5"]) == 2
