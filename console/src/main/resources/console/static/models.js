"use strict";
async function load() {
  const r = await api.get("/v1/models");
  if (!r.ok) { say("models-status", r.json.error, "error"); return; }
  const m = r.json;
  $("gate").textContent = `A promotion passes the gate: ${m.gate.metric} at least ${m.gate.floor}, and at most ${m.gate.maxRegression} below the current version's.`;
  say("models-status", m.current == null ? "No version is current yet." : `${m.name} v${m.current} is current.`, "muted");
  document.querySelector("#versions tbody").innerHTML = m.versions.map(v => `<tr>
      <td>v${v.version}${v.current ? " <strong>(current)</strong>" : ""}</td><td>${esc(v.createdAt)}</td>
      <td>${esc(v.trainingFrom)} – ${esc(v.trainingTo)}</td><td class="num">${v.rows} / ${v.users}</td>
      <td class="mono">${Object.entries(v.metrics).map(([k, x]) => `${esc(k)} ${esc(fmtValue(x))}`).join("<br>")}</td>
      <td><button type="button" class="secondary report" data-version="${v.version}">Details</button>
        ${v.report ? `<a href="${esc(v.report)}" target="_blank" rel="noopener">Training report</a>` : ""}
        ${v.current ? "" : `<button type="button" class="promote" data-version="${v.version}">Promote</button>`}</td></tr>`).join("");
  document.querySelectorAll(".promote").forEach(b => b.addEventListener("click", () => promote(Number(b.dataset.version))));
  document.querySelectorAll(".report").forEach(b => b.addEventListener("click", () => report(m.versions.find(v => v.version === Number(b.dataset.version)))));
  if (m.versions.length) report(m.versions[0]);
  document.querySelector("#promotions tbody").innerHTML = m.promotions.slice().reverse().map(p => `<tr>
      <td>${esc(p.at || p.promotedAt || "")}</td><td>v${esc(p.version)}</td><td>${esc(p.reason)}</td></tr>`).join("");
}
function report(v) {
  $("report-version").textContent = `v${v.version}`;
  document.querySelector("#report tbody").innerHTML = Object.entries(Object.assign({}, v.metrics, v.provenance,
      {codeVersion: v.codeVersion})).map(([k, x]) => `<tr><th scope="row">${esc(k)}</th><td class="mono">${esc(fmtValue(x))}</td></tr>`).join("");
}
async function promote(version) {
  const r = await api.post("/v1/models/promote", {version, reason: "promoted in the console"});
  say("models-status", r.ok ? `v${version} promoted and announced.` : `Refused: ${r.json.reason || r.json.error}`, r.ok ? "ok" : "error");
  if (r.ok) load();
}
$("rollback").addEventListener("click", async () => {
  const r = await api.post("/v1/models/rollback", {});
  say("models-status", r.ok ? `Rolled back to v${r.json.version}.` : (r.json.reason || r.json.error), r.ok ? "ok" : "error");
  if (r.ok) load();
});
load();
