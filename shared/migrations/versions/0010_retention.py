"""Retention: indexes for the services' pruning passes (shared/retention.py).

Revision ID: 0010_retention
Revises: 0006_escalator_policy, 0007_notifier_held, 0009_crm_contract_terms

Each pass deletes rows older than a horizon by the time column it names; without an index
on that column every batch scanned the whole table. Idempotency keys and the subject
history are the tables that grew without bound, so their indexes are built CONCURRENTLY
(outside the migration's transaction): the services keep writing while they build. A
build that failed leaves an invalid index behind; drop it and migrate again.

It touches every service's schema, so it follows the last revision of each.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_retention"
down_revision = ("0006_escalator_policy", "0007_notifier_held", "0009_crm_contract_terms")
branch_labels = None
depends_on = None

# (name, schema, table, columns, partial condition)
INDEXES = (
    ("ix_processed_messages_at", "intake", "processed_messages", ["processed_at"], None),
    ("ix_processed_messages_at", "crm", "processed_messages", ["processed_at"], None),
    ("ix_processed_messages_at", "escalator", "processed_messages", ["processed_at"], None),
    ("ix_processed_messages_at", "notifier", "processed_messages", ["processed_at"], None),
    ("ix_subject_messages_at", "escalator", "subject_messages", ["at"], None),
    ("ix_outbox_published", "escalator", "outbox", ["published_at"], "published_at IS NOT NULL"),
    ("ix_commands_at", "escalator", "commands", ["at"], None),
    ("ix_ack_links_expires", "escalator", "ack_links", ["expires_at"], None),
    ("ix_confirmations_expired", "crm", "confirmations", ["resolved_at"], "status = 'expired'"),
    (
        "ix_confirmation_outcomes_recorded",
        "notifier",
        "confirmation_outcomes",
        ["recorded_at"],
        None,
    ),
)


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, schema, table, columns, where in INDEXES:
            op.create_index(
                name,
                table,
                columns,
                schema=schema,
                postgresql_concurrently=True,
                postgresql_where=sa.text(where) if where else None,
                if_not_exists=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, schema, table, _, _ in INDEXES:
            op.drop_index(
                name, table_name=table, schema=schema, postgresql_concurrently=True, if_exists=True
            )
