"""`make run`'s demo, as a newcomer runs it: it comes up and says where to look, the commands it
prints work, Ctrl-C stops every service cleanly, and running it again (here with --once, which stops
by itself) works."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingest", "scoring", "publish", "portal", "web")


class Demo:
    """``python -m services.demo`` in a process group of its own, as a terminal runs a foreground job."""

    def __init__(self, var: Path, *args: str) -> None:
        self.stderr_path = var.parent / f"{var.name}-stderr-{time.monotonic_ns()}.txt"
        self._stderr = open(self.stderr_path, "w+", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.demo", "--var-dir", str(var), *args], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8", start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def stdout(self) -> str:
        return "".join(self.lines)

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.stdout:
            assert self.proc.poll() is None, f"exited {self.proc.returncode}:\n{self.stdout}\n{self.stderr[-3000:]}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout:.0f} s:\n{self.stdout}"
            time.sleep(0.2)
        return self.stdout

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:  # a failed test: stop it as Ctrl-C would, so that its services stop too
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._stderr.close()


def printed_commands(out: str, program: str) -> list[str]:
    """The shell commands of the output that start with ``program`` (with their continuation lines)."""
    commands: list[str] = []
    continued = False
    for line in out.splitlines():
        if continued:
            commands[-1] += "\n" + line
        elif line.strip().startswith(program):
            commands.append(line.strip())
        else:
            continue
        continued = line.endswith("\\")
    return commands


def check_where_to_look(out: str, var: Path) -> tuple[tuple[int, int], list[tuple[str, ...]]]:
    """The running month and the top of the live ranking it printed."""
    # every generated dossier was valid and stored: the running month's and a third as many of the month before
    loaded = re.search(r"3,000 dossiers and 30 petitions of (\d\d)/(\d{4}) \(running\), 1,000 and 10 of "
                       r"(\d\d)/(\d{4}) \(ended\)", out)
    assert loaded, out
    running, ended = (int(loaded[2]), int(loaded[1])), (int(loaded[4]), int(loaded[3]))
    assert ended == ((running[0], running[1] - 1) if running[1] > 1 else (running[0] - 1, 12))
    # the official publication it suggests is of the ended month (the running one cannot be published)
    assert f"--period {ended[0]}-{ended[1]:02d} --kind province" in out
    assert "ingest      127.0.0.1:" in out and "scoring     127.0.0.1:" in out
    # the reference portal, subscribed to Phú Thọ, already holds verified deliveries
    held = re.search(r"it holds (\d+) verified deliveries", out)
    assert held and int(held.group(1)) > 0, out
    assert "none arrived within" not in out and "(partial:" not in out
    # the top of the live provincial ranking: five provinces with rank, code, Vietnamese name, total
    ranking = out.split("Live ranking of the provinces", 1)[1].split("Try:", 1)[0]
    rows = re.findall(r"^\s+(\d+)\s+(H\d\d)\s+(UBND .+?)\s+(\d+\.\d\d)\s+(Xuất sắc|Tốt|Khá|Trung bình|Yếu)$",
                      ranking, re.MULTILINE)
    assert len(rows) == 5, ranking
    totals = [float(r[3]) for r in rows]
    assert totals == sorted(totals, reverse=True) and rows[0][0] == "1"
    log = (var / "ingest.log").read_text(encoding="utf-8")
    assert "\"event\": \"batch committed\"" in log
    assert "chiso_" not in log  # no token in logs
    return running, [r[:4] for r in rows]


def check_stopped_cleanly(demo: Demo, var: Path) -> None:
    assert "stopped cleanly: ingest, scoring, publish, portal, web (exit code 0)" in demo.stdout, demo.stdout[-500:]
    assert "killed" not in demo.stderr and "exit code" not in demo.stderr, demo.stderr
    for name in SERVICES:
        events = [json.loads(line) for line in (var / f"{name}.log").read_text(encoding="utf-8").splitlines()
                  if line.startswith("{")]
        # one signal each — the demo's SIGTERM, not the terminal's SIGINT too (which cuts the drain to nothing)
        stopping = [(e.get("signal"), e.get("grace_seconds")) for e in events if e.get("event") == "stopping"]
        assert stopping == [("SIGTERM", 10.0)], (name, stopping)
        assert any(e.get("event") == "stopped" for e in events), (name, events[-3:])


def readme_block(heading: str) -> str:
    """The first ```sh block of the README after ``heading``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8").split(heading, 1)[1]
    return text.split("```sh\n", 1)[1].split("```", 1)[0]


def check_readme_integrator_commands(var: Path, out: str) -> None:
    """The README's integrator walk-through, verbatim but for where this demo runs (its directory and
    ingest's port): a source of one's own on make run's database, the sample files judged and pushed."""
    ingest = re.search(r"ingest      (127\.0\.0\.1:\d+)", out)[1]
    block = readme_block("### Trying it on `make run`")
    assert "var/demo/" in block and "127.0.0.1:50051" in block, block
    script = block.replace("var/demo/", f"{var}/").replace("127.0.0.1:50051", ingest)
    done = subprocess.run(["bash", "-ec", script], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                          timeout=300, check=False)
    assert done.returncode == 0, (script, done.stdout, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr
    pushed = re.findall(r"^accepted: (\d+),", done.stdout, re.MULTILINE)
    expected = [str(sum(1 for line in (ROOT / "docs" / "examples" / f"{kind}.jsonl").open(encoding="utf-8")))
                for kind in ("units", "procedures", "unit-procedures", "publications", "dossiers", "petitions",
                             "reported-totals")]
    assert pushed == expected, done.stdout  # every sample file stored, every line accepted


@pytest.mark.timeout(900)
def test_demo_says_where_to_look_then_ctrl_c_stops_it_cleanly_and_it_runs_again(tmp_path):
    var = tmp_path / "demo"
    demo = Demo(var, "--dossiers", "3000")
    try:
        out = demo.wait_for("Press Ctrl-C to stop.", timeout=400)
        (year, month), top = check_where_to_look(out, var)

        # the dashboard it prints serves the national page: the 34 provinces, the same top five
        dashboard = re.search(r"^  dashboard   (http://127\.0\.0\.1:\d+)/ ", out, re.MULTILINE)
        assert dashboard, out
        with urllib.request.urlopen(dashboard[1] + "/", timeout=120) as reply:  # noqa: S310
            page = reply.read().decode("utf-8")
        codes = re.findall(r'<tr data-code="(H\d\d)" data-rank="(\d+)" data-total="([\d.]+)"', page)
        assert len(codes) == 34, page[:2000]
        assert [(r, c, t) for c, r, t in codes[:5]] == [(r, c, t) for r, c, _, t in top], codes[:5]

        # the buf curl commands it prints work, as printed (with the ports it chose), through reflection
        commands = printed_commands(out, "node_modules/.bin/buf curl")
        assert len(commands) == 3, out
        results = []
        for command in commands:
            done = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True,
                                  encoding="utf-8", timeout=120, check=False)
            assert done.returncode == 0, (command, done.stderr)
            results.append(done.stdout)
        assert "chiso.publish.v1.PublishService/GetRanking" in results[0].splitlines()
        ranking = json.loads(results[1])["ranking"]  # the national pull: the live provincial ranking
        assert (ranking["period"]["year"], ranking["period"]["number"]) == (year, month)
        assert ranking["unitKind"] == "UNIT_KIND_PROVINCE" and len(ranking["entries"]) >= 34
        # the same top as printed (names in UTF-8, diacritics kept)
        assert [(str(e["rank"]), e["unit"]["code"], e["unit"]["name"], e["total"]["value"])
                for e in ranking["entries"][:5]] == top, results[1][:3000]
        subscriptions = json.loads(results[2])["subscriptions"]  # an operator's call, with its token
        assert [(s["subscriptionId"], s["displayName"]) for s in subscriptions] == [
            ("portal-phu-tho", "Cổng thông tin tỉnh Phú Thọ")]
        # the integrators' commands: a dry run of the sample units (nothing stored), a source of one's own
        (dry,) = [c for c in printed_commands(out, "CHISO_TOKEN=") if "chiso-push" in c]
        done = subprocess.run(["bash", "-c", dry], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                              timeout=120, check=False)
        assert done.returncode == 0 and "would be accepted: 2," in done.stdout, (dry, done)
        (add,) = [c for c in printed_commands(out, ".venv/bin/chiso-admin") if "source add" in c]
        done = subprocess.run(["bash", "-c", add], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                              timeout=120, check=False)
        assert done.returncode == 0 and done.stdout.startswith("chiso_"), (add, done)
        check_readme_integrator_commands(var, out)
        # the records behind Phú Thọ's 2.1, with the token of its officials the demo printed
        (explain,) = [c for c in printed_commands(out, "CHISO_TOKEN=") if "chiso-score" in c and " explain " in c]
        done = subprocess.run(["bash", "-c", explain], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                              timeout=120, check=False)
        headline = r"2\.1 \([^)]+\): \d+ bản ghi làm mất [\d,]+ điểm"  # explain's headline (points lost)
        assert done.returncode == 0 and re.search(headline, done.stdout), (explain, done)
        without = subprocess.run(["bash", "-c", explain.split(") ", 1)[1]], cwd=ROOT, capture_output=True, text=True,
                                 encoding="utf-8", timeout=120, check=False)
        assert without.returncode == 2 and "UNAUTHENTICATED" in without.stderr, without
        # what is about to be late in Phú Thọ, with the same officials' token
        (at_risk,) = [c for c in printed_commands(out, "CHISO_TOKEN=") if "chiso-score" in c and " at-risk " in c]
        done = subprocess.run(["bash", "-c", at_risk], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
                              timeout=120, check=False)
        assert done.returncode == 0 and re.search(r"\d+ hồ sơ sắp quá hạn", done.stdout), (at_risk, done)

        demo.ctrl_c()
        assert demo.wait(timeout=60) == 0, demo.stderr[-3000:]
        check_stopped_cleanly(demo, var)
    finally:
        demo.close()

    # again, on the same directory: it comes up again (and, with --once, stops by itself)
    again = Demo(var, "--dossiers", "3000", "--once")
    try:
        assert again.wait(timeout=400) == 0, again.stdout[-3000:] + again.stderr[-3000:]
        check_where_to_look(again.stdout, var)
        assert "Press Ctrl-C" not in again.stdout
        check_stopped_cleanly(again, var)
    finally:
        again.close()
