"""The escalator: the addresses staff took back, per customer.

Revision ID: 0023_escalator_revoked
Revises: 0022_notifier_revoked

The verifier and the escalator consume apart, and the escalator may lag: a message the
verifier passed as the client's verified channel just before `careline crm revoke` can be
handled after the revoke, when no case of it exists yet for the revoke to take back. The
escalator keeps each customer's revoked address (`address` stripped and lower-cased) with
the latest revoke's time, who and which confirmation; a verified message of that address
decided at or before it is handled as the disowned sender it is
(services/escalator/revoked_sender.py). Pruned by `recorded_at` on the key horizon: no
message verified before a revoke comes later than the streams keep it.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0023_escalator_revoked"
down_revision = "0022_notifier_revoked"
branch_labels = None
depends_on = None

S = "escalator"


def upgrade() -> None:
    op.create_table(
        "revoked_addresses",
        sa.Column("customer_id", sa.String, primary_key=True),
        sa.Column("address", sa.String, primary_key=True),
        sa.Column("confirmation_id", UUID(as_uuid=True), nullable=False),
        sa.Column("revoked_by", sa.String, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("ix_revoked_addresses_recorded", "revoked_addresses", ["recorded_at"], schema=S)


def downgrade() -> None:
    op.drop_table("revoked_addresses", schema=S)
