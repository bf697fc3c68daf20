"""chiso-push — send records to ingest from a JSON Lines file, for integrators.

Each line is one record in the protobuf JSON mapping of ``chiso.ingest.v1`` (e.g. a
``DossierRecord``: ``{"code": "HS-1", "unitCode": "H56", "receivedTime": "2026-08-03T08:15:00+07:00",
…}``). Records are sent in batches; each batch's request id is derived from its content, so running
the same file again is harmless (repeated batches are answered from the ledger and change nothing).
UNAVAILABLE is retried with exponential backoff and jitter; every other error is final.

    CHISO_TOKEN=… chiso-push --kind dossiers dossiers.jsonl --target 127.0.0.1:50051

Progress goes to standard error; the summary (accepted, stale, rejected by reason, with line
numbers of the first examples) ends the run. Exit status: 0 all accepted or stale, 1 some records
rejected, 2 the run could not finish.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from google.protobuf import json_format

KINDS = {
    "units": (pb.UnitRecord, pb.SyncUnitsRequest, "SyncUnits"),
    "procedures": (pb.ProcedureRecord, pb.SyncProceduresRequest, "SyncProcedures"),
    "unit-procedures": (pb.UnitProcedureRecord, pb.SyncUnitProceduresRequest, "SyncUnitProcedures"),
    "publications": (pb.PublicationRecord, pb.SyncPublicationsRequest, "SyncPublications"),
    "dossiers": (pb.DossierRecord, pb.SyncDossiersRequest, "SyncDossiers"),
    "petitions": (pb.PetitionRecord, pb.SyncPetitionsRequest, "SyncPetitions"),
    "reported-totals": (pb.ReportedTotalRecord, pb.SyncReportedTotalsRequest, "SyncReportedTotals"),
}


@dataclass
class Summary:
    read: int = 0
    accepted: int = 0
    stale: int = 0
    rejected: int = 0
    unreadable: int = 0
    batches: int = 0
    replayed_batches: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def reject(self, reason: str, line: int) -> None:
        self.reasons[reason] += 1
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(line)

    def render(self) -> str:
        lines = [
            f"records read: {self.read}, batches: {self.batches} ({self.replayed_batches} already sent before)",
            f"accepted: {self.accepted}, stale (older than stored): {self.stale}, "
            f"rejected: {self.rejected + self.unreadable}",
        ]
        for reason, n in self.reasons.most_common():
            where = ", ".join(str(x) for x in self.examples[reason])
            lines.append(f"  {reason}: {n} (lines {where}{', …' if n > len(self.examples[reason]) else ''})")
        return "\n".join(lines)


def read_batches(path: str, record_type, batch_size: int, summary: Summary) -> Iterator[list[tuple[int, object]]]:
    batch: list[tuple[int, object]] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            summary.read += 1
            try:
                record = json_format.Parse(line, record_type())
            except json_format.ParseError as exc:
                summary.unreadable += 1
                summary.reject(f"UNREADABLE_JSON ({str(exc).splitlines()[0][:80]})", line_no)
                continue
            batch.append((line_no, record))
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def call_with_retry(fn, request, *, metadata, timeout: float, attempts: int = 8):
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            return fn(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == attempts:
                raise
            sleep = random.uniform(0, delay)  # full jitter
            print(f"  server unavailable, retrying in {sleep:.1f}s (attempt {attempt})", file=sys.stderr)
            time.sleep(sleep)
            delay = min(delay * 2, 10.0)
    raise AssertionError("unreachable")


def run(args) -> int:
    record_type, request_type, method = KINDS[args.kind]
    token = os.environ.get(args.token_env, "")
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as fh:
            token = fh.read().strip()
    if not token:
        print(f"chiso-push: no token (set {args.token_env} or --token-file)", file=sys.stderr)
        return 2
    metadata = (("authorization", f"Bearer {token}"),)
    summary = Summary()
    started = time.monotonic()
    with grpc.insecure_channel(args.target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        rpc = getattr(stub, method)
        for batch in read_batches(args.file, record_type, args.batch_size, summary):
            request = request_type(atomic=args.atomic)
            request.records.extend(r for _, r in batch)
            digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()[:32]
            request.request_id = f"{args.request_id_prefix}{args.kind}-{digest}"
            try:
                response = call_with_retry(rpc, request, metadata=metadata, timeout=args.timeout)
            except grpc.RpcError as err:
                print(f"chiso-push: batch starting at line {batch[0][0]} failed: "
                      f"{err.code().name}: {err.details()}", file=sys.stderr)
                if err.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED):
                    summary.rejected += len(batch)
                    summary.reject(f"BATCH_REFUSED_{err.code().name}", batch[0][0])
                    continue
                print(summary.render(), file=sys.stderr)
                return 2
            result = response.result
            summary.batches += 1
            summary.replayed_batches += int(result.replayed)
            summary.accepted += result.accepted_count
            summary.stale += result.stale_count
            summary.rejected += result.rejected_count
            for e in result.errors:
                if e.status != pb.RECORD_STATUS_STALE:
                    summary.reject(f"{e.reason} ({e.field})" if e.field else e.reason, batch[e.index][0])
            rate = summary.read / max(time.monotonic() - started, 1e-9)
            print(
                f"  {summary.read} read, {summary.accepted} accepted, {summary.stale} stale, "
                f"{summary.rejected + summary.unreadable} rejected — {rate:,.0f} records/s",
                file=sys.stderr,
            )
    print(summary.render())
    return 1 if summary.rejected or summary.unreadable else 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="chiso-push", description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="JSON Lines file, one record per line (protobuf JSON mapping)")
    p.add_argument("--kind", required=True, choices=sorted(KINDS))
    p.add_argument("--target", default=os.environ.get("CHISO_INGEST_TARGET", "127.0.0.1:50051"))
    p.add_argument("--token-env", default="CHISO_TOKEN", help="environment variable holding the token")
    p.add_argument("--token-file", help="file holding the token (instead of the environment)")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--atomic", action="store_true", help="all-or-nothing batches")
    p.add_argument("--timeout", type=float, default=60.0, help="deadline per batch, seconds")
    p.add_argument("--request-id-prefix", default="push-")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
