"""Files and Uploads: the files a client uploads (in one request or in parts), and the
interface other families use to read and write stored files (Batches).

    handler.py    /v1/files: upload (multipart, streamed to the store), list, retrieve, content, delete
    uploads.py    /v1/uploads: create, add parts (in parallel), complete into a file, cancel; expiry
    multipart.py  multipart/form-data read as it streams in, the file part written to the store
    records.py    the stored records, ids and objects; `create_file` and `lines` for Batches
    wire.py       how the files service writes answers and errors (`detail`), download headers

The bytes live in the state's content store (state/content.py), beside the records.
"""

from . import handler, uploads
from .records import FileWriter, create_file, lines, load_file

OPERATIONS = [*handler.OPERATIONS, *uploads.OPERATIONS]

__all__ = ["FileWriter", "OPERATIONS", "create_file", "lines", "load_file"]
