"""Provenance evidence and generation records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("strength", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_item", "evidence", ["item_id"], unique=False)
    op.create_table(
        "generation_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("tool_version", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("negative_prompt", sa.Text(), nullable=True),
        sa.Column("seed", sa.String(length=32), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("sampler", sa.String(length=128), nullable=True),
        sa.Column("cfg_scale", sa.Float(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.Text(), nullable=True),
        sa.Column("model_hash", sa.String(length=64), nullable=True),
        sa.Column("model_hash_kind", sa.String(length=16), nullable=True),
        sa.Column("loras", sa.Text(), nullable=False),
        sa.Column("other_models", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("prompt_risk", sa.Float(), nullable=True),
        sa.Column("prompt_decision", sa.String(length=8), nullable=True),
        sa.Column("prompt_triggers", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
    )
    op.create_index(
        "ix_generation_records_model_hash",
        "generation_records",
        ["model_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_generation_records_model_hash", table_name="generation_records")
    op.drop_table("generation_records")
    op.drop_index("ix_evidence_item", table_name="evidence")
    op.drop_table("evidence")
