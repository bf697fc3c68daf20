"""Ingest's service layer: one sync batch = one unit of work = one transaction.

``Ingest.sync`` is called by the gRPC servicer with plain records (see ``domain``) and returns a
``BatchOutcome``; it never sees protobuf. The outcome of every committed batch is stored in the
ledger and returned again, unchanged, when the same request id is repeated (AIP-155).
"""

from __future__ import annotations

import collections
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from services.ingest import storage
from services.ingest.domain import (
    SPECS,
    Directory,
    Outcome,
    RecordKind,
    RecordVerdict,
    UnitEntry,
    affected_months,
    judge,
    normalise,
    plan_batch,
)
from services.shared.access import SOURCE, Identity, now_us
from services.shared.db import Database
from services.shared.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

log = structlog.get_logger("chiso.ingest")
RECORDS = Counter("chiso_ingest_records", "Records of committed batches, by kind and outcome (validate_only "
                  "requests not counted)", ["kind", "outcome"])

MAX_REQUEST_ID = 128


@dataclass(frozen=True, slots=True)
class RecordError:
    index: int
    status: Outcome
    field: str
    reason: str
    message: str


@dataclass
class BatchOutcome:
    batch_id: str
    request_id: str
    kind: RecordKind
    statuses: list[int]
    errors: list[RecordError]
    accepted: int
    stale: int
    rejected: int
    commit_time_us: int | None
    replayed: bool = False
    source_id: str = ""
    receive_time_us: int = 0

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "batch_id": self.batch_id,
                "request_id": self.request_id,
                "kind": int(self.kind),
                "statuses": self.statuses,
                "errors": [[e.index, int(e.status), e.field, e.reason, e.message] for e in self.errors],
                "accepted": self.accepted,
                "stale": self.stale,
                "rejected": self.rejected,
                "commit_time_us": self.commit_time_us,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, data: bytes, *, replayed: bool = False, source_id: str = "", receive_time_us: int = 0):
        d = json.loads(data)
        return cls(
            batch_id=d["batch_id"],
            request_id=d["request_id"],
            kind=RecordKind(d["kind"]),
            statuses=d["statuses"],
            errors=[RecordError(i, Outcome(s), f, r, m) for i, s, f, r, m in d["errors"]],
            accepted=d["accepted"],
            stale=d["stale"],
            rejected=d["rejected"],
            commit_time_us=d["commit_time_us"],
            replayed=replayed,
            source_id=source_id,
            receive_time_us=receive_time_us,
        )


@dataclass
class IngestLimits:
    max_batch_records: int = 5000
    directory_refresh_seconds: float = 30.0
    #: how far in the future a source instant may lie (the sender's clock running ahead)
    max_clock_skew_seconds: float = 120.0


@dataclass
class _DirectoryCache:
    directory: Directory | None = None
    loaded_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Ingest:
    """Takes sync batches. Thread-safe; one instance per process."""

    def __init__(self, db: Database, limits: IngestLimits | None = None) -> None:
        self.db = db
        self.limits = limits or IngestLimits()
        self._dir = _DirectoryCache()

    # ------------------------------------------------------------------ directory

    def directory(self, *, max_age: float | None = None) -> Directory:
        age = self.limits.directory_refresh_seconds if max_age is None else max_age
        cache = self._dir
        with cache.lock:
            if cache.directory is None or age <= 0 or time.monotonic() - cache.loaded_at > age:
                with self.db.read() as conn:
                    units, procs = storage.load_directory_rows(conn)
                cache.directory = Directory({code: UnitEntry(*row) for code, row in units.items()}, procs)
                cache.loaded_at = time.monotonic()
            return cache.directory

    def invalidate_directory(self) -> None:
        with self._dir.lock:
            self._dir.directory = None

    # ------------------------------------------------------------------ batches

    def sync(
        self,
        identity: Identity,
        kind: RecordKind,
        request_id: str,
        atomic: bool,
        records: Sequence[tuple],
        request_hash: str,
        decode_errors: dict[int, RecordVerdict] | None = None,
        *,
        validate_only: bool = False,
    ) -> BatchOutcome:
        """Validate, deduplicate and store one batch; return the outcome of every record.

        ``decode_errors`` carries records the transport could not even read (by index).
        ``validate_only`` (AIP-163): judge the batch as a real call would, against what is stored
        now, and answer (or refuse an atomic batch) the same way, but store nothing, not even in
        the ledger: the request id stays free and the answer has no batch id or commit time.
        """
        self._check_request(identity, request_id, len(records))
        if validate_only:
            return self._validate(identity, kind, request_id, atomic, records, decode_errors)
        batch_log = log.bind(source=identity.id, request_id_client=request_id, kind=kind.name.lower())
        with self.db.read() as conn:
            found = storage.find_batch(conn, identity.id, request_id)
        if found is not None:
            return self._replay(identity, request_id, request_hash, found)

        spec = SPECS[kind]
        received = now_us()
        records = normalise(spec, records)
        verdicts = self._judge(spec, records, identity, received)
        for i, v in (decode_errors or {}).items():
            verdicts[i] = v
        batch_id = uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(batch_id=batch_id)

        if atomic and any(v is not None for v in verdicts):
            outcome = self._refused(batch_id, request_id, kind, verdicts)
            with self.db.write() as conn:
                self._ledger(conn, outcome, identity, request_id, request_hash, atomic, received, "refused")
            _count_records(kind, outcome.statuses)
            batch_log.info("batch refused", records=len(records), rejected=outcome.rejected)
            self._raise_refused(outcome)

        try:
            with self.db.write() as conn:
                valid_keys = [spec.key(r) for r, v in zip(records, verdicts, strict=True) if v is None]
                stored = storage.stored_versions(conn, kind, identity.id, valid_keys)
                plan = plan_batch(spec, records, verdicts, {k: s.source_time for k, s in stored.items()})
                written = [r for _, r in plan.to_write]
                # A catalogue record that says what is stored (a re-sync) is written — its source time
                # moves on — but notifies nobody: scoring and publish have nothing to redo.
                changed = storage.changed_records(conn, kind, identity.id, written)
                storage.write_records(conn, kind, identity.id, batch_id, written)
                # Scoring revisits the months each record counts in now and those it counted in before.
                months = affected_months(spec, changed)
                before = (stored.get(spec.key(r)) for r in changed)
                months.update(s.months for s in before if s is not None and s.months is not None)
                committed = now_us()
                storage.write_notices(conn, kind, batch_id, months, committed)
                outcome = self._outcome(batch_id, request_id, kind, plan.verdicts, committed)
                self._ledger(conn, outcome, identity, request_id, request_hash, atomic, received, "committed")
        except IntegrityError:
            # The same request id committed concurrently by another call: answer as a repeat.
            with self.db.read() as conn:
                found = storage.find_batch(conn, identity.id, request_id)
            if found is None:
                raise
            return self._replay(identity, request_id, request_hash, found)

        if kind in (RecordKind.UNIT, RecordKind.PROCEDURE) and outcome.accepted:
            self.invalidate_directory()
        if not outcome.replayed:
            _count_records(kind, outcome.statuses)
        batch_log.info(
            "batch committed",
            records=len(records),
            accepted=outcome.accepted,
            stale=outcome.stale,
            rejected=outcome.rejected,
        )
        return outcome

    def _validate(self, identity: Identity, kind: RecordKind, request_id: str, atomic: bool,
                  records: Sequence[tuple], decode_errors: dict[int, RecordVerdict] | None) -> BatchOutcome:
        """The answer ``sync`` would give, from one read transaction; nothing written."""
        spec = SPECS[kind]
        records = normalise(spec, records)
        verdicts = self._judge(spec, records, identity, now_us())
        for i, v in (decode_errors or {}).items():
            verdicts[i] = v
        if atomic and any(v is not None for v in verdicts):
            self._raise_refused(self._refused("", request_id, kind, verdicts))
        with self.db.read() as conn:
            valid_keys = [spec.key(r) for r, v in zip(records, verdicts, strict=True) if v is None]
            stored = storage.stored_versions(conn, kind, identity.id, valid_keys)
        plan = plan_batch(spec, records, verdicts, {k: s.source_time for k, s in stored.items()})
        outcome = self._outcome("", request_id, kind, plan.verdicts, None)
        log.info("batch validated", source=identity.id, request_id_client=request_id, kind=kind.name.lower(),
                 records=len(records), accepted=outcome.accepted, stale=outcome.stale, rejected=outcome.rejected)
        return outcome

    def get_batch(self, identity: Identity, *, batch_id: str = "", request_id: str = "") -> BatchOutcome:
        if bool(batch_id) == bool(request_id):
            raise InvalidArgument(
                "give exactly one of batch_id and request_id",
                reason="ONE_OF_REQUIRED",
                violations=[FieldViolation("batch_id", "give exactly one of batch_id and request_id")],
            )
        with self.db.read() as conn:
            row = storage.get_batch(conn, identity.id, batch_id=batch_id, request_id=request_id)
        if row is None:
            raise NotFound("no such batch for this source", reason="BATCH_NOT_FOUND")
        return BatchOutcome.from_json(row["response"], source_id=row["source_id"], receive_time_us=row["received_at"])

    # ------------------------------------------------------------------ helpers

    def _check_request(self, identity: Identity, request_id: str, n: int) -> None:
        if identity.kind != SOURCE:
            raise PermissionDenied("only source systems send sync batches", reason="NOT_A_SOURCE")
        if not request_id or len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
            raise InvalidArgument(
                "request_id must be 1–128 printable characters",
                reason="BAD_REQUEST_ID",
                violations=[FieldViolation("request_id", "must be 1–128 printable characters")],
            )
        if n > self.limits.max_batch_records:
            raise InvalidArgument(
                f"a batch holds at most {self.limits.max_batch_records} records, this one has {n}",
                reason="BATCH_TOO_LARGE",
                metadata={"max_records": str(self.limits.max_batch_records), "records": str(n)},
                violations=[FieldViolation("records", f"at most {self.limits.max_batch_records} records")],
            )

    def _judge(self, spec, records, identity: Identity, now: int) -> list[RecordVerdict | None]:
        skew = int(self.limits.max_clock_skew_seconds * 1_000_000)

        def run(directory: Directory) -> list[RecordVerdict | None]:
            return judge(spec, records, directory=directory, grant_roots=identity.grant_roots, now_us=now,
                         skew_us=skew)

        # Units and procedures decide who owns what: judge them against the stored catalogue as it
        # is now (one reload per catalogue batch, which are rare), not a copy up to
        # directory_refresh_seconds old — or a unit or procedure another replica has just created
        # could be taken over as if it were new.
        catalogue = spec.kind in (RecordKind.UNIT, RecordKind.PROCEDURE)
        verdicts = run(self.directory(max_age=0.0 if catalogue else None))
        unknown = any(
            v is not None and v.violations and v.violations[0].reason in ("UNKNOWN_UNIT", "UNKNOWN_PROCEDURE")
            for v in verdicts
        )
        if unknown and not catalogue:
            # Another replica may have just added the unit or procedure: look again (at most once a second).
            verdicts = run(self.directory(max_age=1.0))
        return verdicts

    def _replay(self, identity: Identity, request_id: str, request_hash: str, found: tuple[str, bytes]):
        stored_hash, response = found
        if stored_hash != request_hash:
            raise AlreadyExists(
                f"request_id {request_id!r} was already used for a different batch",
                reason="REQUEST_ID_REUSED",
                metadata={"request_id": request_id},
            )
        log.info("batch repeated", source=identity.id, request_id_client=request_id)
        return BatchOutcome.from_json(response, replayed=True)

    @staticmethod
    def _errors(verdicts: Sequence[RecordVerdict]) -> list[RecordError]:
        errors = []
        for i, v in enumerate(verdicts):
            if v.outcome is Outcome.ACCEPTED:
                continue
            if v.violations:
                first = v.violations[0]
                errors.append(RecordError(i, v.outcome, first.field, first.reason, first.message))
            elif v.outcome is Outcome.STALE:
                errors.append(RecordError(i, v.outcome, "source_time", "STALE", "a newer version is stored"))
            else:
                errors.append(
                    RecordError(i, v.outcome, "", "ATOMIC_BATCH_REFUSED", "not stored: other records are invalid")
                )
        return errors

    def _outcome(self, batch_id, request_id, kind, verdicts: Sequence[RecordVerdict], committed) -> BatchOutcome:
        statuses = [int(v.outcome) for v in verdicts]
        accepted = statuses.count(Outcome.ACCEPTED)
        stale = statuses.count(Outcome.STALE)
        return BatchOutcome(
            batch_id=batch_id,
            request_id=request_id,
            kind=kind,
            statuses=statuses,
            errors=self._errors(verdicts),
            accepted=accepted,
            stale=stale,
            rejected=len(statuses) - accepted - stale,
            commit_time_us=committed,
        )

    def _refused(self, batch_id, request_id, kind, verdicts) -> BatchOutcome:
        full = [v if v is not None else RecordVerdict(Outcome.ABORTED) for v in verdicts]
        return self._outcome(batch_id, request_id, kind, full, None)

    @staticmethod
    def _raise_refused(outcome: BatchOutcome) -> None:
        bad = [e for e in outcome.errors if e.status in (Outcome.INVALID, Outcome.PERMISSION_DENIED)]
        violations = [FieldViolation(f"records[{e.index}].{e.field}" if e.field else f"records[{e.index}]",
                                     f"{e.reason}: {e.message}") for e in bad]
        batch = {"batch_id": outcome.batch_id} if outcome.batch_id else {}  # none for validate_only
        if all(e.status is Outcome.PERMISSION_DENIED for e in bad):
            raise PermissionDenied(
                f"atomic batch refused: {len(bad)} record(s) outside this source's grant",
                reason="OUT_OF_GRANT",
                metadata={**batch, "first_index": str(bad[0].index)},
            )
        raise InvalidArgument(
            f"atomic batch refused: {len(bad)} invalid record(s); nothing was stored",
            reason="INVALID_RECORDS",
            metadata={**batch, "invalid_records": str(len(bad))},
            violations=violations,
        )

    @staticmethod
    def _ledger(conn, outcome: BatchOutcome, identity, request_id, request_hash, atomic, received, status):
        storage.write_ledger(
            conn,
            batch_id=outcome.batch_id,
            source_id=identity.id,
            request_id=request_id,
            idempotency_key=request_id if status == "committed" else None,
            kind=int(outcome.kind),
            request_sha256=request_hash,
            atomic=atomic,
            received_at=received,
            committed_at=outcome.commit_time_us,
            record_count=len(outcome.statuses),
            accepted_count=outcome.accepted,
            stale_count=outcome.stale,
            rejected_count=outcome.rejected,
            outcome=status,
            response=outcome.to_json(),
        )


_OUTCOME_NAMES = {int(o): o.name.lower() for o in Outcome}


def _count_records(kind: RecordKind, statuses: Sequence[int]) -> None:
    counts = collections.Counter(statuses)  # C speed: a batch holds up to 5,000 records
    name = kind.name.lower()
    for status, n in counts.items():
        RECORDS.labels(name, _OUTCOME_NAMES.get(status, str(status))).inc(n)
