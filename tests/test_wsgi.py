"""The production entry point serves the app under gunicorn."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_sign_in_page(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'saraban.db'}",
        "SARABAN_STORAGE": str(tmp_path / "originals"),
        "SECRET_KEY": "ทดสอบ-gunicorn",
    }
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "workflow.cli", "init-db"], env=env, cwd=ROOT, check=True, timeout=120)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "workflow.wsgi:app"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        body = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                    body = response.read().decode("utf-8")
                    status = response.status
                break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "gunicorn did not answer on its port"
        assert status == 200
        assert "เข้าสู่ระบบ" in body
    finally:
        server.terminate()
        server.wait(timeout=30)
