"""Service processes run with glibc's malloc arenas capped, so threads passing large messages do not
each keep a copy (publish's delivery workers and a 28 MB publication: BENCHMARKS.md, § Publish)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap

import pytest

from services.shared.processes import ROOT, child_env

# Twelve threads each allocate and free a 20 MB buffer, after one such block was freed (which raises
# glibc's mmap threshold above it), as publish's delivery workers do with a large publication.
CHILD = textwrap.dedent("""
    import threading
    big = bytearray(20 << 20)
    del big
    barrier = threading.Barrier(12)
    def work():
        barrier.wait()
        for _ in range(3):
            block = bytearray(20 << 20)
            del block
    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmRSS")))
""")


def rss_mb(env: dict[str, str]) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return int(out.stdout)


def test_service_processes_get_capped_arenas_unless_the_operator_chose(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    env = child_env({"CHISO_LOG_LEVEL": "warning"})
    assert env["MALLOC_ARENA_MAX"] == "2" and env["CHISO_LOG_LEVEL"] == "warning"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT), str(ROOT / "gen")]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert child_env({})["MALLOC_ARENA_MAX"] == "4"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_capped_arenas_keep_threads_from_each_holding_a_large_block(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)  # could cap the arenas of the uncapped run too
    capped = rss_mb(child_env({}))
    uncapped = rss_mb(dict(os.environ))
    assert capped * 2 < uncapped, (capped, uncapped)  # measured here: 53 MB against 253 MB
