"""Hash lists, entries, import staging and matches.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hash_import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("hash_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("ai_generated", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=True),
        sa.Column("added_by", sa.String(length=128), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_hash_import_rows_key",
        "hash_import_rows",
        ["token", "hash_type", "value"],
        unique=False,
    )
    op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pdq_threshold_bits", sa.Integer(), nullable=False),
        sa.Column("pdq_pipeline", sa.String(length=64), nullable=False),
        sa.Column("is_suppression", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "hash_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("hash_type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("ai_generated", sa.Boolean(), nullable=True),
        sa.Column("source", sa.String(length=256), nullable=True),
        sa.Column("added_by", sa.String(length=128), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("added_in_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["hash_lists.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "list_id", "hash_type", "value", name="uq_hash_entries_value"
        ),
    )
    op.create_index(
        "ix_hash_entries_type_value",
        "hash_entries",
        ["hash_type", "value"],
        unique=False,
    )
    op.create_table(
        "matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scan_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("query_hasher", sa.String(length=32), nullable=False),
        sa.Column("query_pipeline", sa.String(length=64), nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("threshold_bits", sa.Integer(), nullable=False),
        sa.Column("query_quality", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["hash_entries.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["list_id"], ["hash_lists.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["scan_id"], ["scans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "scan_id",
            "item_id",
            "entry_id",
            "query_hasher",
            "variant",
            name="uq_matches_item_entry",
        ),
    )
    op.create_index("ix_matches_entry", "matches", ["entry_id"], unique=False)
    op.create_index("ix_matches_item", "matches", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_matches_item", table_name="matches")
    op.drop_index("ix_matches_entry", table_name="matches")
    op.drop_table("matches")
    op.drop_index("ix_hash_entries_type_value", table_name="hash_entries")
    op.drop_table("hash_entries")
    op.drop_table("hash_lists")
    op.drop_index("ix_hash_import_rows_key", table_name="hash_import_rows")
    op.drop_table("hash_import_rows")
