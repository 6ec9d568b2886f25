"""Bank transfers: references, statement imports (camt.053, CSV), matching, confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.courses.terms import term_by_key
from lms.enrolment import statements, transfers
from lms.enrolment.models import BankCsvMapping, Payment, StatementLine
from lms.errors import DomainError
from lms.extensions import db
from tests.enrolment.conftest import get

AUTUMN = term_by_key("2026-autumn")


def camt(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<Stmt><Id>1</Id>" + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def entry(amount: str, text: str, *, name="KARIM ALAOUI", ref="B1", side="CRDT") -> str:
    return (
        f'<Ntry><Amt Ccy="MAD">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
        f"<BookgDt><Dt>2026-09-05</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def test_references_carry_a_check_character():
    reference = transfers.transfer_reference(42, AUTUMN)
    assert transfers.read_reference(reference) == (42, AUTUMN)
    assert transfers.read_reference(reference.lower()) == (42, AUTUMN)
    for position in range(2, len(reference)):
        for char in "0Z":
            typo = reference[:position] + char + reference[position + 1 :]
            if typo != reference:
                assert transfers.read_reference(typo) in (None,), typo
    assert transfers.transfer_reference(43, AUTUMN) != reference
    assert transfers.transfer_reference(42, AUTUMN.next()) != reference


def test_camt053_matches_by_reference_and_is_idempotent(owing, coordinator):
    boss = get(coordinator)
    reference = transfers.transfer_reference(owing.parent.id, AUTUMN)
    data = camt(
        entry("800.00", f"FRAIS ATELIER {reference}", name="SOMEONE ELSE"),
        entry("50.00", "LOYER", ref="B2", side="DBIT"),
        entry("120.00", "DON", ref="B3", name="X"),
    )
    first = transfers.import_credits(statements.read_camt053(data), actor=boss, source="camt.053")
    assert len(first.added) == 2
    assert first.matched == 1
    again = transfers.import_credits(statements.read_camt053(data), actor=boss, source="camt.053")
    assert again.added == []
    assert again.already_there == 2
    line = next(x for x in first.added if x.amount_centimes == 80000)
    assert (line.payer_id, line.term_key, line.match_basis) == (
        owing.parent.id,
        "2026-autumn",
        "reference",
    )
    payments = transfers.confirm_line(line, actor=boss, payer=owing.parent, term=AUTUMN)
    assert [(p.amount_centimes, p.method) for p in payments] == [(80000, "bank_transfer")]
    with pytest.raises(DomainError):
        transfers.confirm_line(line, actor=boss, payer=owing.parent, term=AUTUMN)
    assert len(db.session.scalars(select(Payment)).all()) == 1


def test_csv_matches_by_amount_and_name_and_remembers_the_columns(owing, coordinator):
    boss = get(coordinator)
    mapping = transfers.save_mapping(
        "Attijariwafa",
        actor=boss,
        columns={"date": "Date", "amount": "Montant", "text": "Libellé", "name": "Donneur"},
        date_format="%d/%m/%Y",
    )
    data = "Date;Libellé;Donneur;Montant\n05/09/2026;VIR RECU;M. KARIM ALAOUI;800,00\n".encode()
    result = transfers.import_credits(statements.read_csv(data, mapping), actor=boss, source="x")
    assert result.matched == 1
    assert result.added[0].match_basis == "amount_name"
    assert (
        transfers.import_credits(statements.read_csv(data, mapping), actor=boss, source="x").added
        == []
    )
    assert db.session.scalar(select(BankCsvMapping.text_column)) == "Libellé"


def test_a_bad_csv_is_refused_whole(owing, coordinator):
    boss = get(coordinator)
    mapping = transfers.save_mapping(
        "B",
        actor=boss,
        columns={"date": "Date", "amount": "Montant", "text": "T"},
        date_format="%d/%m/%Y",
    )
    with pytest.raises(DomainError):
        statements.read_csv(b"Date;T;Montant\n2026-09-05;x;800\n", mapping)
    with pytest.raises(DomainError):
        statements.read_csv(b"Jour;T;Montant\n05/09/2026;x;800\n", mapping)
    with pytest.raises(DomainError):
        statements.read_camt053(b"<!DOCTYPE x [<!ENTITY a 'b'>]><Document/>")
    assert db.session.scalars(select(StatementLine)).all() == []


def test_the_statements_page_is_for_coordinators_only(app, owing):
    from tests.conftest import login

    client = app.test_client()
    login(client, owing.parent)
    assert client.get("/coordinator/bank/statements").status_code == 403
    assert (
        client.post(
            "/coordinator/bank/lines/1/confirm", data={"family": "1:2026-autumn"}
        ).status_code
        == 403
    )
