"""CRM: a contact's channels by contact, and a version stamp of the mirror for caches.

Revision ID: 0008_crm_channel_owner
Revises: 0005_crm_timezone

- The verifier reads the verified channels of every customer a message may point at;
  without an index on the owning contact each message scanned all of `contact_channels`
  (8-12 ms on a 30,000-contact mirror, measured with `careline bench`).
- `crm.mirror_version` changes with every statement that writes a mirror table, whoever
  runs it (the crm.* consumers, imports, confirmations, an operator's SQL), in the same
  transaction (and `crm.mirror_writes` counts the writing transaction's own statements).
  The verifier keeps CRM lookups between messages while both stay the same
  (services/verifier/cache.py). Versions come from a sequence, so a value seen inside a
  transaction that rolled back is never used again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_crm_channel_owner"
down_revision = "0005_crm_timezone"
branch_labels = None
depends_on = None

S = "crm"
MIRROR_TABLES = (
    "account_managers",
    "customers",
    "contacts",
    "contact_channels",
    "domains",
    "documents",
)


def upgrade() -> None:
    op.create_index("ix_contact_channels_contact", "contact_channels", ["contact_id"], schema=S)
    op.execute("CREATE SEQUENCE crm.mirror_version_seq")
    op.create_table(
        "mirror_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_mirror_version_one_row"),
        schema=S,
    )
    op.execute(
        "INSERT INTO crm.mirror_version (id, version) VALUES (1, nextval('crm.mirror_version_seq'))"
    )
    # One new version per writing transaction (a bulk import is one dead row, not one per
    # row written); the transaction's own later writes show in `crm.mirror_writes`, a
    # setting local to the transaction, so its own readers still see every change.
    op.execute(
        """
        CREATE FUNCTION crm.bump_mirror_version() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            writes integer := coalesce(
                nullif(current_setting('crm.mirror_writes', true), ''), '0'
            )::integer;
        BEGIN
            IF writes = 0 THEN
                UPDATE crm.mirror_version SET version = nextval('crm.mirror_version_seq')
                WHERE id = 1;
            END IF;
            PERFORM set_config('crm.mirror_writes', (writes + 1)::text, true);
            RETURN NULL;
        END $$
        """
    )
    for table in MIRROR_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_mirror_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON crm.{table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION crm.bump_mirror_version()"
        )


def downgrade() -> None:
    for table in MIRROR_TABLES:
        op.execute(f"DROP TRIGGER {table}_mirror_version ON crm.{table}")
    op.execute("DROP FUNCTION crm.bump_mirror_version()")
    op.drop_table("mirror_version", schema=S)
    op.execute("DROP SEQUENCE crm.mirror_version_seq")
    op.drop_index("ix_contact_channels_contact", "contact_channels", schema=S)
