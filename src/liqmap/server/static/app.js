// liqmap dashboard: fetches the JSON API and draws it with Plotly (served locally from the plotly package).
// Every number comes from the API (the map report `MapReport.to_dict()` of /api/map and /api/cascade, the
// heatmap, the stored realized liquidations); the page only formats, filters what is shown and sums for hover.
"use strict";

const $ = (id) => document.getElementById(id);
// the look of liqmap.viz._style: longs red, shorts green, price amber (tests/server checks they stay equal)
const C = { long: "#f6465d", short: "#0ecb81", accent: "#f0b90b", text: "#d1d4dc", muted: "#848e9c", grid: "#2a2e39", bg: "#0b0e11", panel: "#161b24" };
// liqmap.viz._style.CANDLE_UP / CANDLE_DOWN: the heatmap's candles, as on the exported chart
const CANDLE = { up: "#26a69a", down: "#ef5350" };
const HEAT = [[0, "#0e1117"], [0.08, "#2a0f5c"], [0.3, "#7b2382"], [0.55, "#d6456b"], [0.8, "#fb9b4f"], [1, "#fcfdbf"]];
// liqmap.viz._style.CATEGORICAL (Okabe–Ito): one colour per leverage (from the highest down) or exchange
const CATEGORICAL = ["#56b4e9", "#e69f00", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#bbbbbb"];
const SHORT_PATTERN = { shape: "/", fgcolor: "#0b0e11", fillmode: "overlay", size: 6, solidity: 0.35 };
const LAYER_ALPHA = 0.7; // the layers are see-through and the cumulative curves drawn on top of them
const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d"] };
// the heatmap's time axis has no traces (they lie on its linear twin): autoscaling would part the two, a reset
// to the drawn ranges does not
const HEATMAP_CONFIG = { ...PLOT_CONFIG, modeBarButtonsToRemove: ["lasso2d", "autoScale2d"], doubleClick: "reset" };
const MAP_SPAN = 0.15; // the map's x-axis opens at price ± 15 %
const DAY_MS = 86_400_000;
const DATE_TICKS = [
  { dtickrange: [null, DAY_MS * 0.999], value: "%b %d %H:%M" },
  { dtickrange: [DAY_MS * 0.999, null], value: "%b %d" },
];

// Everything the page loaded, for inspection, export and the browser tests.
const state = {
  symbols: [], heatmap: null, map: null, cascade: null, liquidations: null, ws: null, seq: 0, mapSeq: 0,
  renders: {}, atMs: null, hooked: {}, hovered: {}, drawnAt: {},
  busy: 0, // requests and redraws in flight (0: the page shows everything it asked for)
};
window.liqmap = state;

// ---------------------------------------------------------------- formatting (liqmap.viz._style's rules)
const UNITS = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];

function fixed(x, d) {
  // toFixed, but exact ties round half to even as Python's format does (fmt_usd(2.5) is "$2")
  const m = x * 10 ** d;
  if (Number.isInteger(2 * m) && !Number.isInteger(m) && Math.floor(m) % 2 === 0) return (Math.floor(m) / 10 ** d).toFixed(d);
  return x.toFixed(d);
}

// Compact trader dollars, the one money format of every axis, hover and table: $5.5B, $641M, $12.5K, $930,
// $0 for |x| < 0.5 — liqmap.viz.fmt_usd's rules (a browser test compares the two), never SI G/n/µ.
function usd(x) {
  if (x === null || x === undefined) return "–";
  if (!Number.isFinite(x)) return "n/a";
  if (Math.abs(x) < 0.5) return "$0";
  const sign = x < 0 ? "-" : "", v = Math.abs(x);
  for (const [scale, unit] of UNITS) {
    if (v >= scale * 0.9995) {
      const y = v / scale, d = y >= 99.95 ? 0 : y >= 9.995 ? 1 : 2;
      return `${sign}$${d ? fixed(y, d).replace(/\.?0+$/, "") : fixed(y, 0)}${unit}`;
    }
  }
  return `${sign}$${fixed(v, 0)}`;
}

function price(x) {
  // liqmap.viz.fmt_price: $94,120 · $3.52 · $0.09541
  const a = Math.abs(x);
  if (a >= 1000) return `$${x.toLocaleString("en-US", { maximumFractionDigits: 0 })}`;
  if (a >= 1) return `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${Number(x.toPrecision(4))}`;
}
const priceDecimals = (step) => (step > 0 && Number.isFinite(step) ? Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9))) : 0);
const priceTickformat = (lo, hi) => `$,.${priceDecimals((hi - lo) / 10)}f`;
const pct = (x) => `${x > 0 ? "+" : ""}${x.toFixed(2)} %`;
const utc = (ms) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const stamp = (ms) => ((d) => `${MONTHS[d.getUTCMonth()]} ${d.toISOString().slice(8, 10)} ${d.toISOString().slice(11, 19)}`)(new Date(ms)); // Feb 08 12:34:56
const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)); // "#rrggbb" → [r, g, b]
const critical = (x, max) => (x === null || x === undefined ? `none up to ${max} %` : `${x.toFixed(3)} %`);

function niceStep(raw) {
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9));
}

// A money axis: round ticks from 0 to vmax labelled by usd() (plotly's own "$.2s" prints $5.5G and $930n).
function usdAxis(vmax, n = 5) {
  if (!(vmax > 0)) return { tickmode: "array", tickvals: [0], ticktext: ["$0"], range: [0, 1] };
  const step = niceStep(vmax / n), vals = [];
  for (let k = 0; k * step <= vmax * 1.0001; k++) vals.push(k * step);
  return { tickmode: "array", tickvals: vals, ticktext: vals.map(usd), range: [0, vmax * 1.05] };
}

const layerColor = (k, n) => CATEGORICAL[(n - 1 - k) % CATEGORICAL.length]; // leverage k of n ascending: 100x first
state.fmt = { usd, price, usdAxis, layerColor };

// ---------------------------------------------------------------- plotting helpers
function layout(extra) {
  const axis = { gridcolor: C.grid, zerolinecolor: C.grid, linecolor: C.grid };
  return {
    paper_bgcolor: C.panel, plot_bgcolor: C.panel, // opaque: PNG exports look like the page
    font: { color: C.text, size: 12 }, margin: { l: 64, r: 64, t: 8, b: 36 },
    legend: { orientation: "h", x: 0, y: 1.1, bgcolor: "rgba(0,0,0,0)" },
    hoverlabel: { bgcolor: "#1f2633" },
    ...extra,
    xaxis: { ...axis, ...(extra.xaxis || {}) },
    yaxis: { ...axis, ...(extra.yaxis || {}) },
    ...(extra.yaxis2 ? { yaxis2: { ...axis, ...extra.yaxis2 } } : {}),
  };
}

function draw(id, traces, lay) {
  Plotly.react($(id), traces, lay, id === "heatmap" ? HEATMAP_CONFIG : PLOT_CONFIG);
  state.renders[id] = (state.renders[id] || 0) + 1;
  state.drawnAt[id] = performance.now(); // ms since navigation (benchmarks/dashboard.py reads it)
}

function hook(id, event, fn) {
  // Plotly keeps listeners across react(): attach each once
  const key = `${id}:${event}`;
  if (state.hooked[key]) return;
  $(id).on(event, fn);
  state.hooked[key] = true;
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

async function getJSON(path, params) {
  const r = await fetch(`${path}?${params}`);
  const body = await r.json();
  if (!r.ok) {
    const d = body.detail;
    throw new Error(typeof d === "string" ? d : (d || []).map((e) => `${e.loc.at(-1)}: ${e.msg}`).join("; "));
  }
  return body;
}

// ---------------------------------------------------------------- queries
function endMs() {
  const day = $("end").value;
  if (!day) return null;
  const t = $("end-time").value;
  return Date.parse(t ? `${day}T${t.length === 5 ? `${t}:00` : t}Z` : `${day}T23:59:59Z`);
}

function query() {
  // the series parameters every route shares
  const p = new URLSearchParams();
  p.set("symbol", $("symbol").value);
  for (const ex of checkedExchanges()) p.append("exchange", ex);
  p.set("model", $("model").value);
  p.set("days", $("days").value);
  p.set("bins", $("bins").value);
  const end = endMs();
  if (end !== null) p.set("end_ms", String(end));
  return p;
}

function mapQuery(extra = {}) {
  // the map-report parameters: map time (scrubber) and leverage filter
  const p = query();
  if (state.atMs !== null) p.set("at_ms", String(state.atMs));
  if ($("lev-min").value) p.set("min_leverage", $("lev-min").value);
  if ($("lev-max").value) p.set("max_leverage", $("lev-max").value);
  for (const [k, v] of Object.entries(extra)) p.set(k, String(v));
  return p;
}

const checkedExchanges = () => [...document.querySelectorAll("#exchanges input:checked")].map((b) => b.value);
const threshold = () => Number($("threshold").value) / 100;

// ---------------------------------------------------------------- shareable state: every control in the URL
function writeURL() {
  const p = new URLSearchParams();
  p.set("symbol", $("symbol").value);
  for (const ex of checkedExchanges()) p.append("exchange", ex);
  for (const id of ["model", "days", "bins"]) p.set(id, $(id).value);
  if ($("end").value) p.set("end", $("end").value);
  if ($("end-time").value) p.set("time", $("end-time").value);
  if ($("lev-min").value) p.set("lev_min", $("lev-min").value);
  if ($("lev-max").value) p.set("lev_max", $("lev-max").value);
  if (Number($("threshold").value)) p.set("threshold", $("threshold").value);
  if (state.atMs !== null) p.set("at", String(state.atMs));
  p.set("layers", $("layers").checked ? "1" : "0");
  p.set("liqs", $("liqs").checked ? "1" : "0");
  p.set("live", $("live").checked ? "1" : "0");
  if ($("shock").value !== "") p.set("shock", $("shock").value);
  if ($("resilience").value !== "") p.set("resilience", $("resilience").value);
  const search = `?${p}`;
  if (location.search !== search) history.replaceState(null, "", search);
}

function setDays(value) {
  const sel = $("days");
  if (![...sel.options].some((o) => o.value === value)) {
    sel.querySelectorAll("option.custom").forEach((o) => o.remove());
    const o = new Option(`${Number(value).toFixed(2)} days`, value);
    o.className = "custom";
    sel.append(o);
  }
  sel.value = value;
}

function applyURL(p) {
  if (p.has("symbol") && [...$("symbol").options].some((o) => o.value === p.get("symbol"))) $("symbol").value = p.get("symbol");
  fillExchanges();
  const wanted = p.getAll("exchange");
  const boxes = [...document.querySelectorAll("#exchanges input")];
  if (wanted.some((ex) => boxes.some((b) => b.value === ex))) boxes.forEach((b) => { b.checked = wanted.includes(b.value); });
  for (const id of ["model", "bins"]) if (p.has(id) && [...$(id).options].some((o) => o.value === p.get(id))) $(id).value = p.get(id);
  if (p.has("days") && Number(p.get("days")) > 0) setDays(p.get("days"));
  const fields = { end: "end", time: "end-time", lev_min: "lev-min", lev_max: "lev-max", threshold: "threshold", shock: "shock", resilience: "resilience" };
  for (const [key, id] of Object.entries(fields)) if (p.has(key)) $(id).value = p.get(key);
  for (const id of ["layers", "liqs", "live"]) if (p.has(id)) $(id).checked = p.get(id) === "1";
  state.atMs = p.has("at") && Number.isFinite(Number(p.get("at"))) ? Number(p.get("at")) : null;
  $("threshold-out").textContent = `${$("threshold").value} %`;
}

// ---------------------------------------------------------------- selectors
async function loadSymbols() {
  state.symbols = (await getJSON("/api/symbols", "")).symbols;
  const names = [...new Set(state.symbols.map((s) => s.symbol))];
  $("symbol").replaceChildren(...names.map((n) => new Option(n, n)));
  fillExchanges();
}

function fillExchanges() {
  const rows = state.symbols.filter((s) => s.symbol === $("symbol").value);
  const fs = $("exchanges");
  fs.querySelectorAll("label").forEach((l) => l.remove());
  rows.forEach((row, i) => {
    const box = Object.assign(document.createElement("input"), { type: "checkbox", value: row.exchange });
    box.checked = row.exchange === "binance" || (i === 0 && !rows.some((r) => r.exchange === "binance"));
    const label = document.createElement("label");
    label.title = `${row.rows} bars, ${new Date(row.first_ms).toISOString().slice(0, 10)} → ${utc(row.last_ms)}`;
    label.append(box, row.exchange);
    fs.append(label);
  });
}

// ---------------------------------------------------------------- heatmap
// The heatmap is one image of a pixel per cell (snapshot column × price-bin row) coloured on HEAT in the page and
// shown as a Plotly image trace under the candles and dots, axes and hover as before: Plotly's heatmap trace
// painted the ≈ 150,000 cells one by one (≈ 0.25–0.45 s a redraw); the image takes ≈ 10 ms to colour and is
// drawn as one element.
const heatCache = new WeakMap(); // per heatmap response: long + short per [bin][snapshot], colour top, columns
const HEAT_RGB = HEAT.map(([f, hex]) => [f, rgb(hex)]);
const MAX_COLUMNS = 4096; // image columns at most (the time axis' unit is the shortest snapshot step)

function heatTotals(hm) {
  // colour clipped at the 99.5th percentile of the non-empty cells, so one hot cell does not wash out the rest
  let c = heatCache.get(hm);
  if (c) return c;
  const nT = hm.times_ms.length, nB = hm.price_bins.length;
  const total = Array.from({ length: nB }, () => new Float64Array(nT));
  const flat = [];
  for (let t = 0; t < nT; t++) {
    const L = hm.long_usd[t], S = hm.short_usd[t];
    for (let b = 0; b < nB; b++) {
      const v = L[b] + S[b];
      total[b][t] = v;
      if (v > 0) flat.push(v);
    }
  }
  const sorted = Float64Array.from(flat).sort();
  // the price axis: the close range ± 15 %, the bins the heatmap was asked for (window_pct)
  const lo = Math.min(...hm.close) * (1 - MAP_SPAN), hi = Math.max(...hm.close) * (1 + MAP_SPAN);
  c = { total, lo, hi, zmax: sorted.length ? sorted[Math.floor(0.995 * (sorted.length - 1))] : 1, ...heatColumns(hm.times_ms) };
  heatCache.set(hm, c);
  return c;
}

function heatColumns(times) {
  // the image's columns: snapshot t spans from halfway after the previous snapshot to halfway before the next
  // (the first and last by half their step outwards), as Plotly's heatmap drew its bricks; the columns are as
  // wide as the shortest step, so snapshots an uneven number of bars apart keep their times.
  // {x0: first column's centre (ms), dx: column width (ms), cols: the snapshot each column shows}
  const n = times.length;
  const steps = times.slice(1).map((t, k) => t - times[k]);
  const unit = Math.min(...steps.filter((d) => d > 0), Infinity);
  const half = (k) => (Number.isFinite(unit) ? steps[Math.min(Math.max(k, 0), n - 2)] / 2 : 0.5);
  const e0 = times[0] - half(0), e1 = times[n - 1] + half(n - 2);
  const w = Math.max(1, Math.min(MAX_COLUMNS, Math.round((e1 - e0) / (Number.isFinite(unit) ? unit : 1))));
  const dx = (e1 - e0) / w, cols = new Int32Array(w);
  for (let x = 0, t = 0; x < w; x++) {
    const mid = e0 + (x + 0.5) * dx;
    while (t + 1 < n && (times[t] + times[t + 1]) / 2 <= mid) t++;
    cols[x] = t;
  }
  return { x0: e0 + dx / 2, dx, cols };
}

function heatColor(f, px, o) {
  // HEAT at f in [0, 1], interpolated in RGB between its stops (as Plotly's colour scales), written opaque into
  // the pixel at px[o]
  let k = 1;
  while (k < HEAT_RGB.length - 1 && HEAT_RGB[k][0] < f) k++;
  const [f0, a] = HEAT_RGB[k - 1], [f1, b] = HEAT_RGB[k], u = Math.min(1, Math.max(0, (f - f0) / (f1 - f0)));
  for (let i = 0; i < 3; i++) px[o + i] = Math.round(a[i] + u * (b[i] - a[i]));
  px[o + 3] = 255;
}

function heatImage(c, cut) {
  // the cells as a PNG data URL, the lowest bin in row 0 (at the image trace's y0); an empty or below-threshold
  // cell is transparent (the background), as Plotly's heatmap left it
  const { total, zmax, cols } = c, w = cols.length, h = total.length;
  const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(w, h);
  for (let r = 0; r < h; r++) {
    const row = total[r];
    for (let x = 0; x < w; x++) {
      const v = row[cols[x]];
      if (v > 0 && v >= cut) heatColor(v / zmax, img.data, 4 * (r * w + x));
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL("image/png");
}

function colorBar(zmax) {
  // the colour bar of the image's scale: a marker trace with no point drawn (an image trace has no colour bar)
  const bar = usdAxis(zmax, 4);
  return {
    type: "scatter", mode: "markers", x: [null], y: [null], hoverinfo: "skip", name: "colour scale",
    marker: { color: [0], cmin: 0, cmax: zmax, colorscale: HEAT, showscale: true,
      colorbar: { thickness: 10, tickfont: { color: C.muted }, tickmode: "array", tickvals: bar.tickvals, ticktext: bar.ticktext } },
  };
}

function liquidationDots(liq, hidden) {
  // realized liquidations: one dot per stored order at its time and price, area ∝ notional
  if (!liq || !liq.times_ms.length) return [];
  const max = Math.max(...liq.notional_usd);
  return [{
    type: "scatter", mode: "markers", x: liq.times_ms, y: liq.price, name: "realized liquidations", visible: hidden ? false : true,
    marker: { size: liq.notional_usd.map((v) => 4 + 20 * Math.sqrt(v / max)), color: liq.side.map((s) => (s === "long" ? C.long : C.short)),
      opacity: 0.85, line: { color: "#ffffff", width: 0.6 } },
    customdata: liq.notional_usd.map((v, i) => [stamp(liq.times_ms[i]), `${liq.side[i]} ${usd(v)} · ${liq.exchange[i]}`]),
    hovertemplate: "%{customdata[0]} UTC<br>%{y:,.2f}: %{customdata[1]}<extra>realized</extra>", xaxis: "x2",
  }];
}

function renderHeatmap(hm) {
  const nT = hm.times_ms.length, nB = hm.price_bins.length;
  const c = heatTotals(hm), { total, zmax, lo, hi } = c;
  const cut = threshold() * zmax;
  const at = state.atMs !== null ? hm.times_ms[atIndex(hm)] : null;
  const xr = [c.x0 - c.dx / 2, c.x0 + (c.cols.length - 0.5) * c.dx]; // the cells' span
  draw("heatmap", [
    // the traces lie on a hidden linear twin of the date axis (same range, in ms; drawn over it): Plotly draws
    // an image as one element on linear axes only (on a date axis pixel by pixel, ≈ 0.4 s)
    { type: "image", source: heatImage(c, cut), x0: c.x0, dx: c.dx, y0: hm.price_bins[0], dy: hm.bin_usd, xaxis: "x2", name: "liquidations", hoverinfo: "none" },
    candleTrace(hm),
    ...liquidationDots(state.liquidations, !$("liqs").checked),
    colorBar(zmax),
  ], layout({
    xaxis: { type: "date", range: xr, rangeslider: { visible: false }, tickformatstops: DATE_TICKS, title: { text: `time (UTC) · ${utc(hm.start_ms).slice(0, 10)} → ${utc(hm.end_ms).slice(0, 10)}` } },
    xaxis2: { type: "linear", overlaying: "x", range: xr, visible: false, rangeslider: { visible: false } },
    yaxis: { range: [lo, hi], title: { text: "price" }, tickformat: priceTickformat(lo, hi), scaleanchor: false }, // not an image's square pixels
    showlegend: false, dragmode: "select", selectdirection: "h", hovermode: "closest", selections: [],
    shapes: at === null ? [] : [{ type: "line", x0: at, x1: at, yref: "paper", y0: 0, y1: 1, line: { color: C.accent, width: 1.5, dash: "dot" } }],
  }));
  // what the image shows, for inspection and the browser tests: the snapshot of each column and their times, the
  // bin of each row, the cells' values (null: transparent) and the colour top
  state.heatCells = () => ({
    columns: Array.from(c.cols), x: [...new Set(c.cols)].map((t) => hm.times_ms[t]), y: hm.price_bins,
    z: total.map((row) => Array.from(row, (v) => (v > 0 && v >= cut ? v : null))), zmax,
  });
  const thr = threshold() ? ` · cells < ${usd(cut)} hidden` : "";
  const liq = state.liquidations && state.liquidations.count ? ` · ${state.liquidations.count.toLocaleString("en-US")} realized liquidations` : "";
  $("heatmap-sub").textContent = `${hm.symbol} · ${hm.exchanges.join("+")} · ${hm.model} · ${nT} snapshots × ${nB} bins (${usd(hm.bin_usd)}/bin)${thr}${liq}`;
  hook("heatmap", "plotly_hover", (ev) => {
    const p = ev.points.find((q) => q.data.type === "image");
    if (!p) return;
    const c = heatTotals(state.heatmap); // a pixel: its column's snapshot, its row's bin of price_bins
    const cell = { t: c.cols[p.pointNumber[1]], b: p.pointNumber[0] };
    state.hovered.heatmap = cell;
    $("heatmap-readout").textContent = describeCell(state.heatmap, cell.t, cell.b);
  });
  hook("heatmap", "plotly_selected", (ev) => { if (ev && ev.range && ev.range.x) brush(ev.range.x); });
  syncScrubber(hm);
}

function candleTrace(hm) {
  // each snapshot column's candle (GET /api/heatmap's candles, liqmap.data.transform.candles); hover reads the cell
  const side = (color) => ({ line: { color, width: 1 }, fillcolor: color });
  return { type: "candlestick", x: hm.times_ms, ...hm.candles, name: "price", increasing: side(CANDLE.up), decreasing: side(CANDLE.down), hoverinfo: "skip", xaxis: "x2" };
}

// hover text of heatmap cell (snapshot t, bin b): long / short / total, bin width, distance to the close then,
// and what a move from the close to this bin would liquidate (cumulative to price)
function describeCell(hm, t, b) {
  const p = hm.price_bins[b], close = hm.close[t], L = hm.long_usd[t], S = hm.short_usd[t];
  let cum = 0;
  if (p < close) for (let i = b; i < L.length && hm.price_bins[i] < close; i++) cum += L[i];
  else for (let i = b; i >= 0 && hm.price_bins[i] > close; i--) cum += S[i];
  const side = p < close ? "longs" : "shorts";
  return `${utc(hm.times_ms[t])} UTC · ${price(p)} (bin ${usd(hm.bin_usd)}) · ${pct((100 * (p - close)) / close)} from ${price(close)} · `
    + `longs ${usd(L[b])} · shorts ${usd(S[b])} · total ${usd(L[b] + S[b])} · cum. ${side} to price ${usd(cum)}`;
}

function brush([x0, x1]) {
  // a range brushed on the heatmap becomes the window: end date + time, range in days
  const a = typeof x0 === "number" ? x0 : Date.parse(`${x0.replace(" ", "T")}Z`);
  const b = typeof x1 === "number" ? x1 : Date.parse(`${x1.replace(" ", "T")}Z`);
  const end = Math.ceil(Math.max(a, b) / 3_600_000) * 3_600_000;
  const days = Math.max(end - Math.min(a, b), 3_600_000) / DAY_MS;
  if (!(days > 0)) return;
  const iso = new Date(end).toISOString();
  $("end").value = iso.slice(0, 10);
  $("end-time").value = iso.slice(11, 16);
  setDays(String(Number(days.toFixed(4))));
  state.atMs = null;
  refresh();
}

// ---------------------------------------------------------------- time scrubber: the map at T
function atIndex(hm) {
  if (state.atMs === null) return hm.times_ms.length - 1;
  let i = 0;
  while (i + 1 < hm.times_ms.length && hm.times_ms[i + 1] <= state.atMs) i++;
  return i;
}

function syncScrubber(hm) {
  const s = $("at");
  s.max = String(hm.times_ms.length - 1);
  s.value = String(atIndex(hm));
  $("at-label").textContent = `${utc(hm.times_ms[Number(s.value)])} UTC${state.atMs === null ? " (latest)" : ""}`;
}

function scrub(final) {
  const hm = state.heatmap;
  if (!hm) return;
  const i = Number($("at").value), last = hm.times_ms.length - 1;
  state.atMs = i >= last ? null : hm.times_ms[i];
  $("at-label").textContent = `${utc(hm.times_ms[i])} UTC${state.atMs === null ? " (latest)" : ""}`;
  Plotly.relayout($("heatmap"), { shapes: state.atMs === null ? [] : [{ type: "line", x0: state.atMs, x1: state.atMs, yref: "paper", y0: 0, y1: 1, line: { color: C.accent, width: 1.5, dash: "dot" } }] });
  if (final) reloadMap();
}

// ---------------------------------------------------------------- map
function mapLayers(m) {
  // [{name, side, color, y}]: by leverage (categorical, 100x first), by exchange when several, else red/green
  const exchanges = Object.keys(m.by_exchange || {});
  let names, longs, shorts, colors;
  if (m.leverages.length) {
    names = m.leverages.map((lev) => `${lev}x`);
    longs = m.long_by_leverage; shorts = m.short_by_leverage;
    colors = names.map((_, k) => layerColor(k, names.length));
  } else if (exchanges.length > 1) {
    names = exchanges;
    longs = exchanges.map((e) => m.by_exchange[e].long_usd); shorts = exchanges.map((e) => m.by_exchange[e].short_usd);
    colors = names.map((_, k) => CATEGORICAL[k % CATEGORICAL.length]);
  } else {
    return [{ name: "longs", side: "long", color: C.long, y: m.long_usd }, { name: "shorts", side: "short", color: C.short, y: m.short_usd }];
  }
  return [
    ...names.map((n, k) => ({ name: `longs ${n}`, group: n, side: "long", color: colors[k], y: longs[k] })),
    ...names.map((n, k) => ({ name: `shorts ${n}`, group: n, side: "short", color: colors[k], y: shorts[k], pattern: true })),
  ];
}

const translucent = (hex, a) => `rgba(${rgb(hex).join(", ")}, ${a})`;

function maxBin(m) {
  let mx = 0;
  for (let i = 0; i < m.price_bins.length; i++) mx = Math.max(mx, m.long_usd[i], m.short_usd[i]);
  return mx;
}

function renderMap(m) {
  const cut = threshold() * maxBin(m);
  const keepL = m.long_usd.map((v) => v >= cut), keepS = m.short_usd.map((v) => v >= cut);
  const layers = mapLayers(m);
  const stacked = layers.length > 2;
  // each layer is one filled step area with a column per bin (line shape "hvh": the steps fall halfway between
  // bin centres, where the bars' edges were), stacked or overlaid: one SVG path per layer, where a bar trace
  // drew one per bin (16 leverage layers × 1,000 bins: 16,000 bars, ≈ 0.7–1.4 s a redraw)
  const areas = layers.map((l) => ({
    type: "scatter", mode: "lines", x: m.price_bins, y: l.y.map((v, i) => ((l.side === "long" ? keepL : keepS)[i] ? v : 0)),
    name: stacked && l.side === "long" ? l.group : l.name, legendgroup: l.group || l.side, showlegend: !stacked || l.side === "long",
    hoverinfo: "none", line: { width: 0, shape: "hvh", color: l.color }, fillcolor: translucent(l.color, LAYER_ALPHA),
    ...(stacked ? { stackgroup: "layers" } : { fill: "tozeroy" }), ...(l.pattern ? { fillpattern: SHORT_PATTERN } : {}),
  }));
  const x0 = m.price * (1 - MAP_SPAN), x1 = m.price * (1 + MAP_SPAN);
  let vmax = 0, cmax = 0;
  m.price_bins.forEach((p, i) => {
    if (p < x0 || p > x1) return;
    const l = keepL[i] ? m.long_usd[i] : 0, s = keepS[i] ? m.short_usd[i] : 0;
    vmax = Math.max(vmax, stacked ? l + s : Math.max(l, s));
    cmax = Math.max(cmax, p < m.price ? m.long_cumulative_usd[i] : 0, p > m.price ? m.short_cumulative_usd[i] : 0);
  });
  const below = m.price_bins.map((p, i) => (p < m.price ? m.long_cumulative_usd[i] : null));
  const above = m.price_bins.map((p, i) => (p > m.price ? m.short_cumulative_usd[i] : null));
  draw("map", [
    ...areas,
    // the curves come last and on the overlaying axis: drawn over the layers, never hidden behind them
    { type: "scatter", mode: "lines", x: m.price_bins, y: below, yaxis: "y2", name: "cum. longs ↓", line: { color: C.long, width: 2.5 }, hoverinfo: "none" },
    { type: "scatter", mode: "lines", x: m.price_bins, y: above, yaxis: "y2", name: "cum. shorts ↑", line: { color: C.short, width: 2.5 }, hoverinfo: "none" },
    ...liquidationTicks(m),
  ], layout({
    hovermode: "x",
    xaxis: { range: [x0, x1], title: { text: "price" }, tickformat: priceTickformat(x0, x1), showspikes: true, spikecolor: C.muted, spikethickness: 1 },
    yaxis: { title: { text: "per bin" }, ...usdAxis(vmax) },
    yaxis2: { overlaying: "y", side: "right", showgrid: false, title: { text: "cumulative" }, ...usdAxis(cmax) },
    yaxis3: { overlaying: "y", range: [0, 1], visible: false, fixedrange: true },
    shapes: [{ type: "line", x0: m.price, x1: m.price, yref: "paper", y0: 0, y1: 1, line: { color: C.accent, width: 1.5, dash: "dot" } }],
    annotations: [{ x: m.price, yref: "paper", y: 0.98, text: ` price ${price(m.price)}`, showarrow: false, font: { color: C.accent }, xanchor: "left", yanchor: "top" }],
  }));
  const lev = m.leverage_filter ? ` · leverage ${m.leverage_filter}` : "";
  const thr = threshold() ? ` · bins < ${usd(cut)} hidden` : "";
  const note = $("layers").checked && !m.leverages.length ? " · per-leverage layers: last bar only" : "";
  $("map-sub").textContent = `${utc(m.as_of_ms)} UTC · longs ${usd(m.total_long_usd)} · shorts ${usd(m.total_short_usd)}${lev}${thr}${note}`;
  $("caveat").textContent = m.caveat;
  hook("map", "plotly_hover", (ev) => {
    const p = ev.points.find((q) => q.data.fillcolor); // a layer's area (the curves and ticks have none)
    if (!p) return;
    state.hovered.map = p.pointNumber;
    $("map-readout").textContent = describeBin(state.map, p.pointNumber);
  });
  if (state.asymmetryOf !== m) renderAsymmetry(m); // the threshold leaves it as it is: no redraw
  state.asymmetryOf = m;
}

function liquidationTicks(m) {
  // realized liquidations of the window as ticks along the price axis, longer for larger orders
  const liq = state.liquidations;
  if (!liq || !liq.times_ms.length || !$("liqs").checked) return [];
  const max = Math.max(...liq.notional_usd);
  return [{
    type: "scatter", mode: "markers", x: liq.price, y: liq.price.map(() => 0.03), yaxis: "y3", name: "realized liq.",
    marker: { symbol: "line-ns-open", size: liq.notional_usd.map((v) => 6 + 22 * Math.sqrt(v / max)), color: liq.side.map((s) => (s === "long" ? C.long : C.short)), line: { width: 2 } },
    customdata: liq.notional_usd.map((v, i) => `${liq.side[i]} ${usd(v)} · ${utc(liq.times_ms[i])}`),
    hovertemplate: "%{x:,.2f}: %{customdata}<extra>realized</extra>", showlegend: true,
  }];
}

// hover text of map bin i: price and bin width, distance to price, long / short / total, cumulative to price
function describeBin(m, i) {
  const p = m.price_bins[i], below = p < m.price;
  const cum = below ? m.long_cumulative_usd[i] : m.short_cumulative_usd[i];
  const layers = mapLayers(m).filter((l) => l.y[i] >= 0.5).map((l) => `${l.name} ${usd(l.y[i])}`);
  return `${price(p)} (bin ${usd(m.bin_usd)}) · ${pct((100 * (p - m.price)) / m.price)} from price · longs ${usd(m.long_usd[i])} · `
    + `shorts ${usd(m.short_usd[i])} · total ${usd(m.long_usd[i] + m.short_usd[i])} · cum. ${below ? "longs" : "shorts"} to price ${usd(cum)}`
    + (layers.length > 2 || m.leverages.length ? ` · ${layers.join(" · ")}` : "");
}

function renderAsymmetry(m) {
  // notional liquidated by a move of x % up (shorts) and down (longs), read off the cumulative curves
  const up = { x: [], y: [] }, down = { x: [], y: [] };
  m.price_bins.forEach((p, i) => {
    const d = (100 * (p - m.price)) / m.price;
    if (d > 0 && d <= 100 * MAP_SPAN) { up.x.push(d); up.y.push(m.short_cumulative_usd[i]); }
    if (d < 0 && d >= -100 * MAP_SPAN) { down.x.push(-d); down.y.push(m.long_cumulative_usd[i]); }
  });
  const ymax = Math.max(0, ...up.y, ...down.y);
  draw("asymmetry", [
    { type: "scatter", mode: "lines", x: up.x, y: up.y, name: "shorts liquidated by a rise", line: { color: C.short, shape: "hv" },
      customdata: up.y.map(usd), hovertemplate: "+%{x:.2f} %: %{customdata}<extra></extra>" },
    { type: "scatter", mode: "lines", x: down.x, y: down.y, name: "longs liquidated by a drop", line: { color: C.long, shape: "hv" },
      customdata: down.y.map(usd), hovertemplate: "−%{x:.2f} %: %{customdata}<extra></extra>" },
  ], layout({ xaxis: { title: { text: "move from price (%)" }, ticksuffix: "%" }, yaxis: usdAxis(ymax) }));
}

// ---------------------------------------------------------------- key levels, imbalance, cascade
function renderLevels(lv) {
  const rows = lv.clusters.map((c) => {
    const tr = document.createElement("tr");
    const cells = [c.rank, c.side, price(c.peak_price), `${price(c.lo)} – ${price(c.hi)}`, usd(c.notional_usd), pct(c.distance_pct)];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      td.textContent = v;
      if (i === 1) td.className = `side-${c.side}`;
      tr.append(td);
    });
    return tr;
  });
  $("levels-table").tBodies[0].replaceChildren(...rows);
  $("levels-sub").textContent = lv.leverage_filter ? `leverage ${lv.leverage_filter}` : "";
  const imb = lv.imbalance;
  const total = imb.short_above_usd + imb.long_below_usd;
  const share = total > 0 ? (100 * imb.short_above_usd) / total : 50;
  draw("gauge", [{
    type: "indicator", mode: "gauge+number", value: share,
    number: { suffix: " % shorts", font: { size: 22, color: share >= 50 ? C.short : C.long } },
    gauge: {
      axis: { range: [0, 100], tickcolor: C.muted, ticksuffix: "%" },
      bar: { color: share >= 50 ? C.short : C.long, thickness: 0.3 },
      bgcolor: "#0b0e14", borderwidth: 0,
      steps: [{ range: [0, 50], color: "rgba(246,70,93,0.18)" }, { range: [50, 100], color: "rgba(14,203,129,0.18)" }],
      threshold: { line: { color: C.accent, width: 2 }, thickness: 0.8, value: 50 },
    },
  }], layout({ margin: { l: 30, r: 30, t: 20, b: 10 } }));
  const ratio = imb.ratio === null ? (imb.note || "no longs") : `${imb.ratio.toFixed(2)} : 1`;
  $("gauge-sub").textContent = `±${imb.window_pct} %: shorts ${usd(imb.short_above_usd)} vs longs ${usd(imb.long_below_usd)} (${ratio})`;
}

function renderCascade(rep, shockPct) {
  // the report's run in the shock's direction (the report holds both: cascades.up and cascades.down)
  const c = rep.cascades[shockPct > 0 ? "up" : "down"];
  const max = rep.settings.max_shock_pct;
  const idx = c.rounds.map((r) => r.index);
  const liq = c.rounds.map((r) => r.liquidated_usd);
  draw("cascade", [
    { type: "bar", x: idx, y: liq, name: "liquidated", yaxis: "y2", customdata: liq.map(usd), hovertemplate: "round %{x}: %{customdata}<extra></extra>",
      marker: { color: c.rounds.map((r) => (r.side === "long" ? C.long : r.side === "short" ? C.short : C.muted)) } },
    { type: "scatter", mode: "lines+markers", x: idx, y: c.rounds.map((r) => r.price), name: "price", line: { color: C.accent } },
  ], layout({
    xaxis: { title: { text: "round" }, dtick: 1 }, yaxis: { title: { text: "price" } },
    yaxis2: { overlaying: "y", side: "right", showgrid: false, ...usdAxis(Math.max(0, ...liq)) },
  }));
  const items = [
    ["start", price(c.start_price)], ["after shock", price(c.shock_price)], ["final", price(c.final_price)],
    ["final move", `${c.final_move_pct.toFixed(2)} %`], ["liquidated", usd(c.total_liquidated_usd)],
    ["amplification", `${c.amplification.toFixed(2)}×`], ["runaway", c.runaway ? (c.hit_edge ? "yes (left the map)" : "yes") : "no"],
    ["critical rise", critical(rep.cascades.critical_shock_up_pct, max)],
    ["critical drop", critical(rep.cascades.critical_shock_down_pct, max)],
  ];
  $("cascade-summary").replaceChildren(...items.flatMap(([k, v]) => [
    Object.assign(document.createElement("dt"), { textContent: k }),
    Object.assign(document.createElement("dd"), { textContent: v }),
  ]));
}

function renderStatus(m) {
  // the window actually queried (its end, not the store's last bar, when an end is chosen) and the profile
  const last = m.last_bar_ms !== m.end_ms ? ` · store's last bar ${utc(m.last_bar_ms)} UTC` : "";
  const warn = m.warnings.length ? ` · ${m.warnings.length} data warning(s) below` : "";
  setStatus(`${m.bars} bars · ${utc(m.start_ms)} → ${utc(m.end_ms)} UTC · map at ${utc(m.as_of_ms)}${last} · profile ${m.profile}${warn}`);
  renderInputs(m);
  $("warnings").replaceChildren(...m.warnings.map((w) => Object.assign(document.createElement("li"), { textContent: w })));
  $("warnings-panel").hidden = !m.warnings.length;
  const levels = Object.keys(m.imbalance.by_leverage || {}).map((k) => parseFloat(k));
  if (levels.length && !m.leverage_filter) $("lev-list").replaceChildren(...levels.map((v) => new Option(`${v}x`, String(v))));
}

// ---------------------------------------------------------------- input origins (SeriesInfo.inputs)
const INPUT_LABELS = { open_interest: "OI", funding: "funding", taker_volume: "taker volume", mark_price: "mark", liquidations: "realized liquidations", tiers: "tiers" };

function renderInputs(m) {
  // one badge per input: real (the venues' own), proxy or missing, with how that is known on hover
  const n = (v) => v.toLocaleString("en-US");
  $("inputs").replaceChildren(...m.inputs.map((s) => {
    const count = s.state === "missing" ? "" : s.bars_with !== null ? ` ${n(s.bars_with)}/${n(m.bars)} bars` : s.stored !== null ? ` ${n(s.stored)}` : "";
    return Object.assign(document.createElement("span"), { className: `badge ${s.state}`, textContent: `${INPUT_LABELS[s.input]} ${s.state}${count}`, title: s.detail });
  }));
}

// ---------------------------------------------------------------- loading
async function runCascade() {
  const shock = Number($("shock").value);
  const p = mapQuery({ shock_pct: shock, resilience: $("resilience").value });
  try {
    state.cascade = await getJSON("/api/cascade", p);
    renderCascade(state.cascade, shock);
    writeURL();
  } catch (e) {
    setStatus(`cascade: ${e.message}`, true);
  }
}

async function loadLiquidations(m) {
  // the stored realized liquidations of the window (none stored: an empty list)
  if (!$("liqs").checked) return null;
  const p = new URLSearchParams({ symbol: m.symbol, start_ms: String(m.start_ms), end_ms: String(m.end_ms) });
  for (const ex of m.exchanges) p.append("exchange", ex);
  return getJSON("/api/liquidations", p);
}

async function refresh() {
  state.busy++;
  try {
    await load();
  } finally {
    state.busy--;
  }
}

async function load() {
  // the map (and its report) is drawn as soon as it arrives; the heatmap and realized liquidations follow
  const seq = ++state.seq;
  state.mapSeq++;
  setStatus("loading…");
  writeURL();
  try {
    const hmP = getJSON("/api/heatmap", new URLSearchParams([...query(), ["snapshots", "400"], ["window_pct", String(100 * MAP_SPAN)]]));
    hmP.catch(() => {}); // awaited below; an error there is reported once
    const stored = await getJSON("/api/map", mapQuery({ layers: $("layers").checked }));
    if (seq !== state.seq) return; // a newer selection superseded this one
    // a pushed live map of this selection newer than the store's (the runner writes every second) is kept
    const live = state.map && state.map.live && state.ws && state.ws.params === query().toString();
    const m = live && state.map.last_bar_ms > stored.last_bar_ms ? state.map : stored;
    const liqP = loadLiquidations(m);
    liqP.catch(() => {});
    Object.assign(state, { map: m, liquidations: null });
    renderMap(m);
    renderLevels(m);
    // the cascade form starts at the report's own shock and resilience (the shared defaults)
    if ($("shock").value === "") $("shock").value = m.settings.shock_pct;
    if ($("resilience").value === "") $("resilience").value = m.settings.resilience;
    const cascade = runCascade();
    const [hm, liq] = await Promise.all([hmP, liqP]);
    if (seq !== state.seq) return;
    Object.assign(state, { heatmap: hm, liquidations: liq });
    renderHeatmap(hm);
    if (liq && liq.count) renderMap(m); // with the realized liquidations' ticks
    await cascade;
    if (seq !== state.seq) return;
    renderStatus(m);
    syncLive();
  } catch (e) {
    if (seq === state.seq) setStatus(e.message, true);
  }
}

async function reloadMap() {
  // the map report only (scrubber, leverage filter, layers): map, levels, imbalance, asymmetry, cascade
  state.busy++;
  try {
    await loadMap();
  } finally {
    state.busy--;
  }
}

async function loadMap() {
  const seq = ++state.mapSeq;
  writeURL();
  try {
    const m = await getJSON("/api/map", mapQuery({ layers: $("layers").checked }));
    if (seq !== state.mapSeq) return;
    state.map = m;
    renderMap(m);
    renderLevels(m);
    await runCascade();
    renderStatus(m);
  } catch (e) {
    if (seq === state.mapSeq) setStatus(e.message, true);
  }
}

function syncLive() {
  syncFeed();
  const wanted = $("live").checked ? query().toString() : null;
  if (state.ws && state.ws.params === wanted) return;
  if (state.ws) state.ws.close();
  state.ws = null;
  if (!wanted) return;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/map?${wanted}`);
  ws.params = wanted;
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.error) return setStatus(msg.error, true);
    if (msg.live) return onLiveMap(msg); // serve --live: the live engine's map, nothing recomputed
    if (state.map && msg.last_bar_ms !== state.map.last_bar_ms) refresh(); // a new bar: redraw everything
  };
  state.ws = ws;
}

// ---------------------------------------------------------------- live push (liqmap serve --live)
// /ws/map sends the live engine's map after each closed bar (live: true): the map, levels and status are redrawn
// from it and the heatmap grows by one snapshot. /ws/liquidations sends realized liquidations as they stream in:
// they join the heatmap's dots (sized by notional) and the feed panel. A server without --live answers
// /ws/liquidations with {"error"}: the feed panel stays hidden.
const FEED_ROWS = 50; // the feed panel lists the latest orders, newest first
const STREAMED_KEEP = 5000; // streamed orders kept for the heatmap's dots
const LIQ_KEYS = ["times_ms", "exchange", "side", "price", "notional_usd"];
const wsURL = (path, params) => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}?${params}`;

function onLiveMap(m) {
  if (state.map && state.map.live && m.last_bar_ms === state.map.last_bar_ms) return;
  state.map = m;
  renderMap(m);
  renderLevels(m);
  renderStatus(m);
  const merged = mergeStreamed();
  if (!extendHeatmap(m) && merged && state.heatmap) renderHeatmap(state.heatmap);
}

function extendHeatmap(m) {
  // one more heatmap snapshot: the live map's bins summed into the heatmap's price bins (the grids differ);
  // true when the heatmap was redrawn
  const hm = state.heatmap;
  if (!hm || !hm.times_ms.length || m.as_of_ms <= hm.times_ms[hm.times_ms.length - 1]) return false;
  const n = hm.times_ms.length, step = n > 1 ? hm.times_ms[n - 1] - hm.times_ms[n - 2] : Infinity;
  if (m.as_of_ms - hm.times_ms[n - 1] > 1.5 * step) { // bars came before this page listened: reload once
    refresh().then(() => { if (mergeStreamed() && state.heatmap) renderHeatmap(state.heatmap); });
    return true;
  }
  const nB = hm.price_bins.length, L = new Array(nB).fill(0), S = new Array(nB).fill(0);
  m.price_bins.forEach((p, i) => {
    const b = Math.round((p - hm.price_bins[0]) / hm.bin_usd);
    if (b >= 0 && b < nB) { L[b] += m.long_usd[i]; S[b] += m.short_usd[i]; }
  });
  hm.times_ms.push(m.as_of_ms);
  hm.close.push(m.price);
  for (const k of ["open", "high", "low", "close"]) hm.candles[k].push(m.candle ? m.candle[k] : null); // the pushed bar's candle
  hm.long_usd.push(L);
  hm.short_usd.push(S);
  hm.end_ms = m.as_of_ms;
  heatCache.delete(hm);
  renderHeatmap(hm);
  return true;
}

function syncFeed() {
  const wanted = $("live").checked ? new URLSearchParams([["symbol", $("symbol").value], ...checkedExchanges().map((e) => ["exchange", e])]).toString() : null;
  if (state.wsLiqs && state.wsLiqs.params === wanted) return;
  if (state.wsLiqs) state.wsLiqs.close();
  state.wsLiqs = null;
  state.feed = [];
  state.streamed = null;
  if (!wanted) return;
  const ws = new WebSocket(wsURL("/ws/liquidations", wanted));
  ws.params = wanted;
  ws.onmessage = (ev) => onLiquidations(JSON.parse(ev.data));
  state.wsLiqs = ws;
}

function onLiquidations(msg) {
  $("feed-panel").hidden = !!msg.error;
  if (msg.error) return;
  const rows = msg.times_ms.map((t, i) => ({ t, exchange: msg.exchange[i], side: msg.side[i], price: msg.price[i], usd: msg.notional_usd[i] }));
  state.feed = rows.reverse().concat(state.feed || []).slice(0, FEED_ROWS);
  $("feed-table").tBodies[0].replaceChildren(...state.feed.map((o) => {
    const tr = document.createElement("tr");
    const cells = [new Date(o.t).toISOString().slice(11, 19), o.exchange, o.side, price(o.price), usd(o.usd)];
    tr.append(...cells.map((text, k) => Object.assign(document.createElement("td"), { textContent: text, className: k === 2 ? `side-${o.side}` : "" })));
    return tr;
  }));
  $("feed-sub").textContent = `latest ${state.feed.length} · ${msg.symbol}`;
  appendLiquidations(msg);
}

function appendLiquidations(msg) {
  // streamed orders are kept and joined to the stored ones drawn on the heatmap (a reload may drop them)
  const kept = state.streamed || Object.fromEntries(LIQ_KEYS.map((k) => [k, []]));
  state.streamed = Object.fromEntries(LIQ_KEYS.map((k) => [k, kept[k].concat(msg[k]).slice(-STREAMED_KEEP)]));
  if (mergeStreamed() && state.heatmap) renderHeatmap(state.heatmap);
}

function mergeStreamed() {
  // add the streamed orders the drawn list lacks (it holds those stored when it loaded); true when some were
  const liq = state.liquidations, s = state.streamed;
  if (!liq || !s) return false;
  const key = (l, i) => `${l.times_ms[i]} ${l.exchange[i]} ${l.side[i]} ${l.price[i]}`;
  const seen = new Set(liq.times_ms.map((_, i) => key(liq, i)));
  let added = 0;
  s.times_ms.forEach((_, i) => {
    const k = key(s, i);
    if (seen.has(k)) return;
    seen.add(k);
    for (const name of LIQ_KEYS) liq[name].push(s[name][i]);
    added++;
  });
  liq.count += added;
  return added > 0;
}

// ---------------------------------------------------------------- export what is on screen
function download(name, href) {
  const a = Object.assign(document.createElement("a"), { href, download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

function fileBase() {
  const m = state.map;
  return `liqmap_${m.symbol.replace(/[/:]/g, "-")}_${m.exchanges.join("+")}_${utc(m.as_of_ms).replace(/[ :]/g, "")}`;
}

async function exportPNG(id) {
  const gd = $(id);
  download(`${fileBase()}_${id}.png`, await Plotly.toImage(gd, { format: "png", width: gd.clientWidth, height: gd.clientHeight, scale: 2 }));
}

function mapCSV(m) {
  // the map's bins in view (price ± 15 %), with the layers drawn
  const layers = mapLayers(m).filter((l) => l.name !== "longs" && l.name !== "shorts");
  const head = ["price", "long_usd", "short_usd", "long_cumulative_usd", "short_cumulative_usd", ...layers.map((l) => `${l.name.replace(" ", "_")}_usd`)];
  const lines = [head.join(",")];
  m.price_bins.forEach((p, i) => {
    if (Math.abs(p - m.price) > MAP_SPAN * m.price) return;
    lines.push([p, m.long_usd[i], m.short_usd[i], m.long_cumulative_usd[i], m.short_cumulative_usd[i], ...layers.map((l) => l.y[i])].join(","));
  });
  return `${lines.join("\n")}\n`;
}

function exportCSV() {
  download(`${fileBase()}_map.csv`, URL.createObjectURL(new Blob([mapCSV(state.map)], { type: "text/csv" })));
}

function exportJSON() {
  const { heatmap, map, cascade, liquidations } = state;
  const body = JSON.stringify({ url: location.href, map, heatmap, cascade, liquidations });
  download(`${fileBase()}.json`, URL.createObjectURL(new Blob([body], { type: "application/json" })));
}

// ---------------------------------------------------------------- wiring
const SERIES = new Set(["symbol", "model", "days", "end", "end-time", "bins"]);
$("controls").addEventListener("change", (ev) => {
  const t = ev.target;
  if (t.closest("#exchanges")) {
    if (!checkedExchanges().length) { // the map needs a venue: refuse, visibly, instead of falling back to Binance
      t.checked = true;
      setStatus(`keep at least one exchange ticked (${t.value} stays on)`, true);
      return;
    }
  } else if (!SERIES.has(t.id)) {
    if (t.id === "lev-min" || t.id === "lev-max") reloadMap();
    else if (t.id === "liqs") refresh();
    else if (t.id === "live") { syncLive(); writeURL(); }
    return;
  }
  if (t.id === "symbol") fillExchanges();
  if (t.id === "days") $("days").querySelectorAll("option.custom").forEach((o) => { if (o.value !== $("days").value) o.remove(); });
  state.atMs = null;
  refresh();
});
$("controls").addEventListener("submit", (ev) => ev.preventDefault());
$("threshold").addEventListener("input", () => {
  // client-side: hides weak levels in both charts without a request
  $("threshold-out").textContent = `${$("threshold").value} %`;
  if (state.map) renderMap(state.map);
  if (state.heatmap) renderHeatmap(state.heatmap);
  writeURL();
});
$("layers").addEventListener("change", reloadMap);
$("at").addEventListener("input", () => scrub(false));
$("at").addEventListener("change", () => scrub(true));
$("at-latest").addEventListener("click", () => { $("at").value = $("at").max; scrub(true); });
$("cascade-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.busy++;
  runCascade().finally(() => { state.busy--; });
});
$("export-png-map").addEventListener("click", () => exportPNG("map"));
$("export-png-heatmap").addEventListener("click", () => exportPNG("heatmap"));
$("export-csv").addEventListener("click", exportCSV);
$("export-json").addEventListener("click", exportJSON);
state.describeBin = (i) => describeBin(state.map, i);
state.describeCell = (t, b) => describeCell(state.heatmap, t, b);
state.mapCSV = () => mapCSV(state.map);

loadSymbols()
  .then(() => applyURL(new URLSearchParams(location.search)))
  .then(refresh)
  .catch((e) => setStatus(e.message, true));
