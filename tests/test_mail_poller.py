"""The in-process runner fetches mail on its timer when an IMAP host is configured."""

from __future__ import annotations

from tests.conftest import PROVINCE_LETTER_TEXT
from tests.test_mail_in import IMAP_PASSWORD, IMAP_USER, imap_server, letter_mail, stored_documents  # noqa: F401
from workflow.integration import poller
from workflow.models import JOB_DONE


def test_poller_fetches_mail(app, session, imap_server):  # noqa: F811
    server, settings = imap_server([
        letter_mail([("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8"))]),
    ])
    environ = {
        "SARABAN_IMAP_HOST": settings.imap_host,
        "SARABAN_IMAP_PORT": str(settings.imap_port),
        "SARABAN_IMAP_SSL": "false",
        "SARABAN_IMAP_USER": IMAP_USER,
        "SARABAN_IMAP_PASSWORD": IMAP_PASSWORD,
        "SARABAN_MAIL_INTERVAL": "1",
    }
    app.config.pop("SARABAN_WATCH_DIR", None)
    runner = poller.start_in_process(app, environ=environ)
    try:
        assert runner.settings.watch_interval is None
        assert runner.wait_for_runs("mail", 2, timeout=60)
    finally:
        runner.stop()

    documents = stored_documents(session)
    assert [document.filename for document in documents] == ["ชร-ว3200.txt"]
    assert documents[0].latest_job.status == JOB_DONE
    assert all("\\Seen" in message["flags"] for message in server.mailbox.messages)


def test_poller_survives_refused_login(app, session, imap_server, caplog):  # noqa: F811
    server, settings = imap_server([letter_mail([])])
    environ = {
        "SARABAN_IMAP_HOST": settings.imap_host,
        "SARABAN_IMAP_PORT": str(settings.imap_port),
        "SARABAN_IMAP_SSL": "false",
        "SARABAN_IMAP_USER": IMAP_USER,
        "SARABAN_IMAP_PASSWORD": "wrong-password",
        "SARABAN_MAIL_INTERVAL": "1",
    }
    app.config.pop("SARABAN_WATCH_DIR", None)
    runner = poller.start_in_process(app, environ=environ)
    try:
        assert runner.wait_for_runs("mail", 2, timeout=60)
    finally:
        runner.stop()

    assert stored_documents(session) == []
    assert "mail run failed" in caplog.text
