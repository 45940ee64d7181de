"""The operation table: every family's operations, in one list.

Families with several modules have a package of their own (`mockserver/chat/`,
`mockserver/responses/`); the small ones live here, one module each (embeddings,
models, the admin API), with `common.py`, what the families share.
"""

from .. import chat, responses
from . import admin, embeddings, models

OPERATIONS = [*chat.OPERATIONS, *embeddings.OPERATIONS, *models.OPERATIONS, *responses.OPERATIONS, *admin.OPERATIONS]
