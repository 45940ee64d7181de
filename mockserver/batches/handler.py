"""/v1/batches: create, retrieve, list, cancel. The work itself is the runner's (runner.py).

    POST /v1/batches                 {input_file_id, endpoint, completion_window: "24h", metadata?,
                                      output_expires_after?} → a `validating` batch
    GET  /v1/batches/{id}            the batch as it stands (counts grow as lines finish)
    GET  /v1/batches                 newest first; `after`, `limit` 1..100 (default 20)
    POST /v1/batches/{id}/cancel     a validating or running batch → `cancelling`

The body is checked by its contract (`batches.create.request`: the endpoint among those the
real API takes, `completion_window` "24h" only, `output_expires_after` 1 hour to 30 days);
here, synchronously as the real API does, that the input file exists and was uploaded for
`batch`. Everything about the file's content is checked later, while the batch validates.

Unknown ids: `No batch found with id '...'.` (404, param `batch_id`; the wording is ours,
in the style of the Responses API's). `--lenient`: an unknown id is a stand-in, a finished
batch of no lines (for retrieve and cancel), and a create on an unknown file is taken (its
batch then fails validating, as a deleted file's would).
"""

from __future__ import annotations

from .. import errors, files
from ..api.common import list_query, now
from ..routing import Operation
from ..state import page
from ..wire import Exchange, Reply
from . import records
from .records import BATCH


def not_found(batch_id: str) -> errors.OpenAIError:
    return errors.OpenAIError(404, f"No batch found with id '{batch_id}'.", param="batch_id")


async def create(ex: Exchange) -> Reply:
    runtime = ex.runtime
    body = ex.body
    file_id = body["input_file_id"]
    try:
        file = files.load_file(runtime, file_id)
    except ValueError:  # not even a file id
        file = None
    if not runtime.config.lenient:
        if file is None:
            raise errors.invalid_request(f"Invalid 'input_file_id': '{file_id}'. No such File object: {file_id}",
                                         param="input_file_id")
        if file["purpose"] != "batch":
            raise errors.invalid_request(
                f"Invalid 'input_file_id': '{file_id}'. The file was uploaded with purpose '{file['purpose']}'; "
                "a batch's input file must be uploaded with purpose 'batch'.", param="input_file_id")
    created = now()
    batch_id = records.new_batch_id(runtime, created)
    batch = records.batch_object(batch_id, body["endpoint"], file_id, created, body.get("metadata"))
    expires_after = (body.get("output_expires_after") or {}).get("seconds")
    auth = [(name, value.decode("latin-1")) for name in ("authorization", "api-key")
            if (value := ex.header(name.encode())) is not None]
    record = {
        "batch": batch,
        "clock": [runtime.run_id, runtime.clock.now()],
        "job": {
            "phase": "validating", "auth": auth, "expires_after": expires_after,
            "t": {"in_progress": None, "finalizing": None, "cancelling": None},
            "consumed": 0, "done": 0, "window": 0, "stored": False,
            "output": {"id": files.records.new_file_id(runtime), "size": 0, "file": None},
            "error": {"id": files.records.new_file_id(runtime), "size": 0, "file": None},
            "saved": [runtime.clock.now(), float(created)],
        },
    }
    runtime.store.put(BATCH, batch_id, record)
    runtime.batches.submit(record)
    return records.reply(batch)


def current(ex: Exchange, batch_id: str) -> dict | None:
    """The batch as it stands now: the runner's view while it runs, else what is stored."""
    job = ex.runtime.batches.job(batch_id)
    if job is not None:
        return job.view()
    record = ex.runtime.store.get(BATCH, batch_id)
    return record["batch"] if record is not None else None


def _found(ex: Exchange) -> dict:
    batch_id = ex.path_params["batch_id"]
    batch = current(ex, batch_id)
    if batch is not None:
        return batch
    if ex.runtime.config.lenient:
        return records.stand_in(batch_id, now())
    raise not_found(batch_id)


async def retrieve(ex: Exchange) -> Reply:
    return records.reply(_found(ex))


async def list_batches(ex: Exchange) -> Reply:
    """Newest first, as recorded; `after` is the cursor, `limit` 1..100 (default 20)."""
    query = list_query(ex, default_order="desc", default_limit=20, max_limit=100)
    query["order"], query["before"] = "desc", None  # the batches list takes neither
    stored = [record["batch"]["id"] for record in ex.runtime.store.values(BATCH)]
    batches = [batch for batch in (current(ex, batch_id) for batch_id in stored) if batch is not None]
    return records.reply(page(batches, **query))


async def cancel(ex: Exchange) -> Reply:
    """A validating or running batch starts cancelling: lines not run yet are not run, and
    `batch_cancelling_seconds` later it is `cancelled` with the files of what was done. A
    batch already cancelling or finalizing is answered as it is; a finished one is a 400.
    Compact JSON, unlike the family's other answers, as recorded."""
    batch_id = ex.path_params["batch_id"]
    job = ex.runtime.batches.job(batch_id)
    if job is not None:
        job.request_cancel()
        return records.reply(job.view(), compact=True)
    batch = _found(ex)
    if batch["status"] in records.OVER and not ex.runtime.config.lenient:
        raise errors.invalid_request(f"Cannot cancel a batch with status '{batch['status']}'.")
    return records.reply(batch, compact=True)


_BATCHES = dict(header_profile="uploads")  # organization and project, no rate-limit headers (BatchTests)

OPERATIONS = [
    Operation("batches.create", "POST", "/batches", create, request_schema="batches.create.request", **_BATCHES),
    Operation("batches.list", "GET", "/batches", list_batches, **_BATCHES),
    Operation("batches.retrieve", "GET", "/batches/{batch_id}", retrieve, **_BATCHES),
    Operation("batches.cancel", "POST", "/batches/{batch_id}/cancel", cancel, **_BATCHES),
]
