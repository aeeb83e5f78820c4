"""question bank additions

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bank_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('doc_no', sa.String(length=100), nullable=True),
    sa.Column('clause_path', sa.String(length=200), nullable=True),
    sa.Column('topic', sa.String(length=50), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('style', sa.String(length=20), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('bank_questions')
