"""chiso-push — send records to ingest from a JSON Lines file, for integrators.

Each line is one record in the protobuf JSON mapping of ``chiso.ingest.v1`` (e.g. a
``DossierRecord``: ``{"code": "HS-1", "unitCode": "H56", "receivedTime": "2026-08-03T08:15:00+07:00",
…}``); ``docs/examples/`` holds a valid file of every kind. Records are sent in batches; each
batch's request id is derived from its content, so running the same file again is harmless
(repeated batches are answered from the ledger and change nothing). UNAVAILABLE is retried by gRPC's
service-config retry policy (backoff with jitter); every other error is final.

    CHISO_TOKEN=… chiso-push --kind dossiers dossiers.jsonl --target 127.0.0.1:50051
    CHISO_TOKEN=… chiso-push --kind dossiers dossiers.jsonl --dry-run   # judged, nothing stored

``--dry-run`` sends every batch with ``validate_only`` (AIP-163): each line gets the result a real
push would give now, nothing is stored and no request id is used up. Each batch is judged against
what is stored, not against the file's earlier batches (a dossier naming a unit created earlier in
the same dry run is UNKNOWN_UNIT).

Every rejected line is printed on standard output with the server's reason, field and message
(``line 3: INVALID INCONSISTENT due_time: due_time is before received_time``), also for an atomic
batch refused as a whole; the summary (accepted, stale, rejected by reason) ends the run. Progress
goes to standard error. Exit status: 0 all accepted or stale, 1 some records rejected, 2 the run
could not finish (no token, an unreadable file, the service unreachable …), 130 interrupted.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import grpc
from chiso.ingest.v1 import ingest_pb2 as pb
from chiso.ingest.v1 import ingest_pb2_grpc
from google.protobuf import json_format

from services.shared.channels import retrying_channel
from services.shared.grpc_errors import details_from_rpc_error

PROG = "chiso-push"
KINDS = {
    "units": (pb.UnitRecord, pb.SyncUnitsRequest, "SyncUnits"),
    "procedures": (pb.ProcedureRecord, pb.SyncProceduresRequest, "SyncProcedures"),
    "unit-procedures": (pb.UnitProcedureRecord, pb.SyncUnitProceduresRequest, "SyncUnitProcedures"),
    "publications": (pb.PublicationRecord, pb.SyncPublicationsRequest, "SyncPublications"),
    "dossiers": (pb.DossierRecord, pb.SyncDossiersRequest, "SyncDossiers"),
    "petitions": (pb.PetitionRecord, pb.SyncPetitionsRequest, "SyncPetitions"),
    "reported-totals": (pb.ReportedTotalRecord, pb.SyncReportedTotalsRequest, "SyncReportedTotals"),
}
STATUS_NAMES = {pb.RECORD_STATUS_INVALID: "INVALID", pb.RECORD_STATUS_PERMISSION_DENIED: "PERMISSION_DENIED",
                pb.RECORD_STATUS_ABORTED: "ABORTED"}
#: refusals of an atomic batch as a whole because of its records (the others refuse the request itself)
ATOMIC_REASONS = frozenset({"INVALID_RECORDS", "OUT_OF_GRANT"})


class Stop(Exception):
    """The run cannot go on; the message says why (exit status 2)."""


class Output:
    """Standard output and error that outlive a reader going away (``chiso-push … | head``): once
    a pipe is closed, what would go to it is dropped and the push goes on."""

    def __init__(self) -> None:
        self.closed: set[int] = set()

    def _write(self, stream, text: str) -> None:
        fd = stream.fileno()
        if fd in self.closed:
            return
        try:
            print(text, file=stream, flush=True)
        except BrokenPipeError:
            self.closed.add(fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)  # Python's own flush at exit must not fail either
            os.close(devnull)

    def out(self, text: str) -> None:
        self._write(sys.stdout, text)

    def err(self, text: str) -> None:
        self._write(sys.stderr, text)


@dataclass
class Summary:
    dry_run: bool = False
    read: int = 0
    accepted: int = 0
    stale: int = 0
    rejected: int = 0
    aborted: int = 0
    batches: int = 0
    replayed_batches: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def reject(self, reason: str, line: int) -> None:
        self.rejected += 1
        self.reasons[reason] += 1
        if len(self.examples[reason]) < 5:
            self.examples[reason].append(line)

    def render(self) -> str:
        would = "would be " if self.dry_run else ""
        lines = [
            ("dry run (validate only): nothing was stored\n" if self.dry_run else "")
            + f"records read: {self.read}, batches: {self.batches}"
            + ("" if self.dry_run else f" ({self.replayed_batches} already sent before)"),
            f"{would}accepted: {self.accepted}, {would}stale (older than or same as stored): {self.stale}, "
            f"rejected: {self.rejected}"
            + (f", not stored (valid, in a refused atomic batch): {self.aborted}" if self.aborted else ""),
        ]
        for reason, n in self.reasons.most_common():
            where = ", ".join(str(x) for x in self.examples[reason])
            lines.append(f"  {reason}: {n} (lines {where}{', …' if n > len(self.examples[reason]) else ''})")
        return "\n".join(lines)


def read_batches(path: str, record_type, batch_size: int, summary: Summary,
                 io: Output) -> Iterator[list[tuple[int, object]]]:
    batch: list[tuple[int, object]] = []
    try:
        fh = open(path, encoding="utf-8-sig")  # noqa: SIM115 — closed below; errors reported as Stop
    except OSError as exc:
        raise Stop(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        line_no = 0
        try:
            for line_no, line in enumerate(fh, start=1):  # noqa: B007 — line_no is read after the loop
                if not line.strip():
                    continue
                summary.read += 1
                try:
                    record = json_format.Parse(line, record_type())
                except json_format.ParseError as exc:
                    message = str(exc).splitlines()[0][:200]
                    io.out(f"line {line_no}: UNREADABLE {message}")
                    summary.reject("UNREADABLE_JSON", line_no)
                    continue
                batch.append((line_no, record))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        except UnicodeDecodeError:
            raise Stop(f"{path}: line {line_no + 1} is not UTF-8 text") from None
        except OSError as exc:
            raise Stop(f"cannot read {path}: {exc.strerror or exc}") from None
    if batch:
        yield batch


def describe_rpc_error(err: grpc.RpcError) -> str:
    """``CODE: message`` with the ErrorInfo reason and each field violation on a line of its own."""
    text = f"{err.code().name}: {err.details()}"
    try:
        info, bad = details_from_rpc_error(err)
    except Exception:  # noqa: BLE001 — details that are not a google.rpc.Status: the code says enough
        info = bad = None
    if info is not None and info.reason:
        text += f" ({info.reason})"
    for v in bad.field_violations if bad is not None else ():
        text += f"\n  {v.field}: {v.description}"
    return text


def _reason(err: grpc.RpcError) -> str:
    try:
        info, _ = details_from_rpc_error(err)
    except Exception:  # noqa: BLE001
        return ""
    return info.reason if info is not None else ""


class Pusher:
    def __init__(self, args, rpc, request_type, summary: Summary, io: Output) -> None:
        self.args = args
        self.rpc = rpc
        self.request_type = request_type
        self.summary = summary
        self.io = io
        self.metadata = (("authorization", f"Bearer {args.token}"),)

    def request(self, batch, *, atomic: bool, validate_only: bool):
        request = self.request_type(atomic=atomic)
        request.records.extend(r for _, r in batch)
        digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()[:32]
        request.request_id = f"{self.args.request_id_prefix}{self.args.kind}-{digest}"
        request.validate_only = validate_only
        return request

    def call(self, request):
        return self.rpc(request, metadata=self.metadata, timeout=self.args.timeout)

    def report(self, batch, result) -> None:
        """Count a batch's outcome and print its rejected lines."""
        s = self.summary
        s.batches += 1
        s.replayed_batches += int(result.replayed)
        s.accepted += result.accepted_count
        s.stale += result.stale_count
        for e in result.errors:
            if e.status == pb.RECORD_STATUS_STALE:
                continue
            line = batch[e.index][0]
            status = STATUS_NAMES.get(e.status, str(e.status))
            where = f" {e.field}:" if e.field else ":"
            self.io.out(f"line {line}: {status} {e.reason}{where} {e.message}")
            s.reject(f"{e.reason} ({e.field})" if e.field else e.reason, line)

    def refused(self, batch, err: grpc.RpcError) -> None:
        """An atomic batch refused as a whole: say so, then ask again with validate_only, not atomic,
        for every line's own result (nothing is stored either way)."""
        self.io.out(f"lines {batch[0][0]}–{batch[-1][0]}: atomic batch refused, nothing stored: "
                    f"{err.code().name}: {err.details()}")
        try:
            result = self.call(self.request(batch, atomic=False, validate_only=True)).result
        except grpc.RpcError as again:
            self.io.err(f"{PROG}: could not get each line's result: {describe_rpc_error(again)}")
            for line, _ in batch:
                self.summary.reject(f"BATCH_REFUSED_{err.code().name}", line)
            self.summary.batches += 1
            return
        self.report(batch, result)
        # the valid records of the refused batch were not stored, whatever a lone check says
        self.summary.aborted += result.accepted_count + result.stale_count
        self.summary.accepted -= result.accepted_count
        self.summary.stale -= result.stale_count

    def push(self, batch) -> None:
        args = self.args
        try:
            response = self.call(self.request(batch, atomic=args.atomic, validate_only=args.dry_run))
        except grpc.RpcError as err:
            code = err.code()
            if args.atomic and code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED) \
                    and _reason(err) in ATOMIC_REASONS:
                self.refused(batch, err)
                return
            raise Stop(f"batch of lines {batch[0][0]}–{batch[-1][0]} failed: {describe_rpc_error(err)}") from None
        self.report(batch, response.result)


def read_token(args) -> str:
    if args.token_file:
        try:
            with open(args.token_file, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise Stop(f"cannot read the token file {args.token_file}: {exc.strerror or exc}") from None
    return os.environ.get(args.token_env, "").strip()


def run(args, io: Output) -> int:
    record_type, request_type, method = KINDS[args.kind]
    args.token = read_token(args)
    if not args.token:
        raise Stop(f"no token (set {args.token_env} or --token-file)")
    if not os.path.isfile(args.file):
        raise Stop(f"cannot read {args.file}: " + ("it is a directory" if os.path.isdir(args.file)
                                                    else "no such file"))
    summary = Summary(dry_run=args.dry_run)
    started = time.monotonic()
    with retrying_channel(args.target) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        pusher = Pusher(args, getattr(stub, method), request_type, summary, io)
        try:
            for batch in read_batches(args.file, record_type, args.batch_size, summary, io):
                pusher.push(batch)
                rate = summary.read / max(time.monotonic() - started, 1e-9)
                io.err(f"  {summary.read} read, {summary.accepted} accepted, {summary.stale} stale, "
                       f"{summary.rejected} rejected — {rate:,.0f} records/s")
        except Stop:
            io.out(summary.render())
            raise
    io.out(summary.render())
    return 1 if summary.rejected or summary.aborted else 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("file", help="JSON Lines file, one record per line (protobuf JSON mapping)")
    p.add_argument("--kind", required=True, choices=sorted(KINDS))
    p.add_argument("--target", default=os.environ.get("CHISO_INGEST_TARGET", "127.0.0.1:50051"),
                   help="host:port of ingest (default %(default)s, or CHISO_INGEST_TARGET)")
    p.add_argument("--token-env", default="CHISO_TOKEN", help="environment variable holding the token")
    p.add_argument("--token-file", help="file holding the token (instead of the environment)")
    p.add_argument("--batch-size", type=_positive, default=1000, help="records per batch (default %(default)s)")
    p.add_argument("--atomic", action="store_true", help="all-or-nothing batches")
    p.add_argument("--dry-run", action="store_true",
                   help="validate only: every line's result as a real push would give it, nothing stored")
    p.add_argument("--timeout", type=_seconds, default=60.0, help="deadline per batch, seconds")
    p.add_argument("--request-id-prefix", default="push-")
    args = p.parse_args(argv)
    io = Output()
    try:
        return run(args, io)
    except Stop as exc:
        io.err(f"{PROG}: {exc}")
        return 2
    except KeyboardInterrupt:
        io.err(f"{PROG}: interrupted; batches already answered stay stored (run it again: they are not repeated)")
        return 130


if __name__ == "__main__":
    sys.exit(main())
