"use strict";
let plot = null;
async function loadSegments() {
  const r = await api.get("/v1/segments");
  if (!r.ok) { say("segments-status", r.json.error, "error"); return; }
  const body = document.querySelector("#segments tbody");
  body.innerHTML = r.json.map(s => `<tr data-id="${esc(s.id)}">
      <td>${esc(s.name)}</td><td class="mono">${esc(s.id)}</td><td><code>${esc(s.condition)}</code></td>
      <td class="num segment-size">${esc(s.size)}</td><td>${s.source === "file" ? "conf/segments.yaml" : "published"}</td>
      <td><a href="/editor?id=${encodeURIComponent(s.id)}">Edit</a>
        <button type="button" class="secondary chart-button" data-id="${esc(s.id)}">Chart</button></td></tr>`).join("");
  say("segments-status", `${r.json.length} segments; sizes count the members the stream has published.`, "muted");
  body.querySelectorAll(".chart-button").forEach(b => b.addEventListener("click", () => chart(b.dataset.id)));
}
async function chart(id) {
  const r = await api.get(`/v1/segments/${encodeURIComponent(id)}/sizes`);
  const hours = Object.keys(r.json).map(Number);
  $("chart-title").textContent = `Size over time: ${id}`;
  if (!hours.length) { say("chart-status", "No changes yet.", "muted"); return; }
  const data = [hours.map(h => h / 1000), hours.map(h => r.json[h])];
  if (plot) plot.destroy();
  plot = new uPlot({width: $("chart").clientWidth || 800, height: 240,
    series: [{}, {label: "members", stroke: "#2450b2", width: 2}], axes: [{}, {label: "members"}]}, data, $("chart"));
  say("chart-status", `${hours.length} hours with changes; latest size ${data[1][data[1].length - 1]}.`, "muted");
}
loadSegments();
setInterval(loadSegments, 10000);
