// Draws the report's charts into its <svg> elements from the JSON block #report-data.
// Inlined into every report: no libraries, no network. When done it sets body.dataset.rendered to "1"
// (a browser test checks that attribute to prove the script ran).
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var WORDS = data.words;  // the report's words in its language (report.py WORDS)
  var WIDTH = 560, LABEL = 150, VALUE = 150, ROW = 32, PAD = 10;

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    parent.appendChild(node);
    return node;
  }

  // A label that does not fit its column is shortened with "…"; the full text stays in a <title>.
  function label(svg, text, x, y) {
    var node = el("text", { x: x, y: y, "text-anchor": "end", "dominant-baseline": "middle", "class": "label" },
      svg, text);
    el("title", {}, node, text);
    var shown = text;
    while (node.getComputedTextLength && node.getComputedTextLength() > LABEL - 8 && shown.length > 2) {
      shown = shown.slice(0, -1);
      node.firstChild.nodeValue = shown + "…";
    }
    return node;
  }

  // Horizontal bars, one per row {name, value, text}; a negative value extends left of the zero line.
  function bars(svg, rows, opts) {
    var height = PAD * 2 + Math.max(rows.length, 1) * ROW + (opts.reference !== undefined ? 18 : 0);
    svg.setAttribute("viewBox", "0 0 " + WIDTH + " " + height);
    svg.setAttribute("width", WIDTH);
    svg.setAttribute("height", height);
    if (!rows.length) {
      el("text", { x: WIDTH / 2, y: height / 2, "text-anchor": "middle", "class": "empty" }, svg, WORDS["no-data"]);
      return;
    }
    var values = rows.map(function (r) { return r.value || 0; });
    var max = Math.max.apply(null, values.concat([0, opts.floorMax || 0, opts.reference || 0]));
    var min = Math.min.apply(null, values.concat([0]));
    var left = LABEL, plot = WIDTH - LABEL - VALUE, span = (max - min) || 1;
    var x = function (v) { return left + (v - min) / span * plot; };
    var top = PAD + (opts.reference !== undefined ? 18 : 0);
    el("line", { x1: x(0), x2: x(0), y1: top - 4, y2: top + rows.length * ROW + 2, "class": "axis" }, svg);
    rows.forEach(function (r, i) {
      var y = top + i * ROW, v = r.value || 0;
      var group = el("g", { "class": "row", "data-code": r.code }, svg);
      label(group, r.name, left - 8, y + ROW / 2);
      var x0 = Math.min(x(0), x(v)), w = Math.abs(x(v) - x(0));
      var bar = el("rect", { x: x0, y: y + 6, width: Math.max(w, v ? 1 : 0), height: ROW - 12, rx: 3,
        fill: v < 0 ? "#8a94a6" : opts.color, "class": "bar" }, group);
      el("title", {}, bar, r.name + "：" + r.text + (r.share ? "（" + r.share + "）" : ""));
      var end = Math.max(x(v), x(0)) + 6;
      var valueText = el("text", { x: end, y: y + ROW / 2, "dominant-baseline": "middle", "class": "value" },
        group, r.text);
      if (r.share) { el("tspan", { "class": "share", dx: 6 }, valueText, r.share); }
    });
    if (opts.reference !== undefined && opts.reference !== null) {
      var rx = x(opts.reference);
      el("line", { x1: rx, x2: rx, y1: top - 4, y2: top + rows.length * ROW, "class": "reference" }, svg);
      el("text", { x: rx, y: PAD + 6, "text-anchor": "middle", "class": "reference-label" }, svg,
        opts.referenceText);
    }
  }

  var children = data.children;
  bars(document.getElementById("chart-members"), children.map(function (c) {
    return { code: c.code, name: c.name, value: c.members, text: c.members_text + WORDS.people };
  }), { color: "#b83227" });
  bars(document.getElementById("chart-rate"), children.filter(function (c) { return c.rate !== null; })
    .map(function (c) {
      return { code: c.code, name: c.name, value: c.rate, text: c.rate_text };
    }), { color: "#2b6cb0", floorMax: 1, reference: data.overall_rate === null ? undefined : data.overall_rate,
    referenceText: WORDS["total-line"] + data.overall_rate_text });
  [["chart-income", data.income, "#2f855a"], ["chart-expense", data.expense, "#c05621"]].forEach(function (c) {
    bars(document.getElementById(c[0]), c[1], { color: c[2] });
  });
  document.body.dataset.rendered = "1";
})();
