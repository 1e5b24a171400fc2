"""An intake process: `python -m service.intake.process FD`, started by the API's IntakePool.

It speaks frames (service.intake.frames) on the socket FD. The first frame it reads carries the API's
settings; it then loads the rules and opens the database as the API would, says it is ready, and answers
each report frame with the same code the API runs inline (service.intake.answer). When the API closes the
socket it finishes the reports in hand, commits them and exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from service.auth.service import Principal
from service.config import Settings
from service.db import Database
from service.errors import ProblemError
from service.ingest.service import IngestPolicy
from service.ingest.writer import GroupWriter
from service.intake.answer import IntakeParts, ReportRequest, answer_report
from service.intake.frames import FrameProtocol, FrameReader
from service.ruleset.reloader import RulesReloader
from service.runtime import build_analyzer, build_sla_policy, settle_heap

log = logging.getLogger("triage.intake")
# On SQLite the commit runs on this process's loop, so reports analysed before a commit are answered only
# after it. Taken 8 at a time, the first are answered (and the API reads what their senders send next) while
# the next are analysed: bench/ingest.py at 16 connections went from 1,560 to 1,767 reports/s, at 48 from
# 1,938 to 2,148. On PostgreSQL the commit is awaited and the next reports are analysed meanwhile: a cap
# only idled the process (1,221 -> 983/s), so there is none. Nor for a batch's lines (ReportRequest.bulk).
SQLITE_REPORTS_PER_ROUND = 8


def principal_fields(principal: Principal) -> dict[str, Any]:
    return {
        "key_id": principal.key_id,
        "reporter_id": principal.reporter_id,
        "reporter_name": principal.reporter_name,
        "scopes": sorted(principal.scopes),
    }


def principal_from(fields: dict[str, Any]) -> Principal:
    return Principal(
        key_id=fields["key_id"],
        reporter_id=fields["reporter_id"],
        reporter_name=fields["reporter_name"],
        scopes=frozenset(fields["scopes"]),
    )


def problem_fields(exc: ProblemError) -> dict[str, Any]:
    return {
        "status": exc.status,
        "title": exc.title,
        "detail": exc.detail,
        "errors": exc.errors,
        "headers": exc.headers,
    }


class IntakeServer:
    """Answers report frames on one socket until the API closes it."""

    def __init__(
        self,
        parts: IntakeParts,
        reloader: RulesReloader,
        *,
        batches: list[int],
        reports_per_round: int | None = None,
    ) -> None:
        self.parts = parts
        self.reloader = reloader
        self._round: AbstractAsyncContextManager[Any] = (
            asyncio.Semaphore(reports_per_round) if reports_per_round else nullcontext()
        )
        # Sizes of the group commits since the last answer: they ride on the next one to the API's metrics.
        self.batches = batches
        self._tasks: set[asyncio.Task[None]] = set()
        self._protocol: FrameProtocol | None = None

    async def serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        closed: asyncio.Future[None] = loop.create_future()

        def on_lost(_exc: Exception | None) -> None:
            if not closed.done():
                closed.set_result(None)

        _, protocol = await loop.connect_accepted_socket(
            lambda: FrameProtocol(self._on_frame, on_lost), sock=sock
        )
        self._protocol = protocol
        protocol.send(
            {"ready": True, "pid": os.getpid(), "ruleset": self.parts.analyzer.rules.current.version}
        )
        await closed
        # The API is gone or stopping: what was handed over is still stored, then the process ends.
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.parts.writer.drain()

    def _on_frame(self, header: dict[str, Any], payload: bytes) -> None:
        op = header.get("op", "report")
        handler = self._answer_report if op == "report" else self._reload_rules
        task = asyncio.get_running_loop().create_task(handler(header, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_report(self, header: dict[str, Any], payload: bytes) -> None:
        reply: dict[str, Any] = {"id": header["id"]}
        content = b""
        try:
            request = ReportRequest(
                principal_from(header["principal"]),
                payload,
                header.get("content_type"),
                idempotency_key=header.get("idempotency_key"),
                reference=header.get("reference"),
                bulk=header.get("bulk", False),
            )
            async with nullcontext() if request.bulk else self._round:
                answer = await answer_report(self.parts, request)
        except ProblemError as exc:
            reply["problem"] = problem_fields(exc)
        except Exception:  # a bug: logged here with its traceback; the API answers a bare 500
            log.exception("intake failed on a report")
            reply["failed"] = True
        else:
            reply["status"] = answer.status
            reply["rule_hits"] = answer.rule_hits
            content = answer.content
            if answer.timings is not None:
                reply["timings"] = answer.timings.to_dict()
        if self.batches:
            reply["batches"], self.batches[:] = list(self.batches), []
        self._send(reply, content)

    async def _reload_rules(self, header: dict[str, Any], _payload: bytes) -> None:
        result = await asyncio.to_thread(self.reloader.reload, "following the API")
        self._send({"id": header["id"], "reloaded": result.ok, "version": result.version})

    def _send(self, header: dict[str, Any], payload: bytes = b"") -> None:
        transport = self._protocol.transport if self._protocol is not None else None
        if transport is not None and not transport.is_closing():
            self._protocol.send(header, payload)  # type: ignore[union-attr]


def read_settings(sock: socket.socket) -> Settings:
    """The first frame, read before the loop starts: the API's settings, so both run on the same ones."""
    frames: list[dict[str, Any]] = []
    reader = FrameReader(lambda header, _payload: frames.append(header))
    while not frames:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("the API closed the intake socket before sending its settings")
        reader.feed(data)
    return Settings(**frames[0]["settings"])


def build_server(settings: Settings) -> IntakeServer:
    # The group-commit writer has connections of its own; this pool only looks up the first copy of a retried
    # report, so it stays small however many intake processes a deployment runs.
    db = Database(settings.effective_database_url, pool_size=1)
    analyzer = build_analyzer(settings)
    policy = IngestPolicy(hash_key=settings.secret_key.encode(), sla=build_sla_policy(settings))
    batches: list[int] = []
    writer = GroupWriter(db, on_batch=batches.append)
    parts = IntakeParts(db=db, writer=writer, analyzer=analyzer, policy=policy)
    per_round = SQLITE_REPORTS_PER_ROUND if db.sqlite_write_lock is not None else None
    reloader = RulesReloader(analyzer.rules, settings.rules_dir)
    return IntakeServer(parts, reloader, batches=batches, reports_per_round=per_round)


def run(fd: int) -> None:
    # The pid tells which intake process a line is from: they all log to the API's output.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
    )
    # The API decides when this process stops (it closes the socket) and when it reloads the rules (it
    # watches the folder, takes SIGHUP and the reload calls, and asks every process to follow). A Ctrl-C or
    # a SIGHUP sent to the whole process group must not end it half-way through a batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    server = build_server(read_settings(sock))
    settle_heap()
    sock.setblocking(False)
    try:
        import uvloop

        uvloop.run(server.serve(sock))
    except ImportError:  # uvloop is optional (no Windows wheels): the standard loop works too
        asyncio.run(server.serve(sock))


if __name__ == "__main__":
    run(int(sys.argv[1]))
