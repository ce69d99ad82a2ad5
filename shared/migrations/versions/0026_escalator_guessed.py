"""The escalator: which signals of a message only the second opinion saw.

Revision ID: 0026_escalator_guessed
Revises: 0025_notifier_reason_code

A history condition counts only signals with the lexicon's evidence: a fed-up client's
«Сайт опять не работает, уже третий раз за месяц», read as abuse by the statistical second
opinion alone, made the next real insult "repeated" (services/escalator/guessed.py). NULL
for messages of before: nothing is known of them, and they count as they did.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0026_escalator_guessed"
down_revision = "0025_notifier_reason_code"
branch_labels = None
depends_on = None

S = "escalator"


def upgrade() -> None:
    op.add_column("subject_messages", sa.Column("guessed", JSONB), schema=S)


def downgrade() -> None:
    op.drop_column("subject_messages", "guessed", schema=S)
