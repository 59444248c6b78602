"""Reading the e-journal's exports (absences, grades, conduct notes) as CSV or XLSX.

The file is read the way the pupil import reads it (``students.importer``); then every row
is matched to a pupil of the school — by personas kods when the row has one, else by name,
surname and this year's class — and checked. ``check_rows`` never writes;
``services.import_facts`` saves a fully valid file in one transaction.

Expected columns (the first row names them; Latvian or English names):

- every file: personas kods (optional), vārds, uzvārds, klase;
- absences: stundas (lessons held), attaisnoti (excused), neattaisnoti (unexcused);
- grades: one column per subject with grades 1–10 or "nv" (empty = no grade), or the long
  form with the columns priekšmets (subject) and vērtējums (grade), one row per subject;
- conduct: piezīmes (the number of conduct notes in the period).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from students.importer import ImportFileError, class_problem, parse_class, read_rows
from students.models import Enrollment, Student
from students.personas_kods import normalise_personas_kods

from .models import ImportKind

IDENTITY = {
    "personas_kods": {"personas kods", "personas_kods", "personal code", "p.k.", "pk"},
    "first_name": {"name", "first name", "first_name", "vārds", "vards"},
    "last_name": {"surname", "last name", "last_name", "uzvārds", "uzvards"},
    "class": {"class", "klase"},
}
KIND_COLUMNS = {
    ImportKind.ABSENCES: {
        "lessons_held": {
            "stundas",
            "notikušās stundas",
            "notikusas stundas",
            "stundu skaits",
            "lessons",
            "lessons held",
        },
        "excused": {"attaisnoti", "attaisnotie", "attaisnoti kavējumi", "excused"},
        "unexcused": {
            "neattaisnoti",
            "neattaisnotie",
            "neattaisnoti kavējumi",
            "unexcused",
        },
    },
    ImportKind.CONDUCT: {
        "notes": {"piezīmes", "piezimes", "uzvedība", "uzvedības piezīmes", "notes", "conduct"},
    },
    ImportKind.GRADES: {
        "subject": {"priekšmets", "prieksmets", "mācību priekšmets", "subject"},
        "grade": {"vērtējums", "vertejums", "atzīme", "grade"},
    },
}
NOT_ASSESSED = {"nv", "n/v", "nav vērtēts"}
# Columns an e-journal export may carry that are not subjects (in the wide grades form).
NOT_SUBJECTS = {
    "nr",
    "nr.",
    "n.p.k.",
    "npk",
    "dzimšanas datums",
    "dzimums",
    "vidējais",
    "vidējā atzīme",
    "vidējais vērtējums",
    "average",
    "birth date",
    "gender",
    "e-pasts",
    "email",
}


@dataclass
class FactRow:
    number: int
    label: str  # the pupil as the file names them
    errors: list = field(default_factory=list)
    student_id: int | None = None
    data: dict = field(default_factory=dict)


@dataclass
class FactCheck:
    kind: str
    rows: list

    @property
    def is_valid(self):
        return bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def error_rows(self):
        return [row for row in self.rows if row.errors]

    @property
    def pupil_count(self):
        return len({row.student_id for row in self.rows if row.student_id})


def _normal(name):
    return " ".join(name.strip().lower().rstrip(":").split())


def read_table(uploaded, kind):
    """Return (columns, numbered rows of dicts) or raise ImportFileError.

    ``columns`` maps our column keys to header names; for grades in the wide form every
    column that is not an identity column is a subject (key ``subject:<name>``)."""
    numbered = read_rows(uploaded)
    (_header_number, header), rows = numbered[0], numbered[1:]

    mapping = {}
    extra = {}
    wanted = {**IDENTITY, **KIND_COLUMNS[kind]}
    for index, name in enumerate(header):
        key = _normal(name)
        column = next((c for c, aliases in wanted.items() if key in aliases), None)
        if column and column not in mapping:
            mapping[column] = index
        elif column is None and name.strip() and key not in NOT_SUBJECTS:
            extra[name.strip()] = index
    if kind == ImportKind.GRADES and not {"subject", "grade"} <= set(mapping):
        mapping.pop("subject", None)
        mapping.pop("grade", None)
        if not extra:
            raise ImportFileError(
                _(
                    "The grades file names no subjects: give one column per subject, or the "
                    "columns “priekšmets” and “vērtējums”."
                )
            )
        for name, index in extra.items():
            mapping[f"subject:{name[:100]}"] = index
    required = ["first_name", "last_name", "class"]
    required += [c for c in KIND_COLUMNS[kind] if kind != ImportKind.GRADES]
    if kind == ImportKind.GRADES and "subject" in mapping:
        required += ["subject", "grade"]
    missing = [c for c in required if c not in mapping]
    if missing and not ("personas_kods" in mapping and set(missing) <= set(IDENTITY)):
        raise ImportFileError(
            _("The first row must name the columns. Missing: %(missing)s.")
            % {"missing": ", ".join(column_label(c) for c in missing)}
        )
    if not rows:
        raise ImportFileError(_("The file has column names but no pupils."))
    if len(rows) > settings.IAP_IMPORT_MAX_ROWS:
        raise ImportFileError(
            _("The file has more than %(max)d rows.") % {"max": settings.IAP_IMPORT_MAX_ROWS}
        )
    return [
        (number, {c: (row[i] if i < len(row) else "") for c, i in mapping.items()})
        for number, row in rows
    ]


def column_label(column):
    return {
        "first_name": _("name"),
        "last_name": _("surname"),
        "class": _("class"),
        "lessons_held": _("lessons held"),
        "excused": _("excused"),
        "unexcused": _("unexcused"),
        "notes": _("conduct notes"),
        "subject": _("subject"),
        "grade": _("grade"),
    }.get(column, column)


def _whole_number(text, label, errors):
    text = (text or "").strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        errors.append(
            _("%(column)s: “%(value)s” is not a whole number.") % {"column": label, "value": text}
        )
        return None
    value = int(text)
    if value > 100000:
        errors.append(_("%(column)s: %(value)d is too large.") % {"column": label, "value": value})
        return None
    return value


def _grade(text, subject, errors):
    """A grade 1–10 → int, "nv" → None; an error otherwise. Empty cells are skipped earlier."""
    text = text.strip()
    if text.lower() in NOT_ASSESSED:
        return None
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and 1 <= int(text) <= 10:
        return int(text)
    errors.append(
        _("%(subject)s: “%(value)s” is not a grade 1–10 or “nv”.")
        % {"subject": subject, "value": text}
    )
    return False


class Matcher:
    """Finds the school's pupils by personas kods, or by name, surname and this year's class."""

    def __init__(self, school, school_year):
        self.by_code = {}
        self.by_name = {}
        for pk, code in Student.objects.filter(school=school).values_list("pk", "personas_kods"):
            if code:
                self.by_code[code] = pk
        for student_id, first, last, grade, letter in Enrollment.objects.filter(
            school_year=school_year, class_group__school=school
        ).values_list(
            "student_id",
            "student__first_name",
            "student__last_name",
            "class_group__grade",
            "class_group__letter",
        ):
            key = (first.lower(), last.lower(), grade, letter.lower())
            self.by_name.setdefault(key, []).append(student_id)

    def match(self, values, errors):
        code = values.get("personas_kods", "").strip()
        if code:
            if code.isdigit() and len(code) < 11:
                code = code.zfill(11)
            try:
                code = normalise_personas_kods(code)
            except ValidationError as exc:
                errors.append(_("Personal identity code: %(error)s") % {"error": exc.messages[0]})
                return None
            student_id = self.by_code.get(code)
            if student_id is None:
                errors.append(_("No pupil of the school has this personal identity code."))
            return student_id
        first = values.get("first_name", "").strip()
        last = values.get("last_name", "").strip()
        class_text = values.get("class", "").strip()
        if not first or not last:
            errors.append(_("The name or surname is empty (and there is no personal code)."))
            return None
        try:
            grade, letter = parse_class(class_text)
        except ValueError:
            errors.append(class_problem(class_text))
            return None
        found = self.by_name.get((first.lower(), last.lower(), grade, letter), [])
        if not found:
            errors.append(
                _("No pupil %(name)s is in class %(class)s this school year.")
                % {"name": f"{first} {last}", "class": class_text}
            )
            return None
        if len(found) > 1:
            errors.append(
                _("Several pupils in class %(class)s have this name: add the personal code.")
                % {"class": class_text}
            )
            return None
        return found[0]


def _label(values):
    name = " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
    if values.get("class"):
        name = f"{name} ({values['class']})"
    return name or values.get("personas_kods", "")[:6]


def check_rows(rows, *, kind, school, school_year):
    """Check every row; never writes."""
    matcher = Matcher(school, school_year)
    results = []
    seen = {}
    for number, values in rows:
        row = FactRow(number=number, label=_label(values))
        errors = row.errors
        row.student_id = matcher.match(values, errors)
        if kind == ImportKind.ABSENCES:
            held = _whole_number(values.get("lessons_held"), column_label("lessons_held"), errors)
            excused = _whole_number(values.get("excused"), column_label("excused"), errors)
            unexcused = _whole_number(values.get("unexcused"), column_label("unexcused"), errors)
            if None not in (held, excused, unexcused):
                if held == 0:
                    errors.append(_("No lessons were held: the attendance cannot be computed."))
                elif excused + unexcused > held:
                    errors.append(
                        _("%(absent)d lessons missed is more than the %(held)d lessons held.")
                        % {"absent": excused + unexcused, "held": held}
                    )
                row.data = {"lessons_held": held, "excused": excused, "unexcused": unexcused}
        elif kind == ImportKind.CONDUCT:
            notes = _whole_number(values.get("notes"), column_label("notes"), errors)
            row.data = {"notes": notes}
        else:
            grades = {}
            if "subject" in values:
                subject = values.get("subject", "").strip()[:100]
                text = values.get("grade", "").strip()
                if not subject:
                    errors.append(_("The subject is empty."))
                elif not text:
                    errors.append(_("The grade is empty (write “nv” if not assessed)."))
                else:
                    grades[subject] = _grade(text, subject, errors)
            else:
                for column, text in values.items():
                    if column.startswith("subject:") and text.strip():
                        subject = column.removeprefix("subject:")
                        grades[subject] = _grade(text, subject, errors)
                if not grades and not errors:
                    errors.append(_("The row has no grades."))
            # A bad grade (False) is reported above and neither saved nor matched twice.
            row.data = {"grades": {s: v for s, v in grades.items() if v is not False}}
        if row.student_id:
            keys = (
                [(row.student_id, s) for s in row.data.get("grades", {})]
                if kind == ImportKind.GRADES
                else [(row.student_id, None)]
            )
            for key in keys:
                if key in seen:
                    errors.append(
                        _("The same pupil is also in row %(row)d.") % {"row": seen[key]}
                        if key[1] is None
                        else _("The same pupil and subject are also in row %(row)d.")
                        % {"row": seen[key]}
                    )
                    break
                seen[key] = number
        results.append(row)
    return FactCheck(kind=kind, rows=results)
