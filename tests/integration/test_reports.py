"""The Security Department's reports as a reader gets them: rendered from the marts built
from the simulated city, mailed through a real SMTP server on localhost by the real
Airflow DAG, and read back with poppler (pdftoppm pages, pdftotext text, pdfimages)."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from serving import polish
from tests.mail import Mailbox

pytestmark = pytest.mark.integration
DAGS = Path(__file__).resolve().parents[2] / "dags"
MONTHLY_SECTIONS = [
    "Najważniejsze liczby – marzec 2026",
    "Interwencje z obserwacji kamer w ostatnich 24 miesiącach",
    "Mapa Krakowa: kamery, gorące punkty i proponowane przeniesienia",
    "Czy kamery działają? Efekt według rodzaju miejsca i klasy czynów",
    "Kamery, których efekt wygasł",
    "Czy przestępczość się przenosi? Przemieszczenie i rozlanie korzyści",
    "Koszty",
    "Rekomendowane przeniesienia kamer",
    "Jakość danych: klasyfikacja czynów",
    "Aneks: metody i ograniczenia",
]
SURVEY_SECTIONS = ["Poczucie bezpieczeństwa nocą", "Poczucie zagrożenia a zarejestrowane zdarzenia",
                   "Miejsca wskazane jako niebezpieczne", "Aneks: metody i ograniczenia"]
ENGLISH = re.compile(r"\b(the|of|and|offences?|camera|displacement|diffusion|interval|measured|unconfirmed|"
                     r"confirmed_\w+|instrumental_\w+|city_monitoring|residential|commercial|transit)\b", re.I)


def _poppler() -> None:
    missing = [tool for tool in ("pdftoppm", "pdftotext", "pdfimages") if shutil.which(tool) is None]
    assert not missing, f"{missing} missing: apt-get install poppler-utils (make setup installs it)"


def _text(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(pages[0]), "-l", str(pages[-1])] if pages else [])
    out = subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", out)


def _images(pdf: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    return sum(1 for line in out.splitlines()[2:] if line.split()[2] == "image")


def _pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def _visible_html(page: str) -> str:
    page = re.sub(r"<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"[ \u00a0]+", " ", html.unescape(page))


def _column_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {c for (c,) in con.execute("select distinct column_name from duckdb_columns() "
                                      "where schema_name = 'marts' and column_name like '%\\_%' escape '\\'")
            .fetchall()}


def _in_order(text: str, headings: list[str]) -> bool:
    positions = [text.find(h) for h in headings]
    return -1 not in positions and positions == sorted(positions)


def _dag(file: str, dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS / file))
    assert not bag.import_errors
    return bag.dags[dag_id]


@pytest.fixture
def on_demo(demo_warehouse: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("KSP_DATA_DIR", str(demo_warehouse.data_dir))
    monkeypatch.setenv("KSP_REPORT_EMAIL", "wbizk@krakow.test")
    return demo_warehouse


def test_the_monthly_report_is_mailed_in_polish_with_its_figures(on_demo: Settings, airflow_db: Path,
                                                                  smtp_server: Mailbox, tmp_path: Path) -> None:
    _poppler()
    run = _dag("report_security_monthly.py", "report_security_monthly").test(
        logical_date=dt.datetime(2026, 4, 3, 5, tzinfo=dt.UTC))
    assert run.state == "success"
    folder = on_demo.reports_dir / "monthly" / "2026-03"
    pdf = folder / "raport.pdf"

    [mail] = smtp_server.messages
    assert mail["to"] == ["wbizk@krakow.test"]
    assert mail["subject"] == "[KSP] Monitoring wizyjny – raport miesięczny, marzec 2026"
    assert mail["attachments"] == {"raport.pdf": pdf.read_bytes()}
    assert "Najważniejsze liczby" in mail["body"] and "data:image/png;base64," in mail["body"]

    text = _text(pdf)
    assert _in_order(text, MONTHLY_SECTIONS), [h for h in MONTHLY_SECTIONS if h not in text]
    # diacritics intact in the PDF's own text (not only in the source): words of the report
    for word in ("Najważniejsze", "Wydział Bezpieczeństwa", "przestępczość", "Kraków", "Źródło",
                 "dzielnic", "Przemieszczenie", "ograniczenia"):
        assert word in text, f"{word!r} not found in the PDF's text"
    assert _images(pdf) >= 3  # the interventions chart, the map of Kraków, the forest plot
    assert len(_pages(pdf, tmp_path)) >= 5

    con = duckdb.connect(str(on_demo.published_path), read_only=True)
    try:
        start, end = dt.date(2026, 3, 1), dt.date(2026, 4, 1)
        interventions = con.execute("select count(*) from marts.fct_intervention "
                                    "where occurred_date >= ? and occurred_date < ?", [start, end]).fetchone()[0]
        near = con.execute("select sum(incident_count) from marts.mart_camera_incidents_monthly "
                           "where period = 'after_install' and month_start_date = ?", [start]).fetchone()[0]
        sos = con.execute("select count(*) from marts.fct_sos_alert where pressed_date >= ? and pressed_date < ?",
                          [start, end]).fetchone()[0]
        faded = {r[0] for r in con.execute("select camera_point_id from marts.mart_effect_decay where is_faded")
                 .fetchall()}
        quality = con.execute("select records, unclassified from marts.mart_offence_classification_quality "
                              "where month_start = ? order by source_system", [start]).fetchall()
        columns = _column_names(con)
        build_id = con.execute("select build_id from meta.build_info").fetchone()[0]
    finally:
        con.close()
    page1 = _text(pdf, 1)
    for figure in (interventions, near, sos):
        assert polish.number(figure).replace("\u00a0", " ") in page1, (figure, page1)
    assert interventions > 0 and near > 0
    # the report and the marts agree on which cameras faded
    listed = folder / "kamery_wygasle.csv"
    if faded:
        assert {line.split(";")[0] for line in listed.read_text(encoding="utf-8-sig").splitlines()[1:]} == faded
    else:
        # none faded, or none the mart can judge yet (two years and a first-year effect): said either way
        assert not listed.exists() and ("nie spełnia kryterium wygaśnięcia efektu" in text
                                        or "Żadnej kamery nie da się jeszcze ocenić" in text)
    # the classification table shows the mart's month, source by source
    shown = [line.split(";") for line in (folder / "klasyfikacja.csv").read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert [(r[1], r[3]) for r in shown] == [(polish.number(n), polish.number(u)) for n, u in quality] and quality
    for leaked in sorted(columns):
        assert leaked not in text, f"column name {leaked} in the PDF"
    visible = _visible_html((folder / "raport.html").read_text(encoding="utf-8"))
    assert not ENGLISH.findall(text) and not ENGLISH.findall(visible), ENGLISH.findall(text + visible)[:10]
    meta = (folder / "meta.json").read_text()
    assert build_id in meta and run.run_id in meta and '"period": "2026-03"' in meta


def test_the_survey_wave_report_maps_districts_and_shows_suppression(on_demo: Settings, tmp_path: Path) -> None:
    from serving.reports import survey_wave_report

    _poppler()
    con = duckdb.connect(str(on_demo.published_path), read_only=True)
    try:
        wave, suppressed = con.execute("""
            select wave, count(*) filter (where is_suppressed) from marts.mart_district_safety
            group by 1 order by 2 desc, 1 desc limit 1""").fetchone()
        shown = con.execute("select district_name, unsafe_night_share from marts.mart_district_safety "
                            "where wave = ? and not is_suppressed order by unsafe_night_share desc limit 1",
                            [wave]).fetchone()
        columns = _column_names(con)
    finally:
        con.close()
    folder = survey_wave_report(on_demo, wave, out=tmp_path / "wave")
    text = _text(folder / "raport.pdf")
    assert _in_order(text, SURVEY_SECTIONS)
    assert _images(folder / "raport.pdf") >= 3  # choropleth, perception gap, density of dangerous places
    assert f"{shown[0]}: {polish.percent(shown[1])}".replace("\u00a0", " ") in text
    if suppressed:
        assert "utajnione" in text and "mniej niż 10" in text
    for leaked in columns:
        assert leaked not in text
    assert not ENGLISH.findall(text)


def test_a_rerun_gives_the_same_report_and_an_empty_period_says_so(on_demo: Settings, tmp_path: Path) -> None:
    from serving.reports import monthly_report

    a = monthly_report(on_demo, dt.date(2025, 11, 1), out=tmp_path / "a")
    b = monthly_report(on_demo, dt.date(2025, 11, 1), out=tmp_path / "b")
    for f in sorted(p.name for p in a.iterdir()):
        if f != "meta.json":  # it names the run
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
    empty = monthly_report(on_demo, dt.date(2031, 1, 1), out=tmp_path / "empty")
    text = _text(empty / "raport.pdf")
    assert "Brak danych za ten okres" in text and "styczniu 2031 nie ma w nich żadnych zdarzeń" in text


def test_an_unpublished_warehouse_fails_clearly_and_writes_nothing(cfg: Settings) -> None:
    from serving.reports import WarehouseNotPublished, monthly_report

    with pytest.raises(WarehouseNotPublished, match="no build has been published yet"):
        monthly_report(cfg, dt.date(2026, 3, 1))
    assert not (cfg.reports_dir / "monthly").exists()


def test_every_duty_summary_is_kept_with_an_index(on_demo: Settings) -> None:
    from serving.reports import sos_duty_summary

    path, _threats, _mark = sos_duty_summary(on_demo)
    index = (on_demo.reports_dir / "duty" / "index.html").read_text(encoding="utf-8")
    assert f"{path.name}/raport.html" in index
    assert (path / "raport.pdf").exists() and "width=device-width" in (path / "raport.html").read_text()
