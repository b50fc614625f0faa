"""Mail in: letters attached to unseen messages of an IMAP mailbox, against a small IMAP4rev1 server on 127.0.0.1."""

from __future__ import annotations

import re
import socketserver
import threading
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from tests.conftest import PROVINCE_LETTER_TEXT
from tests.pdfmaker import thai_pdf
from tests.test_ecms import LETTER_LINES
from workflow.integration.mail import MailConfigError, MailSettings, fetch_mail
from workflow.models import JOB_DONE, Document

IMAP_USER = "saraban@maesai.example"
# imaplib sends commands as ASCII, so the password is ASCII too.
IMAP_PASSWORD = "maesai-imap-2568"


class Mailbox:
    """Messages of one mailbox, each `{"raw": bytes, "flags": set}`, numbered from 1."""

    def __init__(self, messages: list[bytes]):
        self.messages = [{"raw": raw, "flags": set()} for raw in messages]
        self.commands: list[str] = []


class ImapHandler(socketserver.StreamRequestHandler):
    """CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH (RFC822 or BODY.PEEK[]), STORE +FLAGS (\\Seen), NOOP, CLOSE and LOGOUT.

    FETCH does not set \\Seen itself (as BODY.PEEK would not), so a test can tell whether
    the client marked the message.
    """

    def send(self, line: str | bytes) -> None:
        self.wfile.write(line if isinstance(line, bytes) else line.encode("utf-8"))

    def handle(self) -> None:
        mailbox: Mailbox = self.server.mailbox
        self.send("* OK [CAPABILITY IMAP4rev1] test server ready\r\n")
        authenticated = False
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.decode("utf-8").rstrip("\r\n").partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            mailbox.commands.append(f"{command} {arguments}".strip())
            if command == "CAPABILITY":
                self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed\r\n")
            elif command == "LOGIN":
                user, password = [part.strip('"') for part in re.findall(r'"[^"]*"|\S+', arguments)]
                if (user, password) != (IMAP_USER, IMAP_PASSWORD):
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials\r\n")
                    continue
                authenticated = True
                self.send(f"{tag} OK LOGIN completed\r\n")
            elif command == "LOGOUT":
                self.send("* BYE logging out\r\n")
                self.send(f"{tag} OK LOGOUT completed\r\n")
                return
            elif not authenticated:
                self.send(f"{tag} BAD log in first\r\n")
            elif command == "SELECT":
                self.send(f"* {len(mailbox.messages)} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed\r\n")
            elif command == "SEARCH" and arguments.upper() == "UNSEEN":
                numbers = [str(i) for i, m in enumerate(mailbox.messages, 1) if "\\Seen" not in m["flags"]]
                self.send(f"* SEARCH {' '.join(numbers)}".rstrip() + "\r\n")
                self.send(f"{tag} OK SEARCH completed\r\n")
            elif command == "FETCH" and arguments.upper().endswith(("(RFC822)", "(BODY.PEEK[])")):
                number = int(arguments.split()[0])
                raw = mailbox.messages[number - 1]["raw"]
                if arguments.upper().endswith("(RFC822)"):
                    # As on real servers, a plain fetch sets \Seen; BODY.PEEK[] does not.
                    mailbox.messages[number - 1]["flags"].add("\\Seen")
                item = "RFC822" if arguments.upper().endswith("(RFC822)") else "BODY[]"
                self.send(f"* {number} FETCH ({item} {{{len(raw)}}}\r\n".encode("ascii") + raw + b")\r\n")
                self.send(f"{tag} OK FETCH completed\r\n")
            elif command == "STORE" and "+FLAGS" in arguments.upper():
                number = int(arguments.split()[0])
                mailbox.messages[number - 1]["flags"].add("\\Seen")
                self.send(f"* {number} FETCH (FLAGS (\\Seen))\r\n{tag} OK STORE completed\r\n")
            elif command in ("NOOP", "CLOSE"):
                self.send(f"{tag} OK {command} completed\r\n")
            else:
                self.send(f"{tag} BAD unsupported command\r\n")


class ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox):
        super().__init__(("127.0.0.1", 0), ImapHandler)
        self.mailbox = mailbox


@pytest.fixture
def imap_server():
    servers = []

    def start(messages: list[bytes]) -> tuple[ImapServer, MailSettings]:
        server = ImapServer(Mailbox(messages))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        settings = MailSettings(imap_host="127.0.0.1", imap_port=server.server_address[1], imap_ssl=False,
                                imap_user=IMAP_USER, imap_password=IMAP_PASSWORD, timeout=10)
        return server, settings

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def letter_mail(attachments: list[tuple[str, str, bytes]], subject: str = "ส่งหนังสือจังหวัดเชียงราย") -> bytes:
    message = EmailMessage()
    message["From"] = "saraban@chiangrai.example"
    message["To"] = IMAP_USER
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@chiangrai.example>"
    message.set_content("เรียน สำนักงานส่งเสริมการปกครองท้องถิ่นอำเภอแม่สาย\nส่งหนังสือตามไฟล์แนบ")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def stored_documents(session) -> list[Document]:
    session.expire_all()
    return list(session.scalars(select(Document).order_by(Document.id)))


def test_pdf_and_text_attachments_ingested(app, session, imap_server):
    pdf = thai_pdf([LETTER_LINES])
    server, settings = imap_server([letter_mail([
        ("ชร-ว3200.pdf", "application/pdf", pdf),
        ("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8")),
    ])])

    outcomes = fetch_mail(app, settings)

    documents = stored_documents(session)
    assert [outcome["file"] for outcome in outcomes] == ["ชร-ว3200.pdf", "ชร-ว3200.txt"]
    assert [outcome["error"] for outcome in outcomes] == [None, None]
    assert len(documents) == 2
    assert all(document.latest_job.status == JOB_DONE for document in documents)
    assert documents[0].size == len(pdf)


def test_message_marked_seen_after_processing(app, session, imap_server):
    server, settings = imap_server([
        letter_mail([("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8"))]),
        letter_mail([], subject="สอบถามเรื่องการประชุม"),
    ])

    fetch_mail(app, settings)

    assert [message["flags"] for message in server.mailbox.messages] == [{"\\Seen"}, {"\\Seen"}]
    assert sum(command.startswith("STORE") for command in server.mailbox.commands) == 2


def test_second_fetch_finds_nothing_new(app, session, imap_server):
    server, settings = imap_server([letter_mail([("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8"))])])

    fetch_mail(app, settings)
    again = fetch_mail(app, settings)

    assert again == []
    assert len(stored_documents(session)) == 1


def test_image_attachment_ingested(app, session, imap_server):
    from PIL import Image
    import io

    buffer = io.BytesIO()
    Image.new("L", (400, 200), 255).save(buffer, format="PNG")
    server, settings = imap_server([letter_mail([("สแกน-0001.png", "image/png", buffer.getvalue())])])

    outcomes = fetch_mail(app, settings)

    assert [outcome["file"] for outcome in outcomes] == ["สแกน-0001.png"]
    assert outcomes[0]["document_id"] is not None


def test_other_attachments_skipped_with_log(app, session, imap_server, caplog):
    server, settings = imap_server([letter_mail([
        ("แบบรายงาน.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
        ("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8")),
    ])])

    with caplog.at_level("INFO", logger="workflow.integration.mail"):
        outcomes = fetch_mail(app, settings)

    assert [outcome["file"] for outcome in outcomes] == ["ชร-ว3200.txt"]
    skipped_lines = [record.getMessage() for record in caplog.records if "แบบรายงาน.xlsx" in record.getMessage()]
    assert len(skipped_lines) == 1
    assert "skipped" in skipped_lines[0]
    assert len(stored_documents(session)) == 1


def test_empty_attachment_reported_and_message_seen(app, session, imap_server):
    server, settings = imap_server([letter_mail([("ว่าง.pdf", "application/pdf", b"")])])

    outcomes = fetch_mail(app, settings)

    assert outcomes[0]["error"]["code"] == "empty_file"
    assert server.mailbox.messages[0]["flags"] == {"\\Seen"}
    assert stored_documents(session) == []


def test_mail_user_office_owns_documents(app, session, users, imap_server):
    server, settings = imap_server([letter_mail([("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8"))])])
    settings.mail_user = users["clerk"].username

    fetch_mail(app, settings)

    assert stored_documents(session)[0].organization_id == users["clerk"].organization_id


def test_wrong_password_rejected(app, session, imap_server):
    import imaplib

    server, settings = imap_server([letter_mail([("ชร-ว3200.txt", "text/plain", b"x")])])
    settings.imap_password = "wrong-password"

    with pytest.raises(imaplib.IMAP4.error):
        fetch_mail(app, settings)

    assert server.mailbox.messages[0]["flags"] == set()


def test_no_imap_host_rejected(app):
    with pytest.raises(MailConfigError, match="SARABAN_IMAP_HOST"):
        fetch_mail(app, MailSettings())


def test_cli_fetch_without_host_fails(tmp_path, monkeypatch, capsys):
    from workflow import cli
    from workflow.db import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("SARABAN_SMTP_HOST", "SARABAN_MAIL_ADDRESSES", "SARABAN_IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SARABAN_MAIL_STATE", str(tmp_path / "state.json"))

    fetch_status = cli.main(["mail", "fetch"])

    assert fetch_status == 1
    assert "SARABAN_IMAP_HOST" in capsys.readouterr().err


def test_message_stays_unseen_when_ingest_fails(app, session, imap_server, monkeypatch):
    """A failure while a message is handled leaves it unseen, so the next fetch tries it again."""
    from workflow.integration import mail

    server, settings = imap_server([letter_mail([("ชร-ว3200.txt", "text/plain", PROVINCE_LETTER_TEXT.encode("utf-8"))])])

    def lost_database(*args, **kwargs):
        raise ConnectionError("database connection lost")

    monkeypatch.setattr(mail, "_ingest_attachment", lost_database)
    with pytest.raises(ConnectionError):
        fetch_mail(app, settings)
    assert server.mailbox.messages[0]["flags"] == set()
