"""The escalator: a promise to the client that passes unkept (seed 001, bad news first).

Revision ID: 0015_promises_missed
Revises: 0014_promise_reminders

When the answer promised to the client (`client_reply_by`) falls due with the escalation
still open, the sweeper tells the client so first, with a new date, and the escalation
climbs. `promise_to` is where and how the promise was made (the client's registered
address, language, clock, the names the mail used): the sweeper has no message to read
them from. `promises_missed` counts the dates put off, so the client is told a new date a
bounded number of times and then only a person answers. The partial index holds the open
promises, so a pass never scans the table; built CONCURRENTLY, as in 0010.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015_promises_missed"
down_revision = "0014_promise_reminders"
branch_labels = None
depends_on = None

INDEX = "ix_escalations_promise_open"
OPEN = "status = 'open' AND client_reply_by IS NOT NULL"


def upgrade() -> None:
    op.add_column("escalations", sa.Column("promise_to", JSONB, nullable=True), schema="escalator")
    # A constant default is stored in the catalogue (PostgreSQL 11+): no table rewrite.
    op.add_column(
        "escalations",
        sa.Column("promises_missed", sa.Integer, nullable=False, server_default="0"),
        schema="escalator",
    )
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX,
            "escalations",
            ["client_reply_by"],
            schema="escalator",
            postgresql_concurrently=True,
            postgresql_where=sa.text(OPEN),
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
    op.drop_column("escalations", "promises_missed", schema="escalator")
    op.drop_column("escalations", "promise_to", schema="escalator")
