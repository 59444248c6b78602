"""The CSV and XLSX writers every export shares (iap_portal/exports.py)."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from iap_portal.exports import write_csv, write_xlsx

ROWS = [
    ["Vārds", gettext_lazy("Status"), "Summa", "Datums", "Laiks", "Skaits", "Jā"],
    ['=HYPERLINK("x")', "+371 2000", Decimal("12.50"), datetime.date(2026, 9, 1), None, 3, True],
    ["Līga\x07", "@sum", 0.5, datetime.date(2027, 1, 31), None, -1, False],
    [
        "https://example.org",
        "0123",
        Decimal("0"),
        None,
        datetime.datetime(2026, 11, 28, 6, 30, tzinfo=datetime.UTC),
        0,
        None,
    ],
]


@pytest.mark.parametrize("constant_memory", [False, True])
def test_xlsx_keeps_types_and_never_runs_text(constant_memory, settings):
    settings.TIME_ZONE = "Europe/Riga"
    stream = io.BytesIO()
    write_xlsx([("Skolēni", ROWS)], stream, constant_memory=constant_memory)
    sheet = load_workbook(io.BytesIO(stream.getvalue())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Vārds", "Statuss", "Summa", "Datums", "Laiks", "Skaits", "Jā"]
    # Text a spreadsheet would run as a formula is neutralised, and text stays text: no
    # formula, number or link is made of it.
    assert values[1][:2] == ['\'=HYPERLINK("x")', "'+371 2000"]
    assert values[2][1] == "'@sum"
    assert values[3][:2] == ["https://example.org", "0123"]
    assert sheet["A4"].hyperlink is None
    # Numbers stay numbers (money with two decimals), dates stay dates, empty stays empty.
    assert values[1][2:4] == [12.5, datetime.datetime(2026, 9, 1)]
    assert sheet["C2"].number_format == "#,##0.00"
    assert sheet["D2"].number_format == "DD.MM.YYYY"
    assert values[1][5:] == [3, True]
    assert values[2][2] == 0.5 and values[2][5:] == [-1, False]
    assert values[3][3] is None and values[3][6] is None
    # A moment is shown in the school's time zone (Riga is UTC+2 in November).
    assert values[3][4] == datetime.datetime(2026, 11, 28, 8, 30)
    # The header is bold and stays in view.
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2"
    # A control character cannot break the file (it is kept, escaped).
    assert values[2][0].startswith("Līga")


def test_xlsx_sheet_names_are_made_valid_and_unique():
    stream = io.BytesIO()
    sheets = [
        ("Plāni: 2026/2027 [1. semestris]?", [["a"]]),
        ("plāni 20262027 1. semestris", [["b"]]),
        ("'", [["c"]]),
        ("x" * 40, [["d"]]),
    ]
    write_xlsx(sheets, stream)
    names = load_workbook(io.BytesIO(stream.getvalue())).sheetnames
    assert names[0] == "Plāni 20262027 1. semestris"
    assert names[1] != names[0] and names[1].lower() != names[0].lower()
    assert names[2] == "Sheet"
    assert names[3] == "x" * 31
    assert all(len(name) <= 31 for name in names)


def test_xlsx_sheet_names_never_collide_even_with_suffixes_in_the_titles():
    titles = [
        "x" * 28 + "~1",
        "x" * 28 + "~1",
        "x" * 29 + "~2",
        "x" * 29 + "~2",
        "x" * 40,
        "x" * 29 + "~3",
        "A",
        "a",
        "a~2",
    ]
    stream = io.BytesIO()
    write_xlsx([(title, [["v"]]) for title in titles], stream)
    names = load_workbook(io.BytesIO(stream.getvalue())).sheetnames
    assert len({name.lower() for name in names}) == len(titles)
    assert all(len(name) <= 31 for name in names)


def test_csv_is_for_excel_in_latvia(settings):
    settings.TIME_ZONE = "Europe/Riga"
    stream = io.StringIO()
    write_csv(ROWS, stream)
    text = stream.getvalue()
    assert text.startswith("\ufeffVārds;Statuss;")  # lazy labels translated (lv)
    lines = text.splitlines()
    assert "'+371 2000;12,50;1.09.2026" in lines[1]
    assert lines[1].startswith('"\'=HYPERLINK(""x"")";')
    assert "'@sum;0,50;31.01.2027" in lines[2]
    assert lines[3].endswith(";0;")  # empty stays empty


def test_a_moment_in_xlsx_uses_the_active_time_zone(settings):
    stream = io.BytesIO()
    moment = datetime.datetime(2026, 7, 1, 21, 0, tzinfo=ZoneInfo("UTC"))
    settings.TIME_ZONE = "Europe/Riga"
    write_xlsx([("x", [["t"], [moment]])], stream)
    sheet = load_workbook(io.BytesIO(stream.getvalue())).active
    assert sheet["A2"].value == datetime.datetime(2026, 7, 2, 0, 0)  # summer: UTC+3
    assert sheet["A2"].number_format == "DD.MM.YYYY HH:MM"


def test_xlsx_sheet_names_count_as_excel_does():
    """Excel counts UTF-16 units: an emoji is two of them."""
    stream = io.BytesIO()
    write_xlsx([("🎓" * 20, [["v"]]), ("🎓" * 20, [["w"]])], stream)
    names = load_workbook(io.BytesIO(stream.getvalue())).sheetnames
    assert names[0] == "🎓" * 15 and names[1] == "🎓" * 14 + "~2"


def test_an_empty_text_is_an_empty_cell():
    stream = io.BytesIO()
    write_xlsx([("x", [["a", "b"], ["", "text"]])], stream)
    sheet = load_workbook(io.BytesIO(stream.getvalue())).active
    assert sheet["A2"].value is None and sheet["A2"].data_type == "n"
    assert sheet["B2"].value == "text"


def test_rows_failing_half_way_leave_no_temporary_file(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def rows():
        yield ["a"]
        yield ["b"]
        raise RuntimeError("the database went away")

    with tempfile.TemporaryFile() as handle, pytest.raises(RuntimeError):
        write_xlsx([("x", rows())], handle, constant_memory=True)
    assert list(tmp_path.iterdir()) == []


def test_a_long_sheet_name_is_cut_at_the_end_of_a_word():
    stream = io.BytesIO()
    write_xlsx([("Riska signālu izglītojamie, kuri saņēma plānu", [["v"]])], stream)
    names = load_workbook(io.BytesIO(stream.getvalue())).sheetnames
    assert names == ["Riska signālu izglītojamie"]
