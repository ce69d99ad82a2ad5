"""The notifier: which staff notices told whom that a client mail was written.

Revision ID: 0024_notifier_client_mail_told
Revises: 0023_escalator_revoked

A staff notice says what the message wrote to the client automatically; when that mail is
later refused, withdrawn or fails for good, the staff it was said to are told it did not
reach the client (services/notifier/undelivered.py). One row per id of such a mail (a
digest's and its parts') and staff notice, written when the notice is accepted, read only
when a client mail ends undelivered (rare): a table of links rather than a search of every
staff notice's request. Pruned by `recorded_at` on the key horizon: a client mail ends (sent
or not) long before the streams forget its request.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0024_notifier_client_mail_told"
down_revision = "0023_escalator_revoked"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.create_table(
        "client_mail_told",
        sa.Column("client_notification_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("staff_notification_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("ix_client_mail_told_recorded", "client_mail_told", ["recorded_at"], schema=S)


def downgrade() -> None:
    op.drop_table("client_mail_told", schema=S)
