"""CRM mirror: each customer's company key, so the company a message names is found first.

Revision ID: 0011_crm_company_key
Revises: 0010_retention

Name keys are four letters of each word: in a CRM where many companies' names start
alike ("СтройКомплект", "СтройМонтаж") the named one could fall outside the candidates
a lookup fetches. The company key (services/verifier/matching.py:company_key) is the
first eight letters of the folded name without its legal form. The verifier computes it
for existing rows at start (refresh_keys, rows where it is NULL), as for name_keys.

Contacts created by a confirmation under the name the sender claimed had no name keys
(services/verifier/confirm_store.py gives them keys now); theirs are computed the same
way. The customers' name keys are reset too, to be computed again beside it: two legal forms
("company", "oy") were compared unfolded and so kept as words of the name. Until a
verifier of this version starts, customers are found by channel, domain and document but
not by name; one that runs migrations first (`careline up`, `careline migrate`) sees no
such gap. A customer written meanwhile by a verifier of the version before gets its keys
at the next start.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_crm_company_key"
down_revision = "0010_retention"
branch_labels = None
depends_on = None
S = "crm"


def upgrade() -> None:
    op.add_column("customers", sa.Column("company_key", sa.String), schema=S)
    op.create_index("ix_customers_company_key", "customers", ["company_key"], schema=S)
    op.execute(f"UPDATE {S}.customers SET name_keys = NULL")
    # Contacts a confirmation created with the name the sender claimed got no keys: found
    # by their address only. Those named by their address stay so (an address names nobody).
    op.execute(
        f"UPDATE {S}.contacts c SET name_keys = NULL "
        "WHERE c.id LIKE 'ct-confirmed-%' AND c.name_keys = '{}' AND NOT EXISTS ("
        f"SELECT 1 FROM {S}.contact_channels ch WHERE ch.contact_id = c.id AND ch.address = c.name)"
    )


def downgrade() -> None:
    op.drop_index("ix_customers_company_key", "customers", schema=S)
    op.drop_column("customers", "company_key", schema=S)
