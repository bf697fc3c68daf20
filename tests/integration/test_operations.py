"""What an operator meets running the services: a bad setting is one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("service,program", [("ingest", "chiso-ingest"), ("scoring", "chiso-scoring"),
                                             ("publish", "chiso-publish")])
def test_a_configuration_error_is_one_line_naming_the_setting(service, program, tmp_path):
    variable = f"CHISO_{service.upper()}_PORT"
    env = {**os.environ, variable: "abc", "CHISO_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    done = subprocess.run([sys.executable, "-m", f"services.{service}.server"], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{program}: configuration error: {variable}: expected an integer (got 'abc')"]
    assert not (tmp_path / "c.db").exists()  # stopped before touching anything
