/*
 * 哨子 Shaozi staff desk: the small map of the complaints on the page (or of one complaint), and forms that post
 * to the API (class "api-form", data-api = the URL): JSON with the session and the CSRF token; the answer (or the
 * API's reason for a refusal) is shown beside the button.
 */
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function smallMap(id) {
    var el = document.getElementById(id);
    if (!el || !window.L) { return null; }
    var map = L.map(el, {attributionControl: false}).setView([39.9, 116.4], 11);
    return map;
  }

  var points = data("desk-points");
  if (points) {
    var map = smallMap("desk-map");
    if (map) {
      var bounds = L.latLngBounds([]);
      points.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.lon], {
          radius: 6, weight: 1, color: "#333", fillOpacity: 0.9,
          fillColor: p.overdue ? "#c62828" : "#1d5fa8", className: "desk-point"
        }).bindTooltip(p.label).on("click", function () { window.location.href = p.url; });
        marker.addTo(map);
        bounds.extend([p.lat, p.lon]);
      });
      if (bounds.isValid()) { map.fitBounds(bounds.pad(0.3), {maxZoom: 16}); }
    }
  }
  var point = data("complaint-point");
  if (point) {
    var one = smallMap("complaint-map");
    if (one) {
      one.setView([point.lat, point.lon], 16);
      L.circleMarker([point.lat, point.lon], {radius: 7, color: "#000", fillColor: "#ff5722", fillOpacity: 1})
        .addTo(one);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.api-form"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.name !== "csrfmiddlewaretoken" && el.type !== "submit") { body[el.name] = el.value; }
      });
      var result = form.querySelector(".result");
      result.textContent = "…";
      fetch(form.getAttribute("data-api"), {
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
        if (answer.status < 300) {
          result.setAttribute("data-status", "ok");
          var then = form.getAttribute("data-then");
          if (then === "plan" && answer.json.id) { window.location.href = "/fix-plans/" + answer.json.id + "/"; }
          else { window.location.reload(); }
        } else {
          result.setAttribute("data-status", String(answer.status));
          result.className = "result warn";
          result.textContent = answer.json.error ? answer.json.error.message : String(answer.status);
        }
      }).catch(function () { result.textContent = "提交失败 request failed"; });
    });
  });
})();
