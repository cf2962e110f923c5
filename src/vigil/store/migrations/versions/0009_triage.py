"""Triage and review: clusters with their members, assessments (append-only),
propagations of a representative's assessment to its cluster, and queue claims.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("representative_item_id", sa.Integer(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["representative_item_id"], ["items.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["clusters.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_clusters_kind", "clusters", ["kind"], unique=False)
    op.create_table(
        "cluster_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("added_scan_id", sa.Integer(), nullable=True),
        sa.Column("added_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_scan_id"], ["scans.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "item_id", name="uq_cluster_members_item"),
    )
    op.create_index(
        "ix_cluster_members_item", "cluster_members", ["item_id"], unique=False
    )
    op.create_table(
        "propagations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=128), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("undone_at", _WHEN, nullable=True),
        sa.Column("undone_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("analyst", sa.String(length=128), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("observations", sa.Text(), nullable=False),
        sa.Column("derived", sa.Text(), nullable=False),
        sa.Column("mapping_version", sa.String(length=32), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("second_opinion_of_id", sa.Integer(), nullable=True),
        sa.Column("propagation_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["assessments.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["second_opinion_of_id"], ["assessments.id"], ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["propagation_id"], ["propagations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_assessments_item", "assessments", ["item_id"], unique=False)
    op.create_index(
        "ix_assessments_supersedes", "assessments", ["supersedes_id"], unique=False
    )
    op.create_table(
        "queue_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("analyst", sa.String(length=128), nullable=False),
        sa.Column("since", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
    )


def downgrade() -> None:
    op.drop_table("queue_state")
    op.drop_index("ix_assessments_supersedes", table_name="assessments")
    op.drop_index("ix_assessments_item", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("propagations")
    op.drop_index("ix_cluster_members_item", table_name="cluster_members")
    op.drop_table("cluster_members")
    op.drop_index("ix_clusters_kind", table_name="clusters")
    op.drop_table("clusters")
