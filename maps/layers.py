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
    fmap.default_js = [
        ("leaflet", f"{leaflet}leaflet.js"),
        ("leaflet_vectorgrid", f"{static_url}vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
        ("shaozi_planner", f"{static_url}maps/planner.js"),
    ]
    fmap.default_css = [
        ("leaflet_css", f"{leaflet}leaflet.css"),
        ("shaozi_planner_css", f"{static_url}maps/planner.css"),
    ]
    return fmap


class PlannerFrame(MacroElement):
    """Hands the map to planner.js with the frame configuration (layers, legends, filters, basemap, URLs)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        shaoziPlanner({{ this._parent.get_name() }}, {{ this.config | tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, config: dict):
        super().__init__()
        self._name = "PlannerFrame"
        self.config = config
