/*
 * 哨子 Shaozi planner map frame (zh-Hans first, English switch).
 *
 * shaoziPlanner(map, config) draws the vector-tile layers listed in `config.layers` (Leaflet.VectorGrid, SVG
 * renderer), and adds the layer control, legends, filter panel, coordinate-system note, click → verdict popup
 * and the permalink: centre, zoom, visible layers, filters and language live in the URL hash, e.g.
 *   #map=12/39.91000/116.39000&layers=districts,streets&area=110102&at=2024-05-01&lang=en
 * The state is exposed as window.shaozi for tests and debugging.
 */
(function (global) {
  "use strict";

  var TEXT = {
    layers: {zh: "图层", en: "Layers"},
    legend: {zh: "图例", en: "Legend"},
    filters: {zh: "筛选", en: "Filters"},
    all: {zh: "全部", en: "all"},
    district: {zh: "区", en: "District"},
    street: {zh: "街道/乡镇", en: "Street/township"},
    community: {zh: "社区/村", en: "Community"},
    generation: {zh: "边界版本", en: "Boundary version"},
    point: {zh: "坐标 WGS-84", en: "Point (WGS-84)"},
    lookingUp: {zh: "查询中…", en: "Looking up…"},
    lookupFailed: {zh: "查询失败", en: "Lookup failed"},
    onBoundary: {zh: "位于共用边界", en: "On a shared boundary"},
    outside: {zh: "不在任何辖区内", en: "Outside every area"},
    needsReview: {zh: "需人工复核", en: "Needs human review"},
    lead: {zh: "主办", en: "Lead"},
    coHandlers: {zh: "协办", en: "Co-handlers"},
    method: {zh: "判定方式", en: "Decided by"},
    reasons: {zh: "依据", en: "Reasons"},
    apiObject: {zh: "接口对象", en: "API object"},
    download: {zh: "下载 GeoJSON", en: "GeoJSON"},
    clear: {zh: "清除筛选", en: "Clear filters"},
    systemWgs84: {zh: "坐标系：WGS-84", en: "Coordinates: WGS-84"},
    systemGcj02: {
      zh: "坐标系：GCJ-02（与高德/腾讯底图一致，叠加图层已偏移）",
      en: "Coordinates: GCJ-02 (as the Amap/Tencent basemap; overlays shifted)"
    },
    basemap: {zh: "底图", en: "Basemap"},
    yes: {zh: "是", en: "yes"},
    no: {zh: "否", en: "no"},
    loginFirst: {zh: "登录后可见", en: "log in to see"},
    login: {zh: "登录", en: "Log in"},
    layerFailed: {zh: "图层加载失败：", en: "layer failed to load: "},
    switchTo: {zh: "English", en: "中文"},
    category1: {zh: "大类", en: "main group"},
    category2: {zh: "中类", en: "subgroup"},
    category3: {zh: "小类", en: "item"},
    charts: {zh: "诉求概况", en: "Complaints at a glance"},
    weekly: {zh: "每周诉求", en: "Complaints per week"},
    topCategories: {zh: "主要类别", en: "Top categories"},
    cellTrend: {zh: "网格每周 z 值（新兴热点）", en: "Cell z-score per step (emerging run)"},
    forArea: {zh: "所选区/街道", en: "selected district/street"},
    forView: {zh: "当前地图范围", en: "visible map"},
    noData: {zh: "无数据", en: "no data"},
    total: {zh: "合计", en: "total"},
    period: {zh: "时段", en: "period"},
    allTime: {zh: "全部时间", en: "all time"},
    analysisPeriod: {zh: "分析期", en: "analysis period"},
    run: {zh: "批次", en: "run"},
    noRun: {zh: "尚无分析结果", en: "no analysis run yet"},
    runIgnoresFilters: {zh: "不随日期/类别筛选变化", en: "does not follow the date/category filters"},
    noFeatures: {zh: "当前没有要素", en: "no features"},
    noFindings: {zh: "没有发现问题", en: "no findings"},
    noGeneration: {zh: "该日期没有生效的边界版本，地图为空", en: "no boundary version was in force on that day: the map is empty"},
    opacity: {zh: "透明度", en: "opacity"},
    collapse: {zh: "收起", en: "collapse"},
    expand: {zh: "展开", en: "expand"},
    exporting: {zh: "正在导出…", en: "exporting…"},
    exported: {zh: "已导出", en: "exported"},
    searchNone: {zh: "未找到该地址", en: "address not found"},
    searchFailed: {zh: "搜索失败", en: "search failed"},
    plans: {zh: "整治方案", en: "fix plans"},
    planPage: {zh: "方案打印页", en: "fix plan page"},
    makePlan: {zh: "制定整治方案", en: "Make a fix plan"},
    byWeek: {zh: "按周查看", en: "week by week"},
    wholeRun: {zh: "全期模式", en: "whole-run pattern"},
    weekOf: {zh: "第 {n} 周（{start} 起）：有模式网格当周的 Gi* z，颜色同 Gi* 热点",
      en: "week {n} (from {start}): each patterned cell's Gi* z that week, coloured as the Gi* hot spots"},
    chooseRun: {zh: "选择分析期", en: "choose the analysis period"},
    olderRuns: {zh: "较早", en: "older"},
    newerRuns: {zh: "最新", en: "newest"},
    latest: {zh: "最新", en: "latest"}
  };

  // Codes that may appear as property values: their words in both languages.
  var CODE_LABELS = {
    rule: {zh: "裁定规则", en: "ruling"},
    building: {zh: "建筑物归属", en: "building footprint"},
    uncertain: {zh: "靠近边界，不确定", en: "near a boundary, uncertain"},
    outside: {zh: "辖区外", en: "outside"},
    none: {zh: "无", en: "none"},
    "true": {zh: "是", en: "yes"},
    "false": {zh: "否", en: "no"},
    gap: {zh: "缝隙", en: "gap"},
    overlap: {zh: "重叠", en: "overlap"},
    sliver: {zh: "碎片", en: "sliver"},
    outside_parent: {zh: "超出上级区划", en: "outside its parent"}
  };

  var METHODS = {
    rule: {zh: "裁定规则", en: "ruling"},
    building: {zh: "建筑物归属", en: "building footprint"},
    point: {zh: "点位所在辖区", en: "point in area"},
    uncertain: {zh: "靠近边界，不确定", en: "near a boundary, uncertain"},
    outside: {zh: "辖区外", en: "outside"}
  };

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function swatchSvg(style, geometry) {
    var stroke = style.stroke === false ? "none" : (style.color || "#3388ff");
    var width = style.weight === undefined ? 3 : style.weight;
    var fill = style.fill ? (style.fillColor || style.color || "#3388ff") : "none";
    var fillOpacity = style.fillOpacity === undefined ? 0.2 : style.fillOpacity;
    var dash = style.dashArray ? ' stroke-dasharray="' + escapeHtml(style.dashArray) + '"' : "";
    var shape = geometry === "point"
      ? '<circle cx="9" cy="7" r="5"'
      : '<rect x="2" y="2" width="14" height="10"';
    return '<svg class="shaozi-swatch" width="18" height="14" aria-hidden="true">' + shape + ' stroke="' +
      escapeHtml(stroke) + '" stroke-width="' + Math.min(width, 3) + '" fill="' + escapeHtml(fill) +
      '" fill-opacity="' + fillOpacity + '"' + dash + "/></svg>";
  }

  // WGS-84 → GCJ-02 for GeoJSON overlays drawn over a GCJ-02 basemap (vector tiles are shifted on the server,
  // with geo.coords; this is the same published formula, for API GeoJSON that arrives in WGS-84).
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;

  function wgs84ToGcj02(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) { return [lon, lat]; }
    var x = lon - 105.0, y = lat - 35.0, s = Math.sqrt(Math.abs(x)), PI = Math.PI;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * s;
    dlat += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * s;
    dlon += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI, magic = 1.0 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtMagic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtMagic * Math.cos(radLat) * PI);
    return [lon + dlon, lat + dlat];
  }

  // ---- small inline SVG charts ------------------------------------------------------------------------------
  function fmt(n) { return Number(n).toLocaleString("en-US"); }

  // Columns over time: rows [{label, value}], the x labels of the first and last.
  function columnChart(rows, opts) {
    var w = opts.width || 240, h = opts.height || 80, pad = 14;
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var step = (w - 2) / Math.max(rows.length, 1);
    var html = '<svg class="shaozi-chart" data-chart="' + escapeHtml(opts.id) + '" width="' + w + '" height="' +
      (h + pad) + '" viewBox="0 0 ' + w + " " + (h + pad) + '" role="img" aria-label="' + escapeHtml(opts.title) + '"><title>' + escapeHtml(opts.title) +
      "</title>";
    rows.forEach(function (r, i) {
      var bh = Math.round((r.value / max) * (h - 12));
      html += '<rect class="shaozi-bar" x="' + (1 + i * step).toFixed(1) + '" y="' + (h - bh) + '" width="' +
        Math.max(step - 1, 1).toFixed(1) + '" height="' + bh + '" fill="#d95f0e"><title>' + escapeHtml(r.label) +
        ": " + fmt(r.value) + "</title></rect>";
    });
    html += '<line x1="0" y1="' + h + '" x2="' + w + '" y2="' + h + '" stroke="#999"/>';
    html += '<text x="' + (w - 2) + '" y="10" font-size="10" text-anchor="end" fill="#555">max ' + fmt(max) + "</text>";
    if (rows.length) {
      html += '<text x="1" y="' + (h + 11) + '" font-size="10" fill="#555">' + escapeHtml(rows[0].label) + "</text>";
      html += '<text x="' + (w - 1) + '" y="' + (h + 11) + '" font-size="10" text-anchor="end" fill="#555">' +
        escapeHtml(rows[rows.length - 1].label) + "</text>";
    }
    return html + "</svg>";
  }

  // Horizontal bars with names: rows [{label, value}].
  function barChart(rows, opts) {
    var cjk = rows.some(function (r) { return /[\u3400-\u9fff]/.test(r.label); });
    var w = opts.width || 240, row = 15, labelW = cjk ? 92 : 100, cut = cjk ? 8 : 12;  // names fit their column
    var max = Math.max.apply(null, rows.map(function (r) { return r.value; }).concat([1]));
    var html = '<svg class="shaozi-chart" data-chart="' + escapeHtml(opts.id) + '" width="' + w + '" height="' +
      Math.max(rows.length * row, row) + '" viewBox="0 0 ' + w + " " + Math.max(rows.length * row, row) + '" role="img" aria-label="' + escapeHtml(opts.title) + '"><title>' +
      escapeHtml(opts.title) + "</title>";
    rows.forEach(function (r, i) {
      var bw = Math.max(Math.round((r.value / max) * (w - labelW - 44)), 1);
      var y = i * row;
      html += '<text x="' + (labelW - 3) + '" y="' + (y + 11) + '" font-size="11" text-anchor="end">' +
        escapeHtml(r.label.length > cut ? r.label.slice(0, cut) + "…" : r.label) + "</text>";
      html += '<rect class="shaozi-bar" x="' + labelW + '" y="' + (y + 2) + '" width="' + bw + '" height="' +
        (row - 4) + '" fill="#fe9929"><title>' + escapeHtml(r.label) + ": " + fmt(r.value) + "</title></rect>";
      html += '<text x="' + (labelW + bw + 3) + '" y="' + (y + 11) + '" font-size="10" fill="#555">' +
        fmt(r.value) + "</text>";
    });
    return html + "</svg>";
  }

  // A line of z-scores with the ±1.96 band (95 %) and zero.
  function zLine(points, opts) {
    var w = opts.width || 260, h = opts.height || 90, pad = 12;
    var values = points.map(function (p) { return p.value; });
    var top = Math.max.apply(null, values.concat([2.5])), bottom = Math.min.apply(null, values.concat([-2.5]));
    function y(v) { return (pad + (top - v) / (top - bottom) * (h - 2 * pad)).toFixed(1); }
    function x(i) { return (4 + i * (w - 8) / Math.max(points.length - 1, 1)).toFixed(1); }
    var html = '<svg class="shaozi-chart" data-chart="' + escapeHtml(opts.id) + '" width="' + w + '" height="' + h +
      '" viewBox="0 0 ' + w + " " + h + '" role="img" aria-label="' + escapeHtml(opts.title) + '"><title>' + escapeHtml(opts.title) + "</title>";
    [1.96, -1.96].forEach(function (v) {
      html += '<line x1="0" x2="' + w + '" y1="' + y(v) + '" y2="' + y(v) + '" stroke="#bbb" stroke-dasharray="3 3"/>';
    });
    html += '<line x1="0" x2="' + w + '" y1="' + y(0) + '" y2="' + y(0) + '" stroke="#888"/>';
    html += '<polyline class="shaozi-line" fill="none" stroke="#cb181d" stroke-width="1.5" points="' +
      points.map(function (p, i) { return x(i) + "," + y(p.value); }).join(" ") + '"/>';
    points.forEach(function (p, i) {
      html += '<circle cx="' + x(i) + '" cy="' + y(p.value) + '" r="1.8" fill="' +
        (p.value >= 1.96 ? "#b2182b" : p.value <= -1.96 ? "#2166ac" : "#999") + '"><title>' + escapeHtml(p.label) +
        ": z = " + p.value.toFixed(2) + "</title></circle>";
    });
    if (points.length) {
      html += '<text x="2" y="' + (h - 1) + '" font-size="10" fill="#555">' + escapeHtml(points[0].label) + "</text>";
      html += '<text x="' + (w - 2) + '" y="' + (h - 1) + '" font-size="10" text-anchor="end" fill="#555">' +
        escapeHtml(points[points.length - 1].label) + "</text>";
    }
    return html + "</svg>";
  }

  // VectorGrid draws points as CircleMarkers positioned in tile pixels, without a latlng of their own. Leaflet takes a
  // small circle's click position from getLatLng() (undefined here: "Cannot read properties of undefined (reading
  // 'lat')"), so such symbols drop the method and Leaflet uses the mouse position, as for any other shape.
  if (L.SVG && L.SVG.Tile && !L.SVG.Tile.prototype.shaoziPatched) {
    var addPath = L.SVG.Tile.prototype._addPath;
    L.SVG.Tile.prototype._addPath = function (layer) {
      if (layer instanceof L.CircleMarker && layer._latlng === undefined) { layer.getLatLng = null; }
      return addPath.call(this, layer);
    };
    L.SVG.Tile.prototype.shaoziPatched = true;
  }

  function shaoziPlanner(map, config) {
    var byId = {};
    config.layers.forEach(function (cfg) { byId[cfg.id] = cfg; });
    var state = {
      lang: "zh",
      visible: {},
      filters: {},
      opacity: {},
      runs: {},  // analysis layer id → the run chosen with its slider ("" or absent: the latest)
      week: ""  // emerging cells: the time step shown ("" = the whole run's patterns, the tiles)
    };
    config.layers.forEach(function (cfg) { state.visible[cfg.id] = !!cfg.show; });
    config.filters.forEach(function (f) { state.filters[f.name] = ""; });

    var shaozi = global.shaozi = {map: map, config: config, state: state, layers: {}, labels: {}, loads: {}};

    function t(key) { return TEXT[key][state.lang]; }
    function pick(pair) { return (pair && (pair[state.lang] || pair.zh)) || ""; }

    // ---- the URL hash: the permalink -------------------------------------------------------------------
    var lastHash = null;

    function readHash() {
      var out = {};
      location.hash.replace(/^#/, "").split("&").forEach(function (part) {
        if (!part) { return; }
        var i = part.indexOf("=");
        var key = i < 0 ? part : part.slice(0, i);
        out[decodeURIComponent(key)] = i < 0 ? "" : decodeURIComponent(part.slice(i + 1));
      });
      return out;
    }

    function applyHash(params) {
      if (params.map) {
        var bits = params.map.split("/").map(Number);
        if (bits.length === 3 && bits.every(isFinite)) {
          map.setView([bits[1], bits[2]], bits[0], {animate: false});
        }
      }
      if (params.layers !== undefined) {
        var wanted = params.layers ? params.layers.split(",") : [];
        config.layers.forEach(function (cfg) { state.visible[cfg.id] = wanted.indexOf(cfg.id) >= 0; });
      }
      config.filters.forEach(function (f) {
        state.filters[f.name] = params[f.name] || "";
      });
      state.runs = {};
      (params.runs || "").split(",").forEach(function (part) {
        var bits = part.split(":");
        if (bits.length === 2 && byId[bits[0]] && /^\d+$/.test(bits[1])) { state.runs[bits[0]] = bits[1]; }
      });
      state.week = /^\d+$/.test(params.week || "") ? params.week : "";
      state.lang = params.lang === "en" ? "en" : "zh";
    }

    function writeHash() {
      var centre = map.getCenter();
      var parts = ["map=" + map.getZoom() + "/" + centre.lat.toFixed(5) + "/" + centre.lng.toFixed(5)];
      parts.push("layers=" + config.layers.filter(function (cfg) { return state.visible[cfg.id]; })
        .map(function (cfg) { return cfg.id; }).join(","));
      config.filters.forEach(function (f) {
        if (state.filters[f.name]) { parts.push(f.name + "=" + encodeURIComponent(state.filters[f.name])); }
      });
      var runs = Object.keys(state.runs).filter(function (id) { return state.runs[id]; })
        .map(function (id) { return id + ":" + state.runs[id]; });
      if (runs.length) { parts.push("runs=" + runs.join(",")); }
      if (state.week !== "") { parts.push("week=" + state.week); }
      if (state.lang !== "zh") { parts.push("lang=" + state.lang); }
      var hash = "#" + parts.join("&");
      if (hash !== location.hash) {
        history.replaceState(null, "", hash);
      }
      lastHash = hash;
    }

    // ---- vector tile layers ----------------------------------------------------------------------------
    function query(cfg) {
      var params = [];
      Object.keys(cfg.fixed).forEach(function (k) { params.push(k + "=" + encodeURIComponent(cfg.fixed[k])); });
      cfg.follows.forEach(function (name) {
        if (state.filters[name]) { params.push(name + "=" + encodeURIComponent(state.filters[name])); }
      });
      if (cfg.run_layer && state.runs[cfg.id]) { params.push("run=" + encodeURIComponent(state.runs[cfg.id])); }
      if (config.system !== "wgs84") { params.push("crs=" + config.system); }
      return params.join("&");
    }

    function tileUrl(cfg) {
      var q = query(cfg);
      return cfg.tiles + (q ? "?" + q : "");
    }

    // The style of one feature: by `style_by` (a value, or the first of `style_breaks` a number meets).
    function styleFor(cfg, props) {
      if (!cfg.style_by || !props) { return cfg.style; }
      var value = props[cfg.style_by];
      var key = value === undefined || value === null ? "" : String(value);
      if (cfg.style_breaks && cfg.style_breaks.length) {
        if (key === "") { return cfg.style; }
        key = "";
        for (var i = 0; i < cfg.style_breaks.length; i++) {
          if (Number(value) <= cfg.style_breaks[i][0]) { key = cfg.style_breaks[i][1]; break; }
        }
      }
      return cfg.styles[key] || cfg.style;
    }

    function popupValue(row, value) {
      if (value === undefined || value === null || value === "") { return "—"; }
      var labels = row.labels && row.labels[String(value)];
      if (labels) { return escapeHtml(state.lang === "en" ? labels[1] : labels[0]); }
      if (value === true || value === false) { return escapeHtml(t(value ? "yes" : "no")); }
      if (Array.isArray(value)) {
        return value.map(function (v) { return /_codes$/.test(row.prop) ? areaWords(v) : escapeHtml(v); }).join("、");
      }
      if (row.percent && typeof value === "number") { return escapeHtml((value * 100).toFixed(1) + "%"); }
      if (typeof value === "number" && row.digits !== null && row.digits !== undefined) {
        return escapeHtml(value.toFixed(row.digits));
      }
      if (/(^|_)(street|district)_code$/.test(row.prop)) { return areaWords(value); }
      if (row.prop === "category_code") { return categoryWords(value); }
      if (CODE_LABELS[String(value)]) { return escapeHtml(pick(CODE_LABELS[String(value)])); }
      return escapeHtml(value);
    }

    // An area code as "name code" when the name is known (district/street choices), else the code.
    function areaWords(code) {
      var area = areaByCode(String(code));
      return area ? escapeHtml(area.name) + " <small>" + escapeHtml(code) + "</small>" : escapeHtml(code);
    }

    function categoryWords(code) {
      var item = categoryByCode(String(code));
      return item ? escapeHtml(categoryName(item)) + " <small>" + escapeHtml(code) + "</small>" : escapeHtml(code);
    }

    // A catalogue item's name in the page's language: its English name (name_en) in English mode when it has one.
    function categoryName(item) {
      return (state.lang === "en" && item.name_en) || item.name;
    }

    function categoryByCode(code) {
      var found = null;
      (function walk(items) {
        (items || []).forEach(function (c) { if (c.code === code) { found = c; } else { walk(c.children); } });
      })(config.catalogue);
      return found;
    }

    function popupTitle(cfg, props) {
      if (!cfg.popup_title) { return ""; }
      var value = props[cfg.popup_title];
      if (value === undefined || value === null || value === "") { return ""; }
      if (/(^|_)(street|district)_code$/.test(cfg.popup_title)) {
        var area = areaByCode(String(value));
        return escapeHtml(area ? area.name : value);
      }
      if (cfg.popup_title === "category_code") {
        var item = categoryByCode(String(value));
        return escapeHtml(item ? categoryName(item) : value);
      }
      if (cfg.popup_title === "category_name" && props.category_code) {
        var named = categoryByCode(String(props.category_code));
        return escapeHtml(named ? categoryName(named) : value);
      }
      return escapeHtml(value);
    }

    function fillTemplate(url, props) {
      return url.replace(/\{(\w+)\}/g, function (_, key) {
        return encodeURIComponent(props[key] === undefined || props[key] === null ? "" : props[key]);
      });
    }

    function featureHtml(cfg, props) {
      var html = '<div class="shaozi-feature" data-layer="' + escapeHtml(cfg.id) + '"><strong>' +
        escapeHtml(pick(cfg.title)) + (popupTitle(cfg, props) ? (state.lang === "en" ? ": " : "：") + popupTitle(cfg, props) : "") +
        '</strong><table class="shaozi-verdict">';
      cfg.popup.forEach(function (row) {
        html += "<tr><th>" + escapeHtml(pick(row.label)) + "</th><td>" + popupValue(row, props[row.prop]) +
          "</td></tr>";
      });
      html += "</table>";
      cfg.links.forEach(function (link) {
        var missing = (link.url.match(/\{(\w+)\}/g) || []).some(function (k) {
          var v = props[k.slice(1, -1)];
          return v === undefined || v === null || v === "";
        });
        if (missing) { return; }
        html += '<a class="shaozi-feature-link" href="' + escapeHtml(fillTemplate(link.url, props)) +
          '" target="_blank">' + escapeHtml(pick(link.label)) + " ↗</a> ";
      });
      if (cfg.id === "idle-lots") {
        html += '<div class="shaozi-lot-plans" data-parcel="' + escapeHtml(props.code) + '"></div>';
        if (props.code && mayPlan(props.street_code)) {
          html += '<a class="shaozi-make-plan" href="' + escapeHtml(config.urls.fixPlanNew + "?parcel=" +
            encodeURIComponent(props.code)) + '">' + escapeHtml(t("makePlan")) + " →</a>";
        }
      }
      return html + "</div>";
    }

    // Whether this user may make a fix plan for a lot of `street` (config.planAreas: "" = anywhere, else code
    // prefixes); the desk checks again when the form is sent.
    function mayPlan(street) {
      return (config.planAreas || []).some(function (prefix) {
        return prefix === "" || String(street || "").indexOf(prefix) === 0;
      });
    }

    function showFeature(cfg, props, latlng) {
      var popup = L.popup({maxWidth: 360}).setLatLng(latlng).setContent(featureHtml(cfg, props)).openOn(map);
      document.body.setAttribute("data-popup", cfg.id);
      if (cfg.id === "idle-lots" && props.code) { lotPlans(popup, cfg, props); }
      if (cfg.id === "emerging" && props.h3 && config.urls.charts) {
        // An emerging cell: its z-score per step in the run it was drawn from. (Not for a Gi* cell: the emerging
        // run may not hold it, and it would be another run's story.)
        var cellRun = props.run_id ? "&run=" + encodeURIComponent(props.run_id) : "";
        fetch(config.urls.charts.cell + "?h3=" + encodeURIComponent(props.h3) + cellRun,
          {headers: {"Accept": "application/json"}})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (data) {
            if (!map.hasLayer(popup)) { return; }
            var extra = '<div class="shaozi-cell-trend"><div class="shaozi-chart-title">' + escapeHtml(t("cellTrend")) +
              "</div>";
            if (data && data.steps && data.steps.length) {
              extra += zLine(data.steps.map(function (s) { return {label: s.start, value: s.z}; }),
                {id: "cell", title: t("cellTrend")});
            } else {
              extra += '<div class="shaozi-legend-note">' + escapeHtml(t("noData")) + "</div>";
            }
            popup.setContent(featureHtml(cfg, props) + extra + "</div>");
            document.body.setAttribute("data-chart-cell", props.h3);
          });
      }
    }

    // The fix plans made for an idle lot (by parcel code), as links in the lot's popup (login needed).
    var plansPromise = null;
    function lotPlans(popup, cfg, props) {
      var plans = byId["fix-plans"];
      if (!plans || !plans.available) { return; }
      plansPromise = plansPromise || fetch(plans.geojson, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .catch(function () { plansPromise = null; return {features: []}; });
      plansPromise.then(function (data) {
        var mine = (data.features || []).filter(function (f) { return f.properties.parcel_code === props.code; });
        if (!mine.length || !map.hasLayer(popup)) { return; }
        var html = '<div class="shaozi-lot-plans-list"><strong>' + escapeHtml(t("plans")) + "</strong> ";
        mine.forEach(function (f) {
          var page = plans.links.filter(function (l) { return /fix-plans\/\{id\}\/$/.test(l.url); })[0];
          var href = page ? fillTemplate(page.url, {id: f.id}) : "";
          html += '<a class="shaozi-feature-link" href="' + escapeHtml(href) + '" target="_blank">' +
            escapeHtml(f.properties.title || f.id) + " ↗</a> ";
        });
        // Into the popup's content string: Leaflet's popup.update() redraws from it, so an edit of the DOM alone
        // would vanish at the next update.
        var slot = '<div class="shaozi-lot-plans" data-parcel="' + escapeHtml(props.code) + '">';
        var content = popup.getContent();
        if (typeof content === "string" && content.indexOf(slot + "</div>") >= 0) {
          popup.setContent(content.replace(slot + "</div>", slot + html + "</div></div>"));
        }
        document.body.setAttribute("data-lot-plans", String(mine.length));
      });
    }

    function loaded(cfg) {
      shaozi.loads[cfg.id] += 1;
      document.body.setAttribute("data-loaded-" + cfg.id, String(shaozi.loads[cfg.id]));
    }

    // GeoJSON layers (small data from the API): fetched when first shown, shifted in the browser for GCJ-02.
    function geojsonUrl(cfg) {
      var params = [];
      (cfg.follows || []).forEach(function (name) {
        if (state.filters[name]) { params.push(name + "=" + encodeURIComponent(state.filters[name])); }
      });
      if (cfg.run_layer && state.runs[cfg.id]) { params.push("run=" + encodeURIComponent(state.runs[cfg.id])); }
      if (!params.length) { return cfg.geojson; }
      return cfg.geojson + (cfg.geojson.indexOf("?") >= 0 ? "&" : "?") + params.join("&");
    }

    function makeGeojsonLayer(cfg) {
      var className = "shaozi-layer shaozi-layer-" + cfg.id;
      // One pane per layer, stacked by z_index above the tiles: a plan is drawn over the idle lot it is for.
      var paneName = "shaozi-" + cfg.id;
      var pane = map.createPane(paneName);
      pane.style.zIndex = String(410 + cfg.z_index);
      var layer = L.geoJSON(null, {
        pane: paneName,
        filter: function (feature) {
          if (!feature.geometry) { return false; }
          return Object.keys(cfg.keep || {}).every(function (k) {
            return cfg.keep[k].indexOf(feature.properties[k]) >= 0;
          });
        },
        style: function (feature) { return L.extend({className: className}, styleFor(cfg, feature.properties)); },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, L.extend({className: className, pane: paneName}, styleFor(cfg, feature.properties)));
        },
        coordsToLatLng: function (c) {
          var p = config.system === "gcj02" ? wgs84ToGcj02(c[0], c[1]) : c;
          return L.latLng(p[1], p[0]);
        },
        onEachFeature: function (feature, featureLayer) {
          featureLayer.on("click", function (e) {
            L.DomEvent.stop(e);
            var props = L.extend({}, feature.properties);
            if (props.id === undefined && feature.id !== undefined) { props.id = feature.id; }
            if (props.month === undefined && layer.shaoziMonth) { props.month = layer.shaoziMonth; }
            showFeature(cfg, props, e.latlng || (e.target.getLatLng ? e.target.getLatLng() : e.target.getBounds().getCenter()));
          });
        }
      });
      shaozi.loads[cfg.id] = 0;
      layer.shaoziFetched = null;
      layer.shaoziPane = pane;
      layer.shaoziRefresh = function () {
        var url = geojsonUrl(cfg);
        if (layer.shaoziFetched === url || !map.hasLayer(layer)) { return; }
        layer.shaoziFetched = url;
        if (!cfg.available) { loaded(cfg); return; }
        fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) {
            if (r.status === 404) { return {type: "FeatureCollection", features: []}; }
            if (!r.ok) { throw new Error(String(r.status)); }
            return r.json();
          })
          .then(function (data) {
            if (layer.shaoziFetched !== url) { return; }  // a newer filter won
            layer.clearLayers();
            layer.addData(data);
            layer.shaoziCount = layer.getLayers().length;
            if (data.month) { layer.shaoziMonth = data.month; }
            if (data.months) { monthChoices(data.months, data.month); }
            document.body.setAttribute("data-features-" + cfg.id, String(layer.shaoziCount));
            loaded(cfg);
            renderLegend();
          })
          .catch(function () { layer.shaoziFetched = null; notice(t("layerFailed") + pick(cfg.title)); });
      };
      layer.on("add", function () { layer.shaoziRefresh(); });
      shaozi.layers[cfg.id] = layer;
      return layer;
    }

    function makeLayer(cfg) {
      if (cfg.source === "geojson") { return makeGeojsonLayer(cfg); }
      var styles = {};
      styles[cfg.tile_layer] = cfg.style_by ? function (props) { return styleFor(cfg, props); } : cfg.style;
      var interactive = cfg.popup.length > 0;
      var layer = L.vectorGrid.protobuf(tileUrl(cfg), {
        rendererFactory: L.svg.tile,
        vectorTileLayerStyles: styles,
        interactive: interactive,
        zIndex: cfg.z_index,
        className: "shaozi-layer shaozi-layer-" + cfg.id,
        minZoom: 0,
        maxZoom: 22
      });
      shaozi.loads[cfg.id] = 0;
      layer.on("load", function () { loaded(cfg); });
      if (interactive) {
        layer.on("click", function (e) {
          if (e.originalEvent) {
            L.DomEvent.stop(e.originalEvent);
            featureClick = e.originalEvent;  // the map's own click on the same event must not replace the popup
          }
          var latlng = e.latlng && e.latlng.lat !== undefined ? e.latlng
            : (e.originalEvent ? map.mouseEventToLatLng(e.originalEvent) : map.getCenter());
          showFeature(cfg, e.layer.properties || {}, latlng);
        });
      }
      shaozi.layers[cfg.id] = layer;
      return layer;
    }

    // ---- labels (area names at a point inside each area, in the map's system) ------------------------------
    function loadLabels(cfg) {
      if (!cfg.labels) { return; }
      var group = shaozi.labels[cfg.id] || (shaozi.labels[cfg.id] = L.layerGroup());
      var params = ["level=" + cfg.labels, "crs=" + config.system];
      cfg.follows.forEach(function (name) {
        if (state.filters[name]) { params.push(name + "=" + encodeURIComponent(state.filters[name])); }
      });
      var url = config.urls.labels + "?" + params.join("&");
      group.shaoziUrl = url;
      fetch(url, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) {
          if (group.shaoziUrl !== url) { return; }  // a newer filter change won
          group.clearLayers();
          data.labels.forEach(function (label) {
            L.marker([label.lat, label.lon], {
              interactive: false,
              keyboard: false,
              icon: L.divIcon({
                className: "shaozi-label shaozi-label-" + label.level,
                html: escapeHtml(label.name),
                iconSize: null
              })
            }).addTo(group);
          });
          document.body.setAttribute("data-labels-" + cfg.id, String(data.labels.length));
          if (cfg.labels === "district") {
            var empty = data.labels.length === 0 && !!state.filters.at;
            document.body.setAttribute("data-no-generation", empty ? "1" : "0");
            if (empty) { notice(t("noGeneration") + "（" + state.filters.at + "）"); }
            else { clearNotice(t("noGeneration")); }
          }
        })
        .catch(function () { notice(pick({zh: "标注加载失败：", en: "labels failed: "}) + pick(cfg.title)); });
    }

    function syncLabels() {
      config.layers.forEach(function (cfg) {
        var group = shaozi.labels[cfg.id];
        if (!group) { return; }
        var show = state.visible[cfg.id] && map.getZoom() >= cfg.labels_min_zoom;
        if (show && !map.hasLayer(group)) { group.addTo(map); }
        if (!show && map.hasLayer(group)) { map.removeLayer(group); }
      });
    }

    // ---- controls --------------------------------------------------------------------------------------
    var layerControl = null;
    var basemapLayer = null;

    function layerName(cfg) {
      return swatchSvg(cfg.style, cfg.geometry) + ' <span class="shaozi-layer-name" data-layer="' +
        escapeHtml(cfg.id) + '">' + escapeHtml(pick(cfg.title)) + "</span>";
    }

    function buildLayerControl() {
      if (layerControl) { layerControl.remove(); }
      var overlays = {};
      // Top layer first in the control.
      config.layers.slice().reverse().forEach(function (cfg) { overlays[layerName(cfg)] = shaozi.layers[cfg.id]; });
      var bases = {};
      if (basemapLayer) { overlays[escapeHtml(t("basemap"))] = basemapLayer; }
      layerControl = L.control.layers(bases, overlays, {collapsed: false, position: "topright"}).addTo(map);
      var title = L.DomUtil.create("div", "shaozi-control-title");
      title.textContent = t("layers");
      var container = layerControl.getContainer();
      var form = container.querySelector(".leaflet-control-layers-list");
      form.insertBefore(title, form.firstChild);
      container.parentNode.insertBefore(container, container.parentNode.firstChild);  // stay above the filters
      // Leaflet sized the list for where it was added (under the legend, so a few rows at most); size it again at
      // the top (the stylesheet's max-height then bounds it).
      layerControl.expand();
    }

    // Legend under the layer control and the filters, in the same column: Leaflet stacks controls of one corner, so
    // the legend can never cover a checkbox or a filter; the column scrolls when it is taller than the map.
    var LegendControl = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "shaozi-legend shaozi-box");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var legend = new LegendControl().addTo(map);

    // Collapsible boxes: a click on a box's title folds it (state kept per box while the page is open).
    var folded = {};
    function boxTitle(id, text) {
      return '<button type="button" class="shaozi-control-title shaozi-fold" data-box="' + id + '" aria-expanded="' +
        (folded[id] ? "false" : "true") + '" title="' + escapeHtml(t(folded[id] ? "expand" : "collapse")) + '">' +
        escapeHtml(text) + ' <span aria-hidden="true">' + (folded[id] ? "▸" : "▾") + "</span></button>";
    }
    function wireFold(div, rerender) {
      Array.prototype.forEach.call(div.querySelectorAll(".shaozi-fold"), function (button) {
        button.addEventListener("click", function () {
          var id = button.getAttribute("data-box");
          folded[id] = !folded[id];
          rerender();
        });
      });
    }

    // The analysis period of each analysis layer's latest run, and the runs its picker offers (/map/runs).
    var runs = null;
    function loadRuns() {
      if (!config.urls.runs || runs) { return; }
      runs = {};
      fetch(config.urls.runs, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) {
          runs = data.runs || {};
          config.layers.forEach(function (cfg) {
            if (cfg.run_layer) { cfg.runs = (data.choices || {})[cfg.run_layer] || []; }
          });
          renderLegend();
          document.body.setAttribute("data-runs", "1");
        })
        .catch(function () { runs = null; });
    }

    // The run a layer draws: the one chosen with the run slider, else the latest (its last choice, or /map/runs).
    function chosenRun(cfg) {
      var choices = cfg.runs || [];
      var wanted = state.runs[cfg.id];
      if (wanted) {
        var found = choices.filter(function (r) { return String(r.run) === String(wanted); })[0];
        if (found) { return found; }
      }
      if (choices.length) { return choices[choices.length - 1]; }  // the latest, as /map/runs names it
      return runs ? runs[cfg.run_layer] : undefined;
    }

    function runNote(cfg) {
      if (!cfg.run_layer || (!runs && !(cfg.runs || []).length)) { return ""; }
      var run = chosenRun(cfg);
      if (run === undefined) { return ""; }
      if (run === null) { return '<div class="shaozi-legend-note warn">' + escapeHtml(t("noRun")) + "</div>"; }
      var html = '<div class="shaozi-legend-note shaozi-run" data-run="' + escapeHtml(run.run) + '" data-period="' +
        escapeHtml(run.period_start + "/" + run.period_end) + '">' + escapeHtml(t("analysisPeriod")) + " " +
        escapeHtml(run.period_start) + " – " + escapeHtml(run.period_end) + (state.lang === "en" ? " (" : "（") +
        escapeHtml(t("run")) + " " + escapeHtml(run.run) + (state.lang === "en" ? "; " : "；") +
        escapeHtml(t("runIgnoresFilters")) + (state.lang === "en" ? ")" : "）") + "</div>";
      var choices = cfg.runs || [];
      if (choices.length > 1) {
        var index = choices.indexOf(run);
        if (index < 0) { index = choices.length - 1; }
        html += '<label class="shaozi-run-picker">' + escapeHtml(t("olderRuns")) + ' <input type="range" min="0" max="' +
          (choices.length - 1) + '" step="1" value="' + index + '" data-run-slider="' + escapeHtml(cfg.id) +
          '" aria-label="' + escapeHtml(pick(cfg.title) + " · " + t("chooseRun")) + '" title="' +
          escapeHtml(t("chooseRun")) + '"> ' + escapeHtml(t("newerRuns")) + "</label>";
      }
      return html;
    }

    // A run slider moved: the layer redraws that run (tiles or GeoJSON with run=…), the legend states its period.
    function setRun(cfg, index) {
      var choices = cfg.runs || [];
      var run = choices[index];
      if (!run) { return; }
      state.runs[cfg.id] = index === choices.length - 1 ? "" : String(run.run);
      var layer = shaozi.layers[cfg.id];
      if (cfg.source === "tiles") {
        var url = tileUrl(cfg);
        if (layer._url !== url) { layer.setUrl(url); }
      } else if (layer.shaoziRefresh) {
        layer.shaoziRefresh();
      }
      document.body.setAttribute("data-run-" + cfg.id, String(run.run));
      if (cfg.id === "emerging") { refreshWeek(); }
      renderLegend();
      writeHash();
    }

    // ---- emerging cells week by week: each patterned cell's Gi* z of one time step, from the API's z-series ------
    // (the tiles hold each cell's summary over the whole run; /api/v1/hotspots/emerging carries the z-series).
    var weekLayer = null, weekData = {}, weekShown = null;

    function stepCount(run) {
      if (!run || !run.period_start) { return 0; }
      var start = new Date(run.period_start + "T00:00:00Z"), end = new Date(run.period_end + "T00:00:00Z");
      if (run.step === "month") {
        return (end.getUTCFullYear() - start.getUTCFullYear()) * 12 + end.getUTCMonth() - start.getUTCMonth() + 1;
      }
      return Math.floor((end - start) / (7 * 86400000)) + 1;
    }

    function stepStart(run, i) {
      var d = new Date(run.period_start + "T00:00:00Z");
      if (run.step === "month") { d.setUTCMonth(d.getUTCMonth() + i); } else { d.setUTCDate(d.getUTCDate() + 7 * i); }
      return d.toISOString().slice(0, 10);
    }

    function weekUrl(cfg) {
      return cfg.api + "?page_size=10000" + (state.runs[cfg.id] ? "&run=" + encodeURIComponent(state.runs[cfg.id]) : "");
    }

    function zBin(z) {
      var a = Math.abs(z), bin = a >= 2.576 ? 3 : a >= 1.96 ? 2 : a >= 1.645 ? 1 : 0;
      return String(z < 0 ? -bin : bin);
    }

    function drawWeek(cfg, data) {
      var index = Number(state.week);
      var hot = byId.hotspots ? byId.hotspots.styles : {};
      if (weekLayer) { map.removeLayer(weekLayer); }
      var pane = map.getPane("shaozi-emerging-week") || map.createPane("shaozi-emerging-week");
      pane.style.zIndex = String(410 + cfg.z_index);
      pane.style.opacity = String(layerOpacity(cfg));
      weekLayer = L.geoJSON(data, {
        pane: "shaozi-emerging-week",
        style: function (f) {
          var z = (f.properties.z_series || [])[index];
          return L.extend({className: "shaozi-layer shaozi-layer-emerging-week"},
            hot[zBin(typeof z === "number" ? z : 0)] || cfg.style);
        },
        coordsToLatLng: function (c) {
          var p = config.system === "gcj02" ? wgs84ToGcj02(c[0], c[1]) : c;
          return L.latLng(p[1], p[0]);
        },
        onEachFeature: function (f, featureLayer) {
          featureLayer.on("click", function (e) {
            L.DomEvent.stop(e);
            var props = L.extend({run_id: data.run ? data.run.id : ""}, f.properties);
            showFeature(cfg, props, e.latlng);
          });
        }
      }).addTo(map);
      weekShown = {index: index, run: data.run ? data.run.id : null, count: weekLayer.getLayers().length};
      document.body.setAttribute("data-week", String(index));
      document.body.setAttribute("data-features-emerging-week", String(weekShown.count));
    }

    // A tile layer's opacity, also while it is being removed (its container already gone): kept for its next add.
    function tileOpacity(tiles, value) {
      if (!tiles || !tiles.setOpacity) { return; }
      if (tiles.getContainer && tiles.getContainer()) { tiles.setOpacity(value); } else { tiles.options.opacity = value; }
    }

    // Show the chosen week over the map (the pattern tiles made transparent), or the patterns again.
    function refreshWeek() {
      var cfg = byId.emerging;
      if (!cfg) { return; }
      var tiles = shaozi.layers.emerging;
      var on = state.week !== "" && state.visible.emerging;
      if (!on) {
        if (weekLayer) { map.removeLayer(weekLayer); weekLayer = null; weekShown = null; }
        tileOpacity(tiles, layerOpacity(cfg));
        document.body.removeAttribute("data-week");
        return;
      }
      tileOpacity(tiles, 0);
      var url = weekUrl(cfg);
      weekData[url] = weekData[url] || fetch(url, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .catch(function (err) { delete weekData[url]; throw err; });
      weekData[url].then(function (data) {
        if (weekUrl(cfg) !== url || state.week === "" || !state.visible.emerging) { return; }
        drawWeek(cfg, data);
        renderLegend();
      }).catch(function () { notice(t("layerFailed") + pick(cfg.title)); });
    }

    function weekPicker(cfg) {
      var run = chosenRun(cfg);
      var steps = stepCount(run);
      if (!run || steps < 2) { return ""; }
      var value = state.week === "" ? -1 : Math.min(Number(state.week), steps - 1);
      var html = '<label class="shaozi-run-picker">' + escapeHtml(t("byWeek")) + ' <input type="range" min="-1" max="' +
        (steps - 1) + '" step="1" value="' + value + '" data-week-slider="' + escapeHtml(cfg.id) + '" aria-label="' +
        escapeHtml(pick(cfg.title) + " · " + t("byWeek")) + '"></label>';
      if (value < 0) {
        return html + '<div class="shaozi-legend-note shaozi-week" data-week="">' + escapeHtml(t("wholeRun")) + "</div>";
      }
      return html + '<div class="shaozi-legend-note shaozi-week" data-week="' + value + '" data-week-start="' +
        escapeHtml(stepStart(run, value)) + '">' + escapeHtml(t("weekOf").replace("{n}", String(value + 1))
        .replace("{start}", stepStart(run, value))) + "</div>";
    }

    function setWeek(cfg, value) {
      state.week = value < 0 ? "" : String(value);
      refreshWeek();
      renderLegend();
      writeHash();
    }

    function layerOpacity(cfg) {
      return state.opacity[cfg.id] === undefined ? 1 : state.opacity[cfg.id];
    }

    function setOpacity(cfg, value) {
      state.opacity[cfg.id] = value;
      if (cfg.id === "emerging" && weekLayer) {  // the week on show: its pane fades, the pattern tiles stay hidden
        map.getPane("shaozi-emerging-week").style.opacity = String(value);
        return;
      }
      var layer = shaozi.layers[cfg.id];
      if (layer.shaoziPane) { layer.shaoziPane.style.opacity = String(value); }
      else if (layer.setOpacity) { layer.setOpacity(value); }
    }

    function renderLegend() {
      var html = boxTitle("legend", t("legend"));
      var shown = 0;
      var body = "";
      config.layers.slice().reverse().forEach(function (cfg) {
        if (!state.visible[cfg.id]) { return; }
        shown += 1;
        body += '<div class="shaozi-legend-layer" data-layer="' + escapeHtml(cfg.id) + '"><strong>' +
          escapeHtml(pick(cfg.title)) + "</strong>";
        body += runNote(cfg);  // an analysis layer's period (and run picker) first: what the colours are about
        if (cfg.id === "emerging") { body += weekPicker(cfg); }
        var rows = cfg.id === "emerging" && state.week !== "" && byId.hotspots ? byId.hotspots.legend : cfg.legend;
        rows.forEach(function (row) {
          body += '<div class="shaozi-legend-row">' + swatchSvg(row.style, cfg.geometry) + " " +
            escapeHtml(pick(row.label)) + "</div>";
        });
        if (pick(cfg.note)) { body += '<div class="shaozi-legend-note">' + escapeHtml(pick(cfg.note)) + "</div>"; }
        var layer = shaozi.layers[cfg.id];
        if (cfg.source === "geojson" && cfg.available && layer.shaoziCount === 0) {
          body += '<div class="shaozi-legend-note shaozi-empty">' +
            escapeHtml(t(cfg.id === "topology" ? "noFindings" : "noFeatures")) + "</div>";
        }
        if (cfg.id === "assessment" && layer.shaoziMonth) {
          body += '<div class="shaozi-legend-note">' + escapeHtml(t("period")) + " " + escapeHtml(layer.shaoziMonth) +
            "</div>";
        }
        if (!cfg.available) {
          body += '<div class="shaozi-legend-note warn">' + escapeHtml(t("loginFirst")) + ' <a href="' +
            escapeHtml(config.urls.login + "?next=" + encodeURIComponent(location.pathname)) + '">' +
            escapeHtml(t("login")) + "</a></div>";
        }
        body += '<label class="shaozi-opacity">' + escapeHtml(t("opacity")) + ' <input type="range" min="0.1" max="1" ' +
          'step="0.1" data-opacity="' + escapeHtml(cfg.id) + '" value="' + layerOpacity(cfg) + '"></label> ';
        if (cfg.api) {
          body += '<a class="shaozi-legend-link" data-download="' + escapeHtml(cfg.id) + '" href="' +
            escapeHtml(downloadUrl(cfg)) + '" target="_blank">' + escapeHtml(t("download")) + "</a>";
        }
        body += "</div>";
      });
      var div = legend.getContainer();
      div.innerHTML = html + (folded.legend ? "" : '<div class="shaozi-box-body">' + body + "</div>");
      div.hidden = shown === 0;
      wireFold(div, renderLegend);
      Array.prototype.forEach.call(div.querySelectorAll("[data-opacity]"), function (input) {
        input.addEventListener("input", function () { setOpacity(byId[input.getAttribute("data-opacity")], Number(input.value)); });
      });
      Array.prototype.forEach.call(div.querySelectorAll("[data-week-slider]"), function (input) {
        input.addEventListener("change", function () { setWeek(byId[input.getAttribute("data-week-slider")], Number(input.value)); });
      });
      Array.prototype.forEach.call(div.querySelectorAll("[data-run-slider]"), function (input) {
        input.addEventListener("change", function () { setRun(byId[input.getAttribute("data-run-slider")], Number(input.value)); });
      });
      Array.prototype.forEach.call(div.querySelectorAll('[data-download="complaints"]'), function (a) {
        a.addEventListener("click", function (e) { e.preventDefault(); exportComplaints(a); });
      });
    }

    // The download link of a layer: its API URL with the filters the layer follows, in the API's names.
    var API_FILTER_NAMES = {from: "from", to: "to", category: "category", status: "status",
      month: "month", pattern: "pattern", chronic: "chronic"};
    function downloadParams(cfg) {
      var params = [];
      (cfg.follows || []).forEach(function (name) {
        var value = state.filters[name];
        if (!value) { return; }
        if (name === "area") {
          var area = areaByCode(value);
          params.push((area && area.level === "district" ? "district" : "street") + "=" + encodeURIComponent(value));
        } else if (API_FILTER_NAMES[name]) {
          params.push(API_FILTER_NAMES[name] + "=" + encodeURIComponent(value));
        }
      });
      if (cfg.run_layer && state.runs[cfg.id]) { params.push("run=" + encodeURIComponent(state.runs[cfg.id])); }
      return params;
    }
    function downloadUrl(cfg) {
      var params = downloadParams(cfg);
      return cfg.api + (params.length ? (cfg.api.indexOf("?") >= 0 ? "&" : "?") + params.join("&") : "");
    }

    // Every filtered complaint as one GeoJSON file: the list API page by page (following `next`), joined here.
    function exportComplaints(link) {
      var cfg = byId.complaints;
      var params = downloadParams(cfg).concat(["page_size=1000"]);
      var features = [];
      var pages = 0;
      notice(t("exporting"));
      function next(url) {
        return fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (data) {
            pages += 1;
            features = features.concat(data.features || []);
            if (data.next) { return next(data.next.replace(/^https?:\/\/[^/]+/, "")); }
            return null;
          });
      }
      next(cfg.api + "?" + params.join("&")).then(function () {
        var blob = new Blob([JSON.stringify({type: "FeatureCollection", features: features})],
          {type: "application/geo+json"});
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "complaints.geojson";
        document.body.appendChild(a);
        a.click();
        a.remove();
        document.body.setAttribute("data-exported", String(features.length));
        notice(t("exported") + " " + fmt(features.length) + " (" + pages + ")");
      }).catch(function (err) {
        if (String(err.message) === "401" || String(err.message) === "403") {
          location.href = config.urls.login + "?next=" + encodeURIComponent(location.pathname);
          return;
        }
        notice(t("layerFailed") + pick(cfg.title));
      });
    }

    var FilterControl = L.Control.extend({
      options: {position: "topright"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "shaozi-filters shaozi-box");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    var filterControl = config.filters.length ? new FilterControl().addTo(map) : null;
    if (filterControl) { legend.remove(); legend.addTo(map); }  // filters first, then the legend, in the column

    // The district/street choices: every district and street of the generation in force, from the labels URL.
    config.areas = [];
    function loadAreaChoices() {
      if (!config.filters.some(function (f) { return f.kind === "area"; })) { return; }
      Promise.all(["district", "street"].map(function (level) {
        return fetch(config.urls.labels + "?level=" + level, {headers: {"Accept": "application/json"}})
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
      })).then(function (results) {
        config.areas = results[0].labels.concat(results[1].labels);
        renderFilters();
        document.body.setAttribute("data-area-choices", String(config.areas.length));
      }).catch(function () { notice(pick({zh: "区划列表加载失败", en: "area list failed to load"})); });
    }

    function areaOptions(level, parent, selected) {
      var html = '<option value="">' + escapeHtml(t("all")) + "</option>";
      config.areas.forEach(function (a) {
        if (a.level !== level || (parent !== null && a.parent !== parent)) { return; }
        html += '<option value="' + escapeHtml(a.code) + '"' + (a.code === selected ? " selected" : "") + ">" +
          escapeHtml(a.name) + "</option>";
      });
      return html;
    }

    function areaByCode(code) {
      for (var i = 0; i < config.areas.length; i++) {
        if (config.areas[i].code === code) { return config.areas[i]; }
      }
      return null;
    }

    // The three-level catalogue (大类 › 中类 › 小类) for the category filter: cascading selects.
    config.catalogue = [];
    function loadCatalogue() {
      if (!config.filters.some(function (f) { return f.kind === "category"; })) { return; }
      fetch(config.urls.categories, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) {
          config.catalogue = data.categories || [];
          renderFilters();
          document.body.setAttribute("data-catalogue", String(config.catalogue.length));
        })
        .catch(function () { notice(pick({zh: "诉求分类加载失败", en: "catalogue failed to load"})); });
    }

    function categorySelects(f, value) {
      var html = "";
      var items = config.catalogue;
      for (var level = 1; level <= 3; level++) {
        var chosen = "";
        (items || []).forEach(function (c) {
          if (value && value.indexOf(c.code) === 0) { chosen = c.code; }
        });
        html += "<label>" + escapeHtml(level === 1 ? pick(f.label) + " · " + t("category1") : t("category" + level)) +
          ' <select name="shaozi-' + escapeHtml(f.name) + "-" + level + '" data-filter="' + escapeHtml(f.name) +
          '" data-category-level="' + level + '"' + (items && items.length ? "" : " disabled") + '><option value="">' +
          escapeHtml(t("all")) + "</option>";
        (items || []).forEach(function (c) {
          html += '<option value="' + escapeHtml(c.code) + '"' + (c.code === chosen ? " selected" : "") + ">" +
            escapeHtml(categoryName(c)) + "</option>";
        });
        html += "</select></label>";
        var next = null;
        (items || []).forEach(function (c) { if (c.code === chosen) { next = c.children || []; } });
        items = next;
      }
      return html;
    }

    function renderFilters() {
      if (!filterControl) { return; }
      var div = filterControl.getContainer();
      var html = boxTitle("filters", t("filters"));
      if (folded.filters) {
        div.innerHTML = html;
        wireFold(div, renderFilters);
        return;
      }
      config.filters.forEach(function (f) {
        var value = state.filters[f.name] || "";
        if (f.kind === "area") {
          var chosen = areaByCode(value);
          var district = chosen ? (chosen.level === "district" ? chosen.code : chosen.parent) : "";
          var street = chosen && chosen.level === "street" ? chosen.code : "";
          html += '<label>' + escapeHtml(t("district")) + ' <select name="shaozi-district" data-filter="' +
            escapeHtml(f.name) + '">' + areaOptions("district", null, district) + "</select></label>";
          html += '<label>' + escapeHtml(t("street")) + ' <select name="shaozi-street" data-filter="' +
            escapeHtml(f.name) + '"' + (district ? "" : " disabled") + ">" +
            (district ? areaOptions("street", district, street) : '<option value="">' + escapeHtml(t("all")) +
            "</option>") + "</select></label>";
        } else if (f.kind === "date") {
          html += "<label>" + escapeHtml(pick(f.label)) + ' <input type="date" name="shaozi-' + escapeHtml(f.name) +
            '" data-filter="' + escapeHtml(f.name) + '" value="' + escapeHtml(value) + '"></label>';
        } else if (f.kind === "category") {
          html += categorySelects(f, value);
        } else if (f.kind === "month") {
          html += "<label>" + escapeHtml(pick(f.label)) + ' <select name="shaozi-' + escapeHtml(f.name) +
            '" data-filter="' + escapeHtml(f.name) + '"><option value="">' + escapeHtml(t("latest")) + "</option>";
          var months = (config.months || []).slice();
          if (value && months.indexOf(value) < 0) { months.unshift(value); }
          months.forEach(function (m) {
            html += '<option value="' + escapeHtml(m) + '"' + (m === value ? " selected" : "") + ">" + escapeHtml(m) +
              "</option>";
          });
          html += "</select></label>";
        } else if (f.kind === "choice") {
          html += "<label>" + escapeHtml(pick(f.label)) + ' <select name="shaozi-' + escapeHtml(f.name) +
            '" data-filter="' + escapeHtml(f.name) + '"><option value="">' + escapeHtml(t("all")) + "</option>";
          f.choices.forEach(function (c) {
            var label = f.choiceLabels && f.choiceLabels[c] ? pick(f.choiceLabels[c]) : c;
            html += '<option value="' + escapeHtml(c) + '"' + (c === value ? " selected" : "") + ">" +
              escapeHtml(label) + "</option>";
          });
          html += "</select></label>";
        } else {
          html += "<label>" + escapeHtml(pick(f.label)) + ' <input type="text" name="shaozi-' +
            escapeHtml(f.name) + '" data-filter="' + escapeHtml(f.name) + '" value="' + escapeHtml(value) +
            '"></label>';
        }
      });
      html += '<button type="button" class="shaozi-clear">' + escapeHtml(t("clear")) + "</button>";
      div.innerHTML = html;
      wireFold(div, renderFilters);
      Array.prototype.forEach.call(div.querySelectorAll("[data-filter]"), function (el) {
        el.addEventListener("change", function () {
          var name = el.getAttribute("data-filter");
          if (el.hasAttribute("data-category-level")) {
            // The deepest chosen level wins; "all" at a level falls back to the level above.
            var level = Number(el.getAttribute("data-category-level"));
            var above = level > 1 ? div.querySelector('select[data-category-level="' + (level - 1) + '"]') : null;
            setFilter(name, el.value || (above ? above.value : ""));
          } else if (el.name === "shaozi-district") {
            setFilter(name, el.value);
            zoomToArea(el.value);
          } else if (el.name === "shaozi-street") {
            var districtSelect = div.querySelector('select[name="shaozi-district"]');
            setFilter(name, el.value || (districtSelect ? districtSelect.value : ""));
            zoomToArea(el.value || (districtSelect ? districtSelect.value : ""));
          } else {
            setFilter(name, el.value);
          }
        });
      });
      div.querySelector(".shaozi-clear").addEventListener("click", function () {
        config.filters.forEach(function (f) { state.filters[f.name] = ""; });
        filtersChanged();
      });
    }

    // Fit the map to a chosen district or street (its bbox from the area API, for the boundary date in force).
    function zoomToArea(code) {
      if (!code) { return; }
      var url = config.urls.area.replace("CODE", encodeURIComponent(code)) +
        (state.filters.at ? "?at=" + encodeURIComponent(state.filters.at) : "");
      fetch(url, {headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (area) {
          var b = area.bbox;
          if (!b) { return; }
          var sw = [b[1], b[0]], ne = [b[3], b[2]];
          if (config.system === "gcj02") {
            var p1 = wgs84ToGcj02(b[0], b[1]), p2 = wgs84ToGcj02(b[2], b[3]);
            sw = [p1[1], p1[0]]; ne = [p2[1], p2[0]];
          }
          map.fitBounds([sw, ne], {animate: false, padding: [20, 20]});
          document.body.setAttribute("data-zoomed-to", code);
        })
        .catch(function () { notice(pick({zh: "区划范围加载失败", en: "area extent failed to load"})); });
    }

    // The months the assessment has been computed for (from the assessment layer's answer).
    function monthChoices(months, current) {
      config.months = months || [];
      if (current) { document.body.setAttribute("data-assessment-month", current); }
      renderFilters();
    }

    function setFilter(name, value) {
      state.filters[name] = value || "";
      filtersChanged();
    }

    function filtersChanged() {
      config.layers.forEach(function (cfg) {
        if (cfg.source !== "tiles") {
          if (shaozi.layers[cfg.id].shaoziRefresh) { shaozi.layers[cfg.id].shaoziRefresh(); }
          return;
        }
        var layer = shaozi.layers[cfg.id];
        var url = tileUrl(cfg);
        if (layer._url !== url) { layer.setUrl(url); }
        loadLabels(cfg);
      });
      renderFilters();
      renderLegend();
      writeHash();
      scheduleCharts();
    }

    // ---- charts: complaints per week and top categories for the complaint filters ------------------------------
    var ChartControl = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var div = L.DomUtil.create("div", "shaozi-charts shaozi-box");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        div.hidden = true;
        return div;
      }
    });
    var chartControl = config.urls.charts && byId.complaints ? new ChartControl().addTo(map) : null;
    var chartTimer = null, chartSeq = 0;

    function chartQuery() {
      var params = [];
      byId.complaints.follows.forEach(function (name) {
        if (state.filters[name]) { params.push(name + "=" + encodeURIComponent(state.filters[name])); }
      });
      if (!state.filters.area) {
        var b = map.getBounds();
        var sw = b.getSouthWest(), ne = b.getNorthEast();
        var west = Math.max(sw.lng, -180), east = Math.min(ne.lng, 180);
        var south = Math.max(sw.lat, -85), north = Math.min(ne.lat, 85);
        if (config.system === "gcj02") {  // the view is in GCJ-02; complaints are stored in WGS-84 (~600 m off)
          west -= 0.01; east += 0.01; south -= 0.01; north += 0.01;
        }
        params.push("bbox=" + [west, south, east, north].map(function (v) { return v.toFixed(5); }).join(","));
      }
      return params.join("&");
    }

    // Chart answers by URL: moving back to a view, or toggling a layer, asks nothing again.
    var chartCache = {};
    function getChart(url) {
      if (!chartCache[url]) {
        chartCache[url] = fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
          .catch(function (err) { delete chartCache[url]; throw err; });
      }
      return chartCache[url];
    }

    function refreshCharts() {
      if (!chartControl) { return; }
      var div = chartControl.getContainer();
      if (!state.visible.complaints) { div.hidden = true; return; }
      var seq = ++chartSeq;
      var q = chartQuery();
      var hasDates = !!(state.filters.from || state.filters.to);
      // The weekly chart decides the period (the filter's dates, or the 26 weeks up to the newest complaint); the
      // category chart counts the same period, so both say the same thing.
      getChart(config.urls.charts.weekly + "?" + q)
        .then(function (weekly) {
          var period = hasDates ? "" : "&from=" + weekly.from + "&to=" + weekly.to;
          var categoriesQuery = q.replace(/(^|&)(from|to)=[^&]*/g, "");
          return getChart(config.urls.charts.categories + "?limit=6&" + (hasDates ? q : categoriesQuery + period))
            .then(function (top) { return [weekly, top]; });
        })
        .then(function (results) {
          if (seq !== chartSeq) { return; }  // a newer request won
          var weekly = results[0], top = results[1];
          var scope = state.filters.area ? t("forArea") : t("forView");
          var html = boxTitle("charts", t("charts")) + ' <small>(' + escapeHtml(scope) + ")</small>";
          if (!folded.charts) {
            html += '<div class="shaozi-chart-period" data-from="' + escapeHtml(weekly.from) + '" data-to="' +
              escapeHtml(weekly.to) + '">' + escapeHtml(t("period")) + " " + escapeHtml(weekly.from) + " – " +
              escapeHtml(weekly.to) + "</div>";
            html += '<div class="shaozi-chart-title">' + escapeHtml(t("weekly")) + "</div>";
            html += weekly.weeks.length
              ? columnChart(weekly.weeks.map(function (w) { return {label: w.week, value: w.count}; }),
                {id: "weekly", title: t("weekly")})
              : '<div class="shaozi-legend-note">' + escapeHtml(t("noData")) + "</div>";
            html += '<div class="shaozi-chart-title">' + escapeHtml(t("topCategories")) + " · " + escapeHtml(t("total")) +
              " " + fmt(top.total) + "</div>";
            html += top.categories.length
              ? barChart(top.categories.map(function (c) {
                var item = c.code ? categoryByCode(String(c.code)) : null;
                return {label: item ? categoryName(item) : c.name, value: c.count};
              }),
                {id: "categories", title: t("topCategories")})
              : '<div class="shaozi-legend-note">' + escapeHtml(t("noData")) + "</div>";
          }
          div.innerHTML = html;
          div.hidden = !state.visible.complaints;
          wireFold(div, refreshCharts);
          document.body.setAttribute("data-chart-weekly", String(weekly.weeks.reduce(function (a, w) {
            return a + (w.count || 0); }, 0)));
          document.body.setAttribute("data-chart-total", String(top.total));
          document.body.setAttribute("data-chart-period", weekly.from + "/" + weekly.to);
        })
        .catch(function () { if (seq === chartSeq) { notice(pick({zh: "图表加载失败", en: "charts failed to load"})); } });
    }

    // Charts wait for the complaint tiles: they count complaints (slow over a dense view) and would otherwise hold
    // the browser's connections while the tiles queue behind them. Moves are debounced.
    var complaintTilesBusy = false, chartsPending = false;
    function scheduleCharts(delay) {
      if (chartTimer) { clearTimeout(chartTimer); }
      if (!chartControl || !state.visible.complaints) { if (chartControl) { chartControl.getContainer().hidden = true; } return; }
      chartTimer = setTimeout(function () {
        chartTimer = null;
        var tilesLayer = shaozi.layers.complaints;
        // The layer may have started loading before the "loading" listener below was attached: ask it too.
        if (complaintTilesBusy || (tilesLayer && map.hasLayer(tilesLayer) && tilesLayer.isLoading && tilesLayer.isLoading())) {
          chartsPending = true;
          return;
        }
        refreshCharts();
      }, delay === undefined ? 300 : delay);
    }

    var SystemControl = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () { return L.DomUtil.create("div", "shaozi-system"); }
    });
    var systemControl = new SystemControl().addTo(map);

    function renderSystem() {
      var el = systemControl.getContainer();
      el.setAttribute("data-system", config.system);
      el.textContent = t(config.system === "gcj02" ? "systemGcj02" : "systemWgs84");
    }

    // ---- language ----------------------------------------------------------------------------------------
    function applyLang() {
      document.documentElement.lang = state.lang === "en" ? "en" : "zh-Hans";
      Array.prototype.forEach.call(document.querySelectorAll(".shaozi-t"), function (el) {
        el.textContent = el.getAttribute("data-" + state.lang) || el.getAttribute("data-zh");
      });
      var button = document.getElementById("shaozi-lang");
      if (button) { button.textContent = t("switchTo"); }
      buildLayerControl();
      renderLegend();
      renderFilters();
      renderSystem();
      if (chartControl && !chartControl.getContainer().hidden) { scheduleCharts(); }
    }

    // ---- address search (/api/v1/geocode) and the panels switch (small screens) ------------------------------
    var searchMarker = null;
    var searchForm = document.getElementById("shaozi-search");
    if (searchForm && config.urls.geocode) {
      L.DomEvent.disableClickPropagation(searchForm);
      searchForm.addEventListener("submit", function (e) {
        e.preventDefault();
        var q = searchForm.querySelector("input[name=q]").value.trim();
        var out = document.getElementById("shaozi-search-result");
        if (!q) { return; }
        fetch(config.urls.geocode + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
          .then(function (r) { if (!r.ok && r.status !== 404 && r.status !== 422) { throw new Error(String(r.status)); } return r.json(); })
          .then(function (data) {
            var hit = data && data.candidates && data.candidates[0];
            if (!hit) { out.textContent = t("searchNone"); document.body.setAttribute("data-search", "none"); return; }
            var p = config.system === "gcj02" ? wgs84ToGcj02(hit.lon, hit.lat) : [hit.lon, hit.lat];
            var zoom = hit.radius_m && hit.radius_m > 1500 ? 13 : 16;
            map.setView([p[1], p[0]], zoom, {animate: false});
            if (searchMarker) { map.removeLayer(searchMarker); }
            searchMarker = L.circleMarker([p[1], p[0]], {radius: 7, color: "#0d47a1", weight: 2, fillColor: "#42a5f5",
              fillOpacity: 0.9, className: "shaozi-search-marker", interactive: false}).addTo(map);
            out.textContent = hit.label + (hit.synthetic ? " *" : "");
            document.body.setAttribute("data-search", hit.label);
          })
          .catch(function () { out.textContent = t("searchFailed"); });
      });
    }

    var panelsButton = document.getElementById("shaozi-panels");
    function showPanels(show) {
      document.body.classList.toggle("shaozi-panels-hidden", !show);
      if (panelsButton) { panelsButton.setAttribute("aria-expanded", show ? "true" : "false"); }
    }
    if (panelsButton) {
      panelsButton.addEventListener("click", function () {
        showPanels(document.body.classList.contains("shaozi-panels-hidden"));
      });
    }
    // On a phone-sized screen the map comes first: panels start folded away behind the ☰ switch.
    if (global.matchMedia && global.matchMedia("(max-width: 600px)").matches) { showPanels(false); }

    var langButton = document.getElementById("shaozi-lang");
    if (langButton) {
      langButton.addEventListener("click", function () {
        state.lang = state.lang === "zh" ? "en" : "zh";
        applyLang();
        writeHash();
      });
    }

    // ---- click → verdict ---------------------------------------------------------------------------------
    function areaLink(area) {
      if (!area) { return "—"; }
      var href = config.urls.area.replace("CODE", encodeURIComponent(area.code)) +
        (state.filters.at ? "?at=" + encodeURIComponent(state.filters.at) : "");
      return escapeHtml(area.name) + ' <small>' + escapeHtml(area.code) + '</small> <a href="' + escapeHtml(href) +
        '" target="_blank" title="' + escapeHtml(t("apiObject")) + '">↗</a>';
    }

    function verdictHtml(v) {
      if (v.error) {
        return '<span class="warn">' + escapeHtml(v.error.message) + "</span>";
      }
      var rows = [[t("district"), areaLink(v.district)], [t("street"), areaLink(v.street)]];
      if (v.community) { rows.push([t("community"), areaLink(v.community)]); }
      if (v.lead && (!v.street || v.lead.code !== v.street.code)) { rows.push([t("lead"), areaLink(v.lead)]); }
      if (v.co_handlers && v.co_handlers.length) {
        rows.push([t("coHandlers"), v.co_handlers.map(areaLink).join("<br>")]);
      }
      if (v.method) { rows.push([t("method"), escapeHtml(pick(METHODS[v.method]) || v.method)]); }
      rows.push([t("generation"), v.generation ? escapeHtml(v.generation.name) : "—"]);
      rows.push([t("point"), v.point.coordinates.map(function (n) { return n.toFixed(6); }).join(", ")]);
      var html = '<table class="shaozi-verdict" data-method="' + escapeHtml(v.method) + '">';
      rows.forEach(function (r) { html += "<tr><th>" + escapeHtml(r[0]) + "</th><td>" + r[1] + "</td></tr>"; });
      html += "</table>";
      if (v.on_boundary && v.candidates && v.candidates.length) {
        html += '<div class="warn">' + escapeHtml(t("onBoundary")) + "：" +
          v.candidates.map(function (c) { return escapeHtml(c.name || (c.area && c.area.name) || ""); }).join("、") +
          "</div>";
      }
      if (v.needs_review) { html += '<div class="warn">' + escapeHtml(t("needsReview")) + "</div>"; }
      if (!v.district && !v.street) { html += '<div class="warn">' + escapeHtml(t("outside")) + "</div>"; }
      return html;
    }

    var featureClick = null;
    map.on("click", function (e) {
      if (featureClick && e.originalEvent === featureClick) { return; }
      var lon = e.latlng.lng.toFixed(7), lat = e.latlng.lat.toFixed(7);
      var popup = L.popup({maxWidth: 360}).setLatLng(e.latlng).setContent(escapeHtml(t("lookingUp"))).openOn(map);
      var url = config.urls.jurisdiction + "?lon=" + lon + "&lat=" + lat + "&crs=" + config.system +
        (state.filters.at ? "&at=" + encodeURIComponent(state.filters.at) : "");
      fetch(url, {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (v) { popup.setContent(verdictHtml(v)); })
        .catch(function () { popup.setContent(escapeHtml(t("lookupFailed"))); });
    });

    // ---- wiring ------------------------------------------------------------------------------------------
    applyHash(readHash());

    if (config.basemap) {
      basemapLayer = L.tileLayer(config.basemap.url, {
        attribution: escapeHtml(config.basemap.attribution),
        zIndex: 0,
        maxZoom: 19
      }).addTo(map);
    }
    config.layers.forEach(makeLayer);
    // The complaint tiles are asked for first: the browser queues requests in the order layers join the map, and
    // the boundary tiles and labels would otherwise hold its six connections while the complaints wait.
    var firstLoaded = config.layers.filter(function (cfg) { return cfg.id === "complaints"; });
    firstLoaded.concat(config.layers.filter(function (cfg) { return cfg.id !== "complaints"; }))
      .forEach(function (cfg) { if (state.visible[cfg.id]) { shaozi.layers[cfg.id].addTo(map); } });
    config.layers.forEach(loadLabels);
    loadAreaChoices();
    loadCatalogue();
    loadRuns();

    map.on("overlayadd overlayremove", function (e) {
      config.layers.forEach(function (cfg) {
        if (shaozi.layers[cfg.id] === e.layer) { state.visible[cfg.id] = e.type === "overlayadd"; }
      });
      syncLabels();
      refreshWeek();
      renderLegend();
      writeHash();
      scheduleCharts();
    });
    map.on("moveend", writeHash);
    map.on("moveend", function () { if (!state.filters.area) { scheduleCharts(800); } });
    if (shaozi.layers.complaints) {
      shaozi.layers.complaints.on("loading", function () { complaintTilesBusy = true; });
      shaozi.layers.complaints.on("load remove", function () {
        complaintTilesBusy = false;
        if (chartsPending) { chartsPending = false; scheduleCharts(0); }
      });
    }
    map.on("zoomend", syncLabels);
    global.addEventListener("hashchange", function () {
      if (location.hash === lastHash) { return; }
      applyHash(readHash());
      config.layers.forEach(function (cfg) {
        var layer = shaozi.layers[cfg.id];
        if (state.visible[cfg.id] && !map.hasLayer(layer)) { layer.addTo(map); }
        if (!state.visible[cfg.id] && map.hasLayer(layer)) { map.removeLayer(layer); }
      });
      applyLang();
      filtersChanged();
      syncLabels();
      refreshWeek();
    });

    applyLang();
    syncLabels();
    refreshWeek();
    writeHash();
    scheduleCharts();
    return shaozi;
  }

  function notice(text) {
    var el = document.getElementById("shaozi-notice");
    if (el) { el.textContent = text; el.hidden = false; }
  }

  // Hide the notice if it still says `prefix…` (a condition that no longer holds).
  function clearNotice(prefix) {
    var el = document.getElementById("shaozi-notice");
    if (el && el.textContent.indexOf(prefix) === 0) { el.hidden = true; el.textContent = ""; }
  }

  global.shaoziPlanner = shaoziPlanner;
  global.shaoziEscape = escapeHtml;
})(window);
