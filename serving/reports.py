"""The Security Department's reports, in Polish, read from the published warehouse only.

* monthly (``report_security_monthly``, the 3rd): key figures against the same month a
  year earlier, interventions over 24 months, a map of Kraków (cameras, hot spots,
  recommended moves), the camera effect by kind of place, faded cameras, displacement,
  costs, and an appendix on methods and limits;
* per survey wave (``check_survey_wave``): feeling unsafe at night by district (with
  intervals, suppressed districts shown as such), perceived against recorded safety,
  the density of places marked as dangerous;
* the SOS duty summary (``report_sos_duty``, after every build): new alerts, threats to
  health or life first, kept one per build with an index.

Every number comes from a published mart (or the build's delivery record in
``meta``), and every finding under a chart is generated from those numbers, saying so
where the data cannot tell. Only published marts are read, so nothing personal can
reach a report. Rendering is :mod:`serving.render`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from ingestion.config import Settings
from serving import charts, polish
from serving.render import Card, Figure, Report, Section, Table, write

log = logging.getLogger(__name__)

AREA_PL = {"transit": "węzły przesiadkowe", "commercial": "ulice handlowe", "residential": "osiedla mieszkaniowe"}
AREA_LOCATIVE = {"transit": "W węzłach przesiadkowych", "commercial": "Na ulicach handlowych",
                 "residential": "Na osiedlach mieszkaniowych"}
CLASS_PL = {"instrumental_property": "przestępstwa przeciwko mieniu", "affective_violence": "przemoc",
            "alcohol_drugs": "alkohol i narkotyki", "public_order": "porządek publiczny",
            "traffic": "ruch drogowy", "other": "inne czyny", "instrumental": "czyny instrumentalne (łącznie)"}
CLASS_GENITIVE = {"instrumental_property": "przestępstw przeciwko mieniu", "affective_violence": "aktów przemocy",
                  "alcohol_drugs": "wykroczeń związanych z alkoholem i narkotykami",
                  "public_order": "naruszeń porządku publicznego", "traffic": "wykroczeń drogowych",
                  "other": "innych czynów"}
READING_PL = {
    "diffusion greater than direct effect": "rozlanie korzyści większe niż efekt bezpośredni",
    "diffusion of benefits": "rozlanie korzyści na otoczenie",
    "displacement greater than direct effect": "przemieszczenie większe niż efekt bezpośredni",
    "displacement smaller than direct effect": "przemieszczenie mniejsze niż efekt bezpośredni",
    "no displacement or diffusion": "bez przemieszczenia i bez rozlania",
    "no success to weigh": "brak spadku w zasięgu kamery (nie ma czego ważyć)",
}
# mart_displacement(_by_area).displacement_verdict, as the department reads it
DISPLACEMENT_VERDICT_PL = {
    "displacement_found": "stwierdzono przemieszczenie do otoczenia",
    "diffusion_found": "stwierdzono rozlanie korzyści na otoczenie",
    "no_displacement_detectable": "brak przemieszczenia (test wykryłby wzrost o {mde} w otoczeniu)",
    "too_few_to_tell": "za mało zdarzeń, by ocenić",
    "no_effect_to_displace": "brak wyraźnego spadku w zasięgu kamer – nie ma czego przemieszczać",
    "no_success_to_weigh": "brak spadku w zasięgu kamery – nie ma czego przemieszczać",
    "no_control_data": "brak danych z obszaru kontrolnego",
}
SOS_PL = {"confirmed_health_life": "zagrożenie zdrowia lub życia", "confirmed_other": "potwierdzone – inne",
          "unconfirmed": "niepotwierdzone"}
SOURCE_PL = {"anpr_counts": "zliczenia ANPR", "cameras_wbizk": "rejestr kamer WBiZK",
             "cameras_zdmk": "rejestr kamer ZDMK", "city_guard": "wykroczenia Straży Miejskiej",
             "interventions": "interwencje operatorów SM", "mcpu": "interwencje MCPU", "police": "zdarzenia KMP",
             "sos_alerts": "alarmy SOS", "survey": "badanie ankietowe"}
FOOTER = ("Źródło: opublikowana hurtownia Kraków Safety Data Platform, kompilacja {build} z {published} "
          "(czas warszawski).")


class WarehouseNotPublished(RuntimeError):
    """No published warehouse yet: nothing to report from."""


@dataclass(frozen=True)
class Published:
    con: duckdb.DuckDBPyConnection
    build_id: str
    published_at: datetime
    path: Path

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.con.execute(sql, list(params)).fetchone()[0]

    @property
    def footer(self) -> str:
        return FOOTER.format(build=self.build_id, published=polish.warsaw(self.published_at))


def open_published(cfg: Settings, path: Path | None = None) -> Published:
    """The published warehouse (or the version at ``path``), read-only."""
    path = path or cfg.published_path
    if not path.exists():
        raise WarehouseNotPublished(
            f"{path} does not exist: no build has been published yet, so there is nothing to report from "
            "(run the build_warehouse DAG or `ksp build` first)")
    from ingestion.duck import connect

    con = connect(path, cfg, spatial=True, read_only=True)
    build_id, published_at = con.execute("select build_id, published_at from meta.build_info").fetchone()
    return Published(con, build_id, published_at, path)


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _shift_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _change(now: int, before: int) -> str:
    if before == 0:
        return "rok wcześniej: 0" if now == 0 else "rok wcześniej: 0 (brak porównania)"
    return f"{polish.signed_percent(now / before - 1)} r/r (rok wcześniej: {polish.number(before)})"


def _districts(db: Published) -> list[charts.District]:
    return [charts.District(i, name, wkt, (e, n)) for i, name, wkt, e, n in db.rows(
        "select district_id, district_name, boundary_wkt_epsg2180, centroid_easting_m, centroid_northing_m "
        "from marts.dim_district order by district_id")]


def _reduction(rr: float, lo: float, hi: float) -> str:
    """A rate ratio below 1 read as "X % mniej (95 % CI: a–b %)"."""
    return (f"{polish.percent(1 - rr)} mniej (95{polish.NBSP}% CI: {polish.number(100 * (1 - hi))}–"
            f"{polish.number(100 * (1 - lo))}{polish.NBSP}%)")


# --------------------------------------------------------------------------- monthly


def monthly_report(cfg: Settings, month: date, *, published: Path | None = None, out: Path | None = None,
                   run_id: str | None = None) -> Path:
    """The monthly report for one calendar month (``month``: any day of it); returns its folder."""
    first = month.replace(day=1)
    db = open_published(cfg, published)
    try:
        report = _monthly(db, first, cfg)
    finally:
        db.con.close()
    report.meta.update({"run_id": run_id, "build_id": db.build_id, "published_at": db.published_at,
                        "published_path": str(db.path), "period": first.strftime("%Y-%m")})
    return write(report, out or cfg.reports_dir / "monthly" / report.key)


def _monthly(db: Published, first: date, cfg: Settings) -> Report:
    nxt, year_ago = _next_month(first), _shift_months(first, -12)
    label = polish.month_name(first)
    data_from, data_to = db.rows("select min(occurred_date), max(occurred_date) from marts.fct_incident")[0]
    sections: list[Section] = []
    has_data = data_from is not None and data_from <= first <= data_to
    if not has_data:
        log.warning("monthly report for %s: outside the published data (%s to %s)", label, data_from, data_to)
        sections.append(Section("Brak danych za ten okres", findings=[
            f"Opublikowane dane obejmują okres od {polish.day(data_from)} do {polish.day(data_to)}; "
            f"{polish.in_month(first)} nie ma w nich żadnych zdarzeń. Liczby poniżej są zerami z braku danych, "
            "a nie z braku zdarzeń; stan kamer i rekomendacje dotyczą chwili publikacji."]))

    withheld = _withheld_section(db)
    if withheld:
        sections.append(withheld)

    # key figures against the same month a year earlier
    def count(sql: str, start: date) -> int:
        return int(db.one(sql, [start, _next_month(start)]) or 0)

    interventions_sql = "select count(*) from marts.fct_intervention where occurred_date >= ? and occurred_date < ?"
    near_sql = ("select coalesce(sum(incident_count), 0) from marts.mart_camera_incidents_monthly "
                "where period = 'after_install' and month_start_date >= ? and month_start_date < ?")
    sos_sql = "select count(*) from marts.fct_sos_alert where pressed_date >= ? and pressed_date < ?"
    threats_sql = ("select count(*) from marts.fct_sos_alert where is_threat_to_health_life "
                   "and pressed_date >= ? and pressed_date < ?")
    interventions, interventions_before = count(interventions_sql, first), count(interventions_sql, year_ago)
    near, near_before = count(near_sql, first), count(near_sql, year_ago)
    sos, sos_before, threats = count(sos_sql, first), count(sos_sql, year_ago), count(threats_sql, first)
    refused, quarantined, reasons = _delivery_quality(db, first, nxt)
    cards = [
        Card("Interwencje z obserwacji kamer", polish.number(interventions), _change(interventions,
                                                                                      interventions_before)),
        Card("Przestępstwa i wykroczenia do 150 m od kamer", polish.number(near), _change(near, near_before)),
        Card("Alarmy z punktów SOS", polish.number(sos),
             f"w tym zagrożenie zdrowia lub życia: {polish.number(threats)}; {_change(sos, sos_before)}"),
        Card("Dostawy odrzucone / wiersze w kwarantannie", f"{polish.number(refused)} / {polish.number(quarantined)}",
             reasons or "bez odrzuceń i kwarantanny"),
    ]
    findings = [
        f"{polish.in_month(first).capitalize()} operatorzy Straży Miejskiej podjęli "
        f"{polish.plural(interventions, 'interwencję', 'interwencje', 'interwencji')} z obserwacji kamer "
        f"({_change(interventions, interventions_before)})."]
    sections.append(Section(f"Najważniejsze liczby – {label}", findings=findings, cards=cards, notes=[
        "Zmiana r/r: względem tego samego miesiąca rok wcześniej. Zdarzenia do 150 m od kamer: tylko od punktów "
        "działających w danym miesiącu (po instalacji, przed demontażem), liczone dla każdego punktu osobno "
        "(zdarzenie w zasięgu dwóch punktów liczy się dwa razy)."]))

    sections.append(_interventions_section(db, first))
    sections.append(_map_section(db, first, cfg))
    sections += _effect_sections(db)
    sections.append(_faded_section(db))
    sections.append(_displacement_section(db))
    sections.append(_cost_section(db))
    sections.append(_relocation_section(db))
    sections.append(_classification_section(db, first))
    sections.append(_methods_section(db, data_from, data_to, cfg))
    return Report(
        kind="monthly", key=first.strftime("%Y-%m"), title="Monitoring wizyjny – raport miesięczny",
        subtitle=f"{label.capitalize()} · dla Wydziału Bezpieczeństwa i Zarządzania Kryzysowego",
        period_label=label, footer=db.footer, sections=sections, meta={"has_data": has_data})


def _withheld_section(db: Published) -> Section | None:
    """Which sources this publication shows at their last good state, and why: a delivery
    held because the build failed on it, or retracted by hand (``meta.withheld``). A reader
    must know that a source's latest month is missing before reading its figures."""
    has = db.one("select count(*) from duckdb_tables() where schema_name = 'meta' and table_name = 'withheld'")
    rows = db.rows("select source, file_name, period_key, kind, reason from meta.withheld "
                   "order by source, period_key, file_name") if has else []
    if not rows:
        return None
    findings = []
    for source, file_name, period, kind, _reason in rows:
        why = ("nie przeszła kontroli jakości przy budowie hurtowni i została wstrzymana automatycznie"
               if kind == "held" else "została wycofana przez zespół danych")
        findings.append(f"Dostawa {file_name} ({SOURCE_PL.get(source, source)}, okres {period}) {why}; "
                        "to źródło pokazuje ostatni poprawny stan, a jego liczby za ten okres mogą być niepełne.")
    return Section("Uwaga: dostawy wstrzymane w tej publikacji", findings=findings, notes=[
        "Pozostałe źródła opublikowano normalnie. Przyczyny (dla zespołu danych): "
        + "; ".join(f"{f}: {r}" for _, f, _, _, r in rows)])


def _delivery_quality(db: Published, first: date, nxt: date) -> tuple[int, int, str]:
    """Deliveries refused and rows quarantined among those received in the month, and why."""
    start = datetime(first.year, first.month, 1, tzinfo=polish.WARSAW)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=polish.WARSAW)
    refused = db.rows("select rule, count(*) from meta.deliveries where status = 'refused' "
                      "and received_at >= ? and received_at < ? group by all order by 2 desc, 1", [start, end])
    quarantined = db.rows("""
        select q.rule, sum(q.rows)::bigint from meta.quarantined_rules as q
        join meta.deliveries as d using (delivery_id)
        where d.received_at >= ? and d.received_at < ? group by all order by 2 desc, 1""", [start, end])
    reasons = "; ".join([f"odrzucone: {r} ×{n}" for r, n in refused[:3]]
                        + [f"kwarantanna: {r} ×{n}" for r, n in quarantined[:3]])
    return sum(n for _, n in refused), sum(n for _, n in quarantined), reasons


def _interventions_section(db: Published, first: date) -> Section:
    start = _shift_months(first, -23)
    rows = db.rows("""
        select date_trunc('month', occurred_date)::date as m, category_label, count(*)
        from marts.fct_intervention where occurred_date >= ? and occurred_date < ?
        group by all order by 1, 2""", [start, _next_month(first)])
    months = [_shift_months(start, i) for i in range(24)]
    totals: dict[str, int] = {}
    for _, cat, n in rows:
        totals[cat] = totals.get(cat, 0) + n
    categories = sorted(totals, key=lambda c: -totals[c])
    png = charts.interventions_by_month(months, categories, {(m, c): n for m, c, n in rows})
    yearly = db.rows("""
        select occurred_year, max(year_total), max(city_reported_total), max(city_reported_through),
               max(year_total_to_reported_date), max(difference_from_reported)
        from marts.mart_intervention_trends group by 1 order by 1""")
    table = Table(["Rok", "Interwencje w danych", "Suma podana przez miasto", "Stan na dzień",
                   "Dane do tego dnia", "Różnica"],
                  [[str(y), polish.number(t), polish.number(c), polish.day(d), polish.number(u),
                    polish.number(diff)] for y, t, c, d, u, diff in yearly],
                  align=["l", "r", "r", "l", "r", "r"], csv_name="interwencje_roczne.csv")
    top = categories[0] if categories else None
    findings = ([f"Najczęstsza kategoria w ostatnich 24 miesiącach: „{top}” "
                 f"({polish.percent(totals[top] / sum(totals.values()))} interwencji)."] if top else
                ["W ostatnich 24 miesiącach nie ma w danych żadnej interwencji."])
    matched = [(y, diff) for y, _, c, _, _, diff in yearly if c is not None]
    if matched:
        worst = max(matched, key=lambda r: abs(r[1] or 0))
        findings.append("Sumy roczne zgadzają się z danymi podanymi przez miasto" if all(
            (diff or 0) == 0 for _, diff in matched) else
            f"Największa różnica względem sum podanych przez miasto: {worst[0]} r. ({polish.number(worst[1])}).")
    return Section("Interwencje z obserwacji kamer w ostatnich 24 miesiącach", findings=findings,
                   figure=Figure("wykres_interwencje.png", "Interwencje w miesiącu według kategorii", png),
                   table=table, page_break=True)


def _map_section(db: Published, first: date, cfg: Settings) -> Section:
    years = [r[0] for r in db.rows("select distinct period_year from marts.mart_hotspots order by 1")]
    year = max([y for y in years if y <= first.year], default=max(years, default=first.year))
    cameras = db.rows("select easting_m, northing_m, camera_kind from marts.dim_camera_point where is_current")
    # the class cameras deter most, at the strictest level: the map stays readable
    hotspots = db.rows("""
        select centroid_easting_m, centroid_northing_m from marts.mart_hotspots
        where period_year = ? and offence_class = 'instrumental_property' and hotspot_class = 'hot_99'""", [year])
    moves = db.rows("select from_easting_m, from_northing_m, to_easting_m, to_northing_m "
                    "from marts.mart_relocation_plan order by move_rank")
    cell_m = float(db.one("select max(sqrt(area_in_city_m2)) from marts.dim_grid_cell") or 250)
    png = charts.city_map(_districts(db), cameras, hotspots, moves, cell_m=cell_m,
                          hotspot_label=f"gorący punkt przestępstw przeciwko mieniu {year} (Gi*, 99 %)")
    moved = polish.plural(len(moves), "proponowane przeniesienie", "proponowane przeniesienia",
                          "proponowanych przeniesień")
    note = [] if year == first.year else [f"Gorące punkty z roku {year}: za {first.year} r. nie ma jeszcze danych."]
    return Section("Mapa Krakowa: kamery, gorące punkty i proponowane przeniesienia", findings=[
        f"{polish.plural(len(cameras), 'punkt kamerowy', 'punkty kamerowe', 'punktów kamerowych')} w służbie; "
        f"{polish.plural(len(hotspots), 'komórka', 'komórki', 'komórek')} siatki 250 m to gorące punkty "
        f"przestępstw przeciwko mieniu w {year} r. (statystyka Getisa-Orda Gi*, poziom 99 %); {moved}."],
        figure=Figure("mapa_krakow.png", f"Kraków: 18 dzielnic, punkty kamerowe, gorące punkty {year}, "
                                         "strzałki: proponowane przeniesienia kamer", png),
        notes=note, page_break=True)


def _effect_sections(db: Published) -> list[Section]:
    rows = db.rows("""
        select area_type, offence_class, camera_positions, rate_ratio, rate_ratio_ci_low, rate_ratio_ci_high
        from marts.mart_camera_effect_by_area
        order by case area_type when 'transit' then 0 when 'commercial' then 1 else 2 end, offence_class""")
    labelled = [(f"{AREA_PL.get(a, a)} · {CLASS_PL.get(c, c)}", rr, lo, hi) for a, c, _, rr, lo, hi in rows]
    found, more, unclear = [], [], []
    for a, c, n, rr, lo, hi in rows:
        if rr is None or lo is None or hi is None:
            unclear.append(f"{AREA_PL.get(a, a)} · {CLASS_PL.get(c, c)}")
        elif hi < 1:
            found.append(f"{AREA_LOCATIVE.get(a, a)} {CLASS_GENITIVE.get(c, c)} jest o {_reduction(rr, lo, hi)} "
                         f"po zainstalowaniu kamery ({polish.plural(n, 'pozycja', 'pozycje', 'pozycji')}).")
        elif lo > 1:
            more.append(f"{AREA_LOCATIVE.get(a, a)} {CLASS_GENITIVE.get(c, c)} jest więcej "
                        f"(RR {polish.number(rr, 2)}, 95 % CI: {polish.number(lo, 2)}–{polish.number(hi, 2)}).")
        else:
            unclear.append(f"{AREA_PL.get(a, a)} · {CLASS_PL.get(c, c)}")
    findings = found + more
    if unclear:
        findings.append("Dane nie pozwalają stwierdzić, czy kamery zmieniają liczbę zdarzeń w grupach: "
                        + "; ".join(unclear) + " (przedział ufności obejmuje brak zmiany).")
    table = Table(["Rodzaj miejsca", "Klasa czynów", "Pozycje", "RR", "95 % CI", "Odczyt"],
                  [[AREA_PL.get(a, a), CLASS_PL.get(c, c), polish.number(n), polish.number(rr, 2),
                    f"{polish.number(lo, 2)}–{polish.number(hi, 2)}",
                    "spadek" if hi is not None and hi < 1 else "wzrost" if lo is not None and lo > 1
                    else "nie do rozstrzygnięcia"] for a, c, n, rr, lo, hi in rows],
                  align=["l", "l", "r", "r", "r", "l"], csv_name="efekt_kamer.csv")
    return [Section("Czy kamery działają? Efekt według rodzaju miejsca i klasy czynów", findings=findings,
                    figure=Figure("wykres_efekt.png", "Iloraz częstości po/przed instalacji względem obszaru "
                                  "kontrolnego, z 95-procentowym przedziałem ufności", charts.forest_plot(labelled)),
                    table=table, page_break=True)]


def _faded_section(db: Published) -> Section:
    rows = db.rows("""
        select camera_point_id, latest_year_since_position, first_year_rate_ratio, latest_year_rate_ratio,
               remaining_effect_share
        from marts.mart_effect_decay where is_faded
        qualify row_number() over (partition by camera_point_id order by latest_year_since_position desc) = 1
        order by remaining_effect_share, camera_point_id""")
    # only where the mart can judge: two years at the position and a first-year effect to fade from
    judged = int(db.one("select count(distinct camera_point_id) from marts.mart_effect_decay "
                        "where is_faded is not null") or 0)
    if rows:
        findings = [f"Efekt odstraszający wygasł przy {polish.plural(len(rows), 'kamerze', 'kamerach', 'kamerach')} "
                    f"spośród {polish.number(judged)} ocenionych: zostało im mniej niż 35 % efektu "
                    "z pierwszego roku."]
    elif judged:
        findings = [f"Żadna z {polish.number(judged)} ocenionych kamer nie spełnia kryterium wygaśnięcia efektu."]
    else:
        findings = ["Żadnej kamery nie da się jeszcze ocenić: ocena wymaga dwóch lat na pozycji i wyraźnego "
                    "efektu w pierwszym roku."]
    findings.append("Kamer zainstalowanych przed początkiem danych nie da się ocenić (brak okresu „przed”).")
    table = Table(["Punkt", "Lata na pozycji", "RR w 1. roku", "RR w ostatnim roku", "Zostało efektu"],
                  [[p, polish.number(y), polish.number(r1, 2), polish.number(rl, 2), polish.percent(share)]
                   for p, y, r1, rl, share in rows],
                  align=["l", "r", "r", "r", "r"], csv_name="kamery_wygasle.csv")
    return Section("Kamery, których efekt wygasł", findings=findings, table=table if rows else None)


def _displacement_section(db: Published) -> Section:
    """The city's question "do offences migrate?" answered where the data resolve it:
    pooled by kind of place (mart_displacement_by_area), then how many single cameras
    the counts allow to judge at all (mart_displacement's verdicts)."""
    pooled = db.rows("""
        select area_type, camera_positions, buffer_rate_ratio, buffer_rate_ratio_ci_low, buffer_rate_ratio_ci_high,
               mde_ring_rise_pct, displacement_verdict, placebo_verdict
        from marts.mart_displacement_by_area where offence_scope = 'instrumental' order by area_type""")
    per_camera = dict(db.rows("""
        select displacement_verdict, count(*) from marts.mart_displacement
        where offence_scope = 'instrumental' and period_no = 1 group by 1"""))
    findings = []
    for area, _n, _rr, _lo, _hi, mde, verdict, placebo in pooled:
        text = DISPLACEMENT_VERDICT_PL.get(verdict, verdict).format(mde=polish.percent((mde or 0) / 100))
        caution = (" Uwaga: w tej grupie miejsc zmieniły się też wykroczenia drogowe, na które kamery nie działają "
                   "(test placebo), więc wynik może odzwierciedlać zmiany w okolicy, a nie działanie kamer."
                   if placebo == "placebo_fails" else "")
        findings.append(f"{AREA_LOCATIVE.get(area, area)} (czyny instrumentalne, pierwszy rok): {text}.{caution}")
    judged = sum(n for v, n in per_camera.items() if v in ("displacement_found", "diffusion_found",
                                                              "no_displacement_detectable"))
    total = sum(per_camera.values())
    findings.append(
        f"Dla pojedynczych kamer liczba zdarzeń pozwala rozstrzygnąć w {polish.number(judged)} "
        f"z {polish.number(total)} pozycji (przemieszczenie stwierdzone w "
        f"{polish.number(per_camera.get('displacement_found', 0))}); przy pozostałych test nie wykryłby nawet "
        "przeniesienia wszystkich zdarzeń, którym kamera zapobiegła, albo w zasięgu kamery nie było spadku.")
    table = Table(["Rodzaj miejsca", "Pozycje", "Zmiana w pierścieniu 150–400 m (RR)", "95 % CI", "Ocena",
                   "Test placebo"],
                  [[AREA_PL.get(a, a), polish.number(n), polish.number(rr, 2),
                    f"{polish.number(lo, 2)}–{polish.number(hi, 2)}",
                    DISPLACEMENT_VERDICT_PL.get(v, v).format(mde=polish.percent((mde or 0) / 100)),
                    {"placebo_passes": "zgodny", "placebo_fails": "niezgodny"}.get(pl, "brak danych")]
                   for a, n, rr, lo, hi, mde, v, pl in pooled],
                  align=["l", "r", "r", "r", "l", "l"], widths=[1.2, 0.6, 1.1, 0.9, 2.8, 0.8],
                  csv_name="przemieszczenie.csv")
    return Section("Czy przestępczość się przenosi? Przemieszczenie i rozlanie korzyści", findings=findings,
                   table=table, page_break=True)


def _cost_section(db: Published) -> Section:
    points, total, interventions = db.rows("""
        select count(*), sum(total_cost_pln)::double, sum(interventions_total)
        from marts.mart_cost_effectiveness""")[0]
    per_intervention = total / interventions if interventions else None
    prevented = db.rows("""
        select sum(offences_prevented), sum(treated_after * (1 / rate_ratio_ci_high - 1)),
               sum(treated_after * (1 / rate_ratio_ci_low - 1))
        from marts.mart_camera_effect_by_area where rate_ratio > 0""")[0]
    first_year_cost = db.one("""
        select sum(coalesce(capital_cost_pln, 0) + maintenance_cost_pln / nullif(service_years, 0))::double
        from marts.mart_cost_effectiveness where offences_prevented_first_year is not null""")
    cards = [Card("Koszt punktów kamerowych (inwestycja i utrzymanie)", polish.money(total),
                  f"{polish.plural(int(points or 0), 'punkt', 'punkty', 'punktów')}"),
             Card("Koszt jednej interwencji", polish.money(per_intervention),
                  f"{polish.number(interventions)} interwencji z obserwacji kamer")]
    findings = [f"Jedna interwencja z obserwacji kamer kosztuje średnio {polish.money(per_intervention)}."]
    mid, low, high = prevented
    if mid and mid > 0 and first_year_cost:
        lo_cost = first_year_cost / high if high and high > 0 else None
        hi_cost = first_year_cost / low if low and low > 0 else None
        upper = polish.money(hi_cost) if hi_cost else "bez górnej granicy"
        cards.append(Card("Koszt jednego zapobiegniętego czynu (1. rok)", polish.money(first_year_cost / mid),
                          f"95 % CI: {polish.money(lo_cost)} – {upper}"))
        findings.append(f"W pierwszym roku po instalacji kamery zapobiegły około {polish.number(mid)} czynom "
                        f"(95 % CI: {polish.number(max(low, 0))}–{polish.number(high)}).")
    else:
        findings.append("Dane nie pozwalają wykazać, że kamery zapobiegły jakimkolwiek czynom, więc kosztu "
                        "zapobiegnięcia nie da się policzyć.")
    return Section("Koszty", cards=cards, findings=findings, notes=[
        "Koszt 1. roku: inwestycja i roczne utrzymanie kamer ocenionych w pierwszym roku; zapobiegnięte czyny: "
        "oczekiwane minus zaobserwowane w zasięgu kamer (przedział z przedziałów ufności RR, sumowanych "
        "ostrożnie)."])


def _relocation_section(db: Published) -> Section:
    rows = db.rows("""
        select move_rank, camera_point_id, from_location_name, to_area_type, to_latitude, to_longitude,
               remaining_effect_share, offences_prevented_per_year, to_is_near_children_places,
               to_is_near_transit_node, to_has_infrastructure
        from marts.mart_relocation_plan order by move_rank""")
    table = Table(["Nr", "Kamera", "Skąd", "Dokąd (rodzaj miejsca, współrzędne)", "Zostało efektu",
                   "Zapobiegnięte czyny / rok", "Uwagi"],
                  [[str(rank), cam, name, f"{AREA_PL.get(kind, kind)} ({polish.number(lat, 5)}, "
                    f"{polish.number(lon, 5)})", polish.percent(share), polish.number(prevented, 1),
                    ", ".join(x for x, flag in (("szkoły/place zabaw do 300 m", kids), ("węzeł do 300 m", transit),
                                                ("bez światłowodu/zasilania do 100 m", not infra)) if flag)]
                   for rank, cam, name, kind, lat, lon, share, prevented, kids, transit, infra in rows],
                  align=["r", "l", "l", "l", "r", "r", "l"], widths=[0.4, 1, 1.4, 1.8, 0.8, 0.9, 1.6],
                  csv_name="przeniesienia.csv")
    total = sum(r[7] or 0 for r in rows)
    findings = ([f"Przeniesienie {polish.plural(len(rows), 'kamery', 'kamer', 'kamer')} według planu zapobiegłoby "
                 f"około {polish.number(total)} czynom rocznie (model pokrycia, optymalizacja dokładna)."] if rows
                else ["Plan nie proponuje żadnego przeniesienia."])
    assumed = db.rows("select any_value(city_half_life_months) from marts.mart_relocation_plan "
                      "where is_half_life_assumed")
    if rows and assumed and assumed[0][0] is not None:
        findings.append(
            "Tempo wygasania efektu nie daje się zmierzyć w obecnych danych, więc plan przyjmuje okres "
            f"półtrwania {polish.number(assumed[0][0])} mies.: pozostały efekt kamer bez własnego pomiaru "
            "jest założeniem, nie pomiarem.")
    return Section("Rekomendowane przeniesienia kamer", findings=findings, table=table)


def _classification_section(db: Published, first: date) -> Section:
    """The month's records per source the offence taxonomy could not classify
    (mart_offence_classification_quality): they are left out of every camera assessment
    above, so a share over the build's warning threshold is said in words, with the codes."""
    rows = db.rows("""
        select source_system, records, classified_by_chapter, unclassified, unclassified_share,
            is_above_warn_share, unknown_codes, warn_share
        from marts.mart_offence_classification_quality where month_start = ? order by source_system""", [first])
    warn_share = polish.percent(rows[0][7] if rows else None, 0)
    table_rows = [[SOURCE_PL.get(src, src), polish.number(n), polish.number(chapter), polish.number(bad),
                   polish.percent(share, 1), codes or "–"] for src, n, chapter, bad, share, _, codes, _ in rows]
    above = [r for r in rows if r[5]]
    if above:
        findings = [
            f"Uwaga: {polish.percent(share, 1)} rekordów ({polish.number(bad)} z {polish.number(n)}) – "
            f"{SOURCE_PL.get(src, src)} – ma kwalifikację spoza słownika czynów i nie weszło do ocen "
            f"skuteczności kamer. Kody do uzupełnienia w słowniku: {codes}."
            for src, n, _, bad, share, _, codes, _ in above]
    elif rows:
        findings = [f"{polish.in_month(first).capitalize()} słownik czynów sklasyfikował rekordy wszystkich źródeł; "
                    "udział czynów bez klasyfikacji w żadnym źródle nie przekracza "
                    f"{warn_share}."]
    else:
        findings = [f"{polish.in_month(first).capitalize()} nie ma rekordów czynów do sklasyfikowania."]
    return Section("Jakość danych: klasyfikacja czynów", findings=findings,
                   table=Table(["Źródło", "Rekordy", "Tylko wg rozdziału kodeksu", "Bez klasyfikacji", "Udział",
                                "Kody spoza słownika"], table_rows, align=["l", "r", "r", "r", "r", "l"],
                               widths=[2, 1, 1.3, 1.2, 0.8, 3], csv_name="klasyfikacja.csv"),
                   notes=["Klasa czynu wynika z kodeksu i artykułu (k.k., k.w., ustawa o wychowaniu w trzeźwości, "
                          "ustawa o przeciwdziałaniu narkomanii), niezależnie od tego, kto go zarejestrował. "
                          "Artykuł spoza słownika przyjmuje klasę swojego rozdziału kodeksu; czyn bez klasy nie "
                          f"wchodzi do ocen kamer. Powyżej progu ostrzeżenia ({warn_share}) kompilacja danych "
                          "zgłasza ostrzeżenie z nazwą źródła i kodami."])


def _methods_section(db: Published, data_from: date | None, data_to: date | None, cfg: Settings) -> Section:
    return Section("Aneks: metody i ograniczenia", level=1, page_break=True, findings=[
        f"Dane: od {polish.day(data_from)} do {polish.day(data_to)}; zdarzenia Policji (KMP) i Straży Miejskiej, "
        "interwencje operatorów monitoringu, alarmy SOS, rejestry kamer. Wszystkie czasy: czas warszawski."],
        notes=[
            "Efekt kamery: różnica w różnicach – liczba czynów do 150 m od punktu w roku przed i w roku po "
            "instalacji, względem obszaru kontrolnego 500–1000 m (iloraz częstości RR; RR < 1 oznacza spadek). "
            "Przedziały: model quasi-Poissona uwzględniający nadmierną zmienność.",
            "Przemieszczenie: ważony iloraz przemieszczenia (WDQ, Bowers i Johnson) dla pierścienia 150–400 m.",
            "Wygasanie efektu: RR rok po roku względem pierścienia lokalnego; kamera „wygasła”, gdy zostało mniej niż "
            "35 % efektu z pierwszego roku.",
            "Gorące punkty: statystyka Getisa-Orda Gi* na siatce 250 m, poziom 95 %.",
            "Przeniesienia: dokładny model pokrycia lokalizacji (programowanie całkowitoliczbowe, HiGHS).",
            "Ograniczenia: kamer starszych niż dane nie da się ocenić; małe liczby zdarzeń przy pojedynczej kamerze "
            "dają szerokie przedziały – wnioski wyciągamy na poziomie grup miejsc, nie pojedynczych punktów.",
            f"Kompilacja danych: {db.build_id}, opublikowana {polish.warsaw(db.published_at)}.",
        ])


# --------------------------------------------------------------------------- survey wave


def survey_wave_report(cfg: Settings, wave: str, *, published: Path | None = None, out: Path | None = None,
                       run_id: str | None = None) -> Path:
    """Perceived against recorded safety per district for one wave (``2025W``, ``2025J``)."""
    db = open_published(cfg, published)
    try:
        report = _survey(db, wave)
    finally:
        db.con.close()
    report.meta.update({"run_id": run_id, "build_id": db.build_id, "published_at": db.published_at,
                        "published_path": str(db.path), "period": wave})
    return write(report, out or cfg.reports_dir / "survey" / wave)


def _wave_label(wave: str) -> str:
    season = {"W": "wiosna", "J": "jesień"}.get(wave[-1:], wave[-1:])
    return f"{season} {wave[:4]}"


def _survey(db: Published, wave: str) -> Report:
    rows = db.rows("""
        select district_id, district_name, respondents, is_suppressed, unsafe_night_share,
               unsafe_night_share_ci_low, unsafe_night_share_ci_high, offences_per_1000, perception_gap_z,
               unsafe_places_marked, unsafe_places_per_km2
        from marts.mart_district_safety where wave = ? order by district_id""", [wave])
    label = _wave_label(wave)
    if not rows:
        known = ", ".join(r[0] for r in db.rows("select distinct wave from marts.mart_district_safety order by 1"))
        raise LookupError(f"wave {wave} is not in the published warehouse (build {db.build_id}); "
                          f"published waves: {known or 'none'}")
    districts = _districts(db)
    suppressed = {r[0] for r in rows if r[3]}
    shares = {r[0]: r[4] for r in rows if r[4] is not None}
    labels = {r[0]: (f"{r[1]}\nutajnione" if r[3] else
                     f"{r[1]}\n{polish.percent(r[4])} ({polish.number(100 * r[5])}–{polish.number(100 * r[6])})")
              for r in rows}
    choropleth = charts.choropleth(districts, {k: 100 * v for k, v in shares.items()}, labels, suppressed,
                                   legend="czuje się niebezpiecznie nocą (%)")
    shown = [r for r in rows if not r[3] and r[4] is not None]
    findings = []
    if shown:
        worst, best = max(shown, key=lambda r: r[4]), min(shown, key=lambda r: r[4])
        findings.append(f"Najwięcej mieszkańców czuje się nocą niebezpiecznie w dzielnicy {worst[1]}: "
                        f"{polish.percent(worst[4])} (95 % CI: {polish.number(100 * worst[5])}–"
                        f"{polish.number(100 * worst[6])} %); najmniej w dzielnicy {best[1]}: "
                        f"{polish.percent(best[4])}.")
        if worst[5] <= best[6]:
            findings.append("Przedziały ufności skrajnych dzielnic nakładają się: próba nie rozstrzyga, "
                            "czy różnica jest rzeczywista.")
    if suppressed:
        findings.append(f"Wyniki {polish.plural(len(suppressed), 'dzielnicy', 'dzielnic', 'dzielnic')} utajniono "
                        "(mniej niż 10 odpowiedzi, a gdy taka dzielnica jest jedna, także dzielnicę o najmniejszej "
                        "liczbie odpowiedzi spośród pozostałych), by nie dało się rozpoznać respondentów "
                        "ani odtworzyć utajnionych wyników z sumy.")
    gap = [(r[1], r[4], r[7]) for r in shown if r[7] is not None]
    over = [r[1] for r in shown if r[8] is not None and r[8] > 1.96]
    under = [r[1] for r in shown if r[8] is not None and r[8] < -1.96]
    gap_findings = [
        (f"Poczucie zagrożenia wyraźnie wyższe, niż wskazują zarejestrowane zdarzenia: {', '.join(over)}."
         if over else
         "W żadnej dzielnicy poczucie zagrożenia nie odbiega istotnie w górę od zarejestrowanych zdarzeń."),
        (f"Poczucie zagrożenia wyraźnie niższe niż zarejestrowane zdarzenia: {', '.join(under)}." if under else
         "W żadnej dzielnicy poczucie zagrożenia nie jest istotnie niższe od zarejestrowanych zdarzeń.")]
    density = {r[0]: r[10] for r in rows if r[10] is not None}
    density_png = charts.choropleth(districts, density, {r[0]: f"{r[1]}\n{polish.number(r[10], 1)}" for r in rows
                                                          if r[10] is not None}, set(),
                                    legend="miejsca wskazane jako niebezpieczne na km²", cmap="PuRd")
    top_density = max(rows, key=lambda r: r[10] or 0)
    table = Table(["Dzielnica", "Odpowiedzi", "Niebezpiecznie nocą", "95 % CI", "Czyny na 1 000 mieszk.",
                   "Luka (z)"],
                  [[r[1], "<10" if r[3] else polish.number(r[2]), "utajnione" if r[3] else polish.percent(r[4]),
                    "–" if r[3] else f"{polish.number(100 * r[5])}–{polish.number(100 * r[6])} %",
                    polish.number(r[7], 1), "–" if r[3] else polish.number(r[8], 2)] for r in rows],
                  align=["l", "r", "r", "r", "r", "r"], csv_name="dzielnice.csv")
    sections = [
        Section(f"Poczucie bezpieczeństwa nocą – {label}", findings=findings,
                figure=Figure("mapa_poczucie.png", "Odsetek mieszkańców czujących się nocą niebezpiecznie, "
                              "z 95-procentowym przedziałem ufności", choropleth)),
        Section("Poczucie zagrożenia a zarejestrowane zdarzenia", findings=gap_findings, page_break=True,
                figure=Figure("wykres_luka.png", "Dzielnice: odsetek czujących się niebezpiecznie nocą a liczba "
                              "zarejestrowanych czynów na 1 000 mieszkańców", charts.perception_gap(gap)),
                table=table),
        Section("Miejsca wskazane jako niebezpieczne", page_break=True, findings=[
            f"Najwięcej wskazań na km² w dzielnicy {top_density[1]}: {polish.number(top_density[10], 1)}."],
            figure=Figure("mapa_miejsca.png", "Gęstość miejsc wskazanych przez mieszkańców jako niebezpieczne "
                          "(na km² dzielnicy)", density_png),
            notes=["Wskazania pojedynczych respondentów nie są publikowane; mapa pokazuje ich gęstość w dzielnicy."]),
        Section("Aneks: metody i ograniczenia", findings=[
            "Odsetki ważone wagami respondentów; przedziały ufności Wilsona z efektywną liczebnością próby. "
            "Luka (z): różnica między poczuciem zagrożenia a zarejestrowanymi zdarzeniami, obie wielkości "
            "standaryzowane; |z| > 1,96 oznacza istotną rozbieżność.",
            "Dzielnice z mniej niż 10 odpowiedziami są utajnione."]),
    ]
    return Report(kind="survey", key=wave, title="Badanie poczucia bezpieczeństwa",
                  subtitle=f"Fala: {label} · {polish.number(sum(r[2] or 0 for r in rows))} respondentów, "
                           f"{polish.plural(len(rows), 'dzielnica', 'dzielnice', 'dzielnic')}",
                  period_label=f"fala {label}",
                  footer=db.footer, sections=sections)


# --------------------------------------------------------------------------- SOS duty summary


def _mark_path(cfg: Settings) -> Path:
    return cfg.reports_dir / "duty" / "high_water_mark.json"


def sos_duty_summary(cfg: Settings, *, run_id: str | None = None) -> tuple[Path, list[dict[str, Any]], str | None]:
    """Alerts landed since the last summary: the report, the new threat alerts, the new mark.

    The high-water mark (the latest ``ingested_at`` summarised) is kept beside the
    reports and moved on by :func:`commit_duty_mark` only after the duty officer was
    told, so each alert is announced once and none is lost to a failed mail. Each
    summary is kept (``duty/<published time>_<build>/``) and listed in ``duty/index.html``.
    """
    mark_path = _mark_path(cfg)
    mark = json.loads(mark_path.read_text())["ingested_at"] if mark_path.exists() else "1970-01-01 00:00:00+00"
    db = open_published(cfg)
    try:
        rows = db.rows("""
            select event_id, point_id, pressed_at, classification, call_duration_s, camera_point_id,
                   cast(ingested_at as varchar) as ingested_at, is_threat_to_health_life
            from marts.fct_sos_alert where ingested_at > cast(? as timestamptz)
            order by is_threat_to_health_life desc, pressed_at desc""", [mark])
        points = dict(db.rows("select camera_point_id, location_name from marts.dim_camera_point where is_current"))
    finally:
        db.con.close()
    threats = [r for r in rows if r[7]]
    columns = ["Zdarzenie", "Punkt SOS", "Czas (Warszawa)", "Klasyfikacja", "Rozmowa", "Kamera w pobliżu"]

    def line(r: tuple) -> list[str]:
        cam = f"{r[5]} ({points[r[5]]})" if r[5] in points else (r[5] or "–")
        return [r[0], r[1], polish.warsaw(r[2]), SOS_PL.get(r[3], r[3]), f"{polish.number(r[4])} s", cam]

    key = f"{db.published_at.astimezone(polish.WARSAW):%Y-%m-%dT%H%M%S}_{db.build_id}"
    sections = [
        Section("Zagrożenie zdrowia lub życia", findings=[
            f"{polish.plural(len(threats), 'nowy alarm', 'nowe alarmy', 'nowych alarmów')} z zagrożeniem zdrowia "
            "lub życia." if threats else "Brak nowych alarmów z zagrożeniem zdrowia lub życia."],
            table=Table(columns, [line(r) for r in threats], csv_name="zagrozenia.csv") if threats else None),
        Section("Wszystkie nowe alarmy", findings=[
            f"{polish.plural(len(rows), 'nowy alarm', 'nowe alarmy', 'nowych alarmów')} od poprzedniego "
            "podsumowania." if rows else "Od poprzedniego podsumowania nie było nowych alarmów."],
            table=Table(columns, [line(r) for r in rows], csv_name="alarmy.csv") if rows else None),
    ]
    report = Report(kind="duty", key=key, title="SOS – podsumowanie dyżuru",
                    subtitle=f"Stan na {polish.warsaw(db.published_at)} (czas warszawski)",
                    period_label=polish.warsaw(db.published_at), footer=db.footer, sections=sections,
                    meta={"run_id": run_id, "build_id": db.build_id, "published_at": db.published_at,
                          "alerts": len(rows), "threats": len(threats)})
    path = write(report, cfg.reports_dir / "duty" / key)
    _write_duty_index(cfg)
    found = [{"event_id": r[0], "point_id": r[1], "pressed_at": str(r[2]), "classification": r[3]} for r in threats]
    return path, found, max((r[6] for r in rows), default=None)


def _write_duty_index(cfg: Settings) -> Path:
    """``duty/index.html``: every kept summary, newest first, with its alert counts."""
    import html
    import os

    folder = cfg.reports_dir / "duty"
    items = []
    for meta_path in sorted(folder.glob("*/meta.json"), reverse=True):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        items.append(f"<li><a href='{html.escape(meta_path.parent.name)}/raport.html'>"
                     f"{html.escape(meta_path.parent.name)}</a>: {meta.get('alerts', 0)} alarmów, "
                     f"w tym {meta.get('threats', 0)} z zagrożeniem zdrowia lub życia</li>")
    page = ("<!doctype html><html lang='pl'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>SOS – podsumowania dyżurów</title></head><body style='font-family:sans-serif'>"
            "<h1>SOS – podsumowania dyżurów</h1><ul>" + "".join(items) + "</ul></body></html>")
    tmp = folder / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, folder / "index.html")
    return folder / "index.html"


def commit_duty_mark(cfg: Settings, mark: str | None) -> None:
    if mark is not None:
        _mark_path(cfg).write_text(json.dumps({"ingested_at": mark}))
