"""Notifier: answers held until the sender's address is confirmed, and what each confirmation
came to.

A held notification (`status = 'held'`) waits for `crm.channel.confirmed` of its confirmation;
it is then released (`pending`, `released_at`, `released_by` = the event id) or, on a denial
or an expiry, withdrawn (`withdrawn_at`, `withdrawn_reason`). `confirmation_outcomes`
remembers every confirmation's outcome, so a held request arriving after it is settled at once.

Revision ID: 0007_notifier_held
Revises: 0003_notifier
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0007_notifier_held"
down_revision = "0003_notifier"
branch_labels = None
depends_on = None

S = "notifier"
TZ = sa.DateTime(timezone=True)
COLUMNS = (
    sa.Column("held_for_confirmation", UUID(as_uuid=True)),
    sa.Column("held_at", TZ),
    sa.Column("released_at", TZ),
    sa.Column("released_by", UUID(as_uuid=True)),
    sa.Column("withdrawn_at", TZ),
    sa.Column("withdrawn_by", UUID(as_uuid=True)),
    sa.Column("withdrawn_reason", sa.Text),
)


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("notifications", column, schema=S)
    op.create_index(
        "ix_notifications_held",
        "notifications",
        ["held_for_confirmation"],
        schema=S,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_table(
        "confirmation_outcomes",
        sa.Column("confirmation_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("outcome", sa.String, nullable=False),  # confirmed | denied | expired
        sa.Column("channel_kind", sa.String),
        sa.Column("address", sa.String),  # the address a confirmation verified
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("confirmation_outcomes", schema=S)
    op.drop_index("ix_notifications_held", table_name="notifications", schema=S)
    for column in reversed(COLUMNS):
        op.drop_column("notifications", column.name, schema=S)
