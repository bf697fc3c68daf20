"""chiso-admin — operator command line: migrations, source systems, units' officials, operators, tokens
and grants.

The database comes from ``--database-url`` or ``CHISO_DATABASE_URL`` (default: the embedded SQLite
file ``var/chiso.db``). A new token is printed once, on standard output, and never again; every
other line goes to standard error, so ``TOKEN=$(chiso-admin source add …)`` works.

Examples::

    chiso-admin migrate
    chiso-admin source add igate-phu-tho --name "Hệ thống iGate Phú Thọ" --grant H25
    chiso-admin source add csdl-tthc --name "CSDL quốc gia về TTHC" --catalogue
    chiso-admin official add ptho-vpubnd --name "Văn phòng UBND tỉnh Phú Thọ" --grant H25
    chiso-admin operator add vpcp-ops --name "Cục Kiểm soát TTHC"
    chiso-admin token rotate 3f9a1c2b4d5e
    chiso-admin token revoke 3f9a1c2b4d5e
    chiso-admin token list                 # a table; --json for JSON lines
    chiso-admin grant set igate-phu-tho H25
    chiso-admin grant set csdl-tthc --catalogue

A grant holds unit subtree roots (``H25``: Phú Thọ and everything beneath it), ``*`` (every unit,
and the only grant that may create top-level units such as ministries and provinces) and
``@catalogue`` (``--catalogue``: may create and change every procedure of the national procedure
catalogue, whatever unit manages it). Unit codes are upper case.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from services.shared import access
from services.shared.db import Database, default_sqlite_url, migrate
from services.shared.display import end_quietly_on_closed_pipe, hanoi_time, iso_time, shorten, table
from services.shared.errors import ChisoError, FailedPrecondition
from services.shared.grants import PROCEDURE_CATALOGUE


def _db(args) -> Database:
    return Database(args.database_url)


def _print_token(issued: access.IssuedToken, what: str) -> None:
    print(f"{what}: token id {issued.token_id} (the token below is shown only once)", file=sys.stderr)
    print(issued.token)


def cmd_migrate(args) -> None:
    migrate(args.database_url)
    print("schema is up to date", file=sys.stderr)


def _add_principal(args, kind: str) -> None:
    if args.auto_migrate:
        migrate(args.database_url)
    db = _db(args)
    with db.write() as conn:
        access.ensure_principal(conn, args.id, kind, args.name or args.id)
        if kind == access.SOURCE:
            access.set_grants(conn, args.id, _grant_entries(args.grant, args.catalogue))
        elif kind == access.OFFICIAL:
            access.set_grants(conn, args.id, args.grant or [])
        issued = access.issue_token(conn, args.id)
    _print_token(issued, f"{kind} {args.id}")


def cmd_source_add(args) -> None:
    _add_principal(args, access.SOURCE)


def cmd_official_add(args) -> None:
    _add_principal(args, access.OFFICIAL)


def cmd_operator_add(args) -> None:
    _add_principal(args, access.OPERATOR)


def cmd_token_issue(args) -> None:
    with _db(args).write() as conn:
        issued = access.issue_token(conn, args.principal)
    _print_token(issued, f"new token for {args.principal}")


def cmd_token_rotate(args) -> None:
    with _db(args).write() as conn:
        issued = access.rotate_token(conn, args.token_id)
    _print_token(issued, f"token {args.token_id} revoked; replacement")


def cmd_token_revoke(args) -> None:
    with _db(args).write() as conn:
        access.revoke_token(conn, args.token_id)
    print(f"token {args.token_id} revoked", file=sys.stderr)


def cmd_token_list(args) -> None:
    with _db(args).read() as conn:
        rows = access.list_tokens(conn)
    if args.json:
        for r in rows:
            print(json.dumps({**r, "created_at": iso_time(r["created_at"]), "revoked_at": iso_time(r["revoked_at"])},
                             ensure_ascii=False))
        if not rows:
            print("(no tokens)", file=sys.stderr)
        return
    print(table([[r["token_id"], r["principal_id"], r["kind"], shorten(r["display_name"] or "", 40),
                  ", ".join(r["grants"]) or "—", hanoi_time(r["created_at"]),
                  f"thu hồi {hanoi_time(r['revoked_at'])}" if r["revoked_at"] else "còn hiệu lực"] for r in rows],
                ["token id", "principal", "kind", "name", "grants", "created", "state"],
                empty="no tokens: chiso-admin source|official|operator add … issues the first"))


def _grant_entries(units: Sequence[str] | None, catalogue: bool) -> list[str]:
    return [*(units or []), *([PROCEDURE_CATALOGUE] if catalogue else [])]


def cmd_grant_set(args) -> None:
    entries = _grant_entries(args.units, args.catalogue)
    with _db(args).write() as conn:
        kind = access.principal_kind(conn, args.principal)
        if kind not in (access.SOURCE, access.OFFICIAL):
            raise FailedPrecondition(f"{args.principal} is {'an ' + kind if kind else 'not a principal'}: "
                                     "grants are for sources and officials", reason="NOT_GRANTABLE")
        if kind == access.OFFICIAL and args.catalogue:
            raise FailedPrecondition(f"{args.principal} is an official: officials only read, --catalogue is for "
                                     "sources", reason="NOT_GRANTABLE")
        access.set_grants(conn, args.principal, entries)
    what = "read the records of" if kind == access.OFFICIAL else "write (and read the records of)"
    print(f"{args.principal} may now {what}: {', '.join(entries) or 'nothing'}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chiso-admin", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--database-url",
        default=os.environ.get("CHISO_DATABASE_URL", default_sqlite_url()),
        help="SQLAlchemy URL (default: CHISO_DATABASE_URL or sqlite:///var/chiso.db)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="bring the schema up to date").set_defaults(func=cmd_migrate)

    for name, func, helptext in (
        ("source", cmd_source_add, "source systems that push data"),
        ("official", cmd_official_add, "a unit's officials: read its record-level data (explanations), nothing else"),
        ("operator", cmd_operator_add, "operators (publishing, replays, subscriptions)"),
    ):
        grp = sub.add_parser(name, help=helptext).add_subparsers(dest="action", required=True)
        add = grp.add_parser("add", help=f"create a {name} and issue its first token")
        add.add_argument("id")
        add.add_argument("--name", help="display name (Vietnamese welcome)")
        if name == "source":
            add.add_argument("--grant", action="append", help="unit subtree root it may write for ('*' = all)")
            add.add_argument("--catalogue", action="store_true",
                             help="may create and change every procedure of the national catalogue")
        if name == "official":
            add.add_argument("--grant", action="append", required=True,
                             help="unit subtree root whose records it may read (repeat for several)")
        add.add_argument("--no-migrate", dest="auto_migrate", action="store_false")
        add.set_defaults(func=func)

    tok = sub.add_parser("token", help="issue, rotate, revoke, list tokens").add_subparsers(
        dest="action", required=True
    )
    t = tok.add_parser("issue", help="issue another token for a principal")
    t.add_argument("principal")
    t.set_defaults(func=cmd_token_issue)
    t = tok.add_parser("rotate", help="replace a token: issue a new one and revoke the old")
    t.add_argument("token_id")
    t.set_defaults(func=cmd_token_rotate)
    t = tok.add_parser("revoke", help="revoke a token")
    t.add_argument("token_id")
    t.set_defaults(func=cmd_token_revoke)
    t = tok.add_parser("list", help="list tokens (ids only, never secrets), times in Hanoi time")
    t.add_argument("--json", action="store_true", help="JSON lines (times ISO 8601, +07:00) instead of a table")
    t.set_defaults(func=cmd_token_list)

    gr = sub.add_parser("grant", help="unit grants of a source or an official").add_subparsers(
        dest="action", required=True)
    g = gr.add_parser("set", help="replace the unit subtrees a source may write for (an official: read)")
    g.add_argument("principal")
    g.add_argument("units", nargs="*", help="unit subtree roots ('*' = every unit)")
    g.add_argument("--catalogue", action="store_true",
                   help="may create and change every procedure of the national catalogue")
    g.set_defaults(func=cmd_grant_set)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    end_quietly_on_closed_pipe()
    try:
        args.func(args)
    except ChisoError as exc:
        print(f"chiso-admin: {exc}", file=sys.stderr)
        return 2
    except DBAPIError as exc:  # unreachable, or no chiso schema: one line, no traceback (and no password)
        first = str(exc.orig or exc).strip().splitlines()[0][:200]
        hint = " (run chiso-admin migrate)" if "no such table" in first or "does not exist" in first else ""
        print(f"chiso-admin: database {_where(args.database_url)}: {first}{hint}", file=sys.stderr)
        return 2
    return 0


def _where(url: str) -> str:
    """The database URL without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 — a URL SQLAlchemy cannot read: say nothing of it
        return "(the configured one)"


if __name__ == "__main__":
    sys.exit(main())
