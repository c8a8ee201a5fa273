"""Times as `timestamptz` in PostgreSQL (the stored UTC read as UTC whatever the server's or session's zone), and
an index for the board, which reads every submission of the period.

SQLite keeps times as text either way: only the index is new there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMES = {"account": ["locked_until"], "audit": ["at"], "login_session": ["created_at"],
         "rollup": ["made_at", "submitted_at"], "submission": ["uploaded_at"]}


def _retype(zone: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in TIMES.items():
        for column in columns:
            # the stored values are UTC: read them as UTC, not in the session's zone
            using = f"{column} AT TIME ZONE 'UTC'"
            op.alter_column(table, column, type_=sa.DateTime(timezone=zone),
                            existing_type=sa.DateTime(timezone=not zone), postgresql_using=using)


def upgrade() -> None:
    _retype(True)
    op.create_index("submission_period", "submission", ["period"])


def downgrade() -> None:
    op.drop_index("submission_period", table_name="submission")
    _retype(False)
