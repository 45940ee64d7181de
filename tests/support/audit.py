"""The answer audit lives in the kit (`mockserver.kit.audit`); the tests import it from there."""

from mockserver.kit.audit import Audit, Sent, contracts, problems, schema_for, sdk_reads_leniently, stored_chat_schema

__all__ = ["Audit", "Sent", "contracts", "problems", "schema_for", "sdk_reads_leniently", "stored_chat_schema"]
