"""Pupil search without diacritics ("klavins" finds Kļaviņš): PostgreSQL's unaccent
extension, and for SQLite a column of the folded names, filled here for the existing pupils
(students.search)."""

import unicodedata

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations, models


def fold(text):
    # As students.search.fold, copied so that this migration keeps what it did.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def fill_search_names(apps, schema_editor):
    Student = apps.get_model("students", "Student")
    rows = Student.objects.using(schema_editor.connection.alias).order_by("pk")
    names = rows.only("pk", "first_name", "last_name")
    after = 0
    # In chunks by key, each read before it is written (SQLite does not isolate a cursor from
    # writes on the same connection).
    while chunk := list(names.filter(pk__gt=after)[:2000]):
        for student in chunk:
            student.search_name = fold(f"{student.first_name} {student.last_name}")
        rows.bulk_update(chunk, ["search_name"])
        after = chunk[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("students", "0010_specialist_type_english_names"),
    ]

    operations = [
        # CREATE EXTENSION IF NOT EXISTS unaccent, on PostgreSQL only (a trusted extension:
        # the database's owner may create it).
        UnaccentExtension(),
        migrations.AddField(
            model_name="student",
            name="search_name",
            field=models.CharField(blank=True, editable=False, max_length=201),
        ),
        migrations.RunPython(fill_search_names, migrations.RunPython.noop, elidable=True),
    ]
