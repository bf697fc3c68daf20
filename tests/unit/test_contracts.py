"""The contracts: buf lint (STANDARD) is clean and gen/ is exactly what `make proto` produces."""

from __future__ import annotations

import ast
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
BUF = ROOT / "node_modules" / ".bin" / "buf"


def test_buf_lint_standard_is_clean():
    if not BUF.exists():
        (pytest.fail if IN_CI else pytest.skip)("buf not installed: run `make setup`")
    out = subprocess.run([str(BUF), "lint"], cwd=ROOT / "protos", capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "STANDARD" in (ROOT / "protos" / "buf.yaml").read_text()


def test_generated_code_is_reproducible(tmp_path):
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos" / "chiso").rglob("*.proto"))
    out = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", "-Iprotos", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", *[f"protos/{p}" for p in protos]],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert out.returncode == 0, out.stderr
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "gen") for p in (ROOT / "gen").rglob("*")
                       if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts)
    assert generated == committed, "gen/ is stale: run `make proto`"
    for rel in generated:
        assert filecmp.cmp(tmp_path / rel, ROOT / "gen" / rel, shallow=False), f"{rel} differs: run `make proto`"
    shutil.rmtree(tmp_path)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_layers_do_not_import_transport_or_storage():
    """Domain modules stay plain Python: no grpc, protobuf or SQLAlchemy."""
    banned = ("grpc", "google.protobuf", "sqlalchemy", "chiso")
    domain_files = [ROOT / "services" / "ingest" / "domain.py", ROOT / "services" / "shared" / "errors.py",
                    *(ROOT / "services" / "scoring" / "domain").glob("*.py")]
    for path in domain_files:
        for name in _imports(path):
            assert not name.startswith(banned), f"{path.relative_to(ROOT)} imports {name}"
