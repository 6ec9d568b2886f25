"""Lesson notes, incident records, substitute assignments; what each medical access log entry opened

Revision ID: 49b4cd21f3b1
Revises: c71257ca0296
Create Date: 2026-12-07 10:42:44.858367

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '49b4cd21f3b1'
down_revision = 'c71257ca0296'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('substitute_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('substitute_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_substitute_assignments_days_ordered')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_substitute_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_substitute_assignments_cancelled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_substitute_assignments_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['substitute_id'], ['users.id'], name=op.f('fk_substitute_assignments_substitute_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_substitute_assignments'))
    )
    with op.batch_alter_table('substitute_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_substitute_assignments_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_substitute_assignments_substitute_days', ['substitute_id', 'last_day'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('what_happened', sa.String(length=2000), nullable=False),
    sa.Column('action_taken', sa.String(length=2000), nullable=False),
    sa.Column('who_was_told', sa.String(length=300), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('parents_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_incidents_child_id_children'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_incidents_lesson_id_lessons'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_incidents_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index('ix_incidents_occurred_at', ['occurred_at'], unique=False)

    op.create_table('lesson_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.String(length=2000), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_lesson_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_notes_lesson_id_lessons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_notes')),
    sa.UniqueConstraint('lesson_id', name='uq_lesson_notes_lesson_id')
    )
    with op.batch_alter_table('lesson_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_notes_author_id'), ['author_id'], unique=False)

    with op.batch_alter_table('medical_access_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('what', sa.String(length=10), server_default='health', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_medical_access_logs_what_known'), "what IN ('health', 'roster', 'incident')"
        )



def downgrade():
    with op.batch_alter_table('medical_access_logs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_medical_access_logs_what_known'), type_='check')
        batch_op.drop_column('what')

    with op.batch_alter_table('lesson_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_notes_author_id'))

    op.drop_table('lesson_notes')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_occurred_at')
        batch_op.drop_index(batch_op.f('ix_incidents_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_child_id'))

    op.drop_table('incidents')
    with op.batch_alter_table('substitute_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_substitute_assignments_substitute_days')
        batch_op.drop_index(batch_op.f('ix_substitute_assignments_cohort_id'))

    op.drop_table('substitute_assignments')
