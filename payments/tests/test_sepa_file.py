"""The bank file (pain.001.001.03) against the schema shipped in the repository, and its totals
equal to the batch; the batch's XLSX and CSV."""

import csv
import io
from decimal import Decimal
from xml.etree import ElementTree

import pytest
import xmlschema
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from compensations import services as claim_services
from compensations.tests.factories import claimable_plan, submitted_claim
from iap_portal.models import AuditEvent
from payments.iban import format_iban
from payments.sepa import SCHEMA_FILE, bank_file, cents, execution_date
from payments.tests.batch_factories import guardian_payee, sent_batch
from students.tests.factories import StudentFactory

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def batch(cast):
    plan = claimable_plan(cast, planned="500.00")
    guardian_payee(cast.student, by=cast.coordinator, name="Aiga Bērziņa", number=11)
    claims = []
    for amount in ("30.00", "12.55", "0.10"):
        claim = submitted_claim(plan=plan, by=cast.class_teacher, amount=amount)
        claim_services.approve_claim(claim=claim, by=cast.social_pedagogue)
        claims.append(claim)
    return sent_batch(claims, builder=cast.coordinator)


def test_the_bank_file_is_valid_pain_001_with_the_batchs_totals(batch):
    xml = bank_file(batch)
    schema = xmlschema.XMLSchema(str(SCHEMA_FILE))
    schema.validate(xml.decode())  # raises on any error
    root = ElementTree.fromstring(xml)  # noqa: S314 - the file the test just built
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    lines = list(batch.lines.select_related("claim"))
    assert int(header.find("p:NbOfTxs", NS).text) == len(lines) == 3
    assert Decimal(header.find("p:CtrlSum", NS).text) == batch.total == Decimal("42.65")
    assert header.find("p:MsgId", NS).text == batch.code
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info.find("p:DbtrAcct/p:Id/p:IBAN", NS).text == batch.debtor_iban
    assert info.find("p:DbtrAgt/p:FinInstnId/p:BIC", NS).text == batch.debtor_bic
    assert info.find("p:ReqdExctnDt", NS).text == execution_date(batch).isoformat()
    transactions = info.findall("p:CdtTrfTxInf", NS)
    by_code = {line.claim.code: line for line in lines}
    assert {t.find("p:PmtId/p:EndToEndId", NS).text for t in transactions} == set(by_code)
    for tx in transactions:
        line = by_code[tx.find("p:PmtId/p:EndToEndId", NS).text]
        assert Decimal(tx.find("p:Amt/p:InstdAmt", NS).text) == line.amount
        assert tx.find("p:Amt/p:InstdAmt", NS).get("Ccy") == "EUR"
        assert tx.find("p:CdtrAcct/p:Id/p:IBAN", NS).text == line.iban
        assert tx.find("p:Cdtr/p:Nm", NS).text == "Aiga Berzina"  # basic Latin for every bank
        assert line.claim.code in tx.find("p:RmtInf/p:Ustrd", NS).text


def test_the_schema_refuses_a_broken_file(batch):
    """The shipped schema really checks: a file without its transactions' IBAN fails."""
    xml = bank_file(batch).decode()
    broken = xml.replace("<CdtrAcct>", "<CdtrAcct><Wrong/>", 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(SCHEMA_FILE)).validate(broken)


def test_amounts_go_to_cents_without_floats():
    assert cents(Decimal("12.55")) == 1255
    assert cents(Decimal("0.10")) == 10
    assert cents(Decimal("1234.50")) == 123450


def test_the_execution_date_is_never_in_the_past(batch):
    from datetime import timedelta

    today = timezone.localdate()
    assert execution_date(batch, today + timedelta(days=3)) == today + timedelta(days=3)
    assert (
        execution_date(batch, today - timedelta(days=3)) == timezone.localtime(batch.sent_at).date()
    )


def test_an_open_batch_has_no_bank_file(cast):
    from payments.services import create_batch

    batch = create_batch(
        school=cast.school, month=timezone.localdate().replace(day=1), by=cast.coordinator
    )
    with pytest.raises(ValueError):
        bank_file(batch)


def test_the_accountant_downloads_the_three_files_and_each_is_logged(cast, batch, login):
    client = login(cast.municipal_accountant)
    xml = client.get(reverse("batch_download", args=[batch.pk, "xml"]))
    assert xml.status_code == 200 and xml["Content-Type"] == "application/xml"
    assert f'filename="{batch.code}.xml"' in xml["Content-Disposition"]
    xmlschema.XMLSchema(str(SCHEMA_FILE)).validate(xml.content.decode())

    text = client.get(reverse("batch_download", args=[batch.pk, "csv"])).content.decode()
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["Saņēmējs", "IBAN", "Summa, EUR", "Pieteikuma kods", "Kategorija"]
    line = batch.lines.first()
    assert rows[1][0] == "Aiga Bērziņa" and rows[1][1] == format_iban(line.iban)  # in full
    assert rows[-1][2] == "42,65" and rows[-1][0].startswith("Kopā")
    assert len(rows) == 1 + 3 + 1

    response = client.get(reverse("batch_download", args=[batch.pk, "xlsx"]))
    values = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert values[-1][2] == pytest.approx(42.65) and len(values) == 5
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT, object_id=str(batch.pk))
    assert events.count() == 3
    assert all(e.school_id == cast.school.pk for e in events)
    assert client.get(reverse("batch_download", args=[batch.pk, "pdf"])).status_code == 404


def test_the_file_follows_the_batch_not_the_payee_changed_later(cast, batch):
    payee = batch.lines.first().payee
    payee.name = "Pavisam Cits"
    payee.save(update_fields=["name"])
    assert b"Pavisam" not in bank_file(batch)


def test_other_schools_batches_are_not_downloaded(cast, batch, login):
    other = StudentFactory(school=cast.other_school)
    assert other  # the other school's coordinator sees nothing of school A's batch
    client = login(cast.other_coordinator)
    assert client.get(reverse("batch_download", args=[batch.pk, "xml"])).status_code == 404
