"""CRM: a contract's terms — plan, validity, the services it includes, notes.

Revision ID: 0009_crm_contract_terms
Revises: 0008_crm_channel_owner

Terms live on the contract's row in `crm.documents` (only kind `contract` carries them;
the importer and the crm.* consumers refuse terms on other kinds). `included` is a JSON
list of `{service, quantity, period, free}` (shared/contracts.py IncludedService). The
statement trigger of 0008 already moves `crm.mirror_version` on every write to the
table, so the verifier's cache sees a change of terms with the next message.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009_crm_contract_terms"
down_revision = "0008_crm_channel_owner"
branch_labels = None
depends_on = None

S = "crm"


def upgrade() -> None:
    op.add_column("documents", sa.Column("plan", sa.String), schema=S)
    op.add_column("documents", sa.Column("valid_from", sa.Date), schema=S)
    op.add_column("documents", sa.Column("valid_until", sa.Date), schema=S)
    op.add_column(
        "documents",
        sa.Column("included", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        schema=S,
    )
    op.add_column("documents", sa.Column("notes", sa.Text), schema=S)


def downgrade() -> None:
    for column in ("notes", "included", "valid_until", "valid_from", "plan"):
        op.drop_column("documents", column, schema=S)
