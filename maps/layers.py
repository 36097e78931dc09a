"""folium elements the planner map is built from, with every asset served from our own static files."""

from __future__ import annotations

import folium
from branca.element import MacroElement
from jinja2 import Template


def offline_map(*, static_url: str, **kwargs) -> folium.Map:
    """A folium Map that loads Leaflet from `static_url` instead of CDNs (the network may have no internet)."""
    fmap = folium.Map(**kwargs)
    leaflet = f"{static_url}vendor/leaflet/"
    # Instance attributes, read when the map renders; folium's class defaults point at CDNs.
    fmap.default_js = [("leaflet", f"{leaflet}leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{leaflet}leaflet.css")]
    return fmap


class RemoteGeoJson(folium.map.Layer):
    """A GeoJSON layer the browser fetches from our API (folium's own would fetch it in Python, with jQuery).

    `style` is a Leaflet path style; `label_property` names the feature property shown as a tooltip;
    `labels` draws permanent labels at each feature's `label_point`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(null, {
            style: function () { return {{ this.style | tojson }}; },
            onEachFeature: function (feature, layer) {
                layer.bindTooltip(String(feature.properties[{{ this.label_property | tojson }}]), {sticky: true});
            }
        });
        {%- if this.labels %}
        var {{ this.get_name() }}_labels = L.layerGroup();
        {%- endif %}
        fetch({{ this.url | tojson }}, {headers: {"Accept": "application/json"}})
            .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
            .then(function (data) {
                {{ this.get_name() }}.addData(data);
                {%- if this.labels %}
                data.features.forEach(function (f) {
                    var p = f.properties.label_point;
                    if (!p) { return; }
                    L.marker([p[1], p[0]], {
                        interactive: false,
                        icon: L.divIcon({className: "shaozi-label", html: f.properties.name, iconSize: null})
                    }).addTo({{ this.get_name() }}_labels);
                });
                {%- endif %}
                document.body.dataset[{{ this.ready_key | tojson }}] = String(data.features.length);
            })
            .catch(function () { shaoziNotice("图层加载失败 layer failed: " + {{ this.layer_name | tojson }}); });
        {%- if this.labels %}
        {{ this.get_name() }}.on("add", function (e) { {{ this.get_name() }}_labels.addTo(e.target._map); });
        {{ this.get_name() }}.on("remove", function () { {{ this.get_name() }}_labels.remove(); });
        {%- endif %}
        {%- if this.show %}
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, url: str, *, name: str, style: dict, label_property: str = "name", labels=False, show=True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "RemoteGeoJson"
        self.url = url
        self.style = style
        self.label_property = label_property
        self.labels = labels
        self.layer_name = name
        self.ready_key = f"layer{self.get_name().split('_')[-1]}"


class ClickVerdict(MacroElement):
    """On a click anywhere, ask the jurisdiction API and show the verdict in a popup (zh-Hans first)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on("click", function (e) {
            var lon = e.latlng.lng.toFixed(7), lat = e.latlng.lat.toFixed(7);
            var popup = L.popup().setLatLng(e.latlng).setContent("查询中… looking up").openOn(e.target);
            fetch({{ this.url | tojson }} + "?lon=" + lon + "&lat=" + lat + "&crs=" + {{ this.crs | tojson }})
                .then(function (r) { return r.json(); })
                .then(function (v) { popup.setContent(shaoziVerdictHtml(v)); })
                .catch(function () { popup.setContent("查询失败 lookup failed"); });
        });
        {% endmacro %}
        """
    )

    def __init__(self, url: str, crs: str = "wgs84"):
        super().__init__()
        self._name = "ClickVerdict"
        self.url = url
        self.crs = crs
