"""The OpenAPI document of `/api/v1` against the routes the app registers, so the two cannot drift apart."""

from __future__ import annotations

import re

import pytest

from workflow.app import create_app
from workflow.web.api_v1.openapi import OPENAPI

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("openapi")
    application = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'unused.db'}",
                              "SARABAN_STORAGE": str(folder / "originals"), "SECRET_KEY": "openapi-test"})
    yield application
    application.extensions["saraban.db"].dispose()


def openapi_path(rule: str) -> str:
    """Return `/tasks/{task_id}` for the Flask rule `/tasks/<int(max=2147483647):task_id>`."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def registered_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule == "/api/v1" or rule.rule.startswith("/api/v1/"):
            for method in rule.methods - IGNORED_METHODS:
                operations.add((openapi_path(rule.rule), method.lower()))
    return operations


def documented_operations() -> set[tuple[str, str]]:
    return {(path, method) for path, item in OPENAPI["paths"].items() for method in item}


def test_every_route_is_documented(app):
    missing = registered_operations(app) - documented_operations()
    assert not missing, f"routes without an OpenAPI entry: {sorted(missing)}"


def test_every_documented_route_exists(app):
    extra = documented_operations() - registered_operations(app)
    assert not extra, f"OpenAPI entries without a route: {sorted(extra)}"


def test_path_parameters_match_the_rule():
    for path, item in OPENAPI["paths"].items():
        in_path = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, f"{method.upper()} {path}: declares {declared}, path has {in_path}"


def test_operation_ids_are_unique():
    ids = [operation["operationId"] for item in OPENAPI["paths"].values() for operation in item.values()]
    assert len(ids) == len(set(ids))


def test_every_reference_resolves():
    text = repr(OPENAPI)
    for name in re.findall(r"#/components/schemas/(\w+)", text):
        assert name in OPENAPI["components"]["schemas"], name


def test_document_is_served_without_token(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"].startswith("3.")
    assert set(response.json["paths"]) == set(OPENAPI["paths"])


def test_document_is_valid_openapi():
    from schemathesis.openapi import from_dict

    schema = from_dict(OPENAPI)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(documented_operations())
