"""The notifier: the addresses staff took back.

Revision ID: 0022_notifier_revoked
Revises: 0021_crm_manager_language

`crm.channel.revoked` withdraws what is unsent to the address at that moment; a request made
before it that arrives later, or a row that was being sent and comes back for a retry, would
still go there on the word taken back. The notifier keeps each address's latest revoke
(`address` lower-cased, the confirmation and event, `revoked_at`) and refuses account content
for a client made before it (services/notifier/revoked.py). Pruned by `recorded_at` on the
key horizon, as confirmation_outcomes: no request comes later than the streams keep it.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0022_notifier_revoked"
down_revision = "0021_crm_manager_language"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.create_table(
        "revoked_addresses",
        sa.Column("address", sa.String, primary_key=True),
        sa.Column("confirmation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("ix_revoked_addresses_recorded", "revoked_addresses", ["recorded_at"], schema=S)


def downgrade() -> None:
    op.drop_table("revoked_addresses", schema=S)
