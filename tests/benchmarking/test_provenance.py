"""Provenance: commit, versions, machine, wall time."""

from __future__ import annotations

import re
import time

from agentprm_gym.benchmarking.provenance import collect_provenance, git_commit, package_versions


def test_provenance_fields():
    t0 = time.time() - 2.0
    p = collect_provenance(t0, config="x")
    assert p["config"] == "x"
    assert p["wall_seconds"] >= 2.0
    assert p["packages"]["numpy"] and p["packages"]["python"]
    assert p["machine"]["cpu_count"] >= 1
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", p["started_utc"])
    c = p["git_commit"]
    assert c == "unknown" or re.match(r"^[0-9a-f]{40}(\+dirty)?$", c)


def test_outside_git_and_missing_packages(tmp_path):
    assert git_commit(tmp_path) == "unknown"
    assert package_versions(("surely-not-installed-pkg",))["surely-not-installed-pkg"] is None
