"""Hash lists keep a match threshold per hash type, not one PDQ column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hash_lists") as batch:
        batch.add_column(
            sa.Column("thresholds", sa.Text(), nullable=False, server_default="{}")
        )
    op.execute(
        "UPDATE hash_lists SET thresholds = "
        "'{\"pdq\": ' || CAST(pdq_threshold_bits AS VARCHAR(8)) || '}'"
    )
    with op.batch_alter_table("hash_lists") as batch:
        batch.drop_column("pdq_threshold_bits")


def downgrade() -> None:
    with op.batch_alter_table("hash_lists") as batch:
        batch.add_column(
            sa.Column(
                "pdq_threshold_bits", sa.Integer(), nullable=False, server_default="31"
            )
        )
    connection = op.get_bind()
    import json

    rows = connection.execute(sa.text("SELECT id, thresholds FROM hash_lists")).all()
    for list_id, thresholds in rows:
        bits = json.loads(thresholds or "{}").get("pdq", 31)
        connection.execute(
            sa.text("UPDATE hash_lists SET pdq_threshold_bits = :bits WHERE id = :id"),
            {"bits": int(bits), "id": list_id},
        )
    with op.batch_alter_table("hash_lists") as batch:
        batch.drop_column("thresholds")
