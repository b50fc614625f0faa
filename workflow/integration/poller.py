"""The in-process runner's timer for letters in: scan the watch folder and fetch mail, each when configured.

`saraban serve` without Redis has no separate worker to run `saraban watch` or
`saraban mail fetch`, so this thread of the web process runs them:

- the watch folder (`SARABAN_WATCH_DIR`, owner `SARABAN_WATCH_USER`) every
  `SARABAN_WATCH_INTERVAL` seconds (default 5);
- the IMAP mailbox (`SARABAN_IMAP_*`, owner `SARABAN_MAIL_USER`) every
  `SARABAN_MAIL_INTERVAL` seconds (default 300).

A source that is not configured is not polled, and with neither the thread does not start.
A failed scan or fetch is logged and tried again at its next time; it does not stop the thread.
"""

from __future__ import annotations

import imaplib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from flask import Flask

from workflow.integration.mail import MailConfigError, MailSettings, fetch_mail
from workflow.integration.watchfolder import scan_watch_folder

log = logging.getLogger(__name__)

THREAD_EXTENSION = "saraban.integration_poller"
DEFAULT_WATCH_INTERVAL_SECONDS = 5.0
DEFAULT_MAIL_INTERVAL_SECONDS = 300.0
# Shorter intervals would busy the web process for no gain: a scanner or a mail server is slower.
MIN_INTERVAL_SECONDS = 1.0


class PollerConfigError(ValueError):
    """An interval variable that is not a number of seconds; the message names the variable."""


def _seconds(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise PollerConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if value < MIN_INTERVAL_SECONDS:
        raise PollerConfigError(f"{name}={raw!r} is below the minimum of {MIN_INTERVAL_SECONDS:g} seconds")
    return value


@dataclass
class PollerSettings:
    """Polling intervals in seconds for the watch folder and the mailbox. None turns a source off."""

    watch_interval: float | None
    mail_interval: float | None
    mail: MailSettings | None

    @classmethod
    def from_env(cls, app: Flask, environ: dict | None = None) -> "PollerSettings":
        env = os.environ if environ is None else environ
        watch_on = bool(app.config.get("SARABAN_WATCH_DIR") or env.get("SARABAN_WATCH_DIR"))
        mail = MailSettings.from_env(env) if env.get("SARABAN_IMAP_HOST") else None
        return cls(
            watch_interval=_seconds(env, "SARABAN_WATCH_INTERVAL", DEFAULT_WATCH_INTERVAL_SECONDS) if watch_on else None,
            mail_interval=_seconds(env, "SARABAN_MAIL_INTERVAL", DEFAULT_MAIL_INTERVAL_SECONDS) if mail else None,
            mail=mail,
        )

    @property
    def enabled(self) -> bool:
        return self.watch_interval is not None or self.mail_interval is not None


class IntegrationPoller:
    """A daemon thread that calls `scan_watch_folder` and `fetch_mail` at their intervals."""

    def __init__(self, app: Flask, settings: PollerSettings, clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="saraban-integration-poller", daemon=True)
        now = clock()
        # Both sources are due at once on start, so files and mail that waited during a restart go in first.
        self._next_watch = now if settings.watch_interval is not None else None
        self._next_mail = now if settings.mail_interval is not None else None
        self.runs = {"watch": 0, "mail": 0}
        self._runs_changed = threading.Condition()

    def start(self) -> "IntegrationPoller":
        log.info("integration poller started: watch folder every %s s, mail every %s s",
                 self.settings.watch_interval, self.settings.mail_interval)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        log.info("integration poller stopped")

    def wait_for_runs(self, source: str, count: int, timeout: float) -> bool:
        """Block until `source` ("watch" or "mail") has run `count` times; return False on timeout."""
        with self._runs_changed:
            return self._runs_changed.wait_for(lambda: self.runs[source] >= count, timeout)

    def run_due(self) -> None:
        """Run each source whose time has come and set its next time."""
        now = self._clock()
        if self._next_watch is not None and now >= self._next_watch:
            self._run("watch", self._scan)
            self._next_watch = now + self.settings.watch_interval
        if self._next_mail is not None and now >= self._next_mail:
            self._run("mail", self._fetch)
            self._next_mail = now + self.settings.mail_interval

    def _run(self, source: str, work: Callable[[], list[dict]]) -> None:
        try:
            outcomes = work()
        except (OSError, LookupError, MailConfigError, imaplib.IMAP4.error) as error:
            log.error("integration poller: %s run failed: %s: %s", source, type(error).__name__, error)
        except Exception:  # noqa: BLE001 - the thread must outlive one bad run
            log.exception("integration poller: %s run failed", source)
        else:
            failed = sum(1 for outcome in outcomes if outcome.get("error"))
            if outcomes:
                log.info("integration poller: %s run took %d files, %d failed", source, len(outcomes), failed)
        with self._runs_changed:
            self.runs[source] += 1
            self._runs_changed.notify_all()

    def _scan(self) -> list[dict]:
        return scan_watch_folder(self.app)

    def _fetch(self) -> list[dict]:
        return fetch_mail(self.app, self.settings.mail)

    def _seconds_until_due(self) -> float:
        times = [moment for moment in (self._next_watch, self._next_mail) if moment is not None]
        return max(0.0, min(times) - self._clock())

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            self._stop.wait(self._seconds_until_due())


def start_in_process(app: Flask, environ: dict | None = None) -> IntegrationPoller | None:
    """Start the app's poller once, if a watch folder or a mailbox is configured; return it, or None.

    Raises PollerConfigError or MailConfigError for an invalid setting, so that the server
    does not start with a source silently off.
    """
    poller = app.extensions.get(THREAD_EXTENSION)
    if poller is not None:
        return poller
    settings = PollerSettings.from_env(app, environ)
    if not settings.enabled:
        log.info("integration poller not started: neither SARABAN_WATCH_DIR nor SARABAN_IMAP_HOST is set")
        return None
    poller = app.extensions[THREAD_EXTENSION] = IntegrationPoller(app, settings).start()
    return poller
