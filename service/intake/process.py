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
from collections.abc import Coroutine
from typing import Any

from service.auth.service import Principal
from service.config import Settings
from service.db import Database
from service.errors import ProblemError
from service.ingest.service import IngestPolicy
from service.ingest.writer import GroupWriter
from service.intake.answer import IntakeParts, ReportAnswer, ReportRequest, answer_round
from service.intake.frames import FrameProtocol, FrameReader
from service.ruleset.reloader import RulesReloader
from service.runtime import build_analyzer, build_sla_policy, settle_heap

log = logging.getLogger("triage.intake")
# Reports are taken in rounds, each stage by stage (service.intake.answer.answer_round); a round is answered
# once its commit is done. While one round is analysed, the rounds before it wait for their commits: the
# writer commits up to `parallel` batches at once. So the reports in hand (some are always on their way
# between the API and its callers) are split into a round for each commit that may be in flight, between
# these bounds:
# - at most 8: bench/ingest.py at 16 connections, rounds of 6, 8 and 12 made 2,273, 2,490 and 2,439
#   reports/s on SQLite (one commit at a time), and at 32 connections on PostgreSQL rounds of 5 made no more
#   than rounds of 8 (37-40 % against 39-44 % of the echo ceiling): the bigger the commit, the cheaper each
#   report in it;
# - at least 5: rounds of 4 made no more at 16 or 32 connections, each commit costing more than the wait
#   it saved.
# On PostgreSQL at 16 connections, where each commit waited 3 ms for its WAL flush, rounds of 8 left only
# two rounds in hand: rounds of 5 with three commits in flight made 34-36 % against 25-30 %, and this rule
# 33-42 %.
# An intake process beside others takes whole rounds of 8 instead: while it waits for a commit, the others
# analyse, so smaller rounds would only make smaller commits, each costing more. bench/ab_ingest.py, two
# intake processes on 2 cores against one, 32 connections on PostgreSQL, 4 pairs: with this rule B/A 1.084
# (B faster in 4 of 4, server CPU per report +5 %), with the rule above 0.967 (0 of 4, +18 %).
REPORTS_PER_ROUND = 8
MIN_REPORTS_PER_ROUND = 5
# A batch's lines are answered all together, so their rounds may be larger: the bigger the group commit, the
# cheaper each line.
BULK_LINES_PER_ROUND = 64


def round_size(in_hand: int, parallel: int, *, alone: bool = True) -> int:
    """Reports per round: for an intake process `alone` in its API's pool, those in hand shared between the
    commits that may be in flight, within the bounds above; for one of several, a whole round."""
    if not alone:
        return REPORTS_PER_ROUND
    share = -(-in_hand // parallel)
    return max(MIN_REPORTS_PER_ROUND, min(REPORTS_PER_ROUND, share))


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


def request_from(header: dict[str, Any], payload: bytes) -> ReportRequest:
    """The report a frame from the API carries."""
    return ReportRequest(
        principal_from(header["principal"]),
        payload,
        header.get("content_type"),
        idempotency_key=header.get("idempotency_key"),
        reference=header.get("reference"),
        bulk=header.get("bulk", False),
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
        self, parts: IntakeParts, reloader: RulesReloader, *, batches: list[int], alone: bool = True
    ) -> None:
        self.parts = parts
        self.reloader = reloader
        self.alone = alone  # the only intake process of its API (round_size)
        # Sizes of the group commits since the last answer: they ride on the next one to the API's metrics.
        self.batches = batches
        self._inbox: list[tuple[dict[str, Any], bytes]] = []
        self._in_rounds = 0  # reports taken in rounds and not answered yet
        self._dispatcher: asyncio.Task[None] | None = None
        self._round_waiting: asyncio.Future[None] | None = None
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
        if header.get("op", "report") != "report":
            self._start(self._reload_rules(header, payload))
            return
        self._inbox.append((header, payload))
        waiting = self._round_waiting
        if waiting is not None and not waiting.done() and len(self._inbox) >= self._round_size():
            waiting.set_result(None)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = self._start(self._dispatch())

    def _start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _dispatch(self) -> None:
        """Answer rounds while reports wait; the frames that come in meanwhile make the next round.

        The next round starts once this one is answered, or sooner, while its commit is in flight, if a
        whole round is already waiting: a commit on PostgreSQL is a wait of 1-3 ms, and at 32 connections
        the intake spent it idle while reports queued. Only a whole round is worth it: started with fewer,
        rounds shrink, and so do commits, for no gain (bench/ingest.py, 16 connections).
        """
        loop = asyncio.get_running_loop()
        while self._inbox:
            handed = loop.create_future()
            round_task = self._start(self._answer_round(self._take_round(), handed))
            await asyncio.wait([handed, round_task], return_when=asyncio.FIRST_COMPLETED)
            if not round_task.done() and len(self._inbox) < self._round_size():
                await self._round_or_inbox_full(round_task)
            # A turn of the loop between rounds: the answers go out now, not after the next round's analyses,
            # and the reports that came in meanwhile join the inbox.
            await asyncio.sleep(0)

    async def _round_or_inbox_full(self, round_task: asyncio.Task[None]) -> None:
        self._round_waiting = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait([self._round_waiting, round_task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._round_waiting = None

    def _round_size(self) -> int:
        return round_size(len(self._inbox) + self._in_rounds, self.parts.writer.parallel, alone=self.alone)

    def _take_round(self) -> list[tuple[dict[str, Any], bytes]]:
        bulk = self._inbox[0][0].get("bulk", False)
        size = BULK_LINES_PER_ROUND if bulk else self._round_size()
        count = next(
            (n for n, (header, _) in enumerate(self._inbox[:size]) if header.get("bulk", False) != bulk),
            min(size, len(self._inbox)),
        )
        taken, self._inbox[:count] = self._inbox[:count], []
        self._in_rounds += count  # until _answer_round has its answers
        return taken

    async def _answer_round(
        self, frames: list[tuple[dict[str, Any], bytes]], handed: asyncio.Future[None]
    ) -> None:
        try:
            requests = [request_from(header, payload) for header, payload in frames]
            answers = await answer_round(self.parts, requests, on_handed=lambda: handed.set_result(None))
        finally:
            self._in_rounds -= len(frames)
        for (header, _), answer in zip(frames, answers, strict=True):
            self._send(*self._reply(header["id"], answer))

    def _reply(self, request_id: int, answer: ReportAnswer | Exception) -> tuple[dict[str, Any], bytes]:
        reply: dict[str, Any] = {"id": request_id}
        content = b""
        if isinstance(answer, ProblemError):
            reply["problem"] = problem_fields(answer)
        elif isinstance(answer, Exception):  # a bug: logged here with its traceback; the API answers a 500
            log.error("intake failed on a report", exc_info=answer)
            reply["failed"] = True
        else:
            reply["status"] = answer.status
            reply["rule_hits"] = answer.rule_hits
            content = answer.content
            if answer.timings is not None:
                reply["timings"] = answer.timings.to_dict()
        if self.batches:
            reply["batches"], self.batches[:] = list(self.batches), []
        return reply, content

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
    # report (rare, and brief), so one connection does, however many intake processes a deployment runs.
    db = Database(settings.effective_database_url, pool_size=1, max_overflow=0)
    analyzer = build_analyzer(settings)
    policy = IngestPolicy(hash_key=settings.secret_key.encode(), sla=build_sla_policy(settings))
    batches: list[int] = []
    writer = GroupWriter(db, on_batch=batches.append)
    parts = IntakeParts(db=db, writer=writer, analyzer=analyzer, policy=policy)
    reloader = RulesReloader(analyzer.rules, settings.rules_dir)
    return IntakeServer(parts, reloader, batches=batches, alone=settings.intake_processes <= 1)


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
