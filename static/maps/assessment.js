/* 三率考核 page: click a table heading to sort by it (again to reverse). */
(function () {
  "use strict";
  var table = document.getElementById("assessment-table");
  if (!table) { return; }
  var heads = table.querySelectorAll("th[data-sort]");
  Array.prototype.forEach.call(heads, function (th, column) {
    th.style.cursor = "pointer";
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-sort") === "num";
      var down = th.getAttribute("data-dir") !== "desc";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", down ? "desc" : "asc");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > 1; });
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-value"), y = b.cells[column].getAttribute("data-value");
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, "zh-Hans");
        return down ? -order : order;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      document.body.setAttribute("data-sorted", String(column) + (down ? "-desc" : "-asc"));
    });
  });
})();
