"""The API's side of the intake processes: start them, hand each report to the least busy, restart the dead.

A report whose process dies before answering gets a 503 problem: it was stored whole or not at all, so the
caller's retry (same Idempotency-Key or reference) returns the stored report or stores it once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import subprocess
import sys
import time
from typing import Any

from service.config import Settings
from service.errors import ProblemError, ServiceUnavailable
from service.ingest.service import IngestTimings, observe_ingest
from service.intake.answer import ReportAnswer, ReportRequest
from service.intake.frames import FrameProtocol
from service.intake.process import principal_fields
from service.metrics.instruments import INTAKE_RESTARTS, WRITER_BATCH
from service.scoring import ReloadResult, RulesetHolder

log = logging.getLogger("triage.intake")
START_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 30.0
RELOAD_TIMEOUT_SECONDS = 120.0
MAX_RESTART_DELAY_SECONDS = 30.0
RETRY_AFTER = {"Retry-After": "1"}
Reply = tuple[dict[str, Any], bytes]


class IntakeLost(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "The intake process handling this report stopped before answering. The report was stored whole "
            "or not at all: send it again with the same Idempotency-Key or reference.",
            headers=RETRY_AFTER,
        )


class IntakeLink:
    """One intake process and the socket to it."""

    def __init__(self, index: int, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.pending: dict[int, asyncio.Future[Reply]] = {}
        self._sent_at: dict[int, float] = {}  # in the order sent: the first is the oldest
        self.ready = False
        self._protocol: FrameProtocol | None = None
        self._ready_future: asyncio.Future[Reply] | None = None
        self._ids = itertools.count(1)

    async def start(self) -> None:
        """Spawn the process, send it the settings and wait until it has loaded the rules."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [sys.executable, "-m", "service.intake.process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
            )
        self._ready_future = loop.create_future()
        _, self._protocol = await loop.connect_accepted_socket(
            lambda: FrameProtocol(self._on_frame, self._on_lost), sock=ours
        )
        self._protocol.send({"settings": self.settings.model_dump(mode="json")})
        try:
            header, _ = await asyncio.wait_for(self._ready_future, START_TIMEOUT_SECONDS)
        except BaseException:  # hung or failed: never leave a half-started process behind
            self.close()
            self.process.kill()
            raise
        self.ready = True
        log.info("intake process %d ready (pid %s, rules %s)", self.index, header["pid"], header["ruleset"])

    async def request(self, header: dict[str, Any], payload: bytes = b"") -> Reply:
        if not self.ready or self._protocol is None:
            raise IntakeLost()
        request_id = next(self._ids)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Reply] = loop.create_future()
        self.pending[request_id] = future
        self._sent_at[request_id] = loop.time()
        self._protocol.send({**header, "id": request_id}, payload)
        try:
            return await future
        finally:
            self.pending.pop(request_id, None)
            self._sent_at.pop(request_id, None)

    def longest_wait(self, now: float) -> float:
        """Seconds the oldest unanswered request has waited (0 with none)."""
        oldest = next(iter(self._sent_at.values()), None)
        return 0.0 if oldest is None else now - oldest

    def close(self) -> None:
        """Ask the process to finish what it holds and exit (it sees the socket close)."""
        self.ready = False
        if self._protocol is not None:
            self._protocol.close()

    def wait(self, timeout: float) -> int | None:
        """The process's exit code; killed if it has not exited within `timeout` seconds."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("intake process %d did not stop in %.0f s: killed", self.index, timeout)
            self.process.kill()
            return self.process.wait()

    def _on_frame(self, header: dict[str, Any], payload: bytes) -> None:
        if header.get("ready"):
            if self._ready_future is not None and not self._ready_future.done():
                self._ready_future.set_result((header, payload))
            return
        future = self.pending.get(header.get("id", 0))
        if future is not None and not future.done():
            future.set_result((header, payload))

    def _on_lost(self, _exc: Exception | None) -> None:
        self.ready = False
        if self._ready_future is not None and not self._ready_future.done():
            self._ready_future.set_exception(
                RuntimeError(f"intake process {self.index} exited while starting")
            )
        for future in self.pending.values():
            if not future.done():
                future.set_exception(IntakeLost())


class IntakePool:
    """`size` intake processes; reports go to the one with the fewest in hand."""

    def __init__(self, settings: Settings, size: int, *, rules: RulesetHolder) -> None:
        self.settings = settings
        self.rules = rules  # the API's own copy, which GET /v1/rules shows: it counts the processes' hits
        self.links = [IntakeLink(index, settings) for index in range(size)]
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.gather(*(link.start() for link in self.links))
        self._watcher = self._loop.create_task(self._restart_the_dead())

    async def answer(self, request: ReportRequest) -> ReportAnswer:
        link = self._least_busy()
        header = {
            "principal": principal_fields(request.principal),
            "content_type": request.content_type,
            "idempotency_key": request.idempotency_key,
            "reference": request.reference,
            "bulk": request.bulk,
        }
        reply, content = await link.request(header, request.body)
        for size in reply.get("batches", ()):
            WRITER_BATCH.observe(size)
        if "problem" in reply:
            raise problem_from(reply["problem"])
        if reply.get("failed"):
            raise RuntimeError("an intake process failed on a report; its log has the traceback")
        timings = IngestTimings(**reply["timings"]) if "timings" in reply else None
        if timings is not None:
            observe_ingest(timings)
        rule_hits = tuple(reply.get("rule_hits", ()))
        if rule_hits and reply["status"] == 201:
            self.rules.record_hits(rule_hits)
        return ReportAnswer(reply["status"], content, timings, rule_hits)

    def follow_reload(self, result: ReloadResult) -> None:
        """The API's rules were reloaded (on some thread other than the loop's): every process reloads
        too, and the caller waits for them, so a rule author's next report is scored by the new set."""
        loop = self._loop
        if loop is None or self._stopping:
            return
        future = asyncio.run_coroutine_threadsafe(self.reload_rules(), loop)
        try:
            answers = future.result(RELOAD_TIMEOUT_SECONDS)
        except Exception:
            log.exception("intake processes did not confirm the rules reload")
            return
        for answer in answers:
            if answer.get("version") != result.version:
                log.error("intake process %s is on rules %s, not %s", answer["process"],
                          answer.get("version"), result.version)  # fmt: skip

    async def reload_rules(self) -> list[dict[str, Any]]:
        """Every running process reloads the rules folder now; their answers (version, ok)."""
        links = [link for link in self.links if link.ready]
        replies = await asyncio.wait_for(
            asyncio.gather(*(link.request({"op": "reload"}) for link in links), return_exceptions=True),
            RELOAD_TIMEOUT_SECONDS,
        )
        return [
            {"process": link.index, **({"error": str(r)} if isinstance(r, BaseException) else r[0])}
            for link, r in zip(links, replies, strict=True)
        ]

    def status(self) -> dict[str, int]:
        return {"processes": len(self.links), "ready": sum(link.ready for link in self.links)}

    async def stop(self) -> None:
        """Let the answers in flight come back (uvicorn has stopped taking requests by now), then close."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
        in_flight = [future for link in self.links for future in link.pending.values()]
        if in_flight:
            await asyncio.wait(in_flight, timeout=STOP_TIMEOUT_SECONDS)
        for link in self.links:
            link.close()
        await asyncio.gather(*(asyncio.to_thread(link.wait, STOP_TIMEOUT_SECONDS) for link in self.links))

    def _kill_the_hung(self) -> None:
        """A process that has left a report unanswered for INTAKE_TIMEOUT_SECONDS is stuck: it is killed, so
        that its reports get their 503 (a retry is safe) and the dead-process check starts a new one."""
        now = asyncio.get_running_loop().time()
        timeout = self.settings.intake_timeout_seconds
        for link in self.links:
            if link.ready and link.process is not None and link.longest_wait(now) > timeout:
                log.error(
                    "intake process %d left a report unanswered for %.0f s: killed", link.index, timeout
                )
                link.process.kill()

    def _least_busy(self) -> IntakeLink:
        ready = [link for link in self.links if link.ready]
        if not ready:
            raise ServiceUnavailable(
                "No intake process is running at the moment; send the report again shortly.",
                headers=RETRY_AFTER,
            )
        return min(ready, key=lambda link: len(link.pending))

    async def _restart_the_dead(self) -> None:
        """Poll for exited processes and start them again, waiting longer after each failed start."""
        delays = {link.index: 0.5 for link in self.links}
        while not self._stopping:
            await asyncio.sleep(0.5)
            self._kill_the_hung()
            for link in self.links:
                process = link.process
                if process is None or process.poll() is None:
                    continue
                link.close()
                INTAKE_RESTARTS.inc()
                log.error("intake process %d exited with %s; restarting it", link.index, process.returncode)
                started = time.monotonic()
                try:
                    await link.start()
                except Exception:
                    log.exception("intake process %d failed to start", link.index)
                    await asyncio.sleep(delays[link.index])
                    delays[link.index] = min(MAX_RESTART_DELAY_SECONDS, delays[link.index] * 2)
                else:
                    delays[link.index] = 0.5
                    log.info("intake process %d back in %.1f s", link.index, time.monotonic() - started)


def problem_from(fields: dict[str, Any]) -> ProblemError:
    """The problem an intake process refused a report with, to raise in the API."""
    problem = ProblemError(fields["detail"], errors=fields.get("errors"), headers=fields.get("headers"))
    problem.status, problem.title = fields["status"], fields["title"]
    return problem
