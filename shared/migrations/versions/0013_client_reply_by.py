"""The escalator: when the client is promised an answer (seed 001, promises kept).

Revision ID: 0013_client_reply_by
Revises: 0012_content_horizon

The client's acknowledgement promised an answer by the staff's acknowledgement deadline
(fifteen minutes for P1). The promise is the policy's `client_reply` now, set when an
escalation opens or reopens and kept on it, so later notices and staff show the same time.
Null for escalations opened before: their notices fall back to the deadline, as before.
Adding a nullable column without a default rewrites nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_client_reply_by"
down_revision = "0012_content_horizon"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "escalations",
        sa.Column("client_reply_by", sa.DateTime(timezone=True), nullable=True),
        schema="escalator",
    )


def downgrade() -> None:
    op.drop_column("escalations", "client_reply_by", schema="escalator")
