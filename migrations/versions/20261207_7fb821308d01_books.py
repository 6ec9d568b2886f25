"""Books: gapless document counters, credit notes, fee reminders

Revision ID: 7fb821308d01
Revises: 49b4cd21f3b1
Create Date: 2026-12-07 10:12:26.027182

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7fb821308d01'
down_revision = '49b4cd21f3b1'
branch_labels = None
depends_on = None

# Receipts numbered before the counters: AL-<year>-<payment id>.
OLD_RECEIPT = re.compile(r"^AL-(\d{4})-(\d+)$")


def _seed_receipt_counters():
    """Start each year's receipt counter after the highest receipt number already issued in
    that year, so that the numbers stored stay as they are and none is issued twice."""
    connection = op.get_bind()
    highest = {}
    for (number,) in connection.execute(sa.text("SELECT receipt_number FROM payments")):
        match = OLD_RECEIPT.match(number or "")
        if match:
            year, value = int(match.group(1)), int(match.group(2))
            highest[year] = max(highest.get(year, 0), value)
    counters = sa.table(
        "document_counters",
        sa.column("kind", sa.String),
        sa.column("year", sa.Integer),
        sa.column("next_value", sa.Integer),
    )
    if highest:
        op.bulk_insert(
            counters,
            [
                {"kind": "receipt", "year": year, "next_value": value + 1}
                for year, value in sorted(highest.items())
            ],
        )


def upgrade():
    op.create_table('document_counters',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'year', name=op.f('pk_document_counters'))
    )
    _seed_receipt_counters()
    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount_centimes', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_centimes > 0', name=op.f('ck_credit_notes_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_notes_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_credit_notes_payment_id_payments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_payment_id'), ['payment_id'], unique=False)

    op.create_table('fee_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('balance_centimes', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("step IN ('after_enrolment', 'before_start', 'after_start')", name=op.f('ck_fee_reminders_step_known')),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolments.id'], name=op.f('fk_fee_reminders_enrolment_id_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_reminders')),
    sa.UniqueConstraint('enrolment_id', 'step', name=op.f('uq_fee_reminders_enrolment_id_step'))
    )


def downgrade():
    op.drop_table('fee_reminders')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_notes_payment_id'))
    op.drop_table('credit_notes')
    op.drop_table('document_counters')
