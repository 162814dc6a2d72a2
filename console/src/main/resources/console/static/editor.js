"use strict";
const editing = param("id");
let timer = null;
async function init() {
  const catalog = await api.get("/v1/catalog");
  document.querySelector("#catalog tbody").innerHTML = catalog.json.variables.map(v => `<tr><td>
      <code>${esc(v.name)}</code> <span class="type mono">${esc(v.type)}</span><button type="button" class="secondary insert"
        data-name="${esc(v.name)}" aria-label="Insert ${esc(v.name)}">Insert</button><br>${esc(v.meaning)}<br>
      <span class="muted">e.g. <code>${esc(v.example)}</code></span></td></tr>`).join("");
  document.querySelectorAll("#catalog .insert").forEach(b => b.addEventListener("click", () => insert(b.dataset.name)));
  $("events").textContent = catalog.json.events.join(", ");
  if (editing) {
    const r = await api.get(`/v1/segments/${encodeURIComponent(editing)}`);
    if (r.ok) {
      $("title").textContent = `Edit ${r.json.name}`;
      $("segment-id").value = r.json.id; $("segment-id").readOnly = true;
      $("segment-name").value = r.json.name; $("segment-description").value = r.json.description || "";
      $("condition").value = r.json.condition; $("delete").hidden = false;
      validate();
    } else { say("status", r.json.error, "error"); }
  }
}
function insert(name) {
  const area = $("condition"), at = area.selectionStart ?? area.value.length;
  area.value = area.value.slice(0, at) + name + area.value.slice(area.selectionEnd ?? at);
  area.focus(); area.selectionStart = area.selectionEnd = at + name.length;
  scheduleValidate();
}
function scheduleValidate() { clearTimeout(timer); timer = setTimeout(validate, 300); }
async function validate() {
  const condition = $("condition").value;
  if (!condition.trim()) { say("validation", "Type a condition: it is checked as you type.", "muted"); return false; }
  const r = await api.post("/v1/validate", {condition});
  if (r.json.valid) {
    say("validation", `Valid. Reads ${r.json.variables.join(", ")}.`, "ok");
    return true;
  }
  say("validation", r.json.problems.map(p => (p.line ? `line ${p.line}, column ${p.column}: ` : "") + p.message).join("; "), "error");
  return false;
}
async function preview() {
  say("status", "Previewing over the stored profiles…", "muted");
  const r = await api.post("/v1/preview", {condition: $("condition").value});
  if (!r.ok) { say("status", problemText(r.json), "error"); return; }
  const p = r.json;
  $("preview-result").hidden = false;
  $("preview-count").textContent = p.matched.toLocaleString("en");
  $("preview-of").textContent = `of ${p.evaluated.toLocaleString("en")} profiles match now (${p.millis} ms)`;
  document.querySelector("#sample tbody").innerHTML = p.sample.map(m => `<tr>
      <td><a href="/profiles?id=${encodeURIComponent(m.userId)}&segment=">${esc(m.userId)}</a></td>
      <td class="mono">${Object.entries(m.values).map(([k, v]) => `${esc(k)} = ${esc(fmtValue(v))}`).join("<br>")}</td></tr>`).join("");
  document.querySelector("#overlap tbody").innerHTML = p.overlap.map(o => `<tr>
      <td class="mono">${esc(o.segmentId)}</td><td class="num">${o.members}</td><td class="num">${o.both}</td></tr>`).join("");
  say("status", "Preview ready.", "ok");
}
function problemText(json) {
  return (json.problems || []).map(p => (p.line ? `line ${p.line}, column ${p.column}: ` : "") + p.message).join("; ") || json.error;
}
async function publish() {
  const id = $("segment-id").value.trim();
  const r = await api.put(`/v1/segments/${encodeURIComponent(id)}`, {
    name: $("segment-name").value.trim() || id, condition: $("condition").value,
    description: $("segment-description").value.trim() || null});
  if (r.ok) {
    say("status", `Published ${id}: the stream evaluates it from now on.`, "ok");
    $("segment-id").readOnly = true; $("delete").hidden = false;
  } else if (r.status === 403) {
    say("status", "This token is read-only: publishing needs a write token.", "error");
  } else { say("status", problemText(r.json), "error"); }
}
async function remove() {
  const id = $("segment-id").value.trim();
  if (!confirm(`Delete ${id}? Its members leave it at once.`)) return;
  const r = await api.del(`/v1/segments/${encodeURIComponent(id)}`);
  say("status", r.ok ? `Deleted ${id}.` : problemText(r.json), r.ok ? "ok" : "error");
}
$("condition").addEventListener("input", scheduleValidate);
$("preview").addEventListener("click", preview);
$("publish").addEventListener("click", publish);
$("delete").addEventListener("click", remove);
init();
