"""The small families, one module each (embeddings, models, the admin API), with
`common.py`, what the families share. Families with several modules have a package of
their own (`mockserver/chat/`, `mockserver/responses/`, `mockserver/files/`,
`mockserver/batches/`, `mockserver/realtime/`). The operation table that lists them all is
`routing.all_operations()`; this package imports no family, so any family may import
`api.common` first.
"""
