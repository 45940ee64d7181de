"""The operation table: every family's operations, in one list.

Families with several modules have a package of their own (`mockserver/chat/`,
`mockserver/responses/`, `mockserver/files/`, `mockserver/batches/`, `mockserver/realtime/`); the small ones live
here, one module each (embeddings, models, the admin API), with `common.py`, what the
families share.
"""

from .. import batches, chat, files, realtime, responses
from . import admin, embeddings, models

OPERATIONS = [*chat.OPERATIONS, *embeddings.OPERATIONS, *models.OPERATIONS, *responses.OPERATIONS, *files.OPERATIONS,
              *batches.OPERATIONS, *realtime.OPERATIONS, *admin.OPERATIONS]
