import csv

import pytest

from agentprm_gym.benchmarking.config import parse_config
from agentprm_gym.commands.demo import DEMO_CONFIG, _table


def _write(path, rows):
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_embedded_config_is_valid():
    cfg = parse_config(dict(DEMO_CONFIG), name="demo")
    assert [e.id for e in cfg.envs] == ["AgentPRM/WebShop-v0"]
    assert {p.name for p in cfg.learned_prms} == {"agentprm", "pvm"}


def test_table_from_results_csv(tmp_path):
    path = tmp_path / "results.csv"
    rows = [
        {"prm": "-", "method": "policy (1 sample)", "success": "0.3", "samples": "11"},
        {"prm": "agentprm", "method": "bon@4", "success": "0.5", "samples": "44"},
        {"prm": "pvm", "method": "bon@4", "success": "0.25", "samples": "44"},
    ]
    _write(path, rows)
    text, success = _table(path)
    assert success == {"-/policy (1 sample)": 0.3, "agentprm/bon@4": 0.5, "pvm/bon@4": 0.25}
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["PRM", "1", "sample"]
    assert lines[2].startswith("policy (1 sample)") and "30.0%" in lines[2]
    assert "50.0%" in lines[3] and "25.0%" in lines[4]
    assert lines[-1].startswith("samples/ep")


def test_long_method_names_keep_the_columns_aligned(tmp_path):
    path = tmp_path / "results.csv"
    rows = [
        {"prm": "-", "method": "policy (1 sample)", "success": "0.3", "samples": "11"},
        {"prm": "agentprm", "method": "beam+prior@4x4", "success": "0.975", "samples": "90"},
    ]
    _write(path, rows)
    lines = _table(path)[0].splitlines()
    end = lines[0].index("beam+prior@4x4") + len("beam+prior@4x4")
    assert lines[3][:end].endswith("97.5%") and lines[-1][:end].endswith("90.0")
    assert len({len(line) for line in lines}) == 1


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_fewer_than_one_worker_is_an_error(tmp_path, capsys, workers):
    from agentprm_gym.cli import main

    assert main(["demo", "--workers", workers, "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["agentprm-gym demo: error: --workers must be >= 1"], err
    assert not (tmp_path / "d").exists()
