"""One module per endpoint family; each declares its operations, routes and handlers only."""

from . import admin, chat, conversations, embeddings, models, responses

OPERATIONS = [*chat.OPERATIONS, *embeddings.OPERATIONS, *models.OPERATIONS, *responses.OPERATIONS,
              *conversations.OPERATIONS, *admin.OPERATIONS]
