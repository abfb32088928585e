// liqmap dashboard: fetches the JSON API and draws it with Plotly (served locally from the plotly package).
// Every number comes from the map report (`MapReport.to_dict()`) the API serves with /api/map and /api/cascade.
"use strict";

const $ = (id) => document.getElementById(id);
const C = { long: "#ef5350", short: "#26a69a", accent: "#f6c343", text: "#d8dde6", muted: "#8a93a3", grid: "#262d3a" };
const HEAT = [[0, "#0e1117"], [0.08, "#2a0f5c"], [0.3, "#7b2382"], [0.55, "#d6456b"], [0.8, "#fb9b4f"], [1, "#fcfdbf"]];
const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
const MAP_SPAN = 0.15; // the map's x-axis opens at price ± 15 %

// Everything the page loaded, for inspection (and the browser tests).
const state = { symbols: [], heatmap: null, map: null, cascade: null, ws: null, seq: 0, renders: {} };
window.liqmap = state;

function usd(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a >= 1e9) return `$${(x / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `$${(x / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `$${(x / 1e3).toFixed(1)}K`;
  return `$${x.toFixed(0)}`;
}
const price = (x) => x.toLocaleString("en-US", { maximumFractionDigits: x < 100 ? 4 : 1 });
const critical = (x, max) => (x === null || x === undefined ? `none up to ${max} %` : `${x.toFixed(3)} %`);

function layout(extra) {
  const axis = { gridcolor: C.grid, zerolinecolor: C.grid, linecolor: C.grid };
  return {
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: C.text, size: 12 }, margin: { l: 64, r: 56, t: 8, b: 36 },
    legend: { orientation: "h", x: 0, y: 1.1, bgcolor: "rgba(0,0,0,0)" },
    hoverlabel: { bgcolor: "#1f2633" },
    ...extra,
    xaxis: { ...axis, ...(extra.xaxis || {}) },
    yaxis: { ...axis, ...(extra.yaxis || {}) },
    ...(extra.yaxis2 ? { yaxis2: { ...axis, ...extra.yaxis2 } } : {}),
  };
}

function draw(id, traces, lay) {
  Plotly.react($(id), traces, lay, PLOT_CONFIG);
  state.renders[id] = (state.renders[id] || 0) + 1;
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

function query() {
  const p = new URLSearchParams();
  p.set("symbol", $("symbol").value);
  for (const box of document.querySelectorAll("#exchanges input:checked")) p.append("exchange", box.value);
  p.set("model", $("model").value);
  p.set("days", $("days").value);
  p.set("bins", $("bins").value);
  if ($("end").value) p.set("end_ms", String(Date.parse(`${$("end").value}T23:59:59Z`)));
  return p;
}

function withParams(p, extra) {
  const q = new URLSearchParams(p);
  for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
  return q;
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
    label.title = `${row.rows} bars, ${new Date(row.first_ms).toISOString().slice(0, 10)} → ${new Date(row.last_ms).toISOString().slice(0, 16)}`;
    label.append(box, row.exchange);
    fs.append(label);
  });
}

// ---------------------------------------------------------------- charts
function renderHeatmap(hm) {
  const nT = hm.times_ms.length, nB = hm.price_bins.length;
  const z = Array.from({ length: nB }, () => new Array(nT));
  const flat = [];
  for (let t = 0; t < nT; t++) {
    for (let b = 0; b < nB; b++) {
      const v = hm.long_usd[t][b] + hm.short_usd[t][b];
      z[b][t] = v;
      if (v > 0) flat.push(v);
    }
  }
  flat.sort((a, b) => a - b);
  const zmax = flat.length ? flat[Math.floor(0.995 * (flat.length - 1))] : 1;
  const lo = Math.min(...hm.close) * 0.85, hi = Math.max(...hm.close) * 1.15;
  draw("heatmap", [
    { type: "heatmap", x: hm.times_ms, y: hm.price_bins, z, zmin: 0, zmax, colorscale: HEAT, name: "liquidations",
      colorbar: { title: { text: "USD", side: "right" }, thickness: 10, tickfont: { color: C.muted } },
      hovertemplate: "%{x|%Y-%m-%d %H:%M}<br>%{y:,.1f}: %{z:$,.3s}<extra></extra>" },
    { type: "scatter", mode: "lines", x: hm.times_ms, y: hm.close, name: "price", line: { color: "#ffffff", width: 1.3 },
      hovertemplate: "%{x|%Y-%m-%d %H:%M}<br>close %{y:,.1f}<extra></extra>" },
  ], layout({ xaxis: { type: "date" }, yaxis: { range: [lo, hi], title: { text: "price" } }, showlegend: false }));
  $("heatmap-sub").textContent = `${hm.symbol} · ${hm.exchanges.join("+")} · ${hm.model} · ${nT} snapshots × ${nB} bins`;
}

function mapBars(m) {
  // total long/short bars, or one stacked pair per leverage (light = low, saturated = high leverage)
  if (!m.leverages.length) {
    return [
      { type: "bar", x: m.price_bins, y: m.long_usd, name: "longs", marker: { color: C.long }, hovertemplate: "%{x:,.1f}: %{y:$,.3s}<extra>longs</extra>" },
      { type: "bar", x: m.price_bins, y: m.short_usd, name: "shorts", marker: { color: C.short }, hovertemplate: "%{x:,.1f}: %{y:$,.3s}<extra>shorts</extra>" },
    ];
  }
  const n = m.leverages.length;
  return m.leverages.flatMap((lev, k) => {
    const alpha = (0.3 + (0.7 * (k + 1)) / n).toFixed(2);
    return [
      { type: "bar", x: m.price_bins, y: m.long_by_leverage[k], name: `${lev}x`, legendgroup: `${lev}x`, marker: { color: `rgba(239,83,80,${alpha})` },
        hovertemplate: `%{x:,.1f}: %{y:$,.3s}<extra>longs ${lev}x</extra>` },
      { type: "bar", x: m.price_bins, y: m.short_by_leverage[k], name: `${lev}x`, legendgroup: `${lev}x`, showlegend: false,
        marker: { color: `rgba(38,166,154,${alpha})` }, hovertemplate: `%{x:,.1f}: %{y:$,.3s}<extra>shorts ${lev}x</extra>` },
    ];
  });
}

function renderMap(m) {
  const below = m.price_bins.map((p, i) => (p < m.price ? m.long_cumulative_usd[i] : null));
  const above = m.price_bins.map((p, i) => (p > m.price ? m.short_cumulative_usd[i] : null));
  draw("map", [
    ...mapBars(m),
    { type: "scatter", mode: "lines", x: m.price_bins, y: below, yaxis: "y2", name: "cum. longs ↓", line: { color: C.long, width: 2 } },
    { type: "scatter", mode: "lines", x: m.price_bins, y: above, yaxis: "y2", name: "cum. shorts ↑", line: { color: C.short, width: 2 } },
  ], layout({
    barmode: m.leverages.length ? "stack" : "overlay", bargap: 0,
    xaxis: { range: [m.price * (1 - MAP_SPAN), m.price * (1 + MAP_SPAN)], title: { text: "price" } },
    yaxis: { title: { text: "per bin" }, tickformat: "$.2s" },
    yaxis2: { overlaying: "y", side: "right", tickformat: "$.2s", showgrid: false, rangemode: "tozero" },
    shapes: [{ type: "line", x0: m.price, x1: m.price, yref: "paper", y0: 0, y1: 1, line: { color: C.accent, width: 1.5, dash: "dot" } }],
    annotations: [{ x: m.price, yref: "paper", y: 0.98, text: ` price ${price(m.price)}`, showarrow: false, font: { color: C.accent }, xanchor: "left", yanchor: "top" }],
  }));
  $("map-sub").textContent = `${new Date(m.as_of_ms).toISOString().slice(0, 16).replace("T", " ")} UTC · longs ${usd(m.total_long_usd)} · shorts ${usd(m.total_short_usd)}`;
  $("caveat").textContent = m.caveat;
  renderAsymmetry(m);
}

function renderAsymmetry(m) {
  // notional liquidated by a move of x % up (shorts) and down (longs), read off the cumulative curves
  const up = { x: [], y: [] }, down = { x: [], y: [] };
  m.price_bins.forEach((p, i) => {
    const d = (100 * (p - m.price)) / m.price;
    if (d > 0 && d <= 100 * MAP_SPAN) { up.x.push(d); up.y.push(m.short_cumulative_usd[i]); }
    if (d < 0 && d >= -100 * MAP_SPAN) { down.x.push(-d); down.y.push(m.long_cumulative_usd[i]); }
  });
  draw("asymmetry", [
    { type: "scatter", mode: "lines", x: up.x, y: up.y, name: "shorts liquidated by a rise", line: { color: C.short, shape: "hv" } },
    { type: "scatter", mode: "lines", x: down.x, y: down.y, name: "longs liquidated by a drop", line: { color: C.long, shape: "hv" } },
  ], layout({ xaxis: { title: { text: "move from price (%)" }, ticksuffix: "%" }, yaxis: { tickformat: "$.2s" } }));
}

function renderLevels(lv) {
  const rows = lv.clusters.map((c) => {
    const tr = document.createElement("tr");
    const cells = [c.rank, c.side, price(c.peak_price), `${price(c.lo)} – ${price(c.hi)}`, usd(c.notional_usd),
      `${c.distance_pct > 0 ? "+" : ""}${c.distance_pct.toFixed(2)} %`];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      td.textContent = v;
      if (i === 1) td.className = `side-${c.side}`;
      tr.append(td);
    });
    return tr;
  });
  $("levels-table").tBodies[0].replaceChildren(...rows);
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
      steps: [{ range: [0, 50], color: "rgba(239,83,80,0.18)" }, { range: [50, 100], color: "rgba(38,166,154,0.18)" }],
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
  draw("cascade", [
    { type: "bar", x: idx, y: c.rounds.map((r) => r.liquidated_usd), name: "liquidated", yaxis: "y2",
      marker: { color: c.rounds.map((r) => (r.side === "long" ? C.long : r.side === "short" ? C.short : C.muted)) } },
    { type: "scatter", mode: "lines+markers", x: idx, y: c.rounds.map((r) => r.price), name: "price", line: { color: C.accent } },
  ], layout({
    xaxis: { title: { text: "round" }, dtick: 1 }, yaxis: { title: { text: "price" } },
    yaxis2: { overlaying: "y", side: "right", tickformat: "$.2s", showgrid: false, rangemode: "tozero" },
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

// ---------------------------------------------------------------- loading
async function runCascade() {
  const shock = Number($("shock").value);
  const p = withParams(query(), { shock_pct: shock, resilience: $("resilience").value });
  try {
    state.cascade = await getJSON("/api/cascade", p);
    renderCascade(state.cascade, shock);
  } catch (e) {
    setStatus(`cascade: ${e.message}`, true);
  }
}

async function refresh() {
  const seq = ++state.seq;
  setStatus("loading…");
  const p = query();
  try {
    const [hm, m] = await Promise.all([
      getJSON("/api/heatmap", withParams(p, { snapshots: 400 })),
      getJSON("/api/map", withParams(p, { layers: $("layers").checked })),
    ]);
    if (seq !== state.seq) return; // a newer selection superseded this one
    Object.assign(state, { heatmap: hm, map: m });
    renderHeatmap(hm);
    renderMap(m);
    renderLevels(m);
    // the cascade form starts at the report's own shock and resilience (the shared defaults)
    if ($("shock").value === "") $("shock").value = m.settings.shock_pct;
    if ($("resilience").value === "") $("resilience").value = m.settings.resilience;
    await runCascade();
    setStatus(`${m.bars} bars · last bar ${new Date(m.last_bar_ms).toISOString().slice(0, 16).replace("T", " ")} UTC · profile ${m.profile}`);
    if (m.warnings.length) setStatus(`${$("status").textContent} · ${m.warnings.length} data warning(s)`);
    syncLive();
  } catch (e) {
    if (seq === state.seq) setStatus(e.message, true);
  }
}

function syncLive() {
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
    if (state.map && msg.last_bar_ms !== state.map.last_bar_ms) refresh(); // a new bar: redraw everything
  };
  state.ws = ws;
}

$("symbol").addEventListener("change", () => { fillExchanges(); refresh(); });
$("controls").addEventListener("change", (ev) => { if (ev.target.id !== "symbol" && ev.target.id !== "live") refresh(); });
$("live").addEventListener("change", syncLive);
$("layers").addEventListener("change", async () => {
  try {
    state.map = await getJSON("/api/map", withParams(query(), { layers: $("layers").checked }));
    renderMap(state.map);
  } catch (e) {
    setStatus(e.message, true);
  }
});
$("cascade-form").addEventListener("submit", (ev) => { ev.preventDefault(); runCascade(); });

loadSymbols().then(refresh).catch((e) => setStatus(e.message, true));
