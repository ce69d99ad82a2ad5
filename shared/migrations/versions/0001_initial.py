"""One schema per owning service: intake, crm, escalator, notifier.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMAS = ("intake", "crm", "escalator", "notifier")
TZ = sa.DateTime(timezone=True)


def _processed(schema: str) -> None:
    op.create_table(
        "processed_messages",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("outputs", JSONB, nullable=False),
        sa.Column("processed_at", TZ, nullable=False, server_default=sa.func.now()),
        schema=schema,
    )


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        _processed(schema)

    op.create_table(
        "messages",
        sa.Column("message_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("external_id", sa.String, nullable=False),
        sa.Column("thread_id", sa.String, nullable=False),
        sa.Column("language", sa.String, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("normalized", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("channel", "external_id", name="uq_messages_channel_external"),
        schema="intake",
    )

    op.create_table(
        "account_managers",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("phone", sa.String),
        sa.Column("deputy_id", sa.String),
        schema="crm",
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("tier", sa.String, nullable=False, server_default="standard"),
        sa.Column("status", sa.String, nullable=False, server_default="active"),
        sa.Column("account_manager_id", sa.String, sa.ForeignKey("crm.account_managers.id")),
        schema="crm",
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("customer_id", sa.String, sa.ForeignKey("crm.customers.id"), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False, server_default=""),
        schema="crm",
    )
    op.create_table(
        "contact_channels",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "contact_id",
            sa.String,
            sa.ForeignKey("crm.contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("address", sa.String, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.String, nullable=False, server_default="crm"),
        sa.UniqueConstraint("kind", "address", "contact_id", name="uq_contact_channel"),
        schema="crm",
    )
    op.create_index(
        "ix_contact_channels_lookup", "contact_channels", ["kind", "address"], schema="crm"
    )
    op.create_table(
        "domains",
        sa.Column("domain", sa.String, primary_key=True),
        sa.Column("customer_id", sa.String, sa.ForeignKey("crm.customers.id"), primary_key=True),
        schema="crm",
    )
    op.create_table(
        "identity_decisions",
        sa.Column("message_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("customer_id", sa.String),
        sa.Column("evidence", JSONB, nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        schema="crm",
    )

    op.create_table(
        "escalations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("subject_key", sa.String, nullable=False),
        sa.Column("customer_id", sa.String),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("severity", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False, server_default="open"),
        sa.Column("rule", sa.String, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False, server_default="1"),
        sa.Column("identity_status", sa.String, nullable=False),
        sa.Column("roles", JSONB, nullable=False),
        sa.Column("signals", JSONB, nullable=False),
        sa.Column("message_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("ack_deadline", TZ, nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        schema="escalator",
    )
    op.create_index(
        "ux_escalations_open",
        "escalations",
        ["subject_key", "kind"],
        unique=True,
        schema="escalator",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "escalation_timeline",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "escalation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("escalator.escalations.id"),
            nullable=False,
        ),
        sa.Column("message_id", UUID(as_uuid=True), nullable=False),
        sa.Column("entry", sa.String, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.UniqueConstraint("escalation_id", "message_id", name="uq_timeline_message"),
        schema="escalator",
    )

    op.create_table(
        "notifications",
        sa.Column("notification_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("message_id", UUID(as_uuid=True), nullable=False),
        sa.Column("escalation_id", UUID(as_uuid=True)),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("recipient_role", sa.String, nullable=False),
        sa.Column("recipient", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("provider_message_id", sa.String),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ),
        schema="notifier",
    )


def downgrade() -> None:
    for schema in reversed(SCHEMAS):
        op.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
