"""Rooms: the name shown on Arabic pages

Revision ID: 0d5904d006e8
Revises: 4d338f12de97
Create Date: 2026-12-07 11:24:18.963674

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0d5904d006e8'
down_revision = '4d338f12de97'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_ar', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('name_ar')
