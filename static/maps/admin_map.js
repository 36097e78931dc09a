// 管理后台地图 Admin pages: draw a record's geometry (GeoJSON in data-geojson) on a small Leaflet map.
(function () {
  "use strict";
  function draw(el) {
    var geojson = JSON.parse(el.getAttribute("data-geojson"));
    var basemap = JSON.parse(el.getAttribute("data-basemap") || "{}");
    var map = L.map(el, { attributionControl: !!basemap.url });
    if (basemap.url) {
      L.tileLayer(basemap.url, { attribution: basemap.attribution || "" }).addTo(map);
    }
    var layer = L.geoJSON(geojson, {
      style: { color: "#c0392b", weight: 2, fillOpacity: 0.15 },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#c0392b" });
      },
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
    } else {
      map.setView([39.9, 116.4], 10);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".shaozi-admin-map").forEach(draw);
  });
})();
