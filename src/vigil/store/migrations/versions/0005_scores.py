"""One scores table for every signal; prompt_risk and model_risk move into it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NOW = sa.func.current_timestamp()


def upgrade() -> None:
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("detector", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "name", "detector", name="uq_scores_item_name"),
    )
    op.create_index("ix_scores_name_value", "scores", ["name", "value"], unique=False)
    op.execute(
        "INSERT INTO scores (item_id, name, value, level, reasons, details, "
        "detector, version, recorded_at) "
        "SELECT item_id, 'prompt_risk', prompt_risk, prompt_decision, '[]', "
        "'{\"triggers\": ' || COALESCE(prompt_triggers, '[]') || '}', "
        "'prompt_filter', 1, recorded_at FROM generation_records "
        "WHERE prompt_risk IS NOT NULL AND prompt_decision IS NOT NULL"
    )
    op.execute(
        "INSERT INTO scores (item_id, name, value, level, reasons, details, "
        "detector, version, recorded_at) "
        "SELECT item_id, 'model_risk', model_risk, risk_level, '[]', '{}', "
        "'model_inspector', 1, recorded_at FROM model_files "
        "WHERE model_risk IS NOT NULL"
    )
    with op.batch_alter_table("generation_records") as batch:
        batch.drop_column("prompt_risk")
        batch.drop_column("prompt_decision")
        batch.drop_column("prompt_triggers")
    with op.batch_alter_table("model_files") as batch:
        batch.drop_column("model_risk")


def downgrade() -> None:
    with op.batch_alter_table("generation_records") as batch:
        batch.add_column(sa.Column("prompt_risk", sa.Float(), nullable=True))
        batch.add_column(sa.Column("prompt_decision", sa.String(8), nullable=True))
        batch.add_column(sa.Column("prompt_triggers", sa.Text(), nullable=True))
    with op.batch_alter_table("model_files") as batch:
        batch.add_column(sa.Column("model_risk", sa.Float(), nullable=True))
    op.execute(
        "UPDATE generation_records SET "
        "prompt_risk = (SELECT value FROM scores s WHERE s.item_id = "
        "generation_records.item_id AND s.name = 'prompt_risk'), "
        "prompt_decision = (SELECT level FROM scores s WHERE s.item_id = "
        "generation_records.item_id AND s.name = 'prompt_risk')"
    )
    op.execute(
        "UPDATE model_files SET model_risk = (SELECT value FROM scores s WHERE "
        "s.item_id = model_files.item_id AND s.name = 'model_risk')"
    )
    op.drop_index("ix_scores_name_value", table_name="scores")
    op.drop_table("scores")
