"""The CRM mirror: the language an account manager reads.

Revision ID: 0021_crm_manager_language
Revises: 0020_denied_addresses

The escalator writes each staff member's notices in their language, the CRM's word for an
account manager among them (docs/escalations.md, "Whose language"). The HTTP CRM already
says it; the mirror keeps it here so that a mirrored manager is not told in the team's
language instead. NULL: the CRM says none (the team's language).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_crm_manager_language"
down_revision = "0020_denied_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("account_managers", sa.Column("language", sa.String), schema="crm")


def downgrade() -> None:
    op.drop_column("account_managers", "language", schema="crm")
