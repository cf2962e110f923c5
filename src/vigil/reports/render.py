"""A report as files: `report.json` (every figure), `figures.csv` (one row per
figure: table, key, value), `case.csv` (the forensic view), PNG charts (matplotlib,
drawn without a display) and `report.html`, which shows them all. The console
shows the same page."""

import csv
import io
import json
import pathlib
import typing as t
from importlib.resources import files

from vigil.reports.statistics import Report, ordered

#: The charts, by figure name, with their titles.
CHARTS: tuple[tuple[str, str], ...] = (
    ("uk_category", "Criminal images by UK category"),
    ("legal_route", "Criminal images by legal route"),
    ("age_band", "Children shown: youngest apparent age"),
    ("sex", "Children shown: sex"),
    ("ai_generated", "Assessed images: AI-generated?"),
    ("not_criminal_reasons", "Not criminal: why"),
)
CHART_DPI = 100


def chart_png(report: Report, name: str) -> bytes:
    """One chart as PNG bytes: a horizontal bar per key, with its count.

    Raises:
        KeyError: no such chart.
    """
    import matplotlib as mpl

    mpl.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    title = dict(CHARTS)[name]
    rows = ordered(name, report.figures.get(name, {}))
    labels = [k.replace("_", " ") for k, _ in rows] or ["none"]
    values = [v for _, v in rows] or [0]
    figure, axes = plt.subplots(figsize=(6.4, 0.45 * len(labels) + 1.2), dpi=CHART_DPI)
    try:
        bars = axes.barh(labels, values, color="#4b6b6b")
        axes.invert_yaxis()
        axes.set_title(title, loc="left", fontsize=11)
        axes.set_xlabel("items")
        axes.bar_label(bars, padding=3)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_xlim(0, max(values + [1]) * 1.15)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts are whole
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return buffer.getvalue()


def html(
    report: Report, chart_src: t.Callable[[str], str], stylesheet: str | None = None
) -> str:
    """The report page; `chart_src(name)` says where each chart's PNG is, and
    `stylesheet` where its CSS is (None: inline, for a file opened on its own)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = str(files("vigil.reports") / "templates")
    environment = Environment(
        loader=FileSystemLoader(folder), autoescape=select_autoescape(["html"])
    )
    template = environment.get_template("report.html")
    return template.render(
        report=report,
        f=report.figures,
        charts=[(name, title, chart_src(name)) for name, title in CHARTS],
        ordered=ordered,
        percent=_percent,
        stylesheet=stylesheet,
    )


def stylesheet() -> str:
    """The report's CSS, for a page that may not carry inline styles."""
    return (files("vigil.reports") / "templates" / "report.css").read_text()


def write_report(report: Report, out: pathlib.Path) -> list[pathlib.Path]:
    """Write every file of the report into `out`; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "charts").mkdir(exist_ok=True)
    written = []
    for name, _ in CHARTS:
        path = out / "charts" / f"{name}.png"
        path.write_bytes(chart_png(report, name))
        written.append(path)
    path = out / "report.json"
    path.write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    written.append(path)
    written.append(_figures_csv(report, out / "figures.csv"))
    written.append(_case_csv(report, out / "case.csv"))
    path = out / "report.html"
    path.write_text(html(report, lambda name: f"charts/{name}.png"))
    written.append(path)
    return written


def _figures_csv(report: Report, path: pathlib.Path) -> pathlib.Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["table", "key", "value"])
        for name, value in report.figures.items():
            if isinstance(value, dict):
                for key, inner in value.items():
                    writer.writerow([name, _cell(key), _cell(inner)])
            elif isinstance(value, list):
                for n, row in enumerate(value, 1):
                    writer.writerow([name, n, _cell(row)])
            else:
                writer.writerow([name, "", _cell(value)])
    return path


def _case_csv(report: Report, path: pathlib.Path) -> pathlib.Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["view", "item", "location", "detail"])
        for row in report.case["matched"]:
            writer.writerow(["matched", row["item"], _cell(row["location"]),
                             _cell("; ".join(row["lists"]))])  # fmt: skip
        for row in report.case["ai_evidenced"]:
            detail = " / ".join(x for x in (row["tool"], row["model"]) if x)
            writer.writerow(["ai_evidenced", row["item"], _cell(row["location"]),
                             _cell(detail)])  # fmt: skip
        for row in report.case["model_links"]:
            where = row.get("model") or row.get("hash_list") or ""
            writer.writerow(
                ["model_link", row["hash_value"], _cell(row["image"]), _cell(where)]
            )
    return path


def _cell(value: t.Any) -> str:
    from vigil.media.names import display

    text = (
        json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
    )
    text = display(text)
    # a cell a spreadsheet would run as a formula starts with a quote instead
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"
