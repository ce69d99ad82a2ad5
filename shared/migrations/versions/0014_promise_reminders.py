"""The escalator: reminders before a promise to the client falls due (seed 001).

Revision ID: 0014_promise_reminders
Revises: 0013_client_reply_by

The sweeper tells whoever holds an open escalation when the answer promised to the client
(`client_reply_by`, 0013) is near and nobody has resolved it; `promise_reminded_at` says it
did, so each promise is reminded of once (replicas and restarts included). The partial
index holds only the promises a pass may still remind of, so the pass never scans the
table; built CONCURRENTLY, as in 0010: the services keep writing meanwhile.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_promise_reminders"
down_revision = "0013_client_reply_by"
branch_labels = None
depends_on = None

INDEX = "ix_escalations_promise_due"
DUE = "status = 'open' AND client_reply_by IS NOT NULL AND promise_reminded_at IS NULL"


def upgrade() -> None:
    op.add_column(
        "escalations",
        sa.Column("promise_reminded_at", sa.DateTime(timezone=True), nullable=True),
        schema="escalator",
    )
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "escalations",
            ["client_reply_by"],
            schema="escalator",
            postgresql_concurrently=True,
            postgresql_where=sa.text(DUE),
            if_not_exists=True,
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            INDEX,
            table_name="escalations",
            schema="escalator",
            postgresql_concurrently=True,
            if_exists=True,
        )
    op.drop_column("escalations", "promise_reminded_at", schema="escalator")
