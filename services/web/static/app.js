/* chiso dashboard: sortable tables (keyboard: the column headers are buttons) and the charts
   (Chart.js, served from this site). Every chart draws the rows of the table shown beneath it. */
"use strict";

(function () {
  function sortTable(table, key, type, button) {
    var th = button.closest("th");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    if (th.getAttribute("aria-sort") === null && (key === "total" || key.charAt(0) === "g" || key === "change")) {
      ascending = false; // points and moves: best first on the first press
    }
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var collator = new Intl.Collator("vi");
    rows.sort(function (a, b) {
      var x = a.dataset[key] || "", y = b.dataset[key] || "";
      var c = type === "number" ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : collator.compare(x, y);
      if (c === 0) { c = (parseFloat(a.dataset.rank) || 0) - (parseFloat(b.dataset.rank) || 0); return c; }
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead button[data-sort]").forEach(function (button) {
      button.addEventListener("click", function () {
        sortTable(table, button.dataset.sort, button.dataset.type, button);
      });
    });
  });

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  if (typeof window.Chart === "undefined") { return; }
  var Chart = window.Chart;
  Chart.defaults.locale = "vi-VN";
  Chart.defaults.font.family = "system-ui, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
  Chart.defaults.maintainAspectRatio = false;
  var number = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  var groups = data("data-groups");
  var groupCanvas = document.getElementById("chart-groups");
  if (groups && groupCanvas) {
    new Chart(groupCanvas, {
      type: "bar",
      data: {
        labels: groups.map(function (g) { return g.label; }),
        datasets: [
          { label: "Điểm đạt", data: groups.map(function (g) { return g.value; }), backgroundColor: "#1f6f8b" },
          { label: "Điểm tối đa", data: groups.map(function (g) { return g.max_value; }), backgroundColor: "#d5e3ea" }
        ]
      },
      options: {
        indexAxis: "y",
        animation: false,
        plugins: {
          tooltip: { callbacks: {
            title: function (items) { return groups[items[0].dataIndex].name; },
            label: function (item) { return item.dataset.label + ": " + number.format(item.raw); }
          } }
        },
        scales: { x: { beginAtZero: true }, y: { stacked: false } }
      }
    });
  }

  var trend = data("data-trend");
  var trendCanvas = document.getElementById("chart-trend");
  if (trend && trendCanvas) {
    new Chart(trendCanvas, {
      type: "line",
      data: {
        labels: trend.map(function (t) { return t.period; }),
        datasets: [
          { label: "Tổng điểm", data: trend.map(function (t) { return t.total_value; }), borderColor: "#1f6f8b",
            backgroundColor: "#1f6f8b", yAxisID: "y", spanGaps: true, tension: 0.2 },
          { label: "Thứ hạng", data: trend.map(function (t) { return t.rank; }), borderColor: "#c05621",
            backgroundColor: "#c05621", yAxisID: "rank", spanGaps: true, borderDash: [6, 4], tension: 0.2 }
        ]
      },
      options: {
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          tooltip: { callbacks: { label: function (item) {
            if (item.raw === null) { return item.dataset.label + ": —"; }
            return item.dataset.yAxisID === "rank" ? item.dataset.label + ": " + item.raw + "/" + trend[item.dataIndex].ranked
              : item.dataset.label + ": " + number.format(item.raw);
          } } }
        },
        scales: {
          y: { min: 0, max: 100, position: "left", title: { display: true, text: "Điểm" } },
          rank: { reverse: true, min: 1, position: "right", grid: { drawOnChartArea: false },
                  title: { display: true, text: "Hạng" }, ticks: { precision: 0 } }
        }
      }
    });
  }
})();
