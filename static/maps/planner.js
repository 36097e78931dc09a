/* Shaozi planner map helpers: verdict popups and notices (zh-Hans first). */
function shaoziEscape(text) {
  return String(text).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}

function shaoziArea(area) {
  return area ? shaoziEscape(area.name) + " <small>" + shaoziEscape(area.code) + "</small>" : "—";
}

function shaoziVerdictHtml(v) {
  if (v.error) {
    return '<span class="warn">' + shaoziEscape(v.error.message) + "</span>";
  }
  var rows = [
    ["区 district", shaoziArea(v.district)],
    ["街道/乡镇 street", shaoziArea(v.street)],
    ["边界版本 generation", v.generation ? shaoziEscape(v.generation.name) : "—"],
    ["坐标 WGS-84", v.point.coordinates.map(function (n) { return n.toFixed(6); }).join(", ")]
  ];
  var html = '<table class="shaozi-verdict" data-method="' + shaoziEscape(v.method) + '">';
  rows.forEach(function (r) { html += "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>"; });
  html += "</table>";
  if (v.on_boundary) {
    html += '<div class="warn">位于共用边界 on a shared boundary: ' +
      v.candidates.map(function (c) { return shaoziEscape(c.name); }).join("、") + "</div>";
  }
  if (!v.district && !v.street) {
    html += '<div class="warn">不在任何辖区内 outside every area</div>';
  }
  return html;
}

function shaoziNotice(text) {
  var el = document.getElementById("shaozi-notice");
  if (el) { el.textContent = text; el.hidden = false; }
}
