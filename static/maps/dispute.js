/*
 * 哨子 Shaozi dispute page: the evidence map (building footprint, contested street and district boundaries from
 * /api/v1/areas/{code}, the point and its uncertainty circle, footprint shares) and the ruling form, which posts
 * to /api/v1/disputes/{id}/ruling with the session and CSRF token and shows the API's answer (403: why not).
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
  // A view first: vector layers cannot be added to a map that has none.
  var map = L.map("evidence-map", {attributionControl: false}).setView([39.93, 116.40], 10);
  state.map = map;
  var bounds = L.latLngBounds([]);
  var STYLES = {
    district: {color: "#b3261e", weight: 3, fill: false},
    street: {color: "#1d5fa8", weight: 2, dashArray: "6 4", fillOpacity: 0.06}
  };

  if (data.building) {
    var shares = (data.shares || []).map(function (s) {
      return escapeHtml(s.name) + " " + (s.share * 100).toFixed(1) + "%";
    }).join("<br>");
    var building = L.geoJSON(data.building, {style: {color: "#000", weight: 3, fillColor: "#ffeb3b", fillOpacity: 0.5},
      className: "evidence-building"}).bindPopup("<strong>" + escapeHtml(data.building_name) + "</strong><br>" + shares)
      .addTo(map);
    bounds.extend(building.getBounds());
  }
  if (data.place) {
    var place = L.geoJSON(data.place, {style: {color: "#6a1b9a", weight: 2, fillOpacity: 0.2}}).addTo(map);
    bounds.extend(place.getBounds());
  }
  if (data.point) {
    var ll = L.latLng(data.point.coordinates[1], data.point.coordinates[0]);
    L.circleMarker(ll, {radius: 5, color: "#000", fillColor: "#ff5722", fillOpacity: 1}).addTo(map);
    bounds.extend(ll);
    if (data.accuracy_m) {
      L.circle(ll, {radius: data.accuracy_m, color: "#ff5722", weight: 1, dashArray: "3 3",
        fillOpacity: 0.08}).addTo(map);
      bounds.extend(ll.toBounds(data.accuracy_m * 2));
    }
  }
  if (bounds.isValid()) { map.fitBounds(bounds.pad(1.5), {maxZoom: 18}); }

  (data.areas || []).forEach(function (area) {
    var url = window.SHAOZI_AREA_URL.replace("CODE", encodeURIComponent(area.code));
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (feature) {
        L.geoJSON(feature, {style: STYLES[area.level] || STYLES.street})
          .bindTooltip(escapeHtml(area.name) + " " + escapeHtml(area.code))
          .addTo(map);
        state.areasLoaded += 1;
        document.body.setAttribute("data-areas-loaded", String(state.areasLoaded));
      })
      .catch(function () { state.areasFailed += 1; });
  });

  // ---- the ruling form ---------------------------------------------------------------------------------
  var form = document.getElementById("ruling-form");
  if (!form) { return; }
  var result = document.getElementById("ruling-result");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var lead = form.elements.lead_code.value;
    var co = Array.prototype.filter.call(form.querySelectorAll('input[name="co_handler_codes"]'), function (el) {
      return el.checked && el.value !== lead;
    }).map(function (el) { return el.value; });
    var body = {
      lead_code: lead,
      co_handler_codes: co,
      reason: form.elements.reason.value,
      make_rule: form.elements.make_rule.checked
    };
    if (form.elements.valid_from.value) { body.valid_from = form.elements.valid_from.value; }
    result.hidden = false;
    result.className = "result";
    result.textContent = "…";
    fetch(form.getAttribute("data-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value
      },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (json) { return {status: r.status, json: json}; });
    }).then(function (answer) {
      if (answer.status === 200) {
        var ruling = answer.json.properties.ruling;
        var missing = ruling.missing_confirmations.length
          ? "待确认 still to confirm: " + ruling.missing_confirmations.join(", ")
          : "已生效 in effect";
        result.className = "result ok";
        result.setAttribute("data-status", "ok");
        result.textContent = "裁定 #" + ruling.id + "（" + ruling.status + "）— " + missing;
        setTimeout(function () { location.reload(); }, 1500);
      } else {
        var message = answer.json.error ? answer.json.error.message : String(answer.status);
        result.className = "result warn";
        result.setAttribute("data-status", String(answer.status));
        result.textContent = (answer.status === 403 ? "无权裁定 not allowed: " : "未能提交 not accepted: ") + message;
      }
    }).catch(function () {
      result.className = "result warn";
      result.textContent = "提交失败 request failed";
    });
  });
})();
