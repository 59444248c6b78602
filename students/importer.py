"""Reading a pupil list exported from an e-journal (e-klase, Mykoob) as CSV or XLSX.

Parsing and checking are separate from saving: ``read_table`` turns the file into rows of
strings, ``check_rows`` says for every row what is wrong or what will happen, and
``services.import_students`` saves a fully valid list in one transaction.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import ClassGroup, Student
from .personas_kods import birth_date_from_personas_kods, normalise_personas_kods

COLUMNS = {
    "first_name": {"name", "first name", "first_name", "vārds", "vards"},
    "last_name": {"surname", "last name", "last_name", "uzvārds", "uzvards"},
    "personas_kods": {
        "personas kods",
        "personas_kods",
        "personal code",
        "personal identity code",
        "p.k.",
    },
    "class": {"class", "klase"},
    "birth_date": {
        "birth date",
        "birth_date",
        "date of birth",
        "dzimšanas datums",
        "dzimsanas datums",
    },
    "gender": {"gender", "sex", "dzimums"},
}
REQUIRED_COLUMNS = ("first_name", "last_name", "class")
GENDERS = {
    "s": "F",
    "f": "F",
    "sieviete": "F",
    "female": "F",
    "meitene": "F",
    "v": "M",
    "m": "M",
    "vīrietis": "M",
    "virietis": "M",
    "male": "M",
    "zēns": "M",
}
CLASS_RE = re.compile(r"^\s*(\d{1,2})\s*\.?\s*([a-zA-ZāčēģīķļņšūžĀČĒĢĪĶĻŅŠŪŽ]{0,3})\s*\.?\s*$")
DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%Y.", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, for the user."""


@dataclass
class RowResult:
    number: int  # the row number as the user sees it in the spreadsheet
    values: dict
    errors: list = field(default_factory=list)
    action: str = ""  # "create" or "update"
    student_id: int | None = None
    cleaned: dict = field(default_factory=dict)


@dataclass
class ImportCheck:
    rows: list
    new_classes: list

    @property
    def is_valid(self):
        return bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def error_rows(self):
        return [row for row in self.rows if row.errors]

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action and not row.errors)

    @property
    def count_create(self):
        return self.count("create")

    @property
    def count_update(self):
        return self.count("update")


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _too_many_columns(number):
    return ImportFileError(
        _("Row %(row)d has more than %(max)d columns: is this the right file?")
        % {"row": number, "max": settings.IAP_IMPORT_MAX_COLUMNS}
    )


def _too_many_rows():
    return ImportFileError(
        _("The file has more than %(max)d rows.") % {"max": settings.IAP_IMPORT_MAX_ROWS}
    )


def _check_unpacked_size(data):
    """Refuse a spreadsheet that unpacks to more than the limit, before parsing any of it (a
    small file can hold a shared-strings part of hundreds of MB). zipfile stops at each
    member's declared size, so the declared sizes are what reading can cost."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(_("The XLSX file is damaged or is not a spreadsheet.")) from None
    if unpacked > settings.IAP_IMPORT_MAX_UNPACKED_BYTES:
        raise ImportFileError(
            _("The spreadsheet unpacks to more than %(mb)d MB: save only the needed sheet.")
            % {"mb": settings.IAP_IMPORT_MAX_UNPACKED_BYTES // (1024 * 1024)}
        )


def _read_xlsx(data):
    from openpyxl import load_workbook  # heavy, and only imports of spreadsheets need it

    _check_unpacked_size(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(_("The XLSX file is damaged or is not a spreadsheet.")) from None
    try:
        sheet = workbook.worksheets[0]
        # Streamed row by row (read-only mode), stopping at the first row over a limit: the
        # header and the data rows, and as many blank rows again (formatted but empty).
        max_rows, max_columns = settings.IAP_IMPORT_MAX_ROWS + 1, settings.IAP_IMPORT_MAX_COLUMNS
        rows, filled = [], 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > max_columns:
                raise _too_many_columns(number)
            filled += bool(cells)
            if filled > max_rows or number > 2 * max_rows:
                raise _too_many_rows()
            rows.append(cells)
        return rows
    finally:
        workbook.close()


def _read_csv(data):
    for encoding in ("utf-8-sig", "cp1257"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The file is not a CSV text file in UTF-8 or Windows-1257."))
    if "\x00" in text:
        raise ImportFileError(_("The file is not a CSV text file."))
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    try:
        rows = []
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
            cells = [c.strip() for c in row]
            while cells and not cells[-1]:
                cells.pop()
            if len(cells) > settings.IAP_IMPORT_MAX_COLUMNS:
                raise _too_many_columns(number)
            rows.append(cells)
        return rows
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file cannot be read: %(error)s") % {"error": exc}
        ) from None


def read_rows(uploaded):
    """The non-blank rows of an uploaded CSV or XLSX file with their row numbers (1-based, as a
    spreadsheet shows them), or ImportFileError with a message for the user."""
    if uploaded.size > settings.IAP_IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("The file is too large (at most %(mb)d MB).")
            % {"mb": settings.IAP_IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    data = uploaded.read()
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if data.startswith(b"PK\x03\x04"):
        table = _read_xlsx(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            _("Old Excel (.xls) files are not supported: save it as XLSX or CSV.")
        )
    else:
        table = _read_csv(data)
    numbered = [(i + 1, row) for i, row in enumerate(table) if any(cell for cell in row)]
    if not numbered:
        raise ImportFileError(_("The file is empty."))
    if len(numbered) > settings.IAP_IMPORT_MAX_ROWS + 1:  # the header and the data rows
        raise _too_many_rows()
    return numbered


def read_table(uploaded):
    """Return (header mapping, data rows with their row numbers) or raise ImportFileError."""
    # Leading blank rows are skipped; the first non-blank row is the header.
    numbered = read_rows(uploaded)
    header_number, header = numbered[0]
    mapping = {}
    for index, name in enumerate(header):
        key = name.strip().lower().rstrip(":")
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in mapping:
                mapping[column] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        raise ImportFileError(
            _(
                "The first row must name the columns. Missing: %(missing)s. "
                "Expected: name, surname, personas kods, class, birth date, gender."
            )
            % {"missing": ", ".join(missing_label(c) for c in missing)}
        )
    rows = numbered[1:]
    if not rows:
        raise ImportFileError(_("The file has column names but no pupils."))
    if len(rows) > settings.IAP_IMPORT_MAX_ROWS:
        raise _too_many_rows()
    result = []
    for number, row in rows:
        values = {
            column: (row[index] if index < len(row) else "") for column, index in mapping.items()
        }
        result.append((number, values))
    return result


def missing_label(column):
    return {
        "first_name": _("name"),
        "last_name": _("surname"),
        "class": _("class"),
    }.get(column, column)


def parse_date(text):
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def class_problem(text):
    """What is wrong with a row's class (it is empty, or not a class)."""
    if not text:
        return _("The class is empty: give it like 7.a.")
    return _("The class “%(value)s” is not a class like 7.a (grades 1–12).") % {"value": text}


def parse_class(text):
    match = CLASS_RE.match(text or "")
    if not match:
        raise ValueError(text)
    grade = int(match.group(1))
    if not 1 <= grade <= 12:
        raise ValueError(text)
    return grade, match.group(2).lower()


def check_rows(rows, *, school, school_year):
    """Check every row against the file itself and the school's pupils; never writes."""
    results = []
    existing_by_code = {}
    existing_by_name = {}
    for pk, code, first, last, born in Student.objects.filter(school=school).values_list(
        "pk", "personas_kods", "first_name", "last_name", "birth_date"
    ):
        if code:
            existing_by_code[code] = pk
        existing_by_name.setdefault((first.lower(), last.lower(), born), pk)
    existing_classes = {
        (g.grade, g.letter)
        for g in ClassGroup.objects.filter(school=school, school_year=school_year)
    }
    seen_codes, seen_names = {}, {}
    new_classes = set()

    for number, values in rows:
        result = RowResult(number=number, values=values)
        errors = result.errors
        first = values.get("first_name", "").strip()
        last = values.get("last_name", "").strip()
        if not first:
            errors.append(_("The name is empty."))
        if not last:
            errors.append(_("The surname is empty."))
        if len(first) > 100 or len(last) > 100:
            errors.append(_("The name or surname is longer than 100 characters."))

        code = values.get("personas_kods", "").strip()
        if code.isdigit() and len(code) < 11:
            code = code.zfill(11)  # a spreadsheet dropped the leading zero
        if code:
            try:
                code = normalise_personas_kods(code)
            except ValidationError as exc:
                errors.append(_("Personal identity code: %(error)s") % {"error": exc.messages[0]})
                code = ""

        born = None
        born_text = values.get("birth_date", "").strip()
        if born_text:
            try:
                born = parse_date(born_text)
            except ValueError:
                errors.append(
                    _("The birth date “%(value)s” is not a date like 31.12.2012.")
                    % {"value": born_text}
                )
            else:
                if born > date.today():
                    errors.append(_("The birth date is in the future."))
        code_date = birth_date_from_personas_kods(code)
        if code_date:
            if born and born != code_date:
                errors.append(_("The birth date does not match the personal identity code."))
            born = born or code_date

        gender_text = values.get("gender", "").strip().lower()
        gender = ""
        if gender_text:
            gender = GENDERS.get(gender_text, "")
            if not gender:
                errors.append(
                    _("The gender “%(value)s” is not understood (use S or V).")
                    % {"value": values.get("gender")}
                )

        class_text = values.get("class", "").strip()
        grade = letter = None
        try:
            grade, letter = parse_class(class_text)
        except ValueError:
            errors.append(class_problem(class_text))

        if code:
            if code in seen_codes:
                errors.append(
                    _("The same personal identity code is also in row %(row)d.")
                    % {"row": seen_codes[code]}
                )
            else:
                seen_codes[code] = number
        elif first and last:
            key = (first.lower(), last.lower(), born)
            if key in seen_names:
                errors.append(
                    _("The same pupil (name, surname, birth date) is also in row %(row)d.")
                    % {"row": seen_names[key]}
                )
            else:
                seen_names[key] = number

        if code and code in existing_by_code:
            result.student_id = existing_by_code[code]
        elif not code and first and last:
            result.student_id = existing_by_name.get((first.lower(), last.lower(), born))
        result.action = "update" if result.student_id else "create"

        if grade is not None and (grade, letter) not in existing_classes:
            new_classes.add((grade, letter))
        result.cleaned = {
            "first_name": first,
            "last_name": last,
            "personas_kods": code,
            "birth_date": born,
            "gender": gender,
            "grade": grade,
            "letter": letter,
        }
        results.append(result)

    labels = sorted(new_classes)
    return ImportCheck(
        rows=results, new_classes=[f"{g}.{letter}" if letter else f"{g}." for g, letter in labels]
    )
