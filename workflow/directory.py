"""The organization directory: DLA, 76 provincial offices, 878 district offices and 7,849 LAOs."""

from __future__ import annotations

import csv
import json
import logging
from importlib import resources

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from workflow.db import transaction
from workflow.models import (
    ORG_DEPARTMENT,
    ORG_DISTRICT_OFFICE,
    ORG_LAO,
    ORG_PROVINCE_OFFICE,
    Organization,
)

log = logging.getLogger(__name__)

DLA_CODE = "DLA"
DLA_NAME = "กรมส่งเสริมการปกครองท้องถิ่น"
PROVINCE_OFFICE_PREFIX = "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด"
DISTRICT_OFFICE_PREFIX = "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอ"
# Bangkok is not administered by DLA, so it has no provincial office and no LAOs here.
BANGKOK_CODE = "10"

# LAOs that deal with the provincial office directly; the rest (เทศบาลตำบล, อบต.) report to
# their district office.
PROVINCE_LEVEL_LAO_TYPES = frozenset(
    {"provincial_admin_org", "city_municipality", "town_municipality", "special_admin_area"}
)


def province_office_code(province_code: str) -> str:
    return f"PROV-{province_code}"


def district_office_code(district_code: str) -> str:
    return f"DIST-{district_code}"


def _data_file(*parts: str):
    return resources.files("workflow").joinpath("data", *parts)


def _read_json(*parts: str) -> list:
    return json.loads(_data_file(*parts).read_text(encoding="utf-8"))


def _read_lao_rows() -> list[dict]:
    with _data_file("lao_registry.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _insert_missing(session: Session, rows: list[dict], existing: dict[str, int]) -> int:
    new_rows = [row for row in rows if row["code"] not in existing]
    if new_rows:
        session.execute(insert(Organization), new_rows)
    return len(new_rows)


def _code_to_id(session: Session, kind: str) -> dict[str, int]:
    result = session.execute(select(Organization.code, Organization.id).where(Organization.kind == kind))
    return {code: org_id for code, org_id in result}


def load_directory(session: Session) -> dict[str, int]:
    """Insert every organization of the directory that is not in the database yet.

    Runs in one transaction and can be repeated: rows are matched by `code`, existing rows
    are left as they are. Returns how many rows of each kind were inserted.
    """
    provinces = [row for row in _read_json("geothai", "provinces.json") if row[0] != BANGKOK_CODE]
    districts = [row for row in _read_json("geothai", "districts.json") if row[0][:2] != BANGKOK_CODE]
    laos = _read_lao_rows()
    inserted = {}
    with transaction(session):
        existing = _code_to_id(session, ORG_DEPARTMENT)
        dla_row = {"code": DLA_CODE, "kind": ORG_DEPARTMENT, "name_th": DLA_NAME}
        inserted[ORG_DEPARTMENT] = _insert_missing(session, [dla_row], existing)
        dla_id = _code_to_id(session, ORG_DEPARTMENT)[DLA_CODE]

        province_rows = [
            {
                "code": province_office_code(code),
                "kind": ORG_PROVINCE_OFFICE,
                "name_th": PROVINCE_OFFICE_PREFIX + name_th,
                "province_code": code,
                "parent_id": dla_id,
            }
            for code, name_th, _name_en in provinces
        ]
        existing = _code_to_id(session, ORG_PROVINCE_OFFICE)
        inserted[ORG_PROVINCE_OFFICE] = _insert_missing(session, province_rows, existing)
        province_ids = _code_to_id(session, ORG_PROVINCE_OFFICE)

        district_rows = [
            {
                "code": district_office_code(code),
                "kind": ORG_DISTRICT_OFFICE,
                "name_th": DISTRICT_OFFICE_PREFIX + name_th,
                "province_code": code[:2],
                "district_code": code,
                "parent_id": province_ids[province_office_code(code[:2])],
            }
            for code, name_th, _name_en in districts
        ]
        existing = _code_to_id(session, ORG_DISTRICT_OFFICE)
        inserted[ORG_DISTRICT_OFFICE] = _insert_missing(session, district_rows, existing)
        district_ids = _code_to_id(session, ORG_DISTRICT_OFFICE)

        lao_rows = [_lao_row(row, province_ids, district_ids) for row in laos]
        existing = _code_to_id(session, ORG_LAO)
        inserted[ORG_LAO] = _insert_missing(session, lao_rows, existing)
    log.info(
        "directory loaded: %d department, %d provincial, %d district offices and %d LAOs inserted",
        inserted[ORG_DEPARTMENT],
        inserted[ORG_PROVINCE_OFFICE],
        inserted[ORG_DISTRICT_OFFICE],
        inserted[ORG_LAO],
    )
    return inserted


def _lao_row(row: dict, province_ids: dict[str, int], district_ids: dict[str, int]) -> dict:
    if row["type"] in PROVINCE_LEVEL_LAO_TYPES:
        parent_id = province_ids[province_office_code(row["province_code"])]
    else:
        parent_id = district_ids[district_office_code(row["district_code"])]
    return {
        "code": row["dla_code"],
        "kind": ORG_LAO,
        "name_th": row["full_name_th"],
        "lao_type": row["type"],
        "province_code": row["province_code"],
        "district_code": row["district_code"],
        "parent_id": parent_id,
    }


def find_organization(session: Session, code: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.code == code))
