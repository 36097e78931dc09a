/*
 * 哨子 Shaozi dispute page: the evidence map (the disputed building and those nearby, contested street and district
 * boundaries from /api/v1/areas/{code} labelled by name, rules nearby, linked complaints, the point and its
 * uncertainty circle, footprint shares; the deployment's basemap when one is configured, overlays shifted to
 * GCJ-02 for a GCJ-02 basemap) and the ruling form, whose co-handler list never offers the chosen lead.
 */
(function () {
  "use strict";

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  var data = JSON.parse(document.getElementById("evidence-data").textContent);
  var state = window.shaoziDispute = {areasLoaded: 0, areasFailed: 0};
  var basemap = data.basemap;
  // A view first: vector layers cannot be added to a map that has none.
  var map = L.map("evidence-map", {attributionControl: Boolean(basemap)}).setView([39.93, 116.40], 10);
  state.map = map;
  if (basemap) {
    L.tileLayer(basemap.url, {attribution: escapeHtml(basemap.attribution), maxZoom: 19}).addTo(map);
  }

  // WGS-84 → GCJ-02 (the published forward formula) for overlays drawn over a GCJ-02 basemap.
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * PI) + 320 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return r;
  }
  function shift(lon, lat) {
    if (!basemap || basemap.system !== "gcj02" || outOfChina(lon, lat)) { return [lon, lat]; }
    var dlat = tLat(lon - 105.0, lat - 35.0), dlon = tLon(lon - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * PI, magic = 1 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat), sq = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sq) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sq * Math.cos(radLat) * PI);
    return [lon + dlon, lat + dlat];
  }
  function coords(c) { return L.latLng(shift(c[0], c[1])[1], shift(c[0], c[1])[0]); }
  function geo(geojson, options) { return L.geoJSON(geojson, Object.assign({coordsToLatLng: coords}, options)); }
  var bounds = L.latLngBounds([]);
  var STYLES = {
    district: {color: "#b3261e", weight: 3, fill: false},
    street: {color: "#1d5fa8", weight: 2, dashArray: "6 4", fillOpacity: 0.06}
  };

  if (data.building) {
    var shares = (data.shares || []).map(function (s) {
      return escapeHtml(s.name) + " " + (s.share * 100).toFixed(1) + "%";
    }).join("<br>");
    var building = geo(data.building, {style: {color: "#000", weight: 3, fillColor: "#ffeb3b", fillOpacity: 0.5},
      className: "evidence-building"}).bindPopup("<strong>" + escapeHtml(data.building_name) + "</strong><br>" + shares)
      .addTo(map);
    bounds.extend(building.getBounds());
  }
  if (data.place) {
    var place = geo(data.place, {style: {color: "#6a1b9a", weight: 2, fillOpacity: 0.2}}).addTo(map);
    bounds.extend(place.getBounds());
  }
  if (data.point) {
    var ll = coords(data.point.coordinates);
    L.circleMarker(ll, {radius: 5, color: "#000", fillColor: "#ff5722", fillOpacity: 1}).addTo(map);
    bounds.extend(ll);
    if (data.accuracy_m) {
      L.circle(ll, {radius: data.accuracy_m, color: "#ff5722", weight: 1, dashArray: "3 3",
        fillOpacity: 0.08}).addTo(map);
      bounds.extend(ll.toBounds(data.accuracy_m * 2));
    }
  }
  (data.buildings || []).forEach(function (b) {
    if (b.own) { return; }
    geo(b.geometry, {style: {color: "#666", weight: 1, fillColor: "#bbb", fillOpacity: 0.3}})
      .bindTooltip(escapeHtml(b.name)).addTo(map);
  });
  (data.rules || []).forEach(function (r) {
    geo(r.geometry, {style: {color: "#2e7d32", weight: 2, dashArray: "2 4", fillColor: "#66bb6a", fillOpacity: 0.15},
      className: "evidence-rule"}).bindTooltip(escapeHtml(r.label)).addTo(map);
  });
  (data.complaints || []).forEach(function (c) {
    var m = L.circleMarker(coords([c.lon, c.lat]), {radius: 6, color: "#fff", weight: 2, fillColor: "#1d5fa8",
      fillOpacity: 1, className: "evidence-complaint"}).bindTooltip(escapeHtml(c.label));
    m.on("click", function () { window.location.href = c.url; });
    m.addTo(map);
  });
  if (bounds.isValid()) { map.fitBounds(bounds.pad(1.5), {maxZoom: 18}); }

  // A label point for a street: the point of the street nearest to the dispute, nudged inside it, so that both
  // sides of the line carry their name next to the building (not at the far centre of a large street).
  function labelPoint(layer) {
    var centre = bounds.isValid() ? bounds.getCenter() : layer.getBounds().getCenter();
    var inner = layer.getBounds();
    var best = null;
    layer.eachLayer(function (part) {
      var rings = part.getLatLngs ? part.getLatLngs() : [];
      var flat = [];
      (function walk(x) { if (x.lat !== undefined) { flat.push(x); } else { x.forEach(walk); } })(rings);
      flat.forEach(function (p) {
        var d = p.distanceTo(centre);
        if (best === null || d < best.d) { best = {p: p, d: d}; }
      });
    });
    if (best === null) { return inner.getCenter(); }
    var c = inner.getCenter();
    // a little way from the nearest boundary vertex towards the middle of the street
    return L.latLng(best.p.lat + (c.lat - best.p.lat) * 0.08, best.p.lng + (c.lng - best.p.lng) * 0.08);
  }

  (data.areas || []).forEach(function (area) {
    var url = window.SHAOZI_AREA_URL.replace("CODE", encodeURIComponent(area.code));
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (feature) {
        // Streets are labelled by name where they meet the disputed ground (which side is which); districts on hover.
        var layer = geo(feature, {style: STYLES[area.level] || STYLES.street}).addTo(map);
        if (area.level === "street") {
          var at = labelPoint(layer);
          L.tooltip({permanent: true, direction: "center", className: "area-label"})
            .setLatLng(at).setContent(escapeHtml(area.name)).addTo(map);
        } else {
          layer.bindTooltip(escapeHtml(area.name));
        }
        state.areasLoaded += 1;
        document.body.setAttribute("data-areas-loaded", String(state.areasLoaded));
      })
      .catch(function () { state.areasFailed += 1; });
  });

  // ---- the ruling form: the co-handler list never offers the lead ------------------------------------------
  var form = document.getElementById("ruling-form");
  if (!form) { return; }
  function syncCoHandlers() {
    var lead = form.elements.lead_code.value;
    Array.prototype.forEach.call(form.querySelectorAll('input[name="co_handler_codes"]'), function (el) {
      var isLead = el.value === lead;
      if (isLead) { el.checked = false; }
      el.disabled = isLead;
      el.parentNode.style.display = isLead ? "none" : "";
    });
  }
  form.elements.lead_code.addEventListener("change", syncCoHandlers);
  syncCoHandlers();
})();
