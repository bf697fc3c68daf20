"""Credentials: principals (source systems, units' officials and operators), their bearer tokens and
unit grants.

* a **source** system writes records (ingest) for the unit subtrees it is granted, and may read the
  record-level data (dossier and petition codes, ratings) of those units from scoring;
* an **official** of a unit only reads: the record-level data of the unit subtrees it is granted (a
  province's officials: ``--grant H25``; a department's: ``--grant H25.01``);
* an **operator** runs publish (publications, subscriptions, replays) and may read every unit's records.

OPERATIONS.md ("Who may read and write what") is the whole model.

A token reads ``chiso_<token_id>_<secret>``. Only the SHA-256 of the secret is stored (the secret is
256 random bits, so a fast hash is as strong as a slow one here); the token id finds the row and the
hash is compared in constant time. Tokens are issued, rotated and revoked by ``chiso-admin``;
nothing ever logs a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from services.shared.db import Database
from services.shared.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated
from services.shared.grants import grant_entry_problem
from services.shared.schema import grants, principals, tokens

SOURCE = "source"
OFFICIAL = "official"
OPERATOR = "operator"
KINDS = (SOURCE, OFFICIAL, OPERATOR)
ALL_UNITS = "*"  # a grant root that covers every unit
_PREFIX = "chiso_"


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Identity:
    """Who is calling: a source system (with its grant) or an operator."""

    kind: str
    id: str
    grant_roots: frozenset[str]
    token_id: str


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str  # shown once; never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str] | None:
    if not token.startswith(_PREFIX):
        return None
    rest = token[len(_PREFIX) :]
    token_id, sep, secret = rest.partition("_")
    if not sep or not token_id or not secret or len(token) > 200:
        return None
    return token_id, secret


def ensure_principal(conn: Connection, principal_id: str, kind: str, display_name: str) -> None:
    existing = principal_kind(conn, principal_id)
    if existing is None:
        conn.execute(
            insert(principals).values(id=principal_id, kind=kind, display_name=display_name, created_at=now_us())
        )
    elif existing != kind:
        raise PermissionDenied(f"principal {principal_id} is a {existing}, not a {kind}", reason="KIND_MISMATCH")


def principal_kind(conn: Connection, principal_id: str) -> str | None:
    return conn.execute(select(principals.c.kind).where(principals.c.id == principal_id)).scalar()


def issue_token(conn: Connection, principal_id: str) -> IssuedToken:
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        insert(tokens).values(
            token_id=token_id, principal_id=principal_id, secret_sha256=_hash(secret), created_at=now_us()
        )
    )
    return IssuedToken(token_id, f"{_PREFIX}{token_id}_{secret}")


def revoke_token(conn: Connection, token_id: str) -> None:
    done = conn.execute(
        update(tokens).where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None)).values(revoked_at=now_us())
    ).rowcount
    if not done:
        raise NotFound(f"no active token {token_id}", reason="TOKEN_NOT_FOUND")


def rotate_token(conn: Connection, token_id: str) -> IssuedToken:
    """Issue a new token for the same principal and revoke the old one, in one transaction."""
    principal_id = conn.execute(
        select(tokens.c.principal_id).where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
    ).scalar()
    if principal_id is None:
        raise NotFound(f"no active token {token_id}", reason="TOKEN_NOT_FOUND")
    new = issue_token(conn, principal_id)
    revoke_token(conn, token_id)
    return new


def set_grants(conn: Connection, principal_id: str, unit_codes: Sequence[str]) -> None:
    """Replace a source's grant: unit codes (subtree roots), ``*`` and ``@catalogue`` (see
    ``services.shared.grants``). A code that is not canonical (upper case) is refused."""
    problems = [p for p in map(grant_entry_problem, unit_codes) if p]
    if problems:
        raise InvalidArgument("; ".join(problems), reason="BAD_GRANT")
    conn.execute(delete(grants).where(grants.c.principal_id == principal_id))
    if unit_codes:
        conn.execute(
            insert(grants),
            [{"principal_id": principal_id, "unit_code": u, "created_at": now_us()} for u in sorted(set(unit_codes))],
        )


def list_tokens(conn: Connection) -> list[dict]:
    rows = conn.execute(
        select(
            tokens.c.token_id,
            tokens.c.principal_id,
            principals.c.kind,
            principals.c.display_name,
            tokens.c.created_at,
            tokens.c.revoked_at,
        )
        .join(principals, principals.c.id == tokens.c.principal_id)
        .order_by(tokens.c.principal_id, tokens.c.created_at)
    ).mappings()
    out = []
    for r in rows:
        item = dict(r)
        item["grants"] = sorted(
            conn.execute(select(grants.c.unit_code).where(grants.c.principal_id == r["principal_id"])).scalars()
        )
        out.append(item)
    return out


def covers(identity: Identity, unit_and_ancestors: Collection[str]) -> bool:
    """Whether ``identity`` may read the record-level data of a unit, given the unit's code and its
    ancestors' (``unit_and_ancestors``): operators every unit; sources and officials the subtrees they
    are granted (``*``: every unit)."""
    if identity.kind == OPERATOR:
        return True
    if identity.kind not in (SOURCE, OFFICIAL):
        return False
    return ALL_UNITS in identity.grant_roots or not identity.grant_roots.isdisjoint(unit_and_ancestors)


def bearer_authenticate(authenticator: Authenticator, missing: str = "this method needs a bearer token"):
    """An ``AuthInterceptor`` authenticate function: the ``authorization: Bearer <token>`` header
    resolved by ``authenticator`` (UNAUTHENTICATED, reason MISSING_TOKEN, without one); the identity
    travels in the principal's attributes as ``identity``."""
    from services.shared.interceptors import Principal, bearer_token

    def authenticate(method: str, metadata) -> Principal:
        token = bearer_token(metadata)
        if token is None:
            raise Unauthenticated(missing, reason="MISSING_TOKEN")
        ident = authenticator.identify(token)
        return Principal(kind=ident.kind, id=ident.id, scopes=ident.grant_roots, attributes={"identity": ident})

    return authenticate


class Authenticator:
    """Resolves bearer tokens to identities, caching answers briefly (revocation applies within
    ``ttl`` seconds on every replica)."""

    def __init__(self, db: Database, ttl: float = 5.0) -> None:
        self.db = db
        self.ttl = ttl
        self._cache: dict[str, tuple[float, Identity | None]] = {}
        self._lock = threading.Lock()

    def identify(self, token: str) -> Identity:
        parsed = parse_token(token)
        if parsed is None:
            raise Unauthenticated("malformed bearer token", reason="BAD_TOKEN")
        key = _hash(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            identity = hit[1]
        else:
            identity = self._lookup(*parsed)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = (now + self.ttl, identity)
        if identity is None:
            raise Unauthenticated("unknown or revoked token", reason="BAD_TOKEN")
        return identity

    def _lookup(self, token_id: str, secret: str) -> Identity | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(tokens.c.secret_sha256, tokens.c.revoked_at, principals.c.id, principals.c.kind)
                .join(principals, principals.c.id == tokens.c.principal_id)
                .where(tokens.c.token_id == token_id)
            ).first()
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_sha256, _hash(secret)):
                return None
            roots = frozenset(
                conn.execute(select(grants.c.unit_code).where(grants.c.principal_id == row.id)).scalars()
            )
        return Identity(kind=row.kind, id=row.id, grant_roots=roots, token_id=token_id)
