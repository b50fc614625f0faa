"""Settings read from the environment, with defaults that work on a developer's machine."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MAX_UPLOAD_MB = 50
# Hard limit for one parse job. rq, or the in-process runner's child process, stops a job that runs longer.
DEFAULT_JOB_TIMEOUT_SECONDS = 600


def default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'saraban.db'}"


def normalize_database_url(url: str) -> str:
    """Point a plain `postgresql://` or `postgres://` URL at psycopg 3, the driver this project installs.

    SQLAlchemy would pick psycopg2 for a URL without a driver, and psycopg2 is not a dependency.
    """
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def config_from_env(environ: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables.

    DATABASE_URL (default: SQLite file var/saraban.db under the project), REDIS_URL
    (unset: jobs run in a worker thread of the same process), SARABAN_STORAGE (folder
    for original files, default var/originals), SARABAN_MAX_UPLOAD_MB (default 50),
    SARABAN_HTTPS (1, true or yes when the site is served over HTTPS: Secure cookies and HSTS)
    and SECRET_KEY.
    """
    env = os.environ if environ is None else environ
    max_upload_mb = int(env.get("SARABAN_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB))
    storage = env.get("SARABAN_STORAGE") or str(PROJECT_ROOT / "var" / "originals")
    return {
        "DATABASE_URL": normalize_database_url(env.get("DATABASE_URL") or default_database_url()),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "SARABAN_STORAGE": storage,
        "SARABAN_MAX_UPLOAD_BYTES": max_upload_mb * 1024 * 1024,
        "SARABAN_RQ_QUEUE": env.get("SARABAN_RQ_QUEUE", "saraban"),
        "SARABAN_JOB_TIMEOUT": int(env.get("SARABAN_JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT_SECONDS)),
        "SARABAN_HTTPS": env.get("SARABAN_HTTPS", "").strip().lower() in ("1", "true", "yes"),
        "SECRET_KEY": env.get("SECRET_KEY"),
    }
