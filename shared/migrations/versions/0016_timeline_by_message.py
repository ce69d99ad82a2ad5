"""The escalator: the escalations a message is in, found from the message.

Revision ID: 0016_timeline_by_message
Revises: 0015_promises_missed

When the registered contact confirms a probable sender (or denies it, or lets it expire),
the verifier says so about the message that started the confirmation; the escalator tells
the people holding every escalation that message opened, joined or reopened (seed 000).
Its timeline names them by message id; this index finds them without a scan. Built
CONCURRENTLY, as in 0010.
"""

from alembic import op

revision = "0016_timeline_by_message"
down_revision = "0015_promises_missed"
branch_labels = None
depends_on = None

INDEX = "ix_escalation_timeline_message"


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "escalation_timeline",
            ["message_id"],
            schema="escalator",
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            INDEX,
            table_name="escalation_timeline",
            schema="escalator",
            postgresql_concurrently=True,
            if_exists=True,
        )
