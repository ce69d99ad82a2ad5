"""Escalator: the escalation lifecycle (acknowledge, resolve, reassign, climb on deadlines).

Escalations learn who was notified at which level (only they may act), when the next climb
is due (the sweeper's work list), the originating message, and the briefing a re-escalation
repeats. The timeline records who did what. Outputs of lifecycle steps wait in an outbox
until published; answered commands are kept so a retried request gets the same answer;
acknowledge links are single-use.

Revision ID: 0004_escalator
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0004_escalator"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = (
    sa.Column("message_id", UUID(as_uuid=True)),
    sa.Column("correlation_id", sa.String),
    sa.Column("notified", JSONB, nullable=False, server_default="[]"),
    sa.Column("briefing", JSONB, nullable=False, server_default="{}"),
    sa.Column("climb_due_at", TZ),
    sa.Column("acknowledged_at", TZ),
    sa.Column("acknowledged_by", JSONB),
    sa.Column("resolved_at", TZ),
    sa.Column("resolved_by", JSONB),
    sa.Column("resolution_note", sa.Text),
)


def _escalation_fk() -> sa.Column:
    return sa.Column(
        "escalation_id",
        UUID(as_uuid=True),
        sa.ForeignKey("escalator.escalations.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("escalations", column, schema="escalator")
    op.add_column("escalation_timeline", sa.Column("actor", JSONB), schema="escalator")
    # Escalations opened before: their first message, and their deadline still running.
    op.execute(
        "UPDATE escalator.escalations e SET message_id = t.message_id, "
        "correlation_id = t.message_id::text FROM escalator.escalation_timeline t "
        "WHERE t.escalation_id = e.id AND t.entry = 'opened'"
    )
    op.execute("UPDATE escalator.escalations SET climb_due_at = ack_deadline WHERE status = 'open'")
    op.create_index(
        "ix_escalations_climb_due",
        "escalations",
        ["climb_due_at"],
        schema="escalator",
        postgresql_where=sa.text("status = 'open' AND climb_due_at IS NOT NULL"),
    )
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String, primary_key=True),
        _escalation_fk(),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ),
        schema="escalator",
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        schema="escalator",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "commands",
        sa.Column("command_id", UUID(as_uuid=True), primary_key=True),
        _escalation_fk(),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("reply", JSONB, nullable=False),
        sa.Column("at", TZ, nullable=False),
        schema="escalator",
    )
    op.create_table(
        "ack_links",
        sa.Column("link_id", UUID(as_uuid=True), primary_key=True),
        _escalation_fk(),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("address", sa.String, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        schema="escalator",
    )


def downgrade() -> None:
    for table in ("ack_links", "commands", "outbox"):
        op.drop_table(table, schema="escalator")
    op.drop_index("ix_escalations_climb_due", table_name="escalations", schema="escalator")
    op.drop_column("escalation_timeline", "actor", schema="escalator")
    for column in reversed(COLUMNS):
        op.drop_column("escalations", column.name, schema="escalator")
