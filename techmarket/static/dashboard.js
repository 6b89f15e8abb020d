// Dashboard charts: each <canvas data-chart-source="id"> is drawn from the JSON block with that id.
// The same figures are in the table under every chart; the chart is only a picture of them.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;
  var COLORS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997", "#ffc107", "#6c757d"];

  function number(text) {
    if (text === "") return null; // a gap: e.g. the projection before today
    var value = parseFloat(text);
    return isNaN(value) ? null : value;
  }

  function formatValue(value, kind) {
    if (kind === "money") {
      if (Math.abs(value) >= 10000) return (value / 10000).toLocaleString("zh-CN", { maximumFractionDigits: 2 }) + "万元";
      return value.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + "元";
    }
    if (kind === "percent") return value + "%";
    return value.toLocaleString("zh-CN");
  }

  // Long category names (units, contract types) read better on horizontal bars.
  function isHorizontal(spec) {
    return spec.labels.length > 5 && spec.labels.some(function (l) { return l.length > 6; });
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source) return;
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (e) {
      return;
    }
    var kinds = spec.series.map(function (s) { return s.kind; });
    var datasets = spec.series.map(function (s, i) {
      var color = COLORS[i % COLORS.length];
      return {
        label: s.label,
        data: s.data.map(number),
        backgroundColor: spec.type === "line" ? color + "33" : color,
        borderColor: color,
        borderWidth: spec.type === "line" ? 2 : 0,
        fill: false,
        spanGaps: false,
        borderDash: s.label.indexOf("预计") >= 0 ? [6, 4] : undefined,
        tension: 0.2,
        pointRadius: spec.type === "line" ? 2 : undefined
      };
    });
    var kind = kinds[0] || "count";
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        aspectRatio: spec.labels.length > 12 ? 3 : 2.5,
        animation: false,
        indexAxis: spec.type === "bar" && isHorizontal(spec) ? "y" : "x",
        plugins: {
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var k = kinds[ctx.datasetIndex] || kind;
                var v = ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y;
                return ctx.dataset.label + "：" + formatValue(v, k);
              }
            }
          }
        },
        scales: (function () {
          var horizontal = spec.type === "bar" && isHorizontal(spec);
          var valueAxis = { beginAtZero: true, ticks: { callback: function (v) { return formatValue(v, kind); } } };
          var labelAxis = { ticks: { autoSkip: true } };
          return horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };
        })()
      }
    });
  }

  document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
})();
