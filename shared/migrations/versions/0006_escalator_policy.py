"""Escalator: the subject's history, holds, fact packs, reopening, per-rule deadlines.

`subject_messages` keeps what the escalator saw of each message per subject (a customer, or
a sender without one): when, the channel, a short excerpt, the signals with their scores,
the policy's markers, the marks the policy recorded (warnings, flags) and the escalations
the message opened or joined. Policy history conditions and the fact pack read it; it
never holds another service's data beyond what arrived in the event.

Escalations learn their fact pack, their hold, the roles the rule adds at later levels,
their own acknowledgement minutes, and when they were last reopened.

Revision ID: 0006_escalator_policy
Revises: 0004_escalator
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0006_escalator_policy"
down_revision = "0004_escalator"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = (
    sa.Column("facts", JSONB, nullable=False, server_default="{}"),
    sa.Column("hold", JSONB),
    sa.Column("planned", JSONB, nullable=False, server_default="[]"),
    sa.Column("ack_minutes", sa.Float),
    sa.Column("reopened_at", TZ),
    sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("escalations", column, schema="escalator")
    op.create_index(
        "ix_escalations_subject",
        "escalations",
        ["subject_key", "opened_at"],
        schema="escalator",
    )
    op.create_table(
        "subject_messages",
        sa.Column("subject_key", sa.String, primary_key=True),
        sa.Column("message_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("customer_id", sa.String),
        sa.Column("at", TZ, nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("language", sa.String, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.Column("signals", JSONB, nullable=False),
        sa.Column("markers", JSONB, nullable=False),
        sa.Column("marks", JSONB, nullable=False),
        sa.Column("escalations", JSONB, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        schema="escalator",
    )
    op.create_index(
        "ix_subject_messages_recent",
        "subject_messages",
        ["subject_key", sa.text("at DESC")],
        schema="escalator",
    )


def downgrade() -> None:
    op.drop_table("subject_messages", schema="escalator")
    op.drop_index("ix_escalations_subject", table_name="escalations", schema="escalator")
    for column in reversed(COLUMNS):
        op.drop_column("escalations", column.name, schema="escalator")
