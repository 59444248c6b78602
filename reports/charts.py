"""Charts of the participation report (pygal, through iap_portal.charts).

A chart draws what its table shows and nothing more: a figure the table hides ("<3", "x") is
not drawn, and the caption says how many were left out. The table stays beside the chart as
its text alternative.
"""

import hashlib
from decimal import Decimal

import pygal
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from iap_portal.charts import Chart, config, render

from .participation import Cell, Table

# A snapshot's charts are named by its time, so an entry outlives it only unused.
CHART_CACHE_SECONDS = 24 * 3600


def _value(cell):
    """The number a cell draws, or None where the table hides it."""
    if isinstance(cell, Cell):
        return None if cell.hidden else float(cell.value)
    if isinstance(cell, int | float | Decimal):
        return float(cell)
    return None


def bar_chart(
    table: Table, *, chart_id: str, label_column=0, value_columns=(1,), horizontal=False
) -> Chart:
    """One bar per row of the table; a series per value column."""
    labels = [str(row[label_column]) for row in table.rows]
    series = []
    hidden = 0
    for column in value_columns:
        values = [_value(row[column]) for row in table.rows]
        hidden += sum(
            1 for row in table.rows if isinstance(row[column], Cell) and row[column].hidden
        )
        series.append((str(table.columns[column]), values))
    if not any(v is not None for _name, values in series for v in values):
        return Chart(table.title, "", hidden)
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = kind(
        **config(
            str(table.title),
            show_legend=len(series) > 1,
            x_label_rotation=0 if horizontal or len(labels) <= 8 else 30,
        )
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    rendered = render(chart, chart_id, table.title)
    rendered.hidden = hidden
    return rendered


def semester_chart(table: Table, *, chart_id: str) -> Chart:
    """Pupils per semester over all years, in order: 2017/2018 I, II, 2018/2019 I, …"""
    labels, values, hidden = [], [], 0
    for year, *semesters in table.rows:
        for number, cell in zip(("I", "II"), semesters, strict=True):
            labels.append(f"{year} {number}")
            values.append(_value(cell))
            hidden += isinstance(cell, Cell) and cell.hidden
    if not any(v is not None for v in values):
        return Chart(table.title, "", hidden)
    chart = pygal.Bar(
        **config(str(table.title), show_legend=False, x_label_rotation=30 if len(labels) > 8 else 0)
    )
    chart.x_labels = labels
    chart.add(str(table.columns[1]).split()[0] if table.columns else "", values)
    rendered = render(chart, chart_id, table.title)
    rendered.hidden = hidden
    return rendered


def risk_semester_chart(table: Table, *, chart_id: str) -> Chart:
    """Pupils per risk type over the semesters: a line per risk type (a hidden figure is a gap
    in its line)."""
    labels = [str(row[0]) for row in table.rows]
    series, hidden = [], 0
    for column in range(1, len(table.columns)):
        cells = [row[column] for row in table.rows]
        hidden += sum(1 for c in cells if isinstance(c, Cell) and c.hidden)
        series.append((str(table.columns[column]), [_value(c) for c in cells]))
    if not any(v is not None for _name, values in series for v in values):
        return Chart(table.title, "", hidden)
    chart = pygal.Line(
        **config(
            str(table.title),
            x_label_rotation=30 if len(labels) > 8 else 0,
            allow_interruptions=True,
            dots_size=4,
            include_x_axis=True,
        )
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    rendered = render(chart, chart_id, table.title)
    rendered.hidden = hidden
    return rendered


def small_multiple(table: Table, *, chart_id: str, title: str) -> Chart:
    """One school's or municipality's pupils per semester, small, for side-by-side viewing
    (the same scale for all is not forced: each shows its own course)."""
    values, hidden = [], 0
    for _year, *semesters in table.rows:
        for cell in semesters:
            values.append(_value(cell))
            hidden += isinstance(cell, Cell) and cell.hidden
    chart = pygal.Bar(
        **config(
            title,
            show_legend=False,
            show_x_labels=False,
            # Little ink: no guides, three values on the axis (a PDF draws them by the
            # hundred, and each element costs WeasyPrint time).
            show_y_guides=False,
            y_labels_major_count=3,
            show_minor_y_labels=False,
            width=320,
            height=180,
            margin=6,
            margin_right=6,
        )
    )
    chart.x_labels = [f"{year} {n}" for year, *_s in table.rows for n in ("I", "II")]
    chart.add(str(table.columns[1]) if table.columns else "", values)
    rendered = render(chart, chart_id, title)
    rendered.hidden = hidden
    rendered.weight = sum(v for v in values if v)  # what it draws: the larger, the more pupils
    return rendered


# A PDF draws at most this many small multiples: WeasyPrint takes about a quarter of a
# second for each even on a quiet machine (the city's 150 schools would hold the request
# for a minute); the country's 40 municipalities all fit.
PDF_MULTIPLES = 42


def print_parts(parts):
    """The small multiples a PDF draws: all of them, or the PDF_MULTIPLES that draw the
    most pupils, in their own order; and how many are left out."""
    if len(parts) <= PDF_MULTIPLES:
        return parts, 0
    kept = set(sorted(parts, key=lambda c: -c.weight)[:PDF_MULTIPLES])
    return [c for c in parts if c in kept], len(parts) - PDF_MULTIPLES


def participation_charts(
    main: Table, tables: list[Table], parts: list[tuple[str, Table]] = ()
) -> dict[str, Chart]:
    """The report's charts by the key of the table each stands beside; "parts": the small
    multiples of the scope's municipalities or schools (``parts``: [(name, its table)])."""
    by_key = {t.key: t for t in tables}
    charts = {"semesters": semester_chart(main, chart_id="chart-semesters")}
    if "risk_semesters" in by_key:
        charts["risk_semesters"] = risk_semester_chart(
            by_key["risk_semesters"], chart_id="chart-risk-semesters"
        )
    drawable = [
        (name, table)
        for name, table in parts
        if any(not c.hidden and c.value for row in table.rows for c in row[1:])
    ]
    charts["parts"] = [
        small_multiple(table, chart_id=f"chart-part-{index}", title=name)
        for index, (name, table) in enumerate(drawable)
    ]
    if "risks" in by_key:
        charts["risks"] = bar_chart(by_key["risks"], chart_id="chart-risks", horizontal=True)
    if "measures" in by_key:
        hours = Table(
            title=_("Consultation hours by specialist type"),
            columns=[_("Specialist"), _("Planned hours"), _("Delivered hours")],
            rows=[
                [row[1], row[3], row[4]]
                for row in by_key["measures"].rows
                if isinstance(row[3], Cell) and row[1]
            ],
        )
        charts["measures"] = bar_chart(hours, chart_id="chart-hours", value_columns=(1, 2))
    if "money" in by_key:
        # Category, Pupils, Planned, Claimed, Approved, Paid: planned, approved and paid.
        charts["money"] = bar_chart(
            by_key["money"], chart_id="chart-money", value_columns=(2, 4, 5)
        )
    if "outcomes" in by_key:
        charts["outcomes"] = bar_chart(
            by_key["outcomes"], chart_id="chart-outcomes", horizontal=True
        )
    return charts


def content_key(scope_key, main, tables, kind="participation"):
    """A key for charts drawn from exactly these tables (a school's report is computed live,
    with no snapshot to name it): the same figures in the same language draw the same."""
    digest = hashlib.sha256()
    for table in [main, *tables]:
        digest.update(repr((table.key, str(table.title), table.columns, table.rows)).encode())
    return f"{kind}:charts:v3:{scope_key}:{get_language()}:{digest.hexdigest()[:32]}"


def esf_charts(tables: list[Table]) -> dict[str, Chart]:
    """The ESF indicators' charts (gender, age band, education level, result at leaving) by
    the key of the table each stands beside; a hidden count is not drawn."""
    return {
        table.key: bar_chart(
            table, chart_id=f"chart-{table.key.replace('_', '-')}", horizontal=True
        )
        for table in tables
        if table.key != "esf_total"
    }


def cached_esf_charts(scope_key, tables):
    """The ESF charts, kept (in this process) while the figures stay the same."""
    key = content_key(scope_key, tables[0], tables[1:], kind="esf")
    charts = cache.get(key)
    if charts is None:
        charts = esf_charts(tables)
        cache.set(key, charts, CHART_CACHE_SECONDS)
    return charts


def cached_charts(cache_key, main, tables, parts=(), *, store=None):
    """The charts, kept beside the snapshot they draw (``cache_key`` names the snapshot, its
    scope and the language); None: draw them now and keep nothing. ``parts``: a callable
    giving the small multiples' tables (only called when the charts are drawn). ``store``:
    the cache (this process's own unless given)."""
    if cache_key is None:
        return participation_charts(main, tables, parts() if parts else ())
    store = cache if store is None else store
    charts = store.get(cache_key)
    if charts is None:
        charts = participation_charts(main, tables, parts() if parts else ())
        store.set(cache_key, charts, CHART_CACHE_SECONDS)
    return charts


def snapshot_key(scope_key, semester, computed_at):
    """The charts of one aggregate scope of one snapshot, in the current language."""
    semester_id = semester.pk if semester else ""
    return (
        f"participation:charts:v3:{scope_key}:{semester_id}:{get_language()}:"
        f"{computed_at.timestamp():.0f}"
    )
