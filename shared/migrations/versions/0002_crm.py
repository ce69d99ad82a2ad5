"""CRM mirror for identity evidence: documents, search keys, change ordering, confirmations.

Revision ID: 0002_crm
Revises: 0001

Search keys (`name_keys`, `match_key`) are computed by the verifier (services/verifier/
matching.py); rows that predate this revision get them at the verifier's next start.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0002_crm"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
S = "crm"


def upgrade() -> None:
    op.add_column("account_managers", sa.Column("handle", sa.String), schema=S)
    op.add_column("account_managers", sa.Column("updated_at", TZ), schema=S)

    op.add_column("customers", sa.Column("value", sa.Numeric(18, 2)), schema=S)
    op.add_column("customers", sa.Column("name_keys", ARRAY(sa.String)), schema=S)
    op.add_column("customers", sa.Column("updated_at", TZ), schema=S)
    op.add_column("customers", sa.Column("removed_at", TZ), schema=S)
    op.create_index(
        "ix_customers_name_keys", "customers", ["name_keys"], schema=S, postgresql_using="gin"
    )

    op.add_column("contacts", sa.Column("name_keys", ARRAY(sa.String)), schema=S)
    op.add_column("contacts", sa.Column("updated_at", TZ), schema=S)
    op.add_column("contacts", sa.Column("removed_at", TZ), schema=S)
    op.create_index(
        "ix_contacts_name_keys", "contacts", ["name_keys"], schema=S, postgresql_using="gin"
    )
    op.create_index("ix_contacts_customer", "contacts", ["customer_id"], schema=S)

    # One key per mailbox / number / handle: "Buh+x@X.ru" and "buh@x.ru" meet here.
    op.add_column("contact_channels", sa.Column("match_key", sa.String), schema=S)
    op.add_column(
        "contact_channels",
        sa.Column("added_at", TZ, nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_index(
        "ix_contact_channels_match", "contact_channels", ["kind", "match_key"], schema=S
    )

    op.create_table(
        "documents",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id",
            sa.String,
            sa.ForeignKey("crm.customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("number", sa.String, nullable=False),
        sa.Column("number_key", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False, server_default="active"),
        sa.Column("amount", sa.Numeric(18, 2)),
        sa.Column("currency", sa.String),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("customer_id", "kind", "number_key", name="uq_document"),
        schema=S,
    )
    op.create_index("ix_documents_lookup", "documents", ["kind", "number_key"], schema=S)

    op.add_column("identity_decisions", sa.Column("contact_id", sa.String), schema=S)
    op.add_column("identity_decisions", sa.Column("disclosure", sa.String), schema=S)
    op.add_column("identity_decisions", sa.Column("confirmation_id", UUID(as_uuid=True)), schema=S)

    op.create_table(
        "confirmations",
        sa.Column("confirmation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("message_id", UUID(as_uuid=True), nullable=False),
        sa.Column("correlation_id", sa.String, nullable=False),
        sa.Column(
            "customer_id",
            sa.String,
            sa.ForeignKey("crm.customers.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("contact_id", sa.String),
        sa.Column("channel_kind", sa.String, nullable=False),
        sa.Column("channel_address", sa.String, nullable=False),
        sa.Column("match_key", sa.String, nullable=False),
        sa.Column("claimed_name", sa.String),
        sa.Column("code", sa.String, nullable=False, unique=True),
        sa.Column("status", sa.String, nullable=False, server_default="pending"),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ),
        sa.Column("resolved_via", sa.String),
        sa.Column("resolved_by_message_id", UUID(as_uuid=True)),
        sa.Column("linked_contact_id", sa.String),
        schema=S,
    )
    op.create_index(
        "ix_confirmations_pending",
        "confirmations",
        ["customer_id", "channel_kind", "match_key"],
        schema=S,
        postgresql_where=sa.text("status = 'pending'"),
    )
    # Every step of every confirmation, including refused attempts, for audit.
    op.create_table(
        "confirmation_log",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "confirmation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("crm.confirmations.confirmation_id", ondelete="CASCADE"),
        ),
        sa.Column("entry", sa.String, nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.Column("at", TZ, nullable=False),
        schema=S,
    )
    op.create_index("ix_confirmation_log", "confirmation_log", ["confirmation_id"], schema=S)


def downgrade() -> None:
    op.drop_table("confirmation_log", schema=S)
    op.drop_table("confirmations", schema=S)
    for column in ("confirmation_id", "disclosure", "contact_id"):
        op.drop_column("identity_decisions", column, schema=S)
    op.drop_table("documents", schema=S)
    op.drop_index("ix_contact_channels_match", "contact_channels", schema=S)
    op.drop_column("contact_channels", "added_at", schema=S)
    op.drop_column("contact_channels", "match_key", schema=S)
    op.drop_index("ix_contacts_customer", "contacts", schema=S)
    op.drop_index("ix_contacts_name_keys", "contacts", schema=S)
    for column in ("removed_at", "updated_at", "name_keys"):
        op.drop_column("contacts", column, schema=S)
    op.drop_index("ix_customers_name_keys", "customers", schema=S)
    for column in ("removed_at", "updated_at", "name_keys", "value"):
        op.drop_column("customers", column, schema=S)
    op.drop_column("account_managers", "updated_at", schema=S)
    op.drop_column("account_managers", "handle", schema=S)
