"""Finding pupils by name, with or without diacritics: "klavins" finds Kļaviņš, and so does
"Kļaviņš". One function for every place that searches pupils."""

import unicodedata

from django.contrib.postgres.lookups import Unaccent
from django.db import connections
from django.db.models import Q, QuerySet

# A query of more words than this is cut: each word is one more condition.
MAX_WORDS = 4


def fold(text: str) -> str:
    """The text in lower case without diacritics ("Kļaviņš" → "klavins")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def search_students(students: QuerySet, text: str) -> QuerySet:
    """The pupils (a Student queryset) whose first name or surname contains every word of
    ``text``, diacritics and case aside."""
    words = [fold(word) for word in text.split()[:MAX_WORDS]]
    if not words:
        return students
    if connections[students.db].vendor == "postgresql":
        # The extension comes with the students migration 0010.
        students = students.alias(
            first_name_plain=Unaccent("first_name"), last_name_plain=Unaccent("last_name")
        )
        for word in words:
            students = students.filter(
                Q(first_name_plain__icontains=word) | Q(last_name_plain__icontains=word)
            )
        return students
    # Elsewhere (SQLite) the folded names are a column of their own, kept on save.
    for word in words:
        students = students.filter(search_name__contains=word)
    return students
