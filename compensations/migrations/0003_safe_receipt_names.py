"""Receipts kept the uploader's file name, which chose how a download was saved
(``a"; filename=evil.html; x=".png`` became ``evil.html``). Every receipt is named anew: the
claim's code, a number and the extension of its checked type."""

from django.db import migrations

EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def rename(apps, schema_editor):
    Receipt = apps.get_model("compensations", "Receipt")
    numbers = {}
    changed = []
    for receipt in Receipt.objects.select_related("claim").order_by("claim_id", "uploaded_at", "pk"):
        number = numbers[receipt.claim_id] = numbers.get(receipt.claim_id, 0) + 1
        code = receipt.claim.code.replace("/", "-")
        receipt.original_name = f"{code}-{number}.{EXTENSIONS.get(receipt.content_type, 'bin')}"
        changed.append(receipt)
    Receipt.objects.bulk_update(changed, ["original_name"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("compensations", "0002_line_and_receipt_history")]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
