"""The scoring domain depends on nothing but the standard library and the holiday calendar."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[3] / "services" / "scoring" / "domain"
ALLOWED_THIRD_PARTY = {"holidays"}
FORBIDDEN = {"grpc", "google", "sqlalchemy", "alembic", "psycopg", "grpc_health", "grpc_reflection"}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_modules_exist():
    names = {p.name for p in DOMAIN.glob("*.py")}
    assert {"rules.py", "periods.py", "workdays.py", "timing.py", "engine.py"} <= names


def test_domain_imports_only_stdlib_holidays_and_itself():
    for path in sorted(DOMAIN.glob("*.py")):
        for root in _imported_roots(path):
            assert root not in FORBIDDEN, f"{path.name} imports {root}"
            assert root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY or root == "services", (
                f"{path.name} imports {root}, which is neither the standard library nor allowed"
            )


def test_domain_imports_of_services_stay_inside_the_domain():
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("services"):
                # the domain and the stored-record kernel it shares with ingest (itself pure, below)
                assert node.module.startswith(("services.scoring.domain", "services.shared.records")), (
                    f"{path.name}: {node.module}")


def test_the_record_kernel_is_pure_too():
    path = DOMAIN.parents[1] / "shared" / "records.py"
    assert _imported_roots(path) <= set(sys.stdlib_module_names) | {"services"}


def test_the_scan_would_catch_a_grpc_import(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import grpc\nfrom sqlalchemy.orm import Session\n", encoding="utf-8")
    assert _imported_roots(sample) == {"grpc", "sqlalchemy"}
