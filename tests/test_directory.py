"""The organization directory loaded from the shipped DLA registry and GeoThai files."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflow.directory import load_directory
from workflow.models import Organization

MAE_SAI_LAOS = {
    "เทศบาลตำบลแม่สาย",
    "เทศบาลตำบลห้วยไคร้",
    "เทศบาลตำบลเวียงพางคำ",
    "เทศบาลตำบลแม่สายมิตรภาพ",
    "องค์การบริหารส่วนตำบลเกาะช้าง",
    "องค์การบริหารส่วนตำบลโป่งงาม",
    "องค์การบริหารส่วนตำบลโป่งผา",
    "องค์การบริหารส่วนตำบลศรีเมืองชุม",
    "องค์การบริหารส่วนตำบลบ้านด้าย",
    "องค์การบริหารส่วนตำบลห้วยไคร้",
}


@pytest.fixture
def directory(session):
    load_directory(session)
    return session


def by_code(session, code: str) -> Organization:
    return session.scalar(select(Organization).where(Organization.code == code))


def count_kind(session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(Organization).where(Organization.kind == kind))


def test_directory_counts(directory):
    assert count_kind(directory, "department") == 1
    assert count_kind(directory, "province_office") == 76
    assert count_kind(directory, "district_office") == 878
    assert count_kind(directory, "lao") == 7849


def test_mae_sai_district_has_its_ten_laos(directory):
    office = by_code(directory, "DIST-5709")
    assert office.name_th == "สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย"
    laos = directory.scalars(
        select(Organization).where(Organization.kind == "lao", Organization.district_code == "5709")
    ).all()
    assert {lao.name_th for lao in laos} == MAE_SAI_LAOS
    assert all(lao.parent_id == office.id for lao in laos)


def test_district_reports_to_province_then_dla(directory):
    district = by_code(directory, "DIST-5709")
    assert district.parent.code == "PROV-57"
    assert district.parent.name_th == "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดเชียงราย"
    assert district.parent.parent.code == "DLA"
    assert district.parent.parent.parent is None


@pytest.mark.parametrize(
    ("code", "parent_code"),
    [
        ("2570101", "PROV-57"),  # องค์การบริหารส่วนจังหวัดเชียงราย
        ("3570102", "PROV-57"),  # เทศบาลนครเชียงราย
        ("3200408", "PROV-20"),  # เมืองพัทยา
        ("6130408", "DIST-1304"),  # an upgraded อบต. that kept its code, now a เทศบาลตำบล
    ],
)
def test_lao_parent_follows_lao_type(directory, code, parent_code):
    assert by_code(directory, code).parent.code == parent_code


def test_bangkok_is_absent(directory):
    assert by_code(directory, "PROV-10") is None
    assert count_kind(directory, "lao") == directory.scalar(
        select(func.count()).select_from(Organization).where(Organization.kind == "lao", Organization.province_code != "10")
    )


def test_loading_twice_inserts_nothing(directory):
    total = directory.scalar(select(func.count()).select_from(Organization))
    inserted = load_directory(directory)
    assert inserted == {"department": 0, "province_office": 0, "district_office": 0, "lao": 0}
    assert directory.scalar(select(func.count()).select_from(Organization)) == total
