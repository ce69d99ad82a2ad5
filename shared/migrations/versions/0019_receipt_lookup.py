"""The notifier: the identity confirmation request of a confirmation, found without a scan.

Revision ID: 0019_receipt_lookup
Revises: 0018_subject_message_sender

When the registered contact answers a confirmation request (confirms or denies it), the
notifier answers it in turn, at the address the request went to (services/notifier/
receipts.py): it finds the request by the confirmation id its data carries. This partial
index holds only identity confirmation requests. Built CONCURRENTLY, as in 0010.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_receipt_lookup"
down_revision = "0018_subject_message_sender"
branch_labels = None
depends_on = None

INDEX = "ix_notifications_confirmation_request"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "notifications",
            [sa.text("(request -> 'data' ->> 'confirmation_id')")],
            schema="notifier",
            postgresql_concurrently=True,
            postgresql_where=sa.text("kind = 'identity_confirmation'"),
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            INDEX, "notifications", schema="notifier", postgresql_concurrently=True, if_exists=True
        )
