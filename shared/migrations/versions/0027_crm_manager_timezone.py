"""The CRM mirror: the time zone an account manager works in.

Revision ID: 0027_crm_manager_timezone
Revises: 0026_escalator_guessed

Staff notices gave every reader the team's clock: Emily Carter (London) read her deadlines
in MSK. The escalator now writes the times of a staff notice on its reader's clock when the
CRM gives one (docs/escalations.md, "Whose clock"); the mirror keeps it here. NULL: none
said (the team's clock).
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_crm_manager_timezone"
down_revision = "0026_escalator_guessed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("account_managers", sa.Column("timezone", sa.String), schema="crm")


def downgrade() -> None:
    op.drop_column("account_managers", "timezone", schema="crm")
