/* The Safety Map page (serving/map_page.py): draws the inlined data with Leaflet.
   Every layer has its own pane and SVG renderer and its own CSS class (ksp-<layer>),
   so that what is drawn can be counted in the DOM; window.ksp exposes the map for tests. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("ksp-data").textContent);

  function esc(s) {
    return String(s === null || s === undefined ? "–" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  // 1234.5 -> "1 234,5": a comma decimal mark, a non-breaking space between thousands
  function num(x, d) {
    if (x === null || x === undefined || isNaN(x)) { return "–"; }
    var parts = Number(x).toFixed(d || 0).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    return parts.join(",");
  }
  function ll(p) { return [p[1], p[0]]; }          // [lon, lat] -> Leaflet's [lat, lon]
  function ring(r) { return r.map(ll); }
  function district(id) { return D.meta.districtNames[id] || "–"; }
  function row(k, v) { return "<tr><th>" + esc(k) + "</th><td>" + v + "</td></tr>"; }

  var map = L.map("map", {zoomSnap: 0.25, zoomDelta: 0.5, minZoom: 9, maxZoom: 18});
  map.attributionControl.setPrefix("Leaflet " + esc(L.version));
  map.attributionControl.addAttribution("Dane: hurtownia KSP, publikacja " + esc(D.meta.buildId));

  var Z = {districts: 410, hotspots: 420, schools: 430, patrol: 440, moves: 450, cameras: 460};
  var renderers = {};
  Object.keys(Z).forEach(function (name) {
    map.createPane("ksp-" + name).style.zIndex = Z[name];
    renderers[name] = L.svg({pane: "ksp-" + name, padding: 0.5});
  });
  function opts(name, o) { o.pane = "ksp-" + name; o.renderer = renderers[name]; return o; }

  // ------------------------------------------------------------------ districts (always on)
  var districts = L.geoJSON(D.districts, opts("districts", {
    style: {color: "#6f6f6f", weight: 1.3, fillColor: "#fbf8f1", fillOpacity: 1, className: "ksp-district"},
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup("<div class='ksp-popup'><h3>" + esc(p.fullName) + "</h3><table>" +
        row("Powierzchnia", esc(p.area) + "\u00a0km²") + row("Mieszkańcy (2019)", esc(p.population)) +
        "</table></div>");
    }
  })).addTo(map);
  var labelTips = D.districts.features.map(function (f) {
    var t = L.tooltip({permanent: true, direction: "center", className: "ksp-district-label", interactive: false})
      .setLatLng(ll(f.properties.label));
    t.kspFull = esc(f.properties.no + " " + f.properties.name);
    t.kspShort = f.properties.areaKm2 < 10 ? esc(f.properties.no) : t.kspFull;  // the small central ones
    return t;
  });
  function relabel() {
    var full = map.getZoom() >= 12.5;
    labelTips.forEach(function (t) { t.setContent(full ? t.kspFull : t.kspShort); });
  }
  var labels = L.layerGroup(labelTips).addTo(map);
  map.on("zoomend", relabel);

  var CLASSES = D.labels.offenceClasses;

  // ------------------------------------------------------------------ camera points
  var cameras = L.layerGroup(D.cameras.map(function (c) {
    var kind = D.cameraKinds[c.kind] || {label: c.kind, colour: "#555"};
    var fx = c.effects.map(function (e) {
      // e = [offence class, RR, 95 % low, high, offences within 150 m before, after, verdict]
      return "<tr><td>" + esc(CLASSES[e[0]]) + "</td><td class='num'>" + esc(num(e[1], 2)) + "</td><td class='num'>" +
        esc(num(e[2], 2)) + "–" + esc(num(e[3], 2)) + "</td><td class='num'>" + esc(e[4]) + " → " + esc(e[5]) +
        "</td><td>" + esc(D.labels.verdicts[e[6]]) + "</td></tr>";
    }).join("");
    var html = "<div class='ksp-popup'><h3>" + esc(c.name) + "</h3><table>" +
      row("Punkt", esc(c.id)) + row("Rodzaj", esc(kind.label)) + row("Dzielnica", esc(district(c.district))) +
      row("Kamer w punkcie", esc(c.cameras)) + row("Uruchomiony", esc(c.installed)) +
      row("Na tym stanowisku od", esc(c.since) + (c.position > 1 ? " (po przeniesieniu)" : "")) +
      (c.area ? row("Otoczenie", esc(c.area)) : "") +
      row("Ocena skuteczności", "<span class='ksp-verdict'>" + esc(c.verdict) + "</span>") +
      row("Wygasanie efektu", esc(c.fade)) + "</table>" +
      (fx ? "<table><tr><th>Kategoria</th><th>RR</th><th>przedział 95\u00a0%</th><th>przed → po</th><th>Ocena</th></tr>" +
            fx + "</table><p class='ksp-muted'>RR &lt; 1: mniej przestępstw w promieniu 150 m, niż wskazuje trend " +
            "otoczenia (500–1000 m), 12 miesięcy przed i po.</p>" : "") + "</div>";
    return L.circleMarker(ll(c.ll), opts("cameras", {
      radius: c.kind === "city_monitoring" ? 5 : 6.5, color: "#ffffff", weight: 1.5,
      fillColor: kind.colour, fillOpacity: 0.95, className: "ksp-camera ksp-camera-" + c.kind
    })).bindPopup(html, {maxWidth: 520});
  }));

  // ------------------------------------------------------------------ this year's hot spots
  var HOT = {99: "#b2182b", 95: "#ef8a62"};
  var hotspots = L.layerGroup(D.hotspots.map(function (h) {
    // h = {cell, d: district, lvl: 99 or 95, cov: camera within 150 m, pers: hot in other years, cls: [...]}
    var cls = h.cls.map(function (c) {  // c = [offence class, 99 % (1) or 95 % (0), Gi* z, offences]
      return "<tr><td>" + esc(CLASSES[c[0]]) + "</td><td>" + (c[1] ? "99\u00a0%" : "95\u00a0%") +
        "</td><td class='num'>" + esc(num(c[2], 2)) + "</td><td class='num'>" + esc(num(c[3])) + "</td></tr>";
    }).join("");
    return L.polygon(ring(D.cells[h.cell]), opts("hotspots", {
      color: HOT[h.lvl], weight: 0.6, fillColor: HOT[h.lvl], fillOpacity: 0.5,
      className: "ksp-hotspot ksp-hotspot-" + h.lvl
    })).bindPopup("<div class='ksp-popup'><h3>Gorący punkt " + esc(D.meta.hotspotYear) + " – kwadrat " +
      esc(h.cell) + "</h3><table>" + row("Dzielnica", esc(district(h.d))) +
      row("Kamera w promieniu 150 m", h.cov ? "tak" : "<b>nie</b>") +
      row("Gorący punkt także w innych latach", h.pers ? "tak (trwały)" : "nie") + "</table>" +
      "<table><tr><th>Kategoria</th><th>Istotność</th><th>Gi* z</th><th>Przestępstwa</th></tr>" + cls +
      "</table></div>", {maxWidth: 460});
  }));

  // ------------------------------------------------------------------ patrol risk by hour of week
  var P = D.patrol;
  // colour: offences in the cell at that hour over the 52 weeks, in up to five integer classes
  var PALETTE = ["#fed976", "#feb24c", "#fd8d3c", "#e31a1c", "#99000d"];
  var patrolBins = (function (max) {
    var bins = [], k, e;
    if (max <= 5) {
      for (k = 1; k <= Math.max(1, max); k++) { bins.push([k, k]); }
    } else {
      e = [0, 1, 2, 3, 4, 5].map(function (i) { return Math.round(1 + (max - 1) * i / 5); });
      for (k = 0; k < 5; k++) { bins.push([e[k], k < 4 ? e[k + 1] - 1 : max]); }
    }
    return bins.map(function (b, i) { return {lo: b[0], hi: b[1], colour: PALETTE[PALETTE.length - bins.length + i]}; });
  })(P.maxOffences);
  function patrolColour(n) {
    for (var i = 0; i < patrolBins.length; i++) { if (n <= patrolBins[i].hi) { return patrolBins[i].colour; } }
    return patrolBins[patrolBins.length - 1].colour;
  }
  function hourSpan(h) { return P.labels[h] + "–" + P.labels[(h + 1) % 168].split(" ")[1]; }
  var patrol = L.layerGroup();
  var currentHour = P.busiest;
  function drawHour(h) {
    currentHour = h;
    patrol.clearLayers();
    P.hours[h].forEach(function (r, i) {
      // r = [cell, offences in 52 weeks, per week, share of the hour (%), district, instrumental, affective]
      L.polygon(ring(D.cells[r[0]]), opts("patrol", {
        color: "#4d0000", weight: 2.5, fillColor: patrolColour(r[1]), fillOpacity: 0.8,
        className: "ksp-patrol"
      })).bindPopup("<div class='ksp-popup'><h3>" + esc(hourSpan(h)) + " – kwadrat " + esc(r[0]) + "</h3><table>" +
        row("Miejsce w tej godzinie", esc(i + 1) + " z " + esc(P.hours[h].length)) +
        row("Dzielnica", esc(district(r[4]))) +
        row("Przestępstwa w tej godzinie (52 tygodnie)", esc(num(r[1]))) +
        row("Średnio na tydzień", esc(num(r[2], 2))) +
        row("Udział w przestępstwach miasta o tej godzinie", esc(num(r[3], 1)) + "\u00a0%") +
        row("w tym przeciwko mieniu", esc(num(r[5]))) +
        row("w tym afektywne, alkohol, narkotyki", esc(num(r[6]))) + "</table></div>").addTo(patrol);
    });
    if (hourControl) { hourControl.sync(); }
    return P.hours[h].length;
  }

  // ------------------------------------------------------------------ recommended moves
  var moves = L.layerGroup();
  D.moves.forEach(function (m) {
    var html = "<div class='ksp-popup'><h3>Przeniesienie nr " + esc(m.rank) + ": " + esc(m.camera) + "</h3><table>" +
      row("Skąd", esc(m.from) + " (" + esc(district(m.district)) + ")") +
      row("Dokąd", "teren " + esc(m.area)) +
      row("Szkoły, przedszkola, place zabaw w 300 m", esc(m.children)) +
      row("Węzeł przesiadkowy w 300 m", esc(m.transit)) + row("Światłowód i zasilanie w 100 m", esc(m.infra)) +
      row("Pozostały efekt kamery na obecnym miejscu", esc(m.remaining) + "\u00a0%") +
      row("Zapobiegnięte przestępstwa rocznie (nowe miejsce)", esc(m.prevented)) +
      row("Zysk ważony: nowe miejsce / obecne / netto", esc(m.gained) + " / " + esc(m.givenUp) + " / " + esc(m.net)) +
      row("Rozwiązanie", esc(m.solver)) + "</table></div>";
    L.polyline([ll(m.a), ll(m.b)], opts("moves", {
      color: "#222222", weight: 3, dashArray: "7 5", className: "ksp-move"
    })).bindPopup(html, {maxWidth: 460}).addTo(moves);
    L.circleMarker(ll(m.b), opts("moves", {
      radius: 7, color: "#222222", weight: 3, fillColor: "#ffffff", fillOpacity: 1, className: "ksp-move-to"
    })).bindPopup(html, {maxWidth: 460}).addTo(moves);
  });

  // ------------------------------------------------------------------ uncovered schools
  var schools = L.layerGroup(D.schools.map(function (s) {
    return L.circleMarker(ll(s.ll), opts("schools", {
      radius: 4, color: s.urgent ? "#c2185b" : "#8c8c8c", weight: s.urgent ? 2.5 : 1.5, fillColor: "#ffffff",
      fillOpacity: 1, className: "ksp-school" + (s.urgent ? " ksp-school-urgent" : "")
    })).bindPopup("<div class='ksp-popup'><h3>" + esc(s.kind) + ": " + esc(s.name) + "</h3><table>" +
      row("Dzielnica", esc(district(s.district))) +
      row("Najbliższa kamera", s.camera ? esc(s.camera) + ", " + esc(s.distance) + "\u00a0m" : "brak w promieniu 1\u00a0km") +
      row("Gorący punkt w promieniu 250 m", s.nearHotspot ? "<b>tak</b>" : "nie") +
      row("Przestępstwa w promieniu 300 m (ostatnie 365 dni)", esc(s.offences)) + "</table></div>");
  }));

  // ------------------------------------------------------------------ controls
  var names = {
    cameras: "Punkty kamerowe",
    hotspots: "Gorące punkty " + D.meta.hotspotYear,
    patrol: "Ryzyko w godzinie tygodnia",
    moves: "Proponowane przeniesienia",
    schools: "Szkoły bez pokrycia"
  };
  var layers = {cameras: cameras, hotspots: hotspots, patrol: patrol, moves: moves, schools: schools};
  var counts = {cameras: D.cameras.length, hotspots: D.hotspots.length, moves: D.moves.length, schools: D.schools.length};
  var overlays = {};
  ["cameras", "hotspots", "patrol", "moves", "schools"].forEach(function (k) {
    var extra = k === "patrol" ? "" : " <span class='ksp-muted'>(" + (counts[k] ? num(counts[k]) : "brak") + ")</span>";
    overlays["<span data-layer='" + k + "'>" + esc(names[k]) + "</span>" + extra] = layers[k];
  });
  var layerControl = L.control.layers(null, overlays, {collapsed: false, position: "topright", sortLayers: false}).addTo(map);


  var hourControl = null;
  var HourControl = L.Control.extend({
    onAdd: function () {
      var div = L.DomUtil.create("div", "ksp-box ksp-hour");
      var days = ["poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"];
      div.innerHTML = "<h1>Mapa Bezpieczeństwa Krakowa</h1>" +
        "<p class='ksp-muted'>Publikacja <b>" + esc(D.meta.buildId) + "</b> z " + esc(D.meta.publishedAt) +
        " (czas warszawski); dane o przestępstwach do " + esc(D.meta.horizon) + ".</p>" +
        "<h2>Ryzyko w godzinie tygodnia</h2>" +
        "<div class='ksp-hour-label' id='ksp-hour-label'></div>" +
        "<input type='range' id='ksp-hour' min='0' max='167' step='1' aria-label='Godzina tygodnia'>" +
        "<div class='ksp-hour-row'><button type='button' id='ksp-hour-prev' title='Godzina wcześniej'>◀</button>" +
        "<select id='ksp-day' aria-label='Dzień tygodnia'>" + days.map(function (d, i) {
          return "<option value='" + i + "'>" + d + "</option>"; }).join("") + "</select>" +
        "<select id='ksp-hod' aria-label='Godzina'>" + Array.from({length: 24}, function (_, i) {
          return "<option value='" + i + "'>" + (i < 10 ? "0" : "") + i + ":00</option>"; }).join("") + "</select>" +
        "<button type='button' id='ksp-hour-next' title='Godzina później'>▶</button></div>" +
        "<p class='ksp-muted' id='ksp-hour-note'></p>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      var self = this;
      this.div = div;
      function q(id) { return div.querySelector("#" + id); }
      q("ksp-hour").addEventListener("input", function (e) { drawHour(+e.target.value); });
      q("ksp-day").addEventListener("change", function () { drawHour(+q("ksp-day").value * 24 + +q("ksp-hod").value); });
      q("ksp-hod").addEventListener("change", function () { drawHour(+q("ksp-day").value * 24 + +q("ksp-hod").value); });
      q("ksp-hour-prev").addEventListener("click", function () { drawHour((currentHour + 167) % 168); });
      q("ksp-hour-next").addEventListener("click", function () { drawHour((currentHour + 1) % 168); });
      self.sync = function () {
        q("ksp-hour").value = currentHour;
        q("ksp-day").value = Math.floor(currentHour / 24);
        q("ksp-hod").value = currentHour % 24;
        q("ksp-hour-label").textContent = hourSpan(currentHour);
        q("ksp-hour-note").textContent = "Kwadraty 250 m z największą liczbą przestępstw o tej godzinie: " +
          P.hours[currentHour].length + " (najwyżej " + P.top + "). Dane: " + (P.window || "–") +
          ". Na starcie: najbardziej obciążona godzina tygodnia.";
      };
      return div;
    }
  });
  hourControl = new HourControl({position: "topleft"}).addTo(map);

  var Legend = L.Control.extend({
    onAdd: function () {
      var div = L.DomUtil.create("div", "ksp-box ksp-legend");
      var kinds = Object.keys(D.cameraKinds).map(function (k) {
        return "<tr><td><span class='ksp-sw dot' style='background:" + D.cameraKinds[k].colour + "'></span></td><td>" +
          esc(D.cameraKinds[k].label) + "</td></tr>";
      }).join("");
      var bins = patrolBins.map(function (b) {
        return "<tr><td><span class='ksp-sw patrol' style='background:" + b.colour + "'></span></td><td>" +
          (b.lo === b.hi ? num(b.lo) : num(b.lo) + "–" + num(b.hi)) + "</td></tr>";
      }).join("");
      div.innerHTML = "<h2 title='Kliknij, aby zwinąć lub rozwinąć' style='cursor:pointer'>Legenda ▾</h2><table>" +
        "<tr><td colspan='2'><b>Punkty kamerowe</b> (kolor: rodzaj; ocena skuteczności w dymku)</td></tr>" + kinds +
        "<tr><td colspan='2'><b>Gorące punkty " + esc(D.meta.hotspotYear) + "</b> (Gi*, kwadraty 250 m)" +
        (D.meta.hotspotNote ? "<br><span class='ksp-muted'>" + esc(D.meta.hotspotNote) + "</span>" : "") + "</td></tr>" +
        "<tr><td><span class='ksp-sw' style='background:" + HOT[99] + "'></span></td><td>istotny na poziomie 99 %</td></tr>" +
        "<tr><td><span class='ksp-sw' style='background:" + HOT[95] + "'></span></td><td>istotny na poziomie 95 %</td></tr>" +
        "<tr><td colspan='2'><b>Ryzyko w godzinie tygodnia</b> (przestępstwa w kwadracie o tej godzinie " +
        "w ciągu 52 tygodni)</td></tr>" + bins +
        "<tr><td colspan='2'><b>Proponowane przeniesienia</b>" +
        (D.moves.length ? "" : "<br><span class='ksp-muted'>brak w tej publikacji</span>") + "</td></tr>" +
        "<tr><td><span class='ksp-sw line'></span></td><td>z obecnego miejsca do nowego (○)</td></tr>" +
        "<tr><td colspan='2'><b>Szkoły bez pokrycia</b> (szkoły i przedszkola bez kamery w 150 m)</td></tr>" +
        "<tr><td><span class='ksp-sw ring' style='border-color:#c2185b'></span></td><td>gorący punkt w pobliżu (250 m)</td></tr>" +
        "<tr><td><span class='ksp-sw ring' style='border-color:#8c8c8c'></span></td><td>pozostałe</td></tr>" +
        "</table>";
      div.querySelector("h2").addEventListener("click", function () {
        var t = div.querySelector("table");
        t.style.display = t.style.display === "none" ? "" : "none";
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Legend({position: "bottomright"}).addTo(map);

  // ------------------------------------------------------------------ initial view
  var bounds = districts.getBounds();
  map.fitBounds(bounds, {paddingTopLeft: [300, 10], paddingBottomRight: [10, 10]});
  relabel();
  map.setMaxBounds(bounds.pad(0.5));
  drawHour(currentHour);
  ["cameras", "patrol", "moves", "schools"].forEach(function (k) { layers[k].addTo(map); });

  window.ksp = {map: map, layers: layers, names: names, setHour: drawHour, hour: function () { return currentHour; },
                layerControl: layerControl, labels: labels, data: D};
  map.whenReady(function () {
    window.requestAnimationFrame(function () {
      window.kspReady = true;
      document.documentElement.setAttribute("data-ksp-ready", "1");
    });
  });
})();
