"""The batch runner: each batch's lifecycle on the server's clock, its lines run as internal
requests, its output and error files written as the lines finish.

One asyncio task per batch in flight (`Job`), started lazily (the first request starts the
runner: `lifespan` is off) and never blocking the event loop: it reads its input a line at
a time (files.lines), runs each line through the operation table (lines.py) and yields to
the loop after each, so live requests are served between lines.

The lifecycle, on the clock (`clock.py`; `time_scale: 0` makes it move only when a test
says so, `POST /__mock/clock`, which waits here until every batch has done what is due):

    validating   the input file checked (validate.py), for at least `batch_validating_seconds`
                 → failed (with `errors`), or
    in_progress  the n-th line (from 1) runs no earlier than `n / batch_lines_per_second` after
                 `in_progress_at` (so a batch is seen in progress with nothing done yet, as recorded);
                 `request_counts` and `usage` grow as lines finish
    finalizing   the files are stored; `batch_finalizing_seconds` later: completed
    cancelling   (`cancel`) lines not yet run are not run; the files hold what was;
                 `batch_cancelling_seconds` later: cancelled
    expired      24 hours after creation (an advanced clock gets there at once): lines not
                 run are written to the error file as `batch_expired`, as the real API does

Every transition sets its timestamp: the time it was due on the clock, or when the work got
done if that was later (`created_at` plus clock seconds, so an advanced clock moves them).

Output order is not input order on the real API. Here lines run in input order and their
results are kept in windows (WINDOW_LINES lines or WINDOW_BYTES, whichever comes first)
that are written in a shuffled order seeded by the server's seed, the batch and the
window: the same batch gives the same order, and memory holds one window at most. A client
that assumes order is caught with any batch of more than one line.

Resuming: at each window the files' sizes, the lines consumed, the counts and the usage
are saved in the batch's record (a checkpoint). The output and error files are written as
resumable contents (state/content.py: with `--state`, files in `PATH.files/` that outlive
the process); after a restart a batch carries on from its last checkpoint, the files cut
back to it, so no line is answered twice in the output (a line past the checkpoint is run
again). Clock times are kept relative to the batch's creation and re-based on the new run's
clock (the time the server was down counting as wall time times `time_scale`).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson

from .. import files
from ..ids import rng_for
from . import lines
from .records import BATCH, LIVE, WINDOW, add_usage
from .validate import validate

if TYPE_CHECKING:
    from ..runtime import Runtime

log = logging.getLogger("mockserver")

WINDOW_LINES = 256  # results shuffled together (and a checkpoint after each window) ...
WINDOW_BYTES = 8 << 20  # ... or fewer when their lines are large
YIELD_EVERY = 256  # lines written between two turns of the event loop when no line runs (expiry)


class BatchRunner:
    """The batches in flight of one runtime."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.jobs: dict[str, Job] = {}
        self.started = False
        self._router: Any = None

    @property
    def router(self) -> Any:
        if self._router is None:
            self._router = lines.router_for(self.runtime)
        return self._router

    def start(self) -> None:
        """At the first request: resume the batches an earlier run left in flight (in the
        `--state` store), and drop resumable output that no batch in flight owns."""
        self.started = True
        store = self.runtime.store
        owned: set[str] = set()
        for record in list(store.values(BATCH)):
            if record["batch"]["status"] in LIVE and isinstance(record.get("job"), dict):
                try:
                    job = Job(self, record)
                except (KeyError, TypeError, ValueError):  # a record this code cannot read: left as it is
                    log.warning("batch %s: its progress cannot be read; not resumed", record["batch"]["id"])
                    continue
                owned.update(job.content_ids())
                self._launch(job)
        for content_id in store.content.resumables():
            if content_id not in owned:
                store.content.discard_resumable(content_id)

    def submit(self, record: dict) -> "Job":
        if not self.started:
            self.start()
        job = Job(self, record)
        self._launch(job)
        return job

    def _launch(self, job: "Job") -> None:
        self.jobs[job.id] = job
        job.task = asyncio.get_running_loop().create_task(job.run(), name=f"mockserver {job.id}")

    def job(self, batch_id: str) -> "Job | None":
        return self.jobs.get(batch_id)

    async def settle(self, timeout: float) -> None:
        """Wake every batch and wait (at most `timeout` seconds) until each has done all that
        is due by the clock's present time: after `POST /__mock/clock`, a test reads the
        state the clock says, deterministically."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        for job in list(self.jobs.values()):
            job.idle = False
            job.wake.set()
        while loop.time() < end and any(not job.idle for job in self.jobs.values()):
            await asyncio.sleep(0.002)

    def reset(self) -> None:
        """Every batch in flight stopped, writing nothing more (`POST /__mock/reset`)."""
        for job in list(self.jobs.values()):
            job.stop()
        self.jobs.clear()


class Output:
    """The output or the error file of a batch, written as its lines finish (resumable)."""

    def __init__(self, job: "Job", name: str) -> None:
        self.job = job
        self.name = name  # "output" or "error"
        self.state: dict = job.state[name]  # {"id": file id, "size": bytes checkpointed, "file": id once stored}
        self.writer: files.FileWriter | None = None

    def _open(self) -> files.FileWriter:
        if self.writer is None:
            job = self.job
            self.writer = files.create_file(
                job.runtime, purpose="batch_output", filename=f"{job.id}_{self.name}.jsonl",
                expires_after=job.state["expires_after"], file_id=self.state["id"], resumable=True,
                resume_at=self.state["size"])
        return self.writer

    def append(self, line: bytes) -> None:
        self._open().append(line)

    def checkpoint(self) -> None:
        if self.writer is not None:
            self.state["size"] = self.writer.checkpoint()

    def finish(self) -> str | None:
        """Stored as a file, if it holds any line: its id (None for an empty one)."""
        if self.writer is None and not self.state["size"]:
            self.state["file"] = None
            return None
        writer = self._open()
        if not writer.size:
            writer.abort()
            self.writer, self.state["file"] = None, None
            return None
        file = writer.finish()
        self.writer = None
        self.state["size"], self.state["file"] = file["bytes"], file["id"]
        return file["id"]

    def suspend(self) -> None:
        if self.writer is not None:
            self.writer.suspend()
            self.writer = None

    def abort(self) -> None:
        self.suspend()
        self.job.runtime.store.content.discard_resumable(self.state["id"])


class Job:
    """One batch in flight: its record (the object as stored and the runner's progress,
    `state`), its clock, its files, and the task that runs it."""

    def __init__(self, runner: BatchRunner, record: dict) -> None:
        self.runner = runner
        self.runtime = runner.runtime
        self.config = self.runtime.config
        self.record = record
        self.batch: dict = record["batch"]
        self.state: dict = record["job"]
        self.id: str = self.batch["id"]
        self.epoch = self._epoch()
        self.deadline = self.epoch + WINDOW
        self.counts = dict(self.batch["request_counts"])  # live: ahead of the stored ones until a checkpoint
        self.usage = copy.deepcopy(self.batch["usage"])
        self.cancel_requested = self.batch["status"] == "cancelling"
        self.auth = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self.state["auth"]]
        self.out = Output(self, "output")
        self.err = Output(self, "error")
        self.wake = asyncio.Event()
        self.idle = False  # waiting for the clock with nothing due (settle() reads it)
        self.stopped = False
        self.task: asyncio.Task | None = None

    # --- the clock ------------------------------------------------------------------

    def _epoch(self) -> float:
        """The batch's creation time on this run's clock. A batch of an earlier run (a
        restart with --state) is as old as it was at its last save, plus the time the
        server was down (wall time, scaled)."""
        run, created = self.record["clock"][:2]
        if run == self.runtime.run_id:
            return created
        saved_clock, saved_wall = self.state["saved"]
        age = saved_clock - created + max(0.0, time.time() - saved_wall) * self.runtime.clock.scale
        return self.runtime.clock.now() - age

    def stamp(self, at: float) -> int:
        """A clock time as the object's Unix timestamps write it: seconds after `created_at`."""
        return self.batch["created_at"] + max(0, int(at - self.epoch))

    def offset(self, name: str) -> float:
        return self.epoch + self.state["t"][name]

    async def until(self, due: float, stoppable: bool = True) -> None:
        """Wait until the clock reaches `due`; a stoppable wait also ends on a cancel or when
        the completion window closes. A clock with `time_scale: 0` moves only when a test
        advances it, which wakes every batch (BatchRunner.settle)."""
        clock = self.runtime.clock
        while True:
            now = clock.now()
            if now >= due or (stoppable and (self.cancel_requested or now >= self.deadline)):
                return
            scale = clock.scale
            timeout = min((due - now) / scale, 1.0) if scale > 0 else None
            self.idle = True  # caught up: nothing is due before the clock moves on
            try:
                if timeout is not None and timeout < 0.002:
                    await asyncio.sleep(timeout)  # a line due in a moment: no need to watch for a wake-up
                    continue
                self.wake.clear()
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout)
                except TimeoutError:
                    pass
            finally:
                self.idle = False

    # --- the record -----------------------------------------------------------------

    def save(self) -> None:
        """The object and the progress, as of now (the counts as of the last checkpoint)."""
        if self.stopped:
            return
        if self.record["job"] is not None:
            self.state["saved"] = [self.runtime.clock.now(), time.time()]
        self.record["clock"] = [self.runtime.run_id, self.epoch]
        self.runtime.store.put(BATCH, self.id, self.record)

    def view(self) -> dict:
        """The object as a poller sees it now: the counts and usage of every line finished."""
        return {**self.batch, "request_counts": dict(self.counts), "usage": copy.deepcopy(self.usage)}

    def content_ids(self) -> list[str]:
        return [self.state["output"]["id"], self.state["error"]["id"]]

    def _commit_counts(self) -> None:
        self.batch["request_counts"] = dict(self.counts)
        self.batch["usage"] = copy.deepcopy(self.usage)

    def _over(self, status: str, at_name: str, at: float, **fields: Any) -> None:
        """A final status: the object updated, the progress dropped, the record saved."""
        self._commit_counts()
        self.batch.update(status=status, **{at_name: self.stamp(at)}, **fields)
        self.batch["output_file_id"] = self.state["output"].get("file")
        self.batch["error_file_id"] = self.state["error"].get("file")
        self.record["job"] = None  # the API key it ran with is not kept past the batch
        self.save()

    # --- running --------------------------------------------------------------------

    def stop(self) -> None:
        self.stopped = True
        if self.task is not None:
            self.task.cancel()

    def request_cancel(self) -> bool:
        """`POST /v1/batches/{id}/cancel`: a validating or running batch starts cancelling
        (True); in any other state it is left as it is (False)."""
        if self.batch["status"] not in ("validating", "in_progress") or self.state["phase"] not in (
                "validating", "in_progress"):
            return False
        now = self.runtime.clock.now()
        self.cancel_requested = True
        self.state["t"]["cancelling"] = now - self.epoch
        self.batch.update(status="cancelling", cancelling_at=self.stamp(now))
        self.save()
        self.wake.set()
        return True

    async def run(self) -> None:
        try:
            phase = self.state["phase"]
            if phase == "validating":
                phase = await self.validating()
            if phase == "in_progress":
                phase = await self.in_progress()
            if phase == "finalizing":
                await self.finalizing()
            elif phase == "cancelling":
                await self.cancelling()
            elif phase == "expiring":
                await self.expiring()
        except asyncio.CancelledError:  # the server stopping (resumed at its next start), or a reset
            self.out.suspend()
            self.err.suspend()
            raise
        except Exception:  # noqa: BLE001 - a bug must not take the runner down: the batch fails, named
            log.exception("batch %s: unexpected error", self.id)
            self.fail([{"code": "server_error", "line": None, "param": None,
                        "message": "The batch failed because of an error in mockserver (its log has the details)."}])
        finally:
            self.idle = True
            if self.runner.jobs.get(self.id) is self:
                del self.runner.jobs[self.id]

    def fail(self, errors: list[dict]) -> None:
        self.out.abort()
        self.err.abort()
        self.state["output"]["file"] = self.state["error"]["file"] = None
        self._over("failed", "failed_at", self.runtime.clock.now(),
                   errors={"object": "list", "data": [{k: e.get(k) for k in ("code", "line", "message", "param")}
                                                      for e in errors]})

    def _phase(self, phase: str) -> str:
        self.state["phase"] = phase
        return phase

    async def validating(self) -> str:
        clock = self.runtime.clock
        result = await validate(self.runtime, self.batch["input_file_id"], self.batch["endpoint"],
                                lambda: self.cancel_requested or self.stopped)
        checked = clock.now()
        await self.until(self.epoch + self.config.batch_validating_seconds)
        at = max(checked, min(clock.now(), self.epoch + self.config.batch_validating_seconds))
        if self.cancel_requested or result is None:
            self.save()
            return self._phase("cancelling")
        if result.errors:
            self.fail(result.errors)
            return "over"
        self.counts["total"] = result.total
        self.batch["model"] = self._model(result.model)
        if clock.now() >= self.deadline:
            self.save()
            return self._phase("expiring")
        self.state["t"]["in_progress"] = at - self.epoch
        self.batch.update(status="in_progress", in_progress_at=self.stamp(at))
        self._phase("in_progress")
        self._commit_counts()
        self.save()
        return "in_progress"

    def _model(self, name: str | None) -> str | None:
        """The batch's model as the lines' answers name it: the snapshot of a known alias."""
        if name is None:
            return None
        catalog = self.runtime.catalog
        return catalog.snapshot(name) if catalog.get(name) is not None else name

    async def in_progress(self) -> str:
        clock = self.runtime.clock
        rate = self.config.batch_lines_per_second
        started = self.offset("in_progress")
        done = self.state["done"]  # lines run, the next one's place in the pacing
        position = self.state["consumed"]  # input lines (blank ones too) whose results are written
        window: list[tuple[bool, bytes]] = []
        size = 0
        outcome = "finalizing"
        try:
            source = files.lines(self.runtime, self.batch["input_file_id"])
        except (KeyError, ValueError):
            self.fail([{"code": "invalid_file", "param": "input_file_id",
                        "message": f"The input file {self.batch['input_file_id']} was deleted while the batch ran."}])
            return "over"
        try:
            for number, raw in enumerate(source, 1):
                if number <= self.state["consumed"]:
                    continue  # written before a restart
                if not raw.strip():
                    position = number
                    continue
                due = started + (done + 1) / rate  # the n-th line (from 1) ends n / rate seconds in
                if clock.now() < due:
                    await self.until(due)
                if self.cancel_requested:
                    outcome = "cancelling"
                    break
                if clock.now() >= self.deadline:
                    outcome = "expiring"
                    break
                ok, line, usage = await self.run_line(raw, number)
                window.append((ok, line))
                size += len(line)
                self.counts["completed" if ok else "failed"] += 1
                add_usage(self.usage, usage)
                done += 1
                position = number
                if len(window) >= WINDOW_LINES or size >= WINDOW_BYTES:
                    self.flush(window, position, done)
                    window, size = [], 0
        finally:
            source.close()
        self.flush(window, position, done)
        if outcome == "finalizing":
            self.state["t"]["finalizing"] = clock.now() - self.epoch
            self.batch.update(status="finalizing", finalizing_at=self.stamp(clock.now()))
        self._phase(outcome)
        self.save()
        return outcome

    async def run_line(self, raw: bytes, number: int) -> tuple[bool, bytes, Any]:
        item = orjson.loads(raw)
        custom_id, body = item["custom_id"], item["body"]
        line_id = lines.line_id(self.id, self.batch["created_at"], number, self.config.seed)
        if body.get("stream") is True:
            return False, lines.refused(line_id, custom_id, 400, "The Batch API does not stream: a request in a "
                                        "batch must not set 'stream'.", "stream"), None
        answer = await lines.call(self.runner.router, self.id, item["method"], item["url"], orjson.dumps(body),
                                  self.auth)
        line, ok, usage = lines.output_line(line_id, custom_id, answer)
        return ok, line, usage

    def flush(self, window: list[tuple[bool, bytes]], position: int, done: int) -> None:
        """A window's results written, in its seeded order; then a checkpoint."""
        # Seeded by the id's random part, not its time: the same batch of a replayed run (same
        # seed, same requests) has the same id but for the second it was made in.
        rng_for("batch output order", self.config.seed, self.id[14:], self.state["window"]).shuffle(window)
        for ok, line in window:
            (self.out if ok else self.err).append(line)
        self.out.checkpoint()
        self.err.checkpoint()
        self.state["consumed"], self.state["done"] = position, done
        self.state["window"] += 1
        self._commit_counts()
        self.save()

    def _store_files(self) -> None:
        if not self.state.get("stored"):
            self.out.finish()
            self.err.finish()
            self.state["stored"] = True
            self.save()

    async def finalizing(self) -> None:
        self._store_files()
        due = self.offset("finalizing") + self.config.batch_finalizing_seconds
        await self.until(due, stoppable=False)
        self._over("completed", "completed_at", due)

    async def cancelling(self) -> None:
        if self.batch["status"] != "cancelling":  # a cancel met while validating: it is cancelling now
            now = self.runtime.clock.now()
            self.state["t"]["cancelling"] = now - self.epoch
            self.batch.update(status="cancelling", cancelling_at=self.stamp(now))
        self._store_files()
        due = self.offset("cancelling") + self.config.batch_cancelling_seconds
        await self.until(due, stoppable=False)
        self._over("cancelled", "cancelled_at", due)

    async def expiring(self) -> None:
        """Past the completion window: every line not run goes to the error file as
        `batch_expired` (read on from the last checkpoint), and the batch is `expired`."""
        if not self.state.get("stored"):
            position = self.state["consumed"]
            expired = 0
            source = files.lines(self.runtime, self.batch["input_file_id"])
            try:
                for number, raw in enumerate(source, 1):
                    if number <= position or not raw.strip():
                        continue
                    custom_id = _custom_id(raw)
                    line_id = lines.line_id(self.id, self.batch["created_at"], number, self.config.seed)
                    self.err.append(lines.failure(line_id, custom_id, "batch_expired", lines.EXPIRED_MESSAGE))
                    expired += 1
                    if expired % YIELD_EVERY == 0:
                        await asyncio.sleep(0)
            finally:
                source.close()
            self.counts["failed"] += expired
            self._commit_counts()
            self._store_files()
        self._over("expired", "expired_at", self.deadline)


def _custom_id(raw: bytes) -> Any:
    try:
        item = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return item.get("custom_id") if isinstance(item, dict) else None
