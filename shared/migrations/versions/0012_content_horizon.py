"""Retention: indexes for the content horizon's passes (shared/retention.py, content_of).

Revision ID: 0012_content_horizon
Revises: 0011_crm_company_key

With CARELINE_CONTENT_DAYS set, each service's pass looks for records past the horizon
whose content is not cut yet. Those tables grow for good, so without an index every
batch scanned them whole. Each index is partial on "not cut yet" (and on the rows a pass
may cut at all), so it holds only what a pass can still touch and shrinks as rows are
cut. Built CONCURRENTLY, as in 0010_retention: the services keep writing meanwhile.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_content_horizon"
down_revision = "0011_crm_company_key"
branch_labels = None
depends_on = None

# (name, schema, table, columns, partial condition): each matches its Prunable's `only`.
INDEXES = (
    (
        "ix_messages_content_uncut",
        "intake",
        "messages",
        ["created_at"],
        "(normalized->>'redacted') IS NULL",
    ),
    (
        "ix_escalations_content_uncut",
        "escalator",
        "escalations",
        ["resolved_at"],
        "(briefing->>'redacted') IS NULL AND status = 'resolved'",
    ),
    (
        "ix_timeline_content_uncut",
        "escalator",
        "escalation_timeline",
        ["at"],
        "(detail->>'redacted') IS NULL AND entry IN ('opened', 'merged', 'reopened')",
    ),
    (
        "ix_notifications_content_uncut",
        "notifier",
        "notifications",
        ["created_at"],
        "(request->>'redacted') IS NULL AND request IS NOT NULL "
        "AND status IN ('sent', 'failed', 'refused', 'withdrawn')",
    ),
)


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, schema, table, columns, where in INDEXES:
            op.create_index(
                name,
                table,
                columns,
                schema=schema,
                postgresql_concurrently=True,
                postgresql_where=sa.text(where),
                if_not_exists=True,
            )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, schema, table, _, _ in INDEXES:
            op.drop_index(
                name, table_name=table, schema=schema, postgresql_concurrently=True, if_exists=True
            )
