"""WSGI entry point for production servers: `gunicorn workflow.wsgi:app`.

Settings come from the environment (DATABASE_URL, REDIS_URL, SECRET_KEY, ...), as for
`saraban serve`. Each gunicorn worker process builds its own app and database engine.
"""
from workflow.app import create_app

app = create_app()
