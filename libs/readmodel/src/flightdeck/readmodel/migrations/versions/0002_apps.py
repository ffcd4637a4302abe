"""apps: the colour serving each app

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 00:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("namespace", sa.String(length=128), nullable=False),
        sa.Column("app", sa.String(length=128), nullable=False),
        sa.Column("serving_colour", sa.String(length=8), nullable=True),
        sa.Column("active_deployment_id", sa.String(length=64), nullable=True),
        sa.Column("active_colour", sa.String(length=8), nullable=True),
        sa.Column("last_deployment_id", sa.String(length=64), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "app", name=op.f("pk_apps")),
    )


def downgrade() -> None:
    op.drop_table("apps")
