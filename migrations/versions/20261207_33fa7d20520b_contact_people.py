"""contact people: emergency contacts and authorised pickup people in one table

Revision ID: 33fa7d20520b
Revises: 96e681f117be
Create Date: 2026-12-07 01:33:58.571901

Every row of both old tables is copied. Pickup people keep their ids, so that the check-outs
that name one (checkouts.pickup_id) still do; emergency contacts come after them, in the same
order. The downgrade copies each kind back to its own table with the same ids.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '33fa7d20520b'
down_revision = '96e681f117be'
branch_labels = None
depends_on = None

COLUMNS = "child_id, name, relationship_to_child, phone, created_at"


def _restart_ids(table):
    """After rows were inserted with their ids, PostgreSQL's sequence must follow them."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )


def _old_table(name):
    op.create_table(name,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('relationship_to_child', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f(f'fk_{name}_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_child_id'), ['child_id'], unique=False)


def _drop_old_table(name):
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f'ix_{name}_child_id'))
    op.drop_table(name)


def upgrade():
    op.create_table('contact_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('relationship_to_child', sa.String(length=60), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('emergency', 'pickup')", name=op.f('ck_contact_people_kind_known')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_contact_people_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_people'))
    )
    with op.batch_alter_table('contact_people', schema=None) as batch_op:
        batch_op.create_index('ix_contact_people_child_kind', ['child_id', 'kind'], unique=False)

    op.execute(
        f"INSERT INTO contact_people (id, kind, {COLUMNS}) "
        f"SELECT id, 'pickup', {COLUMNS} FROM authorised_pickups"
    )
    op.execute(
        f"INSERT INTO contact_people (id, kind, {COLUMNS}) "
        f"SELECT id + (SELECT COALESCE(MAX(id), 0) FROM authorised_pickups), 'emergency', "
        f"{COLUMNS} FROM emergency_contacts"
    )
    _restart_ids('contact_people')

    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkouts_pickup_id_authorised_pickups'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_checkouts_pickup_id_contact_people'), 'contact_people', ['pickup_id'], ['id'], ondelete='SET NULL')

    _drop_old_table('emergency_contacts')
    _drop_old_table('authorised_pickups')


def downgrade():
    _old_table('authorised_pickups')
    _old_table('emergency_contacts')
    op.execute(
        f"INSERT INTO authorised_pickups (id, {COLUMNS}) "
        f"SELECT id, {COLUMNS} FROM contact_people WHERE kind = 'pickup'"
    )
    op.execute(
        f"INSERT INTO emergency_contacts (id, {COLUMNS}) "
        f"SELECT id, {COLUMNS} FROM contact_people WHERE kind = 'emergency'"
    )
    _restart_ids('authorised_pickups')
    _restart_ids('emergency_contacts')

    with op.batch_alter_table('checkouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkouts_pickup_id_contact_people'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_checkouts_pickup_id_authorised_pickups'), 'authorised_pickups', ['pickup_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('contact_people', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_people_child_kind')
    op.drop_table('contact_people')
