"""The notifier: why a notification ended refused, withdrawn or failed, as a code.

Revision ID: 0025_notifier_reason_code
Revises: 0024_notifier_client_mail_told

Staff told that a client mail was not written, or ends undelivered, read why in words
(services/notifier/undelivered.py). That was worked out by matching phrases of the
notifier's free-text reasons, and a reworded reason silently became "failed"; now whatever
ends the row stores the code beside the text (which ops keep reading). Nullable and not
back-filled: a row that ended before this migration is read from its text as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_notifier_reason_code"
down_revision = "0024_notifier_client_mail_told"
branch_labels = None
depends_on = None

S = "notifier"


def upgrade() -> None:
    op.add_column("notifications", sa.Column("reason_code", sa.String), schema=S)


def downgrade() -> None:
    op.drop_column("notifications", "reason_code", schema=S)
