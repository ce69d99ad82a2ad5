"""The escalator: who wrote each message of a subject's history.

Revision ID: 0018_subject_message_sender
Revises: 0017_confirmations_denied

A staff notice lists the client's recent messages (the fact pack); with a probable sender
writing in the client's name beside the registered address, staff could not tell whose
each was. The row keeps the sender's address, phone or handle, pruned with the row at the
history horizon (services/escalator/retention.py); rows of before have none.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_subject_message_sender"
down_revision = "0017_confirmations_denied"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subject_messages", sa.Column("sender", sa.Text), schema="escalator")


def downgrade() -> None:
    op.drop_column("subject_messages", "sender", schema="escalator")
