"""Bank statement pages (coordinators): import a statement, confirm or correct each match."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.models import User
from lms.courses.terms import term_by_key
from lms.enrolment import transfers
from lms.enrolment.forms import StatementImportForm, StatementMatchForm
from lms.enrolment.loaders import load_statement_line
from lms.enrolment.models import BankCsvMapping, MatchBasis, StatementLineStatus
from lms.enrolment.statements import MAX_FILE_BYTES, read_camt053, read_csv
from lms.errors import DomainError
from lms.extensions import db
from lms.forms import choices, render_form
from lms.money import format_money
from lms.roles import Role
from lms.security import role_required

bp = Blueprint("transfers", __name__, url_prefix="/coordinator/bank")


def _balance_choices() -> list[tuple[str, str]]:
    return [
        (
            f"{b.payer.id}:{b.term.key}",
            f"{b.payer.full_name} ({b.payer.email}) · {b.term.label} · "
            f"{format_money(b.owed_centimes)}",
        )
        for b in transfers.open_balances()
    ]


def _suggestion_value(line) -> str | None:
    return f"{line.payer_id}:{line.term_key}" if line.payer_id and line.term_key else None


def _fill_mapping(form: StatementImportForm, mapping: BankCsvMapping) -> None:
    form.kind.data = "csv"
    form.bank.data = mapping.bank
    form.date_column.data = mapping.date_column
    form.amount_column.data = mapping.amount_column
    form.text_column.data = mapping.text_column
    form.name_column.data = mapping.name_column or ""
    form.reference_column.data = mapping.reference_column or ""
    form.date_format.data = mapping.date_format


@bp.route("/statements", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def statements():
    form = StatementImportForm()
    remembered = transfers.mappings()
    if request.method == "GET" and request.args.get("bank"):
        chosen = next((m for m in remembered if m.bank == request.args["bank"]), None)
        if chosen is not None:
            _fill_mapping(form, chosen)
    if form.validate_on_submit():
        data = form.file.data.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise DomainError(_("The file is too large (5 MB at most)."), field="file")
        if form.kind.data == "csv":
            mapping = transfers.save_mapping(
                form.bank.data,
                actor=current_user,
                columns={
                    "date": form.date_column.data,
                    "amount": form.amount_column.data,
                    "text": form.text_column.data,
                    "name": form.name_column.data,
                    "reference": form.reference_column.data,
                },
                date_format=form.date_format.data,
            )
            credits, source = read_csv(data, mapping), mapping.bank
        else:
            credits, source = read_camt053(data), "camt.053"
        result = transfers.import_credits(credits, actor=current_user, source=source)
        flash(
            _(
                "%(added)s new lines (%(matched)s matched, to confirm); "
                "%(known)s already imported.",
                added=len(result.added),
                matched=result.matched,
                known=result.already_there,
            ),
            "success",
        )
        return redirect(url_for(".statements"), 303)
    lines = transfers.lines_to_decide()
    payers = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_({line.payer_id for line in lines if line.payer_id}))
        )
    }
    return render_form(
        "enrolment/statements.html",
        form,
        remembered=remembered,
        lines=lines,
        payers=payers,
        decided=transfers.recent_decisions(),
        choices=choices(_balance_choices()),
        suggestion_value=_suggestion_value,
        term_by_key=term_by_key,
        basis_names=MatchBasis.labels(),
        status_names=StatementLineStatus.labels(),
    )


@bp.post("/lines/<int:line_id>/confirm")
@role_required(Role.COORDINATOR)
def confirm(line_id: int):
    line = load_statement_line(line_id)
    form = StatementMatchForm()
    form.family.choices = _balance_choices()
    if not form.validate_on_submit():
        flash(_("Choose the family and term this transfer pays."), "error")
        return redirect(url_for(".statements"), 303)
    payer_id, _sep, term_key = form.family.data.partition(":")
    payer = db.session.get(User, int(payer_id))
    term = term_by_key(term_key)
    if payer is None or term is None:
        flash(_("Choose the family and term this transfer pays."), "error")
        return redirect(url_for(".statements"), 303)
    payments = transfers.confirm_line(line, actor=current_user, payer=payer, term=term)
    flash(
        _(
            "Transfer of %(amount)s booked for %(name)s: receipts %(numbers)s.",
            amount=format_money(line.amount_centimes),
            name=payer.full_name,
            numbers=", ".join(p.receipt_number for p in payments),
        ),
        "success",
    )
    return redirect(url_for(".statements"), 303)


@bp.post("/lines/<int:line_id>/ignore")
@role_required(Role.COORDINATOR)
def ignore(line_id: int):
    line = load_statement_line(line_id)
    transfers.ignore_line(line, actor=current_user)
    flash(_("The line is set aside."), "success")
    return redirect(url_for(".statements"), 303)
