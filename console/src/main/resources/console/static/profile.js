"use strict";
async function lookup(id) {
  say("profile-status", `Looking up ${id}…`, "muted");
  const r = await api.get(`/v1/profiles/${encodeURIComponent(id)}`);
  if (!r.ok) { $("profile").hidden = true; say("profile-status", r.json.error, "error"); return; }
  const p = r.json;
  history.replaceState(null, "", `/profiles?id=${encodeURIComponent(id)}`);
  say("profile-status", p.resolvedFrom ? `${p.resolvedFrom} is ${p.userId}: shown as that user.` : "", "muted");
  $("profile").hidden = false;
  $("profile-title").textContent = p.userId;
  shown = p.userId;
  $("profile-meta").textContent = `As of ${fmtTime(p.asOf)} · model ${p.model}`;
  document.querySelector("#memberships tbody").innerHTML = p.memberships.map(m => `<tr>
      <td>${esc(m.name)} <span class="muted mono">${esc(m.segmentId)}</span></td><td>${esc(m.kind)}</td>
      <td>${esc(fmtTime(m.enteredAt))}</td>
      <td>${m.kind === "rule" ? `<button type="button" class="secondary why" data-segment="${esc(m.segmentId)}">Why?</button>` : ""}</td></tr>`).join("")
      || `<tr><td colspan="4" class="muted">In no segment now.</td></tr>`;
  document.querySelectorAll("#memberships .why").forEach(b => b.addEventListener("click", () => explain(p.userId, b.dataset.segment)));
  rows("features", p.features);
  rows("scores", Object.assign({}, p.scores, {persona: p.persona || "none"}));
  rows("traits", p.traits);
  const segments = await api.get("/v1/segments");
  $("explain-segment").innerHTML = segments.json.map(s => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join("");
  const changes = await api.get(`/v1/profiles/${encodeURIComponent(p.userId)}/changes`);
  document.querySelector("#history tbody").innerHTML = changes.json.changes.slice().reverse().map(c => `<tr>
      <td>${esc(fmtTime(c.eventTime))}</td><td>${esc(c.type)}</td><td>${esc(c.segmentName)}</td>
      <td class="muted">${esc(c.cause.kind)}: ${esc(c.cause.id)}${c.cause.version ? " " + esc(c.cause.version) : ""}</td></tr>`).join("");
  $("explanation").innerHTML = "";
  const segment = param("segment");
  if (segment) explain(p.userId, segment);
}
function rows(table, values) {
  document.querySelector(`#${table} tbody`).innerHTML = Object.entries(values || {}).map(([k, v]) =>
      `<tr><th scope="row">${esc(k)}</th><td class="num mono">${esc(fmtValue(v))}</td></tr>`).join("")
      || `<tr><td class="muted">None.</td></tr>`;
}
async function explain(userId, segmentId) {
  const r = await api.get(`/v1/profiles/${encodeURIComponent(userId)}/explain/${encodeURIComponent(segmentId)}`);
  if (!r.ok) { $("explanation").innerHTML = `<p class="error">${esc(r.json.error)}</p>`; return; }
  const e = r.json;
  $("explanation").innerHTML = `<h2>Why ${esc(userId)} is ${e.matches ? "in" : "not in"} ${esc(e.name)}</h2>
    <ul class="clauses" aria-label="Clauses of the condition">${e.clauses.map(c => `<li style="padding-left:${c.depth * 1.5}rem"
      class="clause ${c.value ? "ok" : "bad"}"><span aria-hidden="true">${c.value ? "✓" : "✗"}</span>
      <span class="visually-hidden">${c.value ? "true" : "false"}:</span> <code>${esc(c.text)}</code>
      ${c.error ? `<span class="muted">(${esc(c.error)})</span>` : ""}</li>`).join("")}</ul>
    <p class="muted">Values as of ${esc(fmtTime(e.asOf))}: ${Object.entries(e.inputs).map(([k, v]) => `<code>${esc(k)} = ${esc(fmtValue(v))}</code>`).join(", ")}</p>`;
}
let shown = null;
$("explain").addEventListener("click", () => { if (shown) explain(shown, $("explain-segment").value); });
$("search").addEventListener("submit", ev => { ev.preventDefault(); lookup($("profile-id").value.trim()); });
if (param("id")) { $("profile-id").value = param("id"); lookup(param("id")); }
