// ckptdb's page: a grid (or list) of the catalog's models with filters for every taxonomy axis,
// a detail panel with editing and suggestions, a choose panel and an overview drawn as inline
// SVG. Plain JS, no build step. Every piece of data comes from the JSON API under /api/; the
// view's state lives in the URL so it can be bookmarked.
'use strict';

const TOKEN = document.querySelector('meta[name="ckpt-token"]').content;
const PAGE = 60;
const AXES = [ // facet name, query parameter
  ['kind', 'kind'], ['family', 'family'], ['ecosystem', 'ecosystem'], ['origin', 'origin'],
  ['output', 'output'], ['realism', 'realism'], ['subjects', 'subject'], ['tags', 'tag'],
  ['source', 'source'], ['rating', 'min_rating'], ['safety', 'safety'], ['problems', 'problem'],
];
const $ = (s) => document.querySelector(s);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k.nodeType ? k : String(k));
  return e;
};

let taxonomy = {};
let loaded = 0, total = 0, loading = false, generation = 0;

// ---- state in the URL -----------------------------------------------------------------------
function state() { return new URLSearchParams(location.search); }
function setState(changes, push = true) {
  const s = state();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') s.delete(k); else s.set(k, v);
  }
  const url = location.pathname + (s.toString() ? '?' + s : '');
  if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
  render();
}
window.addEventListener('popstate', render);

function queryFromState() {
  const s = state(), q = new URLSearchParams();
  for (const [, p] of AXES) if (s.get(p)) q.set(p, s.get(p));
  if (s.get('q')) q.set('q', s.get('q'));
  if (s.get('sort')) q.set('sort', s.get('sort'));
  return q;
}

// ---- API ------------------------------------------------------------------------------------
async function api(path) {
  const r = await fetch('/api/' + path, { headers: { Accept: 'application/json' } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  return body;
}
async function post(path, data) {
  const r = await fetch('/api/' + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Ckpt-Token': TOKEN },
    body: JSON.stringify(data),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  return body;
}
function toast(msg, err) {
  const t = $('#toast');
  t.textContent = msg;
  t.className = err ? 'err' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, err ? 6000 : 2500);
}

// ---- helpers --------------------------------------------------------------------------------
function human(n) {
  if (n === null || n === undefined) return '-';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(2) : n) + ' ' + u[i];
}
function hue(s) { let h = 0; for (const c of s || '') h = (h * 31 + c.charCodeAt(0)) >>> 0; return h % 360; }
// the chosen value, else the suggestion (marked), else null
function shown(m, field) {
  const v = m[field];
  if (Array.isArray(v) ? v.length : v) return { value: Array.isArray(v) ? v.join(', ') : v, sug: false };
  const s = m.suggested && m.suggested[field];
  return s ? { value: s.value, sug: true } : null;
}
function badge(v, cls) { return v ? el('span', { class: 'badge ' + (cls || '') }, v) : null; }
function shownBadge(m, f) { const s = shown(m, f); return s ? badge(s.value, s.sug ? 'sug' : '') : null; }
function stars(n) { return n ? el('span', { class: 'stars', title: n + ' of 5' }, '★'.repeat(n) + '☆'.repeat(5 - n)) : null; }

// ---- filters --------------------------------------------------------------------------------
async function loadFacets() {
  const q = queryFromState();
  const box = $('#filters');
  let f;
  try { [f] = await Promise.all([api('facets?' + q), taxonomyReady]); } catch (e) { toast(e.message, true); return; }
  const s = state();
  box.replaceChildren();
  for (const [name, param] of AXES) {
    const values = f.facets[name] || [];
    if (!values.length) continue;
    const cur = s.get(param);
    const det = el('details', { open: cur || ['output', 'realism', 'family', 'kind'].includes(name) ? '' : null, 'data-axis': name },
      el('summary', {}, name.replace('_', ' ') + (cur ? ' · ' + cur : '')));
    for (const { value, count } of values) {
      const on = cur === value;
      const label = el('label', { class: on ? 'on' : '', 'data-value': value },
        el('input', { type: 'checkbox', checked: on ? '' : null,
          onchange: () => setState({ [param]: on ? null : value, model: null }) }),
        el('span', {}, name === 'rating' && value !== 'none' ? value + '★ and up' : value),
        el('span', { class: 'n' }, count));
      det.append(label);
    }
    box.append(det);
  }
}

// ---- grid and list --------------------------------------------------------------------------
function card(m) {
  const fam = m.family || m.kind || '';
  const out = shown(m, 'output');
  const img = m.preview
    ? el('img', { loading: 'lazy', decoding: 'async', alt: '', src: '/api/preview/' + m.id })
    : null;
  const ph = el('div', { class: 'img', style: `background: linear-gradient(135deg, hsl(${hue(fam)} 45% 32%), hsl(${hue(out ? out.value : 'x')} 40% 22%))` },
    img || (fam || '?').toUpperCase().slice(0, 6));
  const re = shown(m, 'realism');
  return el('div', { class: 'card', 'data-id': m.id, onclick: () => setState({ model: m.id }) },
    ph,
    el('div', { class: 'body' },
      el('div', { class: 'name', title: m.name }, m.name),
      badge(m.family, 'fam'), badge(m.ecosystem, 'eco'), m.kind !== 'checkpoint' ? badge(m.kind) : null,
      out ? badge(out.value, out.sug ? 'sug' : '') : null, re ? badge(re.value, re.sug ? 'sug' : '') : null,
      m.missing ? badge('missing', 'missing') : null,
      m.safety && m.safety !== 'safe' ? badge(m.safety, 'bad') : null,
      el('div', {}, stars(m.rating))));
}
function row(m) {
  const cell = (f) => { const s = shown(m, f); return el('td', { class: s && s.sug ? 'sug' : '' }, s ? (s.sug ? '~' : '') + s.value : '-'); };
  return el('tr', { 'data-id': m.id, onclick: () => setState({ model: m.id }) },
    el('td', {}, m.name), el('td', {}, m.kind || '-'), el('td', {}, m.family || '-'),
    cell('output'), cell('realism'), el('td', {}, m.rating ? m.rating + '★' : ''), el('td', {}, human(m.size)));
}

async function loadModels(reset) {
  if (loading && !reset) return;
  const gen = reset ? ++generation : generation;
  if (reset) { loaded = 0; total = 0; $('#grid').replaceChildren(); $('#list tbody').replaceChildren(); }
  loading = true;
  const q = queryFromState();
  q.set('offset', loaded);
  q.set('limit', PAGE);
  try {
    const r = await api('models?' + q);
    if (gen !== generation) return; // a newer view replaced this one
    total = r.total;
    const list = state().get('view') === 'list';
    const frag = document.createDocumentFragment();
    for (const m of r.models) frag.append(list ? row(m) : card(m));
    (list ? $('#list tbody') : $('#grid')).append(frag);
    // the first grid's moment, for bench/serve.sh (tests/browser/first-grid.js): the frame
    // after the cards went in
    if (!performance.getEntriesByName('ckpt-first-grid').length && r.models.length)
      requestAnimationFrame(() => { if (!performance.getEntriesByName('ckpt-first-grid').length) performance.mark('ckpt-first-grid'); });
    loaded += r.models.length;
    $('#count').textContent = total + (total === 1 ? ' model' : ' models');
    $('#more').textContent = loaded < total ? `showing ${loaded} of ${total}` : (total ? '' : 'No model matches these filters.');
  } catch (e) {
    toast(e.message, true);
  } finally {
    if (gen === generation) loading = false;
  }
}
// the next page comes when the end of the grid scrolls into view
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && loaded < total && !loading) loadModels(false);
}, { rootMargin: '800px' }).observe($('#more'));

// ---- detail panel ---------------------------------------------------------------------------
function copyBtn(text) {
  return el('button', { class: 'copy', onclick: (e) => { e.stopPropagation(); navigator.clipboard?.writeText(text); toast('copied'); } }, 'copy');
}
const EDITABLE = [ // field, kind of input
  ['name', 'text'], ['origin', 'origin'], ['output', 'output'], ['realism', 'realism'],
  ['subjects', 'subjects'], ['source', 'source'], ['source_url', 'text'], ['rating', 'rating'],
  ['trigger_words', 'text'], ['note', 'text'],
];
function editor(m, field, kind) {
  const cur = Array.isArray(m[field]) ? m[field].join(',') : (m[field] ?? '');
  let input;
  if (taxonomy[kind]) {
    input = el('select', { name: field, multiple: kind === 'realism' || kind === 'subjects' ? '' : null },
      kind === 'realism' || kind === 'subjects' ? null : el('option', { value: '' }, '—'),
      taxonomy[kind].map((v) => el('option', { value: v, selected: String(cur).split(',').includes(v) ? '' : null }, v)));
  } else if (kind === 'rating') {
    input = el('select', { name: field }, ['', '1', '2', '3', '4', '5'].map((v) =>
      el('option', { value: v, selected: String(cur || '') === v ? '' : null }, v ? v + '★' : '—')));
  } else {
    input = el('input', { type: 'text', name: field, value: cur });
  }
  const save = async () => {
    const value = input.multiple ? [...input.selectedOptions].map((o) => o.value) : input.value;
    try {
      const nm = await post(`models/${m.id}/set`, { [field]: value });
      toast(`${field} saved`);
      showDetail(nm);
      refreshSoon();
    } catch (e) { toast(e.message, true); }
  };
  return el('div', { class: 'field', 'data-field': field }, el('label', {}, field.replace('_', ' ')),
    el('div', {}, input, el('button', { class: 'save', onclick: save }, 'save')));
}
function familyTree(m) {
  if (!m.parents || !m.parents.length) return null;
  return el('section', { class: 'tree' }, el('h3', {}, 'Merge family tree'),
    el('div', {}, m.name), el('ul', {}, m.parents.map((p) =>
      el('li', {}, (p.name || '?') + (p.weight !== null && p.weight !== undefined ? ` × ${p.weight}` : ''),
        p.sha256 ? el('span', { class: 'hash' }, ' ' + p.sha256.slice(0, 10)) : null))));
}
// Lineage section: loaded when the panel opens (GET /api/models/ID/lineage: `ckptdb lineage`
// and the 5 nearest of `ckptdb similar`, with model ids to link to)
function blockOrder(b) {
  const m = /^(IN|M|OUT)(\d+)$/.exec(b);
  if (b === 'BASE') return [0, 0];
  return m ? [{ IN: 1, M: 2, OUT: 3 }[m[1]], +m[2]] : [4, b];
}
function sortedBlocks(blocks) {
  return Object.entries(blocks || {}).sort(([a], [b]) => {
    const x = blockOrder(a), y = blockOrder(b);
    return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
  });
}
// one bar per block, signed around a baseline; the value in each bar's tooltip
function blockBars(blocks, label) {
  const rows = sortedBlocks(blocks), bw = 9, h = 28;
  const vals = rows.map(([, v]) => (v === null ? 0 : v));
  const max = Math.max(1e-9, ...vals.map(Math.abs)), neg = vals.some((v) => v < 0);
  const base = neg ? h / 2 : h - 1, scale = (neg ? h / 2 - 1 : h - 2) / max;
  const g = svg('svg', { class: 'blocks', width: rows.length * bw, height: h, viewBox: `0 0 ${rows.length * bw} ${h}`, role: 'img', 'aria-label': label });
  rows.forEach(([b, v], i) => {
    const y = v === null ? base : base - Math.max(0, v) * scale, len = v === null ? 1 : Math.max(1, Math.abs(v) * scale);
    g.append(svg('rect', { x: i * bw + 1, y, width: bw - 2, height: len, fill: v === null ? '#555' : v < 0 ? 'var(--bad)' : 'var(--acc)' },
      svg('title', {}, `${b} ${v === null ? 'not determined' : v.toFixed(3)}`)));
  });
  g.append(svg('line', { x1: 0, x2: rows.length * bw, y1: base, y2: base, stroke: '#666', 'stroke-width': 0.5 }));
  return g;
}
function modelLink(name, id) {
  return id === null || id === undefined ? el('span', {}, name || '?')
    : el('a', { href: '?model=' + id, class: 'model-link', 'data-id': id, onclick: (e) => { e.preventDefault(); setState({ model: id }); } }, name || '?');
}
function lineageView(r) {
  const l = r.lineage;
  const pct = (x) => Math.round(x * 100) + '%';
  return [
    el('div', { class: 'origin' }, el('b', {}, l.origin.value), ` (confidence ${pct(l.origin.confidence)})`,
      el('div', { class: 'why' }, l.origin.why)),
    l.parents.length ? el('div', { class: 'parents' }, l.parents.map((p, i) => el('div', { class: 'parent' },
      el('span', { class: 'weight' }, (p.weight >= 0 ? '×' : '−×') + Math.abs(p.weight).toFixed(3)), ' ',
      modelLink(p.name, r.parent_ids[i]), p.blocks ? blockBars(p.blocks, `${p.name}: weight per block`) : null))) : null,
    l.base ? el('div', {}, 'base: ', modelLink(l.base, r.base_id)) : null,
    l.distance ? el('div', { class: 'parent' }, 'change per block: ', blockBars(l.distance, 'relative change per block')) : null,
    el('div', { class: 'why' }, `residual ${l.residual === null ? '-' : l.residual.toFixed(2)} × the rounding floor, ${pct(l.explained)} explained` +
      (l.linear === true ? ', a linear merge' : l.linear === false ? ', not a linear merge (TIES, DARE or similar)' : '')),
    el('h3', {}, 'Similar models'),
    r.similar.length ? el('div', {}, r.similar.map((s, i) => el('div', { class: 'similar' },
      el('span', { class: 'weight' }, s.similarity.toFixed(3)), ' ', modelLink(s.model, r.similar_ids[i]),
      blockBars(s.blocks, `${s.model}: similarity per block`),
      s.shared_components.length ? el('div', { class: 'why' }, 'shares byte for byte: ' + s.shared_components.join(', ')) : null)))
      : el('div', { class: 'why' }, 'no other model of its family in the catalog'),
  ];
}
async function loadLineage(m, sec) {
  let body;
  try {
    const r = await fetch(`/api/models/${m.id}/lineage`, { headers: { Accept: 'application/json' } });
    body = await r.json();
    if (!sec.isConnected) return;
    if (r.status === 404 && body.error && body.error.code === 'no-fingerprints') {
      sec.replaceChildren(el('h3', {}, 'Lineage'), el('div', { class: 'why' },
        'No lineage fingerprints: only checkpoints and diffusion models scanned with hashing have them.'));
      return;
    }
    if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  } catch (e) {
    if (sec.isConnected) sec.replaceChildren(el('h3', {}, 'Lineage'), el('div', { class: 'problem' }, e.message));
    return;
  }
  sec.replaceChildren(el('h3', {}, 'Lineage'), ...lineageView(body).filter((x) => x));
  sec.dataset.state = 'loaded';
}
function lineageSection(m) {
  const sec = el('section', { id: 'lineage' }, el('h3', {}, 'Lineage'), el('div', { class: 'why' }, 'loading…'));
  loadLineage(m, sec);
  return sec;
}
function showDetail(m) {
  const p = $('#detail');
  const hashes = ['sha256', 'autov1', 'autov2', 'autov3', 'crc32', 'blake3'];
  const facts = ['path', 'format', 'kind', 'network', 'family', 'ecosystem', 'variant', 'prediction', 'precision', 'components', 'safety'];
  const sugg = Object.entries(m.suggested || {});
  const problems = m.problems || [];
  p.replaceChildren(...[ // replaceChildren would write the absent sections (null) as text
    el('button', { class: 'close', onclick: () => setState({ model: null }) }, '✕'),
    el('h2', {}, m.name),
    m.preview ? el('img', { src: '/api/preview/' + m.id, style: 'max-width:100%;max-height:320px', alt: '' }) : null,
    el('section', {}, el('h3', {}, 'File'), el('div', { class: 'kv' },
      facts.flatMap((f) => [el('div', {}, f), el('div', {}, Array.isArray(m[f]) ? m[f].join(', ') : (m[f] ?? '-'))]),
      el('div', {}, 'size'), el('div', {}, human(m.size)),
      m.missing ? [el('div', {}, 'missing'), el('div', { class: 'problem' }, 'the file is gone')] : null)),
    el('section', {}, el('h3', {}, 'Hashes'), el('div', { class: 'kv' },
      hashes.flatMap((h) => [el('div', {}, h), el('div', { class: 'hash' }, m[h] || '-', m[h] ? copyBtn(m[h]) : null)]))),
    el('section', { id: 'suggestions' }, el('h3', {}, 'Suggestions (not chosen until accepted)'),
      sugg.length ? sugg.map(([field, s]) => el('div', { class: 'sugg', 'data-field': field },
        el('b', {}, field), ': ', s.value, ` (${Math.round(s.confidence * 100)}%) `,
        el('button', { class: 'accept', onclick: async () => {
          try { const nm = await post(`models/${m.id}/accept`, { fields: [field] }); toast(`${field} accepted`); showDetail(nm); refreshSoon(); } catch (e) { toast(e.message, true); }
        } }, 'accept'),
        el('div', { class: 'why' }, s.why))) : el('div', { class: 'why' }, 'none')),
    el('section', { id: 'edit' }, el('h3', {}, 'Chosen'), EDITABLE.map(([f, k]) => editor(m, f, k)),
      el('div', { class: 'field' }, el('label', {}, 'tags'), el('div', {},
        (m.tags || []).map((t) => el('span', { class: 'badge' }, t, el('button', { class: 'copy', title: 'remove', onclick: async () => {
          try { showDetail(await post(`models/${m.id}/tag`, { remove: [t] })); refreshSoon(); } catch (e) { toast(e.message, true); }
        } }, '×'))),
        el('input', { type: 'text', placeholder: 'add tag + Enter', onkeydown: async (e) => {
          if (e.key !== 'Enter' || !e.target.value.trim()) return;
          try { showDetail(await post(`models/${m.id}/tag`, { add: [e.target.value.trim()] })); refreshSoon(); } catch (err) { toast(err.message, true); }
        } })))),
    problems.length ? el('section', {}, el('h3', {}, 'Problems'), problems.map((x) => el('div', { class: 'problem' }, `${x.code}: ${x.message}`))) : null,
    m.safety && m.safety !== 'safe' ? el('section', {}, el('h3', {}, 'Safety'), el('div', { class: 'danger' }, `${m.safety}: run 'ckptdb check -v' on the file for the findings`)) : null,
    m.evidence && m.evidence.length ? el('section', {}, el('h3', {}, 'Identify evidence'), el('ul', {}, m.evidence.map((x) => el('li', {}, x)))) : null,
    familyTree(m),
    lineageSection(m),
    m.description ? el('section', {}, el('h3', {}, 'Description'), el('div', {}, m.description)) : null,
    el('section', {}, el('h3', {}, 'Metadata'), el('pre', { class: 'meta' }, JSON.stringify(m.metadata || {}, null, 1))),
  ].filter((x) => x));
  p.hidden = false;
}
async function openDetail(id) {
  try { showDetail(await api('models/' + id)); } catch (e) { toast(e.message, true); setState({ model: null }, false); }
}
let refreshTimer;
function refreshSoon() { clearTimeout(refreshTimer); refreshTimer = setTimeout(() => { loadFacets(); loadModels(true); }, 300); }

// ---- choose panel ---------------------------------------------------------------------------
async function showChoose() {
  await taxonomyReady;
  const p = $('#choose');
  const s = state();
  const pick = (name, values) => el('div', { class: 'field' }, el('label', {}, name),
    el('select', { name, onchange: (e) => setState({ ['c_' + name]: e.target.value }, false) },
      el('option', { value: '' }, 'any'), (values || []).map((v) => el('option', { value: v, selected: s.get('c_' + name) === v ? '' : null }, v))));
  const results = el('div', { id: 'choose-results' });
  p.replaceChildren(el('button', { class: 'close', onclick: () => setState({ choose: null }) }, '✕'),
    el('h2', {}, 'Choose a model'),
    pick('output', taxonomy.output), pick('realism', taxonomy.realism), pick('family', taxonomy.family), pick('subject', taxonomy.subjects),
    results);
  p.hidden = false;
  const q = new URLSearchParams();
  for (const k of ['output', 'realism', 'family', 'subject']) if (s.get('c_' + k)) q.set(k, s.get('c_' + k));
  api('choose?' + q).then((list) => {
    results.replaceChildren(...(list.length ? list.map((r) => el('div', { class: 'result', 'data-id': r.model.id, onclick: () => setState({ choose: null, model: r.model.id }) },
      el('div', { class: 'score' }, r.score.toFixed(2)),
      el('div', {}, el('b', {}, r.model.name), ' ', badge(r.model.family, 'fam'), el('div', { class: 'why' }, r.why))))
      : [el('div', {}, 'No model fits this wish.')]));
  }).catch((e) => toast(e.message, true));
}

// ---- overview (inline SVG) ------------------------------------------------------------------
function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k.nodeType ? k : document.createTextNode(String(k)));
  return e;
}
function barChart(title, items, value, label) {
  const rows = items.slice(0, 14), max = Math.max(1, ...rows.map(value)), h = 20 * rows.length + 4;
  const g = svg('svg', { width: '100%', viewBox: `0 0 400 ${h}`, role: 'img', 'aria-label': title });
  rows.forEach((it, i) => {
    const w = 220 * value(it) / max;
    g.append(svg('text', { x: 0, y: 20 * i + 14 }, it.value ?? it.name ?? '?'),
      svg('rect', { x: 120, y: 20 * i + 3, width: Math.max(1, w), height: 14, fill: `hsl(${hue(it.value || it.name)} 50% 55%)` }),
      svg('text', { x: 126 + w, y: 20 * i + 14 }, label(it)));
  });
  return el('div', { class: 'chart' }, el('h3', {}, title), g);
}
function matrix(cells, outputs, realisms) {
  const cw = 56, ch = 24, x0 = 130, y0 = 24;
  const max = Math.max(1, ...cells.map((c) => c.count));
  const g = svg('svg', { width: '100%', viewBox: `0 0 ${x0 + cw * realisms.length + 4} ${y0 + ch * outputs.length + 4}`, role: 'img', 'aria-label': 'output x realism' });
  realisms.forEach((r, j) => g.append(svg('text', { x: x0 + cw * j + 4, y: 16 }, r)));
  outputs.forEach((o, i) => {
    g.append(svg('text', { x: 0, y: y0 + ch * i + 16 }, o));
    realisms.forEach((r, j) => {
      const c = cells.find((x) => x.output === o && x.realism === r);
      const n = c ? c.count : 0;
      g.append(svg('rect', { x: x0 + cw * j, y: y0 + ch * i, width: cw - 2, height: ch - 2, fill: n ? `rgba(106,169,255,${0.15 + 0.85 * n / max})` : '#22262d' }));
      if (n) g.append(svg('text', { x: x0 + cw * j + 6, y: y0 + ch * i + 16 }, n));
    });
  });
  return el('div', { class: 'chart' }, el('h3', {}, 'Output × realism'), g);
}
async function showOverview() {
  const box = $('#overview');
  try {
    const [st, dupes] = await Promise.all([api('stats'), api('dupes')]);
    const outs = [...new Set(st.output_realism.map((c) => c.output))];
    const res = [...new Set(st.output_realism.map((c) => c.realism))];
    box.replaceChildren(
      el('p', {}, `${st.models} models, ${human(st.bytes)}; ${st.missing} missing, ${st.failed} unreadable; ${st.dupes.groups} duplicate groups, ${human(st.dupes.reclaim)} to reclaim.`),
      el('div', { class: 'charts' },
        matrix(st.output_realism, outs, res),
        barChart('Models by family', st.by_family, (x) => x.count, (x) => x.count),
        barChart('Models by kind', st.by_kind, (x) => x.count, (x) => x.count),
        barChart('Disk use by family', [...st.by_family].sort((a, b) => b.bytes - a.bytes), (x) => x.bytes, (x) => human(x.bytes)),
        barChart('Largest files', st.largest, (x) => x.size, (x) => human(x.size)),
        el('div', { class: 'chart' }, el('h3', {}, 'Duplicates'), dupes.length ? el('ul', {}, dupes.map((d) =>
          el('li', {}, d.models.map((m) => m.name).join(' = '), ` (${human(d.reclaim)} to reclaim${d.confirmed ? '' : ', not hashed yet'})`))) : 'none')));
  } catch (e) { toast(e.message, true); }
}

// ---- render the state -----------------------------------------------------------------------
let lastQuery = null;
function render() {
  const s = state();
  const view = s.get('view') || 'grid';
  for (const b of document.querySelectorAll('nav .tab')) b.classList.toggle('active', b.dataset.view === view);
  $('#grid').hidden = view !== 'grid';
  $('#list').hidden = view !== 'list';
  $('#more').hidden = view === 'overview';
  $('#overview').hidden = view !== 'overview';
  $('#filters').hidden = view === 'overview';
  if ($('#search') !== document.activeElement) $('#search').value = s.get('q') || '';
  $('#sort').value = s.get('sort') || '';
  const key = queryFromState().toString() + '|' + view;
  if (view === 'overview') showOverview();
  else if (key !== lastQuery) { loadFacets(); loadModels(true); }
  lastQuery = key;
  if (s.get('model')) openDetail(s.get('model')); else $('#detail').hidden = true;
  if (s.get('choose')) showChoose(); else $('#choose').hidden = true;
}

for (const b of document.querySelectorAll('nav .tab')) b.addEventListener('click', () => setState({ view: b.dataset.view === 'grid' ? null : b.dataset.view }));
$('#open-choose').addEventListener('click', () => setState({ choose: 1 }));
$('#sort').addEventListener('change', (e) => setState({ sort: e.target.value }));
let searchTimer;
$('#search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setState({ q: e.target.value.trim() }, false), 250);
});
document.addEventListener('keydown', (e) => { if (e.key === 'Escape') setState({ model: null, choose: null }); });

// The taxonomy (filter values, choose lists) and the first page of models are asked for at
// once: the grid does not wait for a round trip it does not need.
const taxonomyReady = api('taxonomy').then((t) => { taxonomy = t; }).catch(() => {});
render();
