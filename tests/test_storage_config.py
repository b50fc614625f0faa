"""Settings read from the environment: defaults, the upload limit and database URLs."""

from __future__ import annotations

from workflow.config import PROJECT_ROOT, config_from_env


def test_defaults_use_project_var_folder():
    config = config_from_env({})
    assert config["DATABASE_URL"] == f"sqlite:///{PROJECT_ROOT / 'var' / 'saraban.db'}"
    assert config["SARABAN_STORAGE"] == str(PROJECT_ROOT / "var" / "originals")
    assert config["REDIS_URL"] is None
    assert config["SARABAN_MAX_UPLOAD_BYTES"] == 50 * 1024 * 1024


def test_upload_limit_read_in_megabytes():
    assert config_from_env({"SARABAN_MAX_UPLOAD_MB": "5"})["SARABAN_MAX_UPLOAD_BYTES"] == 5 * 1024 * 1024


def test_plain_postgres_url_uses_psycopg():
    config = config_from_env({"DATABASE_URL": "postgresql://saraban@127.0.0.1:5432/saraban"})
    assert config["DATABASE_URL"] == "postgresql+psycopg://saraban@127.0.0.1:5432/saraban"
    short = config_from_env({"DATABASE_URL": "postgres://saraban@127.0.0.1/saraban"})
    assert short["DATABASE_URL"] == "postgresql+psycopg://saraban@127.0.0.1/saraban"


def test_url_with_driver_kept():
    url = "postgresql+psycopg://saraban@127.0.0.1:5432/saraban"
    assert config_from_env({"DATABASE_URL": url})["DATABASE_URL"] == url


def test_https_setting_read_from_environment():
    assert config_from_env({})["SARABAN_HTTPS"] is False
    assert config_from_env({"SARABAN_HTTPS": "1"})["SARABAN_HTTPS"] is True
    assert config_from_env({"SARABAN_HTTPS": "Yes "})["SARABAN_HTTPS"] is True
    assert config_from_env({"SARABAN_HTTPS": "0"})["SARABAN_HTTPS"] is False
