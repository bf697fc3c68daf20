"""What a source's grant can hold, written once for ingest (which enforces it) and chiso-admin (which
sets it). Plain Python: the ingest domain imports it.

A grant is a set of entries:

* a unit code — the subtree rooted at that unit: the unit, every unit beneath it, their records;
* ``*`` — every unit (the national source): also the only grant that may create top-level units
  (ministries, agencies, provinces …), move a unit to the top or change a top-level unit's kind;
* ``@catalogue`` — the national procedure catalogue: may create and change every procedure, whatever
  unit manages it; gives no right over any unit or its records (combine it with unit entries).

Unit codes are canonical: upper-case ASCII letters, digits, ``.``, ``-``, ``_`` (1–64 characters).
"""

from __future__ import annotations

import re

ALL_UNITS = "*"
PROCEDURE_CATALOGUE = "@catalogue"
SCOPES = frozenset({ALL_UNITS, PROCEDURE_CATALOGUE})

MAX_UNIT_CODE = 64
#: A unit or procedure code in its canonical form (upper case).
CANONICAL_CODE_RE = re.compile(r"[A-Z0-9][A-Z0-9._\-]*\Z")


def grant_entry_problem(entry: str) -> str | None:
    """Why ``entry`` cannot be part of a grant, or None when it can."""
    if entry in SCOPES:
        return None
    if not entry or len(entry) > MAX_UNIT_CODE:
        return f"{entry!r} is not a unit code (1–{MAX_UNIT_CODE} characters), '*' or '{PROCEDURE_CATALOGUE}'"
    if not CANONICAL_CODE_RE.match(entry):
        if CANONICAL_CODE_RE.match(entry.upper()):
            return f"unit codes are upper case: {entry.upper()!r}, not {entry!r}"
        return f"{entry!r} is not a unit code (letters, digits, '.', '-', '_'), '*' or '{PROCEDURE_CATALOGUE}'"
    return None
