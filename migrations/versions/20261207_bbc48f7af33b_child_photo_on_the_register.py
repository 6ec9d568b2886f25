"""Children: an identification photo on the register, and its consent

Revision ID: bbc48f7af33b
Revises: 7fb821308d01
Create Date: 2026-12-07 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bbc48f7af33b'
down_revision = '7fb821308d01'
branch_labels = None
depends_on = None

ERASED_MEANS_EMPTY = (
    "erased_at IS NULL OR (date_of_birth IS NULL AND allergies IS NULL "
    "AND medical_notes IS NULL AND first_name_ar IS NULL AND last_name_ar IS NULL"
)


def upgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_image', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(op.f('ck_children_erased_means_empty'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_children_erased_means_empty'),
            ERASED_MEANS_EMPTY + " AND photo_image IS NULL)",
        )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_records_kind_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_consent_records_kind_known'), "kind IN ('health', 'photo', 'id_photo')"
        )


def downgrade():
    # The photo files stay in the instance folder (child_photos/); nothing names them any more.
    op.execute("DELETE FROM consent_records WHERE kind = 'id_photo'")
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_records_kind_known'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_consent_records_kind_known'), "kind IN ('health', 'photo')"
        )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_children_erased_means_empty'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_children_erased_means_empty'), ERASED_MEANS_EMPTY + ")"
        )
        batch_op.drop_column('photo_image')
