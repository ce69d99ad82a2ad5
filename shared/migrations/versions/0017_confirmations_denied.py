"""The verifier: a customer's recent denials, found without a scan.

Revision ID: 0017_confirmations_denied
Revises: 0016_timeline_by_message

A probable sender is weighed against the confirmations its customer denied lately (an
address the client disowned writing again is suspicious; another one is less sure:
services/verifier/denials.py). Every probable message asks for its customer's denials; this
partial index holds only the denied ones. Built CONCURRENTLY, as in 0010.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_confirmations_denied"
down_revision = "0016_timeline_by_message"
branch_labels = None
depends_on = None

INDEX = "ix_confirmations_denied"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "confirmations",
            ["customer_id", "resolved_at"],
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
