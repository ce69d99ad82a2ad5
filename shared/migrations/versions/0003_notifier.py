"""Notifier: `notifier.notifications` becomes a transactional outbox.

The request (to render and send later), attempts, when the next attempt is due and why it
waits, the idempotency key a re-send carries, the result event and whether it was published,
and the trace context of the request.

Revision ID: 0003_notifier
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003_notifier"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = (
    sa.Column("channel", sa.String, nullable=False, server_default="email"),
    sa.Column("request", JSONB),
    sa.Column("urgent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TZ),
    sa.Column("last_attempt_at", TZ),
    sa.Column("deferred_reason", sa.String),
    sa.Column("idempotency_key", sa.String),
    sa.Column("result", JSONB),
    sa.Column("result_published_at", TZ),
    sa.Column("trace_context", JSONB),
    sa.Column("updated_at", TZ),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("notifications", column, schema="notifier")
    # Rows written by the synchronous notifier were sent (or not) and published already.
    op.execute(
        "UPDATE notifier.notifications "
        "SET attempts = CASE WHEN status = 'refused' THEN 0 ELSE 1 END, "
        "last_attempt_at = coalesce(sent_at, created_at), "
        "result_published_at = coalesce(sent_at, created_at)"
    )
    op.create_index(
        "ix_notifications_due",
        "notifications",
        ["next_attempt_at"],
        schema="notifier",
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_notifications_recipient_recent",
        "notifications",
        ["recipient", "last_attempt_at"],
        schema="notifier",
    )
    op.create_index(
        "ix_notifications_unpublished",
        "notifications",
        ["notification_id"],
        schema="notifier",
        postgresql_where=sa.text("result_published_at IS NULL AND result IS NOT NULL"),
    )
    op.create_index("ix_notifications_created", "notifications", ["created_at"], schema="notifier")


def downgrade() -> None:
    for name in (
        "ix_notifications_created",
        "ix_notifications_unpublished",
        "ix_notifications_recipient_recent",
        "ix_notifications_due",
    ):
        op.drop_index(name, table_name="notifications", schema="notifier")
    for column in reversed(COLUMNS):
        op.drop_column("notifications", column.name, schema="notifier")
