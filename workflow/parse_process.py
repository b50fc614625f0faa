"""Run `parse_document` in a child process that is killed when the job's time limit passes.

A worker thread cannot stop Python code, or Tesseract, that runs too long, but the
operating system can stop a process. The child sends its page progress, its log records
and its result back through a pipe. It runs in a process group of its own, so that
killing the group also stops the Tesseract processes it started.

Children are forked from multiprocessing's fork server, which imports the parser once,
rather than from the web process, whose other threads may hold locks at the moment of
a fork.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable

log = logging.getLogger(__name__)

# Seconds a child gets to exit after SIGTERM before it is sent SIGKILL.
TERMINATE_GRACE_S = 2.0
# How often the parent checks that the child is still alive while waiting for a message.
POLL_INTERVAL_S = 1.0

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["parsers.pipeline"])


class _PipeLogHandler(logging.Handler):
    """Send each log record of the child to the parent, which logs it under the job's id."""

    def __init__(self, connection: Connection):
        super().__init__()
        self.connection = connection

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message = f"{message}\n{''.join(traceback.format_exception(*record.exc_info))}"
            self.connection.send(("log", record.name, record.levelno, message))
        except Exception:  # a closed pipe must not turn a log line into a parse failure
            self.handleError(record)


def _child_main(connection: Connection, data: bytes, filename: str, max_bytes: int, log_level: int) -> None:
    """Parse in the child and send `("result", dict)`, `("input_error", code, th, en)` or `("error", text, traceback)`."""
    os.setpgid(0, 0)
    root = logging.getLogger()
    root.handlers[:] = [_PipeLogHandler(connection)]
    root.setLevel(log_level)

    from parsers.errors import InputError
    from parsers.pipeline import parse_document

    def send_progress(done_pages: int, total_pages: int) -> None:
        connection.send(("progress", done_pages, total_pages))

    try:
        result = parse_document(data, filename, progress=send_progress, max_bytes=max_bytes)
    except InputError as error:
        connection.send(("input_error", error.code, error.message_th, error.message_en))
        return
    except BaseException as error:  # reported to the parent, which records the job as failed
        connection.send(("error", f"{type(error).__name__}: {error}", traceback.format_exc()))
        return
    connection.send(("result", result))


class ParseProcessFailed(Exception):
    """The child process raised an unexpected error or exited without a result."""


class ChildProcessParse:
    """A `parse` for `operations.run_parse` that runs `parse_document` in a child process.

    Raises ParseTimedOut when the child has not finished `limit_s` seconds after it
    started, and stops it. The child's start-up (a fork of the fork server) is not
    counted. Raises InputError for a file the parser cannot read, as `parse_document`
    does, and ParseProcessFailed for any other failure of the child.
    """

    def __init__(self, limit_s: float):
        self.limit_s = limit_s

    def __call__(
        self,
        data: bytes,
        filename: str,
        progress: Callable[[int, int], None] | None = None,
        max_bytes: int | None = None,
        **options: Any,
    ) -> dict:
        from parsers.reader import DEFAULT_MAX_BYTES

        receiver, sender = _context.Pipe(duplex=False)
        process = _context.Process(
            target=_child_main,
            args=(sender, data, filename, max_bytes or DEFAULT_MAX_BYTES, logging.getLogger().getEffectiveLevel()),
            name="saraban-parse",
            daemon=True,
        )
        process.start()
        sender.close()
        try:
            return self._wait(process, receiver, progress)
        finally:
            receiver.close()
            _stop(process)

    def _wait(self, process, receiver: Connection, progress: Callable[[int, int], None] | None) -> dict:
        from parsers.errors import InputError
        from workflow.operations import ParseTimedOut

        deadline = time.monotonic() + self.limit_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("parse process %s stopped at the time limit of %g s", process.pid, self.limit_s)
                raise ParseTimedOut(self.limit_s)
            if not receiver.poll(min(remaining, POLL_INTERVAL_S)):
                if not process.is_alive() and not receiver.poll():
                    raise ParseProcessFailed(f"the parse process exited with code {process.exitcode} without a result")
                continue
            try:
                message = receiver.recv()
            except EOFError:
                process.join(TERMINATE_GRACE_S)
                raise ParseProcessFailed(
                    f"the parse process exited with code {process.exitcode} without a result"
                ) from None
            kind = message[0]
            if kind == "progress" and progress is not None:
                progress(message[1], message[2])
            elif kind == "log":
                logging.getLogger(message[1]).log(message[2], "%s", message[3])
            elif kind == "result":
                return message[1]
            elif kind == "input_error":
                raise InputError(message[1], message[2], message[3])
            elif kind == "error":
                log.error("parse process failed: %s", message[2])
                raise ParseProcessFailed(message[1])


def _stop(process) -> None:
    """Stop the child and every process in its group: SIGTERM, then SIGKILL after a grace period."""
    if process.exitcode is not None:
        process.join()
        return
    for signal_number, wait_s in ((signal.SIGTERM, TERMINATE_GRACE_S), (signal.SIGKILL, TERMINATE_GRACE_S)):
        try:
            os.killpg(process.pid, signal_number)
        except ProcessLookupError:
            # The child has not made its own group yet, or has just exited.
            if process.is_alive():
                os.kill(process.pid, signal_number)
        process.join(wait_s)
        if process.exitcode is not None:
            return
    log.error("parse process %s did not exit after SIGKILL", process.pid)
