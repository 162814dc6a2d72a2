// Shared helpers of the console's pages: the API (the session cookie carries the token), escaping, formatting.
"use strict";
const api = {
  async call(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: body === undefined ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    if (response.status === 401) { location.href = "/login"; throw new Error("signed out"); }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = {error: text}; }
    return {status: response.status, ok: response.ok, json};
  },
  get(path) { return this.call("GET", path); },
  post(path, body) { return this.call("POST", path, body); },
  put(path, body) { return this.call("PUT", path, body); },
  del(path) { return this.call("DELETE", path); }
};
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function fmtTime(ms) { return ms == null ? "" : new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"); }
function fmtValue(v) {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.length ? v.map(fmtValue).join(", ") : "[]";
  if (typeof v === "object") {
    const entries = Object.entries(v);
    return entries.length ? entries.map(([k, x]) => k + ": " + fmtValue(x)).join(", ") : "{}";
  }
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  return String(v);
}
function $(id) { return document.getElementById(id); }
function param(name) { return new URLSearchParams(location.search).get(name); }
function say(id, text, kind) { const el = $(id); el.textContent = text; el.className = kind || ""; }
