"""tenancy: tenants, namespace owners, app owners (ADR 0012)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_tenants")),
    )
    op.create_table(
        "namespace_owners",
        sa.Column("namespace", sa.String(length=128), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=128), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_namespace_owners")),
    )
    op.create_index("ix_namespace_owners_tenant", "namespace_owners", ["tenant"], unique=False)
    op.create_table(
        "app_owners",
        sa.Column("namespace", sa.String(length=128), nullable=False),
        sa.Column("app", sa.String(length=128), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("deployment_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", "app", name=op.f("pk_app_owners")),
    )
    op.create_index("ix_app_owners_tenant", "app_owners", ["tenant"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_app_owners_tenant", table_name="app_owners")
    op.drop_table("app_owners")
    op.drop_index("ix_namespace_owners_tenant", table_name="namespace_owners")
    op.drop_table("namespace_owners")
    op.drop_table("tenants")
