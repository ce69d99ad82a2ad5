"""The escalator: the escalations a confirmation's outcome is told to, found from it; the
subject an escalation's thread goes by.

Revision ID: 0016_timeline_by_message
Revises: 0015_promises_missed

When the registered contact confirms a probable sender (or denies it, or lets it expire),
the verifier says so about the confirmation and the message that started it; the escalator
tells the people holding every escalation placed by a message whose sender waited on it
(seed 000). Their timeline entries name the message and the confirmation; these indexes
find them without a scan (the second holds only the entries that name a confirmation).
Built CONCURRENTLY, as in 0010.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_timeline_by_message"
down_revision = "0015_promises_missed"
branch_labels = None
depends_on = None

INDEX = "ix_escalation_timeline_message"
BY_CONFIRMATION = "ix_escalation_timeline_confirmation"
CONFIRMATION = "(detail->>'confirmation_id')"


def upgrade() -> None:
    # The subject of the message that opened it: a reply in that thread goes on with it
    # (follow-ups). Read with every message's history, so a column, not the briefing's JSON.
    op.add_column("escalations", sa.Column("subject", sa.Text, nullable=True), schema="escalator")
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "escalation_timeline",
            ["message_id"],
            schema="escalator",
            postgresql_concurrently=True,
            if_not_exists=True,
        )
        op.create_index(
            BY_CONFIRMATION,
            "escalation_timeline",
            [sa.text(CONFIRMATION)],
            schema="escalator",
            postgresql_concurrently=True,
            postgresql_where=sa.text(f"{CONFIRMATION} IS NOT NULL"),
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name in (BY_CONFIRMATION, INDEX):
            op.drop_index(
                name,
                table_name="escalation_timeline",
                schema="escalator",
                postgresql_concurrently=True,
                if_exists=True,
            )
    op.drop_column("escalations", "subject", schema="escalator")
