// Search for the static copy of the archive: Pagefind runs in the browser; the words people type on the
// server (from:, in:, has:, during:) become Pagefind filters where they can, and a hint where they can't.
// Every piece of chat text reaches the page through textContent, never as HTML.
const root = new URL("../", import.meta.url);
const HAS_ALIASES = { attachment: "file", attachments: "file", audio: "sound", img: "image", links: "link" };
const UNSUPPORTED = ["before", "after", "mentions", "is", "pinned", "edited", "author", "on"];
const PAGE = 20;
const $ = (id) => document.getElementById(id);
const form = $("site-search");
const box = $("search-q");
const sortBox = $("sort");
const status = $("search-status");
const hintsList = $("search-hints");
const list = $("search-results");
const heading = $("results-h");
const more = $("search-more");
let pagefind = null;
let available = {};
let pending = [];
let searches = 0;

function plain(fragment) {
  // Pagefind excerpts are text with <mark> around matches; anything else in them is shown as text.
  return new DOMParser().parseFromString(fragment, "text/html").documentElement.textContent || "";
}

function excerptNodes(excerpt) {
  const out = [];
  let marked = false;
  for (const piece of String(excerpt || "").split(/(<mark>|<\/mark>)/)) {
    if (piece === "<mark>") { marked = true; continue; }
    if (piece === "</mark>") { marked = false; continue; }
    const text = document.createTextNode(plain(piece));
    if (marked) { const m = document.createElement("mark"); m.appendChild(text); out.push(m); } else out.push(text);
  }
  return out;
}

function tokens(q) {
  const re = /(-?)([A-Za-z]+):("[^"]*"?|\S+)|"[^"]*"?|\S+/g;
  const out = [];
  for (const m of q.matchAll(re)) {
    if (m[2]) out.push({ neg: m[1] === "-", key: m[2].toLowerCase(), value: m[3].replace(/^"|"$/g, ""), text: m[0] });
    else out.push({ word: m[0] });
  }
  return out;
}

function pick(kind, value) {
  // A filter value as the index spells it (names compared case-insensitively), or null.
  const wanted = value.toLowerCase().replace(/^#/, "");
  const names = Object.keys(available[kind] || {});
  return names.find((n) => n.toLowerCase() === wanted) || null;
}

function parse(q) {
  const words = [];
  const filters = {};
  const hints = [];
  const add = (kind, value) => { (filters[kind] = filters[kind] || { any: [] }).any.push(value); };
  for (const t of tokens(q)) {
    if (t.word !== undefined) { words.push(t.word); continue; }
    if (t.neg) { hints.push(`${t.text}: excluding is not possible in this copy's search; it was ignored.`); continue; }
    if (t.key === "from") {
      const name = pick("author", t.value);
      if (name) add("author", name); else hints.push(`from:${t.value} matches nobody in the archive; it was ignored.`);
    } else if (t.key === "in" || t.key === "channel") {
      if (t.value.toLowerCase().startsWith("conversation:")) {
        hints.push(`${t.text}: conversations can't be searched in this copy; open the conversation page instead.`);
        continue;
      }
      const name = pick("channel", t.value);
      if (name) add("channel", name); else hints.push(`in:${t.value} matches no channel in the archive; it was ignored.`);
    } else if (t.key === "has") {
      const kind = HAS_ALIASES[t.value.toLowerCase()] || t.value.toLowerCase().replace(/s$/, "");
      const name = pick("has", kind);
      if (name) add("has", name); else hints.push(`has:${t.value}: no message in the archive has that; it was ignored.`);
    } else if (t.key === "during") {
      const m = /^(\d{4})(?:[-/.](\d{1,2}))?/.exec(t.value);
      if (!m) { hints.push(`during: takes a year or a month (during:2024-03); during:${t.value} was ignored.`); continue; }
      if (m[2]) add("month", `${m[1]}-${m[2].padStart(2, "0")}`); else add("year", m[1]);
      if (/^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$/.test(t.value)) hints.push(`during:${t.value}: this copy's search narrows by month, not by day.`);
    } else if (UNSUPPORTED.includes(t.key)) {
      hints.push(`${t.key}: can't be used in this copy's search (it works on the live archive); ${t.text} was ignored.`);
    } else {
      words.push(t.text);
    }
  }
  return { term: words.join(" ").trim(), filters, hints };
}

function showHints(hints) {
  hintsList.replaceChildren(...hints.map((h) => { const li = document.createElement("li"); li.textContent = h; return li; }));
  hintsList.hidden = hints.length === 0;
}

function hit(data) {
  const li = document.createElement("li");
  li.className = "hit";
  const meta = document.createElement("p");
  meta.className = "hit-meta";
  const who = document.createElement("span");
  who.className = "author";
  who.textContent = data.meta.author || "Unknown author";
  const time = document.createElement("time");
  time.dateTime = data.meta.date || "";
  time.textContent = (data.meta.date || "").replace("T", " ").slice(0, 16) + " UTC";
  meta.append(who, document.createTextNode(` in #${data.meta.channel || "?"} · `), time);
  const snippet = document.createElement("p");
  snippet.className = "snippet";
  const link = document.createElement("a");
  link.className = "hit-link";
  const sub = (data.sub_results || [])[0];
  link.href = sub && sub.url ? sub.url : data.url;
  link.append(...excerptNodes(sub && sub.excerpt ? sub.excerpt : data.excerpt));
  if (!link.textContent.trim()) link.textContent = "(no text)";
  snippet.appendChild(link);
  li.append(meta, snippet);
  return li;
}

async function showMore() {
  const batch = pending.splice(0, PAGE);
  const datas = await Promise.all(batch.map((r) => r.data()));
  list.append(...datas.map(hit));
  more.hidden = pending.length === 0;
}

async function run() {
  const q = box.value.trim();
  const sort = sortBox.value;
  const url = new URL(window.location.href);
  url.searchParams.set("q", q);
  if (sort !== "relevance") url.searchParams.set("sort", sort); else url.searchParams.delete("sort");
  window.history.replaceState(null, "", url);
  const parsed = parse(q);
  showHints(parsed.hints);
  list.replaceChildren();
  more.hidden = true;
  if (!parsed.term && Object.keys(parsed.filters).length === 0) {
    heading.hidden = true;
    status.textContent = q ? "Nothing to search for: add words or a filter." : "Type words to find messages.";
    return;
  }
  const options = { filters: parsed.filters };
  if (sort === "newest") options.sort = { date: "desc" };
  if (sort === "oldest") options.sort = { date: "asc" };
  const search = await pagefind.search(parsed.term || null, options);
  pending = search.results.slice();
  const n = search.results.length;
  heading.textContent = `${n.toLocaleString("en")} result${n === 1 ? "" : "s"}`;
  heading.hidden = false;
  status.textContent = n ? "" : "Nothing matched. Try fewer words, or remove a filter.";
  await showMore();
  searches += 1;
  document.body.setAttribute("data-searches", String(searches)); // finished searches, for tests and tools
}

function fillFilters() {
  for (const select of document.querySelectorAll("#search-filters select")) {
    const kind = select.getAttribute("data-filter");
    const names = Object.keys(available[kind] || {}).sort((a, b) => (kind === "month" ? b.localeCompare(a) : a.localeCompare(b)));
    for (const name of names) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = `${kind === "channel" ? "#" : ""}${name} (${available[kind][name]})`;
      select.appendChild(option);
    }
    select.addEventListener("change", () => {
      const key = { channel: "in", author: "from", month: "during", has: "has" }[kind];
      const kept = tokens(box.value).filter((t) => t.key !== key && !(key === "in" && t.key === "channel"));
      const text = kept.map((t) => (t.word !== undefined ? t.word : t.text));
      if (select.value) text.push(`${key}:${/\s/.test(select.value) ? `"${select.value}"` : select.value}`);
      box.value = text.join(" ");
      run();
    });
  }
  $("search-filters").hidden = false;
}

async function start() {
  try {
    pagefind = await import(new URL("pagefind/pagefind.js", root).href);
    await pagefind.options({ baseUrl: root.pathname });
    available = await pagefind.filters();
  } catch (e) {
    status.textContent = "Search could not start here (browsers block it on file:// pages; serve the folder over HTTP).";
    return;
  }
  fillFilters();
  const params = new URLSearchParams(window.location.search);
  box.value = params.get("q") || "";
  if (["newest", "oldest"].includes(params.get("sort"))) sortBox.value = params.get("sort");
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  sortBox.addEventListener("change", run);
  more.addEventListener("click", showMore);
  if (box.value) await run();
  document.body.setAttribute("data-search-ready", "true");
}

start();
