"""Imports are bounded: rows, columns and the unpacked size of a spreadsheet are checked
before and while it is read, so a small hostile file cannot hold a worker or its memory."""

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from students.importer import ImportFileError, read_rows
from students.tests.test_import import xlsx_file


def csv_file(rows):
    text = "\n".join(";".join(row) for row in rows)
    return SimpleUploadedFile("x.csv", text.encode())


def refusal(uploaded):
    with pytest.raises(ImportFileError) as caught:
        read_rows(uploaded)
    return str(caught.value.args[0])


def test_a_row_wider_than_the_limit_is_refused_at_once():
    """5,000 rows of 2,000 cells held a worker for 100 s; the first row now decides."""
    wide = [[f"c{i}" for i in range(2000)]] + [["Anna", "Ozola"]] * 20
    for uploaded in (xlsx_file(wide), csv_file(wide)):
        message = refusal(uploaded)
        assert "1. rindā" in message, message


def test_sixty_columns_are_still_a_school_file():
    rows = [[f"c{i}" for i in range(60)]] * 3
    assert len(read_rows(xlsx_file(rows))) == 3
    assert len(read_rows(csv_file(rows))) == 3


def test_more_rows_than_the_limit_are_refused(settings):
    settings.IAP_IMPORT_MAX_ROWS = 50
    rows = [["vārds", "uzvārds"]] + [["Anna", f"Ozola{i}"] for i in range(80)]
    for uploaded in (xlsx_file(rows), csv_file(rows)):
        assert "50" in refusal(uploaded)


def bomb(unpacked_mb):
    """A real spreadsheet plus a shared-strings part that unpacks to ``unpacked_mb`` MB."""
    base = xlsx_file([["vārds", "uzvārds"], ["Anna", "Ozola"]]).read()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename != "xl/sharedStrings.xml":
                target.writestr(item, source.read(item))
        chunk = b"<si><t>" + b"A" * 1000 + b"</t></si>"
        with target.open("xl/sharedStrings.xml", "w") as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(unpacked_mb * 1024):
                part.write(chunk)
            part.write(b"</sst>")
    return out.getvalue()


def test_a_spreadsheet_that_unpacks_too_large_is_refused_before_it_is_parsed():
    """A small XLSX whose shared strings unpack to 800 MB took 0.9 GB."""
    data = bomb(60)
    assert len(data) < 2 * 1024 * 1024  # passes the upload limit
    tracemalloc.start()
    try:
        message = refusal(SimpleUploadedFile("x.xlsx", data))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "50 MB" in message
    assert peak < 100 * 1024 * 1024
