"""The stored-record kernel shared by ingest and scoring (services.shared.records)."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.shared import records as R


def test_rows_are_built_by_name_and_refuse_a_field_without_a_column():
    build = R.row_builder(R.ReportedTotalRecord, ("source_id", "unit_code", "year", "month", "dossiers_received",
                                                  "source_time", "batch_id"), ("batch_id", "source_id"))
    record = R.ReportedTotalRecord("H25", 2026, 8, 12, 7)
    assert build(record, "b1", "src") == ("src", "H25", 2026, 8, 12, 7, "b1")
    with pytest.raises(ValueError, match="no column for \\['dossiers_received'\\]"):
        R.row_builder(R.ReportedTotalRecord, ("unit_code", "year", "month", "source_time"), ())
    with pytest.raises(ValueError, match="nothing fills \\['batch_id'\\]"):
        R.row_builder(R.ReportedTotalRecord, ("unit_code", "year", "month", "dossiers_received", "source_time",
                                              "batch_id"), ())


def test_walk_up_cuts_cycles_and_stops_at_the_top():
    parents = {"C": "B", "B": "A", "A": None, "X": "Y", "Y": "X"}
    assert R.walk_up("C", parents.get) == ["C", "B", "A"]
    assert R.walk_up("X", parents.get) == ["X", "Y"]
    assert R.walk_up("Z", parents.get) == ["Z"]


def test_months_are_hanoi_months_and_clamped():
    eve = int(datetime(2026, 8, 31, 23, 30, tzinfo=R.HANOI).timestamp()) * R.US
    assert R.month_of(eve) == 202608 and R.month_of(eve + R.HOUR_US) == 202609
    assert R.month_of(-(1 << 62)) == R.MIN_MONTH and R.month_of(1 << 62) == R.MAX_MONTH


def test_stored_shapes_are_the_records_with_their_source():
    assert R.StoredDossier._fields == ("source_id", *R.DossierRecord._fields)
    assert R.StoredPetition._fields == ("source_id", *R.PetitionRecord._fields)
    offer = R.UnitProcedureRecord("H25", "P", 2, 2, True, False, False, False, False, True, 0)
    assert offer.online and not offer.online_service  # partial, suspended
