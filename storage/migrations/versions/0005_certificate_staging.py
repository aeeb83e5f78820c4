"""certificate staging: imports write here in short transactions and publish in one

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('certificate_staging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.String(length=40), nullable=False),
    sa.Column('cert_no', sa.String(length=32), nullable=False),
    sa.Column('org_code', sa.String(length=64), nullable=False),
    sa.Column('org_name', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_type', sa.String(length=40), nullable=False),
    sa.Column('id_no_masked', sa.String(length=40), nullable=False),
    sa.Column('gender', sa.String(length=4), nullable=True),
    sa.Column('birth_date', sa.String(length=10), nullable=True),
    sa.Column('occupation_code', sa.String(length=20), nullable=False),
    sa.Column('occupation_name', sa.String(length=100), nullable=False),
    sa.Column('job_name', sa.String(length=100), nullable=True),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('issue_date', sa.String(length=10), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('batch', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staged_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('certificate_staging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_staging_import_id'), ['import_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificate_staging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_staging_import_id'))
    op.drop_table('certificate_staging')
