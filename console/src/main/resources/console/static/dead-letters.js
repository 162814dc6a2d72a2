"use strict";
async function load() {
  const r = await api.get("/v1/dead-letters");
  const d = r.json;
  document.querySelector("#totals tbody").innerHTML = Object.entries(d.totals).map(([reason, n]) =>
      `<tr><td class="mono">${esc(reason)}</td><td class="num">${n}</td></tr>`).join("")
      || `<tr><td colspan="2" class="muted">No dead letters.</td></tr>`;
  document.querySelector("#samples tbody").innerHTML = d.samples.map(s => `<tr><td>${esc(fmtTime(s.receivedAt))}</td>
      <td class="mono">${esc(s.reason)}</td><td>${esc(s.source)}</td><td>${esc(s.detail)}</td>
      <td class="mono">${esc((s.payload || "").slice(0, 160))}</td></tr>`).join("");
  const reasons = Object.keys(d.byHour);
  const hours = [...new Set(reasons.flatMap(r => Object.keys(d.byHour[r]).map(Number)))].sort((a, b) => a - b);
  if (!hours.length) { say("dl-status", "Nothing to chart yet.", "muted"); return; }
  const colors = ["#b3261e", "#2450b2", "#17703a", "#8a5a00", "#6a3fb5", "#00707a"];
  const data = [hours.map(h => h / 1000), ...reasons.map(r => hours.map(h => d.byHour[r][h] || 0))];
  $("dl-chart").innerHTML = "";
  new uPlot({width: $("dl-chart").clientWidth || 800, height: 240,
    series: [{}, ...reasons.map((r, i) => ({label: r, stroke: colors[i % colors.length], width: 2}))]}, data, $("dl-chart"));
  say("dl-status", `${hours.length} hours with dead letters.`, "muted");
}
load();
