// Obscura review page: talks only to the local review server that served it (same origin,
// token in every request). Nothing is loaded from anywhere else.
'use strict';

const TOKEN = new URLSearchParams(location.search).get('t') || '';
const $ = (id) => document.getElementById(id);
let S = null;          // server state (/api/state)
let edits = null;      // the edits being made (sent whole to /api/edits)
let cur = 0;           // current frame index
let boxes = { boxes: [], manual: [] };
let mode = 'pick';
let selectedMask = null;
let drag = null;
let version = 0;
let playing = 0;       // the playback run in progress (0: paused)
let runs = 0;
let shows = 0;         // the latest show() call: an older one that finishes later is dropped
const mergeSel = new Set();

function api(path, params) {
  const q = new URLSearchParams(Object.assign({ t: TOKEN }, params || {}));
  return path + '?' + q.toString();
}

async function getJSON(path, params) {
  const r = await fetch(api(path, params), { cache: 'no-store' });
  if (!r.ok) throw new Error(await r.text());
  return r.json();
}

async function postJSON(path, body) {
  const r = await fetch(api(path), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const v = await r.json();
  if (!r.ok) throw new Error(v.error || r.statusText);
  return v;
}

// The server leaves empty lists out of the JSON; the page always has them.
function norm(e) {
  for (const k of ['masks', 'splits', 'merges', 'unmask']) e[k] = e[k] || [];
  return e;
}

function say(text) { $('message').textContent = text || ''; }

function clock(secs) {
  const s = Math.max(0, secs);
  const m = Math.floor(s / 60);
  return m + ':' + (s - 60 * m).toFixed(1).padStart(4, '0');
}

function timeOf(i) { return S.clip.times[i]; }

// Sends the edits; on success takes the server's state (people after splits/merges etc.).
async function push() {
  try {
    S = await postJSON('/api/edits', edits);
    edits = norm(S.edits);
    version += 1;
    renderLists();
    await show(cur);
    say('');
    return true;
  } catch (e) {
    say('Not applied: ' + e.message);
    edits = norm(JSON.parse(JSON.stringify(S.edits)));
    return false;
  }
}

// Stops playback (a jump, a step or the Pause button).
function pause() {
  playing = 0;
  $('play').textContent = 'Play';
}

// Goes to frame `i` as the reviewer asked: playback stops there.
function jump(i) {
  pause();
  return show(i);
}

async function show(i) {
  cur = Math.max(0, Math.min(S.clip.frames - 1, i));
  $('scrub').value = cur;
  const out = S.clip.exported && S.clip.exported[cur] === false;
  $('time').textContent = 'frame ' + cur + ' / ' + (S.clip.frames - 1) + ' \u00b7 source time ' + timeOf(cur) + ' s' + (out ? ' \u00b7 not in the export' : '');
  $('time').dataset.exported = out ? '0' : '1';
  const img = $('frame');
  const view = $('view-source').checked ? 'source' : 'masked';
  const loaded = new Promise((ok) => { img.onload = ok; img.onerror = ok; });
  const at = cur;
  const v = version;
  const seq = ++shows;
  img.src = api('/api/frame', { i: at, view: view, v: v });
  const b = await getJSON('/api/boxes', { i: at });
  if (seq !== shows) return;
  boxes = b;
  await loaded;
  if (seq !== shows) return;
  img.dataset.frame = String(at);
  img.dataset.shown = at + ':' + v; // the picture and the boxes of this frame with these edits
  draw();
  updateTools();
}

function scale() { return $('frame').clientWidth / S.clip.width; }

function draw() {
  const img = $('frame');
  const c = $('overlay');
  c.width = img.clientWidth;
  c.height = img.clientHeight;
  const k = scale();
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  g.lineWidth = 2;
  g.font = '12px system-ui, sans-serif';
  for (const b of boxes.boxes) {
    if (b.class !== 'person') continue;
    const [x, y, w, h] = b.box;
    g.setLineDash(b.predicted ? [4, 3] : []);
    g.strokeStyle = b.kept ? '#52b788' : '#e63946';
    g.strokeRect(x * k, y * k, w * k, h * k);
    const subject = S.people.some((p) => p.id === b.identity && p.subject);
    const label = b.identity != null ? 'person ' + b.identity + (subject ? ' (requester)' : b.kept ? ' (left visible)' : '') : 'track #' + b.track;
    g.fillStyle = g.strokeStyle;
    g.fillText(label, x * k + 3, Math.max(12, y * k - 3));
  }
  g.setLineDash([6, 3]);
  g.strokeStyle = '#ffb703';
  for (const [x, y, w, h] of boxes.manual) g.strokeRect(x * k, y * k, w * k, h * k);
  if (drag && drag.x1 !== undefined) {
    g.setLineDash([]);
    g.strokeStyle = '#ffb703';
    g.strokeRect(Math.min(drag.x0, drag.x1), Math.min(drag.y0, drag.y1), Math.abs(drag.x1 - drag.x0), Math.abs(drag.y1 - drag.y0));
  }
}

function setMode(m) {
  mode = m;
  for (const b of document.querySelectorAll('#tools button[data-mode]')) b.setAttribute('aria-pressed', String(b.dataset.mode === mode));
  document.body.dataset.mode = mode;
}

function updateTools() {
  $('mode-keyframe').disabled = !selectedMask || !edits.masks.some((m) => m.id === selectedMask && m.keyframes && m.keyframes.length);
  $('merge').disabled = mergeSel.size < 2;
}

function pointOn(ev) {
  const r = $('overlay').getBoundingClientRect();
  return { x: ev.clientX - r.left, y: ev.clientY - r.top };
}

function toSource(v) { return Math.round(v / scale() * 10) / 10; }

function nextMaskId() {
  let n = 1;
  while (edits.masks.some((m) => m.id === 'mask-' + n)) n += 1;
  return 'mask-' + n;
}

function personRef(identity, i, x, y) {
  return { identity: identity, time: timeOf(i), x: x, y: y };
}

async function onClick(x, y) {
  const hits = boxes.boxes.filter((b) => b.class === 'person' && b.identity != null &&
    x >= b.box[0] && x <= b.box[0] + b.box[2] && y >= b.box[1] && y <= b.box[1] + b.box[3]);
  if (!hits.length) { say('No person box there on this frame.'); return; }
  const ids = [...new Set(hits.map((b) => b.identity))];
  if (ids.length > 1) { say('That point lies on more than one person; click where only the requester is.'); return; }
  edits.subject = personRef(ids[0], cur, x, y);
  if (await push()) say('Person ' + ids[0] + ' is the requester.');
}

async function onBox(x0, y0, x1, y1) {
  const box = [Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)].map(toSource);
  if (box[2] < 2 || box[3] < 2) return;
  if (mode === 'box') {
    const id = nextMaskId();
    edits.masks.push({ id: id, keyframes: [{ time: timeOf(cur), box: box }] });
    selectedMask = id;
  } else if (mode === 'keyframe') {
    const m = edits.masks.find((m) => m.id === selectedMask);
    if (!m) return;
    m.keyframes = m.keyframes.filter((k) => k.time !== timeOf(cur));
    m.keyframes.push({ time: timeOf(cur), box: box });
    m.keyframes.sort((a, b) => parseFloat(a.time) - parseFloat(b.time));
  } else if (mode === 'region') {
    const secs = Math.max(0.001, parseFloat($('region-seconds').value) || 1);
    const from = parseFloat(timeOf(cur));
    edits.masks.push({ id: nextMaskId(), from: timeOf(cur), until: (from + secs).toFixed(6), box: box });
  }
  await push();
}

function li(html) {
  const e = document.createElement('li');
  e.innerHTML = html;
  return e;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function button(text, cls, fn) {
  const b = document.createElement('button');
  b.textContent = text;
  if (cls) b.className = cls;
  b.addEventListener('click', fn);
  return b;
}

function renderLists() {
  const people = $('people');
  people.textContent = '';
  for (const p of S.people) {
    const e = li('<img alt="person ' + p.id + '" src="' + esc(api('/api/thumb', { id: p.id, v: version })) + '">' +
      '<span><b>person ' + p.id + '</b> ' + clock(p.first) + '\u2013' + clock(p.last) + (p.subject ? ' \u00b7 requester' : p.kept ? ' \u00b7 left visible' : '') + '</span>');
    e.dataset.identity = p.id;
    if (p.subject) e.classList.add('subject');
    e.appendChild(button('Requester', 'pick', async () => {
      if (!p.point) { say('Person ' + p.id + ' has no detected box to point at.'); return; }
      edits.subject = { identity: p.id, time: p.point.time, x: p.point.x, y: p.point.y };
      if (await push()) { say('Person ' + p.id + ' is the requester.'); await jump(p.point.frame); }
    }));
    e.appendChild(button('Go', 'go', () => jump(p.first_frame)));
    e.appendChild(button('Split here', 'split', async () => {
      const b = boxes.boxes.find((b) => b.identity === p.id);
      if (!b) { say('Person ' + p.id + ' is not on this frame: go to the first frame of the other person.'); return; }
      edits.splits.push(personRef(p.id, cur, Math.round(b.box[0] + b.box[2] / 2), Math.round(b.box[1] + b.box[3] / 2)));
      await push();
    }));
    e.appendChild(button('Leave visible\u2026', 'unmask', async () => {
      const reason = prompt('Why may person ' + p.id + ' stay visible? (written to the report and the audit log)');
      if (!reason || !p.point) return;
      edits.unmask.push({ person: { identity: p.id, time: p.point.time, x: p.point.x, y: p.point.y }, reason: reason });
      await push();
    }));
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.title = 'select for merge';
    cb.checked = mergeSel.has(p.id);
    cb.addEventListener('change', () => { if (cb.checked) mergeSel.add(p.id); else mergeSel.delete(p.id); updateTools(); });
    e.appendChild(cb);
    people.appendChild(e);
  }
  const flags = $('flags');
  flags.textContent = '';
  for (const f of S.flags) {
    const e = li('<span class="kind ' + esc(f.kind) + '">' + esc(f.kind) + '</span> ' + clock(parseFloat(timeOf(f.frame))) + ' ' + esc(f.text));
    e.dataset.frame = f.frame;
    e.addEventListener('click', () => jump(f.frame));
    flags.appendChild(e);
  }
  if (!S.flags.length) flags.appendChild(li('nothing flagged'));
  const masks = $('masks');
  masks.textContent = '';
  for (const m of edits.masks) {
    const what = m.keyframes && m.keyframes.length ? m.keyframes.length + ' keyframe(s) ' + m.keyframes[0].time + '\u2013' + m.keyframes[m.keyframes.length - 1].time + ' s' : 'region ' + m.from + '\u2013' + m.until + ' s';
    const e = li('<span><b>' + esc(m.id) + '</b> ' + esc(what) + (m.id === selectedMask ? ' \u00b7 selected' : '') + '</span>');
    e.dataset.mask = m.id;
    e.appendChild(button('Select', 'select', () => { selectedMask = m.id; renderLists(); updateTools(); }));
    e.appendChild(button('Remove', 'remove', async () => { edits.masks = edits.masks.filter((x) => x.id !== m.id); if (selectedMask === m.id) selectedMask = null; await push(); }));
    masks.appendChild(e);
  }
  if (!edits.masks.length) masks.appendChild(li('none yet'));
  const corr = $('corrections');
  corr.textContent = '';
  edits.splits.forEach((s, i) => {
    const e = li('split person ' + esc(s.identity) + ' at ' + esc(s.time) + ' s');
    e.appendChild(button('Undo', 'undo', async () => { edits.splits.splice(i, 1); await push(); }));
    corr.appendChild(e);
  });
  edits.merges.forEach((g, i) => {
    const e = li('merged people ' + g.map((p) => esc(p.identity)).join(' + '));
    e.appendChild(button('Undo', 'undo', async () => { edits.merges.splice(i, 1); await push(); }));
    corr.appendChild(e);
  });
  edits.unmask.forEach((u, i) => {
    const e = li('person ' + esc(u.person.identity) + ' left visible: ' + esc(u.reason));
    e.appendChild(button('Undo', 'undo', async () => { edits.unmask.splice(i, 1); await push(); }));
    corr.appendChild(e);
  });
  if (!corr.children.length) corr.appendChild(li('none'));
  const x = S.export;
  const how = x.window_given ? 'source time, from <code>review --from/--until</code>: give the same to <code>export</code>' : 'source time: the whole clip; <code>export --from/--until</code> narrows it';
  $('export').innerHTML = '<dt>window</dt><dd>' + esc(x.window[0]) + ' \u2013 ' + esc(x.window[1]) + ' s (' + how + ')</dd>' +
    '<dt>excluded</dt><dd>' + (x.excluded.length ? esc(x.excluded.join(', ')) : 'none') + '</dd>' +
    '<dt>style</dt><dd>' + esc(x.style) + '</dd>' +
    '<dt>requester</dt><dd>' + (x.subject != null ? 'person ' + esc(x.subject) : 'nobody picked: everyone is masked') + '</dd>' +
    '<dt>masked</dt><dd>' + esc(x.masked) + ' (' + edits.masks.length + ')</dd>';
  $('save-path').textContent = 'writes ' + S.save.path + (S.save.overwrite ? ' (replacing it)' : ' (a new file)');
}

async function save() {
  const st = $('status');
  st.dataset.state = 'saving';
  st.textContent = 'saving\u2026';
  try {
    const r = await postJSON('/api/save', { reviewer: $('reviewer').value });
    st.dataset.state = 'saved';
    st.dataset.sha256 = r.sha256;
    st.textContent = 'saved ' + r.path + ' (sha256 ' + r.sha256.slice(0, 16) + '\u2026)';
  } catch (e) {
    st.dataset.state = 'error';
    st.textContent = 'not saved: ' + e.message;
  }
}

async function main() {
  S = await getJSON('/api/state');
  edits = norm(S.edits);
  $('clip-name').textContent = S.clip.name + ' \u00b7 ' + S.clip.width + '\u00d7' + S.clip.height + ' \u00b7 ' + S.clip.frames + ' frames';
  $('reviewer').value = edits.reviewer || '';
  $('scrub').max = S.clip.frames - 1;
  $('scrub').addEventListener('input', () => jump(parseInt($('scrub').value, 10)));
  $('prev').addEventListener('click', () => jump(cur - 1));
  $('next').addEventListener('click', () => jump(cur + 1));
  $('view-source').addEventListener('change', () => show(cur));
  $('play').addEventListener('click', async () => {
    if (playing) { pause(); return; }
    const run = ++runs;
    playing = run;
    $('play').textContent = 'Pause';
    // At the source's pace (frame times from the file), slower only while frames load.
    while (playing === run && cur < S.clip.frames - 1) {
      const due = (parseFloat(timeOf(cur + 1)) - parseFloat(timeOf(cur))) * 1000;
      const t0 = performance.now();
      await show(cur + 1);
      const left = due - (performance.now() - t0);
      if (left > 0) await new Promise((ok) => setTimeout(ok, left));
    }
    if (playing === run) pause();
  });
  document.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'INPUT' && e.target.type !== 'range') return;
    if (e.key === 'ArrowLeft') { e.preventDefault(); jump(cur - 1); }
    if (e.key === 'ArrowRight') { e.preventDefault(); jump(cur + 1); }
  });
  for (const b of document.querySelectorAll('#tools button[data-mode]')) b.addEventListener('click', () => setMode(b.dataset.mode));
  $('merge').addEventListener('click', async () => {
    const group = [];
    for (const id of mergeSel) {
      const p = S.people.find((p) => p.id === id);
      if (p && p.point) group.push({ identity: id, time: p.point.time, x: p.point.x, y: p.point.y });
    }
    edits.merges.push(group);
    mergeSel.clear();
    await push();
  });
  $('save').addEventListener('click', save);
  const ov = $('overlay');
  ov.addEventListener('mousedown', (ev) => { const p = pointOn(ev); drag = { x0: p.x, y0: p.y }; });
  ov.addEventListener('mousemove', (ev) => { if (!drag) return; const p = pointOn(ev); drag.x1 = p.x; drag.y1 = p.y; draw(); });
  ov.addEventListener('mouseup', async (ev) => {
    const d = drag;
    drag = null;
    if (!d) return;
    const p = pointOn(ev);
    const moved = Math.abs(p.x - d.x0) > 3 || Math.abs(p.y - d.y0) > 3;
    if (mode === 'pick' || !moved) {
      if (mode === 'pick') await onClick(toSource(p.x), toSource(p.y));
      draw();
      return;
    }
    await onBox(d.x0, d.y0, p.x, p.y);
  });
  window.addEventListener('resize', draw);
  setMode('pick');
  renderLists();
  await show(0);
  document.body.dataset.ready = '1';
}

main().catch((e) => { say('The review server did not answer: ' + e.message); document.body.dataset.ready = 'error'; });
