"""deployments: what Panda's result adds (GitHub repository, timeout reason, colour URLs)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 08:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("github_owner", sa.String(length=128)),
    ("github_repo", sa.String(length=128)),
    ("error_reason", sa.String(length=64)),
    ("timeout_s", sa.Float()),
    ("blue_url", sa.String(length=512)),
    ("green_url", sa.String(length=512)),
)


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
