// liqmap scan page: one row per stored (exchange, symbol) from GET /api/scan; each row links to its map.
// Every number is the API's (Scan.to_dict(), docs/analytics.md "Scan"); the page only formats and sorts by asking.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { scan: null, sort: "symbol", desc: false, renders: 0 };
window.liqmapScan = state;

function usd(x) {
  if (x === null || x === undefined) return "–";
  const a = Math.abs(x);
  if (a >= 1e9) return `$${(x / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `$${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `$${(x / 1e3).toFixed(0)}K`;
  return `$${x.toFixed(0)}`;
}
const price = (x) => x.toLocaleString("en-US", { maximumSignificantDigits: x < 1 ? 4 : 6 });
const pct = (x) => (x === null || x === undefined ? "–" : `${x > 0 ? "+" : ""}${x.toFixed(2)} %`);
const cluster = (peak, amount, dist) => (peak === null ? "–" : `${price(peak)} · ${usd(amount)} · ${pct(dist)}`);
const age = (h) => (h >= 48 ? `${(h / 24).toFixed(0)} d` : `${h.toFixed(1)} h`);

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function params() {
  const p = new URLSearchParams();
  if ($("min-cluster").value) p.set("min_cluster_usd", $("min-cluster").value);
  if ($("notional").value) p.set("notional_usd", $("notional").value);
  if ($("window").value) p.set("window_pct", $("window").value);
  p.set("model", $("scan-model").value);
  p.set("sort", state.sort);
  p.set("desc", String(state.desc));
  return p;
}

function mapLink(row) {
  const q = new URLSearchParams({ symbol: row.symbol, exchange: row.exchange, model: $("scan-model").value });
  const a = Object.assign(document.createElement("a"), { href: `/?${q}`, textContent: row.symbol });
  a.title = `open the ${row.exchange} ${row.symbol} map`;
  return a;
}

function render(scan) {
  const rows = scan.rows.map((r) => {
    const tr = document.createElement("tr");
    const cells = [r.exchange, mapLink(r), price(r.price), cluster(r.below_peak, r.below_usd, r.below_pct),
      cluster(r.above_peak, r.above_usd, r.above_pct), r.imbalance_ratio === null ? "–" : r.imbalance_ratio.toFixed(2),
      pct(r.move_up_pct), pct(r.move_down_pct), `${r.cascade_up_amplification.toFixed(2)}×`,
      `${r.cascade_down_amplification.toFixed(2)}×`, new Date(r.last_bar_ms).toISOString().slice(0, 16).replace("T", " "),
      age(r.age_hours), r.tiers];
    cells.forEach((v, i) => {
      const td = document.createElement("td");
      if (v instanceof Node) td.append(v); else td.textContent = v;
      td.style.whiteSpace = "nowrap";
      if (i === 3) td.className = "side-long";
      if (i === 4) td.className = "side-short";
      tr.append(td);
    });
    return tr;
  });
  $("scan-table").tBodies[0].replaceChildren(...rows);
  $("scan-skipped").replaceChildren(...scan.skipped.map((s) =>
    Object.assign(document.createElement("li"), { textContent: `skipped ${s.exchange} ${s.symbol}: ${s.reason}` })));
  for (const th of document.querySelectorAll("#scan-table th")) {
    const on = th.dataset.sort === state.sort;
    th.textContent = `${th.dataset.label}${on ? (state.desc ? " ↓" : " ↑") : ""}`;
    th.setAttribute("aria-sort", on ? (state.desc ? "descending" : "ascending") : "none");
  }
  const s = scan.settings;
  // the form shows the settings the API used (its ScanSettings defaults until the user changes them)
  if (!$("min-cluster").value) $("min-cluster").value = s.min_cluster_usd;
  if (!$("notional").value) $("notional").value = s.notional_usd;
  if (!$("window").value) $("window").value = s.window_pct;
  $("scan-sub").textContent = `${scan.rows.length} series · clusters ≥ ${usd(s.min_cluster_usd)} · imbalance ±${s.window_pct} % · ` +
    `moves to liquidate ${usd(s.notional_usd)} · cascades ±${s.shock_pct} % · last ${s.days} days`;
  $("caveat").textContent = scan.caveat;
  state.renders += 1;
}

async function scan() {
  setStatus("scanning…");
  try {
    const r = await fetch(`/api/scan?${params()}`);
    const body = await r.json();
    if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
    state.scan = body;
    render(body);
    setStatus(`${body.rows.length} series scanned in ${body.seconds.toFixed(1)} s`);
  } catch (e) {
    setStatus(e.message, true);
  }
}

for (const th of document.querySelectorAll("#scan-table th")) {
  th.dataset.label = th.textContent;
  th.title = `sort by ${th.dataset.sort} (click again to reverse)`;
  th.style.cursor = "pointer";
  th.addEventListener("click", () => {
    state.desc = state.sort === th.dataset.sort ? !state.desc : false;
    state.sort = th.dataset.sort;
    scan();
  });
}
for (const id of ["min-cluster", "notional"]) $(id).style.width = "120px"; // USD amounts need more room than %
$("scan-controls").addEventListener("submit", (ev) => { ev.preventDefault(); scan(); });
scan();
