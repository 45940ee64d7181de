"""One module per endpoint family; each declares its operations, routes and handlers only."""

from . import admin, chat, chat_store, conversations, embeddings, models, responses

OPERATIONS = [*chat.OPERATIONS, *chat_store.OPERATIONS, *embeddings.OPERATIONS, *models.OPERATIONS, *responses.OPERATIONS,
              *conversations.OPERATIONS, *admin.OPERATIONS]
