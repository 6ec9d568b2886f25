"""Staff members' signature images for certificates (a file name in the instance folder)

Revision ID: 4d338f12de97
Revises: d9d817d5f1a5
Create Date: 2026-12-07 11:02:32.527350

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4d338f12de97'
down_revision = 'd9d817d5f1a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_image', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('signature_image')
