"""``make fuzz``: fuzz every RPC of every service through the real servers (issue 15, item 4) and
write the tally into FAULTS.md (section "Fuzzing every RPC"; the rest of the file is kept).

``python -m tools.fuzz --examples 10000 --write FAULTS.md``: the suite (ingest, scoring, publish, a
portal receiver) on a fresh SQLite file, seeded; hypothesis draws calls per service (raw bytes,
boundary timestamps, cursors, page tokens, strings; with and without credentials). Exit status 1 when
any call ended INTERNAL, UNKNOWN or DATA_LOSS.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.conftest import make_db_url
from tests.fuzzing import SERVER_FAULTS, calls, metadata
from tests.rpc_suite import SERVICES, running_suite

SECTION = "## Fuzzing every RPC (make fuzz)"


def run(examples: int) -> tuple[dict, list]:
    tally: dict[str, collections.Counter] = {}
    faults: list = []
    state: dict[str, collections.Counter] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = next(make_db_url("sqlite", workdir))
        with running_suite(url, workdir) as suite:
            for service in SERVICES:
                counts = state["counts"] = tally.setdefault(service, collections.Counter())
                started = time.monotonic()

                @settings(max_examples=examples, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                @given(call=calls(service))
                def one(call):
                    method, payloads, who = call
                    code, err = suite.invoke(method, payloads, metadata=metadata(suite, who), timeout=15,
                                             stream_messages=2)
                    state["counts"][code.name] += 1
                    if code.name in SERVER_FAULTS:
                        faults.append((method.full_name, code.name, who, payloads[:1], err and err.details()))

                one()
                print(f"{service}: {sum(counts.values())} calls in {time.monotonic() - started:.0f} s "
                      f"{dict(counts)}", flush=True)
    return tally, faults


def section(tally: dict, faults: list, examples: int) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [SECTION, "",
             f"Measured on commit `{commit}` at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
             f"`make fuzz` (`python -m tools.fuzz --examples {examples}`): every RPC of every service through "
             "the real servers on SQLite, hypothesis drawing raw bytes and request messages with boundary "
             "timestamps, cursors, forged and huge page tokens and odd strings, with and without credentials.",
             "", "| service | calls | codes seen | INTERNAL / UNKNOWN / DATA_LOSS |", "|---|---|---|---|"]
    for service, counts in tally.items():
        seen = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
        bad = sum(counts[k] for k in SERVER_FAULTS)
        lines.append(f"| {service} | {sum(counts.values()):,} | {seen} | {bad} |")
    lines.append("")
    if faults:
        lines.append("Calls that ended as a server fault (first 20):")
        lines += [f"- `{m}` {c} ({w or 'no credential'}): {d}" for m, c, w, _p, d in faults[:20]]
        lines.append("")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    old = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(SECTION) + r".*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(text, old) if pattern.search(old) else old.rstrip() + "\n\n" + text
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=10_000, help="calls per service")
    parser.add_argument("--write", type=Path, help="FAULTS.md to update")
    args = parser.parse_args()
    tally, faults = run(args.examples)
    text = section(tally, faults, args.examples)
    print(text)
    if args.write:
        write(args.write, text)
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
