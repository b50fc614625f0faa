"""`saraban demo` and `saraban rollup` on a fresh SQLite file and a fresh PostgreSQL schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workflow.routing.testing import postgres_reachable, postgres_schema_url


def run_saraban(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workflow.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def environment(request, tmp_path):
    env = dict(os.environ, SARABAN_STORAGE=str(tmp_path / "storage"))
    if request.param == "sqlite":
        yield env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
        return
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {reason}")
    with postgres_schema_url() as url:
        yield env | {"DATABASE_URL": url}


def test_demo_twice_then_rollup(environment):
    first = run_saraban(environment, "demo")
    assert first.returncode == 0, first.stderr
    assert "มท 0821.2/ว 1446, ชร 0023.6/ว 3200, ชร 0023.20/ว 1061" in first.stdout
    second = run_saraban(environment, "demo")
    assert second.returncode == 0, second.stderr
    assert "อนุมัติการยืนยันผู้รับผิดชอบ: 0 แห่ง" in second.stdout

    proc = run_saraban(environment, "rollup", "มท 0821.2/ว 1446", "--json", "--as-of", "2025-04-10")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["doc_number"] == "มท 0821.2/ว 1446"
    assert result["by_district"]["5709"] == {"recipients": 10, "confirmed": 10, "overdue": 0}
    assert result["by_province"]["57"]["confirmed"] == 10
    assert result["recipients"] == result["by_province"]["57"]["recipients"]
    assert result["overdue"] == 0

    unknown = run_saraban(environment, "rollup", "มท 0821.2/ว 9999", "--json")
    assert unknown.returncode == 1
    assert unknown.stdout == ""
    assert "ไม่พบหนังสือเลขที่ มท 0821.2/ว 9999" in unknown.stderr
