"""Model files and image-to-model links.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXED = {"autov1": 8, "autov2": 10, "autov3": 12, "blake3": 64}


def upgrade() -> None:
    op.create_table(
        "model_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("autov1", sa.String(length=8), nullable=True),
        sa.Column("autov2", sa.String(length=10), nullable=True),
        sa.Column("autov3", sa.String(length=12), nullable=True),
        sa.Column("blake3", sa.String(length=64), nullable=True),
        sa.Column("crc32", sa.String(length=8), nullable=True),
        sa.Column("dangerous", sa.Boolean(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("model_risk", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
    )
    for column in _INDEXED:
        op.create_index(
            f"ix_model_files_{column}", "model_files", [column], unique=False
        )
    op.create_table(
        "model_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("hash_kind", sa.String(length=16), nullable=False),
        sa.Column("hash_value", sa.String(length=64), nullable=False),
        sa.Column("model_item_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["hash_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["model_item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_links_scan", "model_links", ["scan_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_model_links_scan", table_name="model_links")
    op.drop_table("model_links")
    for column in _INDEXED:
        op.drop_index(f"ix_model_files_{column}", table_name="model_files")
    op.drop_table("model_files")
