"""CRM time zones: the client's IANA zone on customers and contacts (the contact's wins).

Revision ID: 0005_crm_timezone
Revises: 0002_crm

The notifier holds non-urgent client messages during quiet hours in the client's own zone;
the verifier carries the zone on the identity (CustomerRef.timezone).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_crm_timezone"
down_revision = "0002_crm"
branch_labels = None
depends_on = None

S = "crm"


def upgrade() -> None:
    op.add_column("customers", sa.Column("timezone", sa.String), schema=S)
    op.add_column("contacts", sa.Column("timezone", sa.String), schema=S)


def downgrade() -> None:
    op.drop_column("contacts", "timezone", schema=S)
    op.drop_column("customers", "timezone", schema=S)
