"""Batches: a file of requests run through the same operations the HTTP routes serve.

    handler.py   /v1/batches: create, retrieve, list, cancel
    records.py   the batch object (as recorded), its ids, the stored record
    validate.py  the input file checked while the batch is `validating`, streamed
    runner.py    each batch's lifecycle on the clock; lines run, results written as they finish;
                 output order (seeded windows), checkpoints, resuming after a restart
    lines.py     a line as an internal request through the operation table and the envelope,
                 and the output line written from its answer
"""

from . import handler
from .runner import BatchRunner

OPERATIONS = handler.OPERATIONS

__all__ = ["BatchRunner", "OPERATIONS"]
