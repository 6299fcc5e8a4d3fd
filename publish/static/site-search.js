// Search for the static copy of the archive: Pagefind runs in the browser; the words people type on the
// server (from:, in:, has:, during:) become Pagefind filters where they can, and a hint where they can't.
// Every piece of chat text reaches the page through textContent, never as HTML.
// A Pagefind page is a group of messages (publish/search_index.py): each message is a section that starts
// at an empty heading whose id reads `m<id>~<timestamp>~<has,…>~<author>`. A result's content is split at
// those headings; a message is a hit when it holds a matched word (or, with no words, when it passes the
// filters), and the author and has filters, which Pagefind applies per group, are applied to it here.
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
const EXCERPT = 30; // words of a message shown around its first matched word
let pagefind = null;
let available = {};
let pending = []; // groups not read yet
let ready = []; // hits read but not shown yet
let shown = 0;
let current = null; // the search on screen (a newer one makes an older one stop)
let searches = 0;

function section(anchor) {
  // `m<id>~<timestamp>~<has,…>~<author, percent-encoded>`
  const m = /^m(\d{1,20})~([^~]*)~([^~]*)~([\s\S]*)$/.exec(anchor.id || "");
  if (!m) return null;
  let author = m[4];
  try { author = decodeURIComponent(author); } catch (e) { /* shown as it is */ }
  return { id: m[1], date: m[2], has: m[3] ? m[3].split(",") : [], author, at: anchor.location };
}

function passes(message, channel, filters) {
  const want = (kind, values) => !filters[kind] || filters[kind].any.some((v) => values.includes(v));
  return want("author", [message.author]) && want("has", message.has) && want("channel", [channel])
    && want("month", [message.date.slice(0, 7)]) && want("year", [message.date.slice(0, 4)]);
}

function units(term) {
  // The words and "phrases" of a search, each of which a message must hold.
  return [...new Set((term.match(/"[^"]*"?|\S+/g) || []).map((u) => u.toLowerCase()))];
}

function length(unit) {
  // How many words of a message a unit matches: a "phrase" one per word, a word one.
  return unit.startsWith('"') ? Math.max(1, unit.replace(/"/g, " ").trim().split(/\s+/).length) : 1;
}

function holds(places, start, end, size) {
  // Whether a message (words start…end-1) holds a match of a unit of `size` words: a phrase is matched
  // at consecutive words, which must all be in the message, not run on into the next one.
  for (const at of places) {
    if (at < start || at + size > end) continue;
    let whole = true;
    for (let k = 1; k < size && whole; k += 1) whole = places.has(at + k);
    if (whole) return true;
  }
  return false;
}

function hitsOf(data, filters, term, each) {
  // The messages of one result that hold a matched word (all of them when there are no words) and pass
  // every filter, each with its words and the positions of the matched ones. Pagefind matches every
  // word somewhere in the page; `each` holds where each word or phrase of the search matched (from its
  // own search when there are several), and a message must hold them all, each phrase whole.
  const words = data.content.includes("\u200B") ? data.content.split("\u200B") : data.content.split(/[\r\n\s]+/g);
  const parts = (data.anchors || []).map(section).filter(Boolean).sort((a, b) => a.at - b.at);
  const channel = (data.meta || {}).channel || "";
  const found = new Set(data.locations || []);
  const out = [];
  parts.forEach((m, i) => {
    const end = i + 1 < parts.length ? parts[i + 1].at : words.length;
    const marks = [];
    for (let at = m.at; at < end; at += 1) if (found.has(at)) marks.push(at - m.at);
    if ((term && marks.length === 0) || !passes(m, channel, filters)) return;
    if (each && !each.every((u) => holds(u.places, m.at, end, u.size))) return;
    out.push({ ...m, channel, words: words.slice(m.at, end), marks });
  });
  return out;
}

function excerptNodes(hit) {
  // The words around the first matched one, matched words in <mark>, all as text nodes.
  const first = hit.marks.length ? hit.marks[0] : 0;
  const start = Math.max(0, Math.min(first - 8, hit.words.length - EXCERPT));
  const end = Math.min(hit.words.length, start + EXCERPT);
  const marked = new Set(hit.marks);
  const out = [];
  if (start > 0) out.push(document.createTextNode("… "));
  for (let i = start; i < end; i += 1) {
    const text = document.createTextNode(hit.words[i]);
    if (marked.has(i)) { const m = document.createElement("mark"); m.appendChild(text); out.push(m); } else out.push(text);
    if (i + 1 < end) out.push(document.createTextNode(" "));
  }
  if (end < hit.words.length) out.push(document.createTextNode(" …"));
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

function hit(h) {
  const li = document.createElement("li");
  li.className = "hit";
  const meta = document.createElement("p");
  meta.className = "hit-meta";
  const who = document.createElement("span");
  who.className = "author";
  who.textContent = h.author || "Unknown author";
  const time = document.createElement("time");
  time.dateTime = h.date;
  time.textContent = h.date.replace("T", " ").slice(0, 16) + " UTC";
  meta.append(who, document.createTextNode(` in #${h.channel || "?"} · `), time);
  const snippet = document.createElement("p");
  snippet.className = "snippet";
  const link = document.createElement("a");
  link.className = "hit-link";
  link.href = new URL(`m/${h.id}/index.html`, root).pathname;
  link.append(...excerptNodes(h));
  if (!link.textContent.trim()) link.textContent = "(no text)";
  snippet.appendChild(link);
  li.append(meta, snippet);
  return li;
}

async function wordPlaces(query, id, data) {
  // Where each word (or phrase) of the search matched in one result, from its own search (a search of
  // one unit is its own), with the unit's length in words.
  if (!query.each) {
    const one = query.units.length === 1 && query.units[0].startsWith('"');
    return one ? [{ places: new Set(data.locations || []), size: length(query.units[0]) }] : null;
  }
  return Promise.all(query.each.map(async (results, i) => {
    const r = results.get(id);
    return { places: new Set(r ? (await r.data()).locations || [] : []), size: length(query.units[i]) };
  }));
}

function dataOf(query, result) {
  // A result's data, read once per search (the next group is read ahead to bound a sort by date).
  if (!query.datas.has(result.id)) query.datas.set(result.id, result.data());
  return query.datas.get(result.id);
}

async function settled(query) {
  // Whether the first page of what has been read is in its final order: with a sort by date, no message
  // of a group not read yet can come before it. Pagefind orders the groups by their newest message
  // (newest first) or their oldest (oldest first), so the next group bounds every group after it.
  // (called with groups still unread and a page of hits read)
  if (query.sort !== "newest" && query.sort !== "oldest") return true;
  const next = await dataOf(query, pending[0]);
  const dates = (next.anchors || []).map(section).filter(Boolean).map((m) => m.date).sort();
  if (!dates.length) return false;
  const edge = ready[PAGE - 1].date;
  return query.sort === "newest" ? edge >= dates[dates.length - 1] : edge <= dates[0];
}

const byDate = (sign) => (a, b) => sign * (a.date < b.date ? -1 : a.date > b.date ? 1 : a.id < b.id ? -1 : 1);

async function showMore() {
  // Read groups until a page of hits is ready (a group may hold none once author and has are applied)
  // and, sorted by date, until no group still unread could hold a message that belongs on it.
  const query = current;
  while (pending.length && (ready.length < PAGE || !(await settled(query)))) {
    if (query !== current) return;
    const batch = pending.splice(0, 8);
    const datas = await Promise.all(batch.map((r) => dataOf(query, r)));
    const eachs = await Promise.all(batch.map((r, i) => wordPlaces(query, r.id, datas[i])));
    if (query !== current) return; // a newer search took over
    datas.forEach((data, i) => ready.push(...hitsOf(data, query.filters, query.term, eachs[i])));
    // groups of different channels overlap in time: order what has been read by date
    if (query.sort === "newest") ready.sort(byDate(-1));
    if (query.sort === "oldest") ready.sort(byDate(1));
  }
  if (query !== current) return;
  const page = ready.splice(0, PAGE);
  list.append(...page.map(hit));
  shown += page.length;
  const open = ready.length > 0 || pending.length > 0;
  more.hidden = !open;
  heading.textContent = `${shown.toLocaleString("en")}${open ? "+" : ""} result${shown === 1 && !open ? "" : "s"}`;
  heading.hidden = false;
  status.textContent = shown ? "" : "Nothing matched. Try fewer words, or remove a filter.";
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
    current = null;
    finished();
    return;
  }
  const options = { filters: parsed.filters };
  if (sort === "newest") options.sort = { last: "desc" }; // groups by their newest message
  if (sort === "oldest") options.sort = { date: "asc" };
  const query = { ...parsed, sort, datas: new Map() };
  current = query;
  const words = units(parsed.term);
  const [search, ...each] = await Promise.all([parsed.term || null, ...(words.length > 1 ? words : [])]
    .map((t) => pagefind.search(t, options)));
  if (query !== current) return;
  query.units = words;
  query.each = each.length ? each.map((s) => new Map(s.results.map((r) => [r.id, r]))) : null;
  pending = search.results.slice();
  ready = [];
  shown = 0;
  await showMore();
  if (query === current) finished();
}

function finished() {
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
    // messages per filter value (Pagefind's own counts are of groups)
    const counts = await fetch(new URL("pagefind/hallway-counts.json", root));
    if (!counts.ok) throw new Error(`hallway-counts.json: ${counts.status}`);
    available = await counts.json();
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
  more.addEventListener("click", () => { more.disabled = true; showMore().finally(() => { more.disabled = false; }); });
  if (box.value) await run();
  document.body.setAttribute("data-search-ready", "true");
}

start();
