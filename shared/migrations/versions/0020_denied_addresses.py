"""The verifier: the denials of an address, found without a scan.

Revision ID: 0020_denied_addresses
Revises: 0019_receipt_lookup

An address the client disowned stays suspicious whatever it writes next, even a line that
names nobody (services/verifier/denials.py): every batch asks for the recent denials of its
senders' own addresses, whoever's customer denied them. 0017 indexes denials by customer;
this partial index holds the same denied rows by address (kind, match key). Built
CONCURRENTLY, as in 0010.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_denied_addresses"
down_revision = "0019_receipt_lookup"
branch_labels = None
depends_on = None

INDEX = "ix_confirmations_denied_address"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "confirmations",
            ["match_key", "channel_kind", "resolved_at"],
            schema="crm",
            postgresql_concurrently=True,
            postgresql_where=sa.text("status = 'denied'"),
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            INDEX, "confirmations", schema="crm", postgresql_concurrently=True, if_exists=True
        )
