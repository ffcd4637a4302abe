"""monitors: the issue-15 model (method, headers, body, conditions, appName, thresholds);
tenants: the monitoring plan

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:45:00

``expected_status`` becomes the condition ``[STATUS] == N`` (as the events' v1 -> v2
upcaster does) and ``recovery_threshold`` is renamed ``success_threshold``. A v1
``body_contains`` is not carried over here: ``flightdeck projection rebuild`` replays the
upcast events and restores it as a ``[BODY] contains`` condition (ADR 0027).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = (
    ("app_name", sa.String(length=63), None),
    ("method", sa.String(length=8), "GET"),
    ("headers", sa.Text(), "{}"),
    ("secret_header_names", sa.Text(), "[]"),
    ("body", sa.Text(), None),
    ("conditions", sa.Text(), "[]"),
)


PLAN = (
    ("plan", sa.String(length=16)),
    ("max_monitors", sa.Integer()),
    ("min_interval_s", sa.Float()),
    ("history_days", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        for name, kind in PLAN:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("monitors") as batch:
        for name, kind, _default in NEW:
            batch.add_column(sa.Column(name, kind, nullable=True))
    for name, _, default in NEW:
        if default is not None:
            op.execute(sa.text(f"UPDATE monitors SET {name} = :v").bindparams(v=default))
    op.execute(
        "UPDATE monitors SET conditions = "
        "'[\"[STATUS] == ' || CAST(expected_status AS VARCHAR(8)) || '\"]'"
    )
    with op.batch_alter_table("monitors") as batch:
        for name, _, default in NEW:
            if default is not None:
                kinds = {n: k for n, k, _ in NEW}
                batch.alter_column(name, existing_type=kinds[name], nullable=False)
        batch.alter_column("url", existing_type=sa.String(length=2048), nullable=True)
        batch.alter_column(
            "recovery_threshold",
            new_column_name="success_threshold",
            existing_type=sa.Integer(),
            existing_nullable=False,
        )
        batch.drop_column("expected_status")
        batch.drop_column("body_contains")


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        for name, _ in reversed(PLAN):
            batch.drop_column(name)
    with op.batch_alter_table("monitors") as batch:
        batch.add_column(sa.Column("body_contains", sa.Text(), nullable=True))
        batch.add_column(sa.Column("expected_status", sa.Integer(), nullable=True))
    op.execute("UPDATE monitors SET expected_status = 200")
    with op.batch_alter_table("monitors") as batch:
        batch.alter_column("expected_status", existing_type=sa.Integer(), nullable=False)
        batch.alter_column(
            "success_threshold",
            new_column_name="recovery_threshold",
            existing_type=sa.Integer(),
            existing_nullable=False,
        )
        batch.alter_column("url", existing_type=sa.String(length=2048), nullable=False)
        for name, _, _ in reversed(NEW):
            batch.drop_column(name)
