// The run page's live curves: the epoch rows so far from /api/runs/ID/metrics, then each new one from the
// server-sent events of /api/runs/ID/events, drawn as SVG polylines (train loss, val loss) against the epoch.
(function () {
  "use strict";
  const box = document.getElementById("curves");
  if (!box) return;
  const run = box.dataset.run, svg = document.getElementById("chart"), status = document.getElementById("curve-status");
  const rows = [], W = 640, H = 260, PAD = 36, NS = "http://www.w3.org/2000/svg";
  const series = [["train_loss", "#2451b7"], ["val_loss", "#c0392b"]];

  function el(name, attrs, text) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function draw() {
    svg.replaceChildren();
    const values = rows.flatMap(r => series.map(([k]) => r[k]).filter(v => Number.isFinite(v)));
    if (!values.length) { status.textContent = "waiting for the first epoch"; return; }
    const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1, n = Math.max(rows.length - 1, 1);
    const x = i => PAD + (W - 2 * PAD) * i / n, y = v => H - PAD - (H - 2 * PAD) * (v - lo) / span;
    svg.append(el("line", {x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, stroke: "#999"}));
    svg.append(el("line", {x1: PAD, y1: PAD, x2: PAD, y2: H - PAD, stroke: "#999"}));
    svg.append(el("text", {x: 2, y: PAD, "font-size": 11}, hi.toPrecision(3)));
    svg.append(el("text", {x: 2, y: H - PAD, "font-size": 11}, lo.toPrecision(3)));
    svg.append(el("text", {x: W - PAD, y: H - 8, "font-size": 11, "text-anchor": "end"}, "epoch " + (rows.length - 1)));
    series.forEach(([key, colour], s) => {
      const pts = rows.map((r, i) => Number.isFinite(r[key]) ? x(i) + "," + y(r[key]) : null).filter(Boolean);
      if (pts.length) svg.append(el("polyline", {points: pts.join(" "), fill: "none", stroke: colour, "stroke-width": 2, "data-key": key}));
      svg.append(el("text", {x: W - PAD - 90, y: PAD + 14 * s, fill: colour, "font-size": 12}, key));
    });
    status.textContent = rows.length + " epochs";
  }

  function add(row) {
    if (rows.some(r => r.epoch === row.epoch)) return;
    rows.push(row);
    rows.sort((a, b) => a.epoch - b.epoch);
    draw();
  }

  fetch("/api/runs/" + encodeURIComponent(run) + "/metrics").then(r => r.json()).then(list => {
    list.forEach(add);
    draw();
    const events = new EventSource("/api/runs/" + encodeURIComponent(run) + "/events");
    events.addEventListener("epoch", e => add(JSON.parse(e.data)));
    events.addEventListener("end", () => { events.close(); status.textContent += " (run not writing)"; });
  });
})();
