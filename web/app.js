// labcm admin page: plain JavaScript, no build step. Every change goes through /api (the
// same handlers as the CLI); live updates come from /api/events/stream (Server-Sent Events).
// Text from the server is only ever put into the page with textContent.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { csrf: '', page: 0, limit: 50, sort: 'name', filter: '', total: 0, rows: new Map(), models: [],
                device: null, stream: null, eventsFilter: '' };

// --- HTTP -----------------------------------------------------------------------------------
async function api(method, path, body, type) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    payload = type ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { text }; }
  if (res.status === 401 && path !== '/api/login') { showLogin(); }
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.statusText);
    err.status = res.status;
    err.details = data && data.error && data.error.details;
    throw err;
  }
  return data && data.result !== undefined && data.ok === true ? data.result : data;
}

function toast(text, bad) {
  const t = $('#toast');
  t.textContent = text;
  t.className = 'toast show' + (bad ? ' bad' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = 'toast'; }, 6000);
}

// Text from the network (a phone's User-Agent, an event's detail) with every control
// character (C0, DEL, C1) written as \xNN, as the CLI shows it: nothing can fake a line.
function visible(text) {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g,
    (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = visible(text);
  if (cls) e.className = cls;
  return e;
}

function button(text, onClick, cls) {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function when(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  // Today: the time only, so the list stays narrow.
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

// --- login ------------------------------------------------------------------------------------
function showLogin() {
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  if (state.stream) { state.stream.close(); state.stream = null; }
  $('#login-password').focus();
}

async function showApp(session) {
  state.csrf = session.csrf;
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  try { state.models = await api('GET', '/api/models'); } catch (e) { state.models = []; }
  fillModels($('#add-model'));
  fillModels($('#dev-model'));
  openStream();
  route();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  try {
    const s = await api('POST', '/api/login', { password: $('#login-password').value });
    $('#login-password').value = '';
    await showApp(s);
  } catch (e) {
    $('#login-error').textContent = e.message;
  }
});

$('#dev-trace-refresh').addEventListener('click', () => {
  if (state.device) loadTrace(state.device.mac).catch((e) => toast(e.message, true));
});

$('#logout').addEventListener('click', async () => {
  try { await api('POST', '/api/logout'); } catch (e) { /* already out */ }
  showLogin();
});

// --- live updates --------------------------------------------------------------------------------
function openStream() {
  if (state.stream) state.stream.close();
  const s = new EventSource('/api/events/stream');
  state.stream = s;
  s.onopen = () => { $('#live').textContent = 'live'; $('#live').className = 'live on'; };
  s.onerror = () => { $('#live').textContent = 'reconnecting'; $('#live').className = 'live'; };
  s.addEventListener('device', (m) => {
    const d = JSON.parse(m.data);
    if (state.rows.has(d.mac)) renderRow(d);
    if (state.device && state.device.mac === d.mac && currentView() === 'device') renderDevice(d);
  });
  s.addEventListener('device_removed', (m) => {
    const { mac } = JSON.parse(m.data);
    if (state.rows.has(mac)) loadPhones();
  });
  s.addEventListener('reload', () => { if (currentView() === 'phones') loadPhones(); });
  s.addEventListener('log', (m) => {
    const e = JSON.parse(m.data);
    if (currentView() === 'events') addEventRow($('#events tbody'), e, true, true);
    if (currentView() === 'device' && state.device && e.mac === state.device.mac) {
      addEventRow($('#dev-events tbody'), e, true, false);
      later('why', () => loadVerdict(state.device.mac));
      if (e.kind === 'problem_report') later('reports', () => loadReports(state.device.mac));
      if (e.service === 'sip') later('trace', () => loadTrace(state.device.mac).catch(() => {}));
    }
    if (currentView() === 'dhcp' && e.service === 'dhcp') later('dhcp', loadDhcp);
    if (e.kind === 'device_added' && currentView() === 'phones') later('phones', loadPhones);
    if (e.kind === 'call_attempt' && currentView() === 'calls') later('calls', loadCalls);
    if (e.kind === 'mailbox_changed' && currentView() === 'calls') later('mailboxes', loadMailboxes);
  });
}

// Reloads caused by a burst of events run once, half a second after the first.
const pending = {};
function later(key, fn) {
  if (pending[key]) return;
  pending[key] = setTimeout(() => { delete pending[key]; fn(); }, 500);
}

// --- navigation ------------------------------------------------------------------------------------
function currentView() {
  const h = location.hash.replace(/^#/, '') || 'phones';
  return h.startsWith('device/') ? 'device' : h;
}

function route() {
  const view = currentView();
  document.querySelectorAll('[data-view]').forEach((s) => { s.hidden = s.dataset.view !== view; });
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.getAttribute('href') === '#' + view));
  if (view === 'phones') loadPhones();
  if (view === 'device') loadDevice(location.hash.slice('#device/'.length));
  if (view === 'models') loadModels();
  if (view === 'settings') loadSettings();
  if (view === 'dhcp') loadDhcp();
  if (view === 'events') loadEvents();
  if (view === 'calls') { loadCalls(); loadMailboxes().catch((e) => toast(e.message, true)); }
}
window.addEventListener('hashchange', () => { if (!$('#app-view').hidden) route(); });

// --- phones ------------------------------------------------------------------------------------
function fillModels(select) {
  select.replaceChildren();
  for (const m of state.models) {
    const o = el('option', m.model + ' ' + (m.display_name || ''));
    o.value = m.model;
    select.append(o);
  }
}

async function loadPhones() {
  const q = new URLSearchParams({ filter: state.filter, sort: state.sort, limit: state.limit, offset: state.page * state.limit });
  let r;
  try { r = await api('GET', '/api/devices?' + q); } catch (e) { return toast(e.message, true); }
  state.total = r.total;
  state.states = r.states;
  state.rows.clear();
  $('#phones tbody').replaceChildren();
  for (const d of r.items) renderRow(d);
  const pages = Math.max(1, Math.ceil(r.total / state.limit));
  $('#page').textContent = `page ${state.page + 1} of ${pages} (${r.total} phones)`;
  $('#prev').disabled = state.page === 0;
  $('#next').disabled = state.page + 1 >= pages;
  updateCounts();
}

// The whole lab (or the search's matches) at a glance; refreshed with the list, and kept
// current between loads by the live row changes.
function updateCounts(before, after) {
  const s = state.states;
  if (!s) return;
  if (before && after && before !== after) {
    s[before] = Math.max(0, (s[before] || 0) - 1);
    s[after] = (s[after] || 0) + 1;
  }
  const gone = (s.unregistered || 0) + (s.expired || 0);
  $('#counts').textContent = `${s.registered || 0} registered, ${gone} unregistered, ${s.never || 0} never seen` +
    (state.filter ? ' (matching the search)' : '');
}

function renderRow(d) {
  const before = state.rows.has(d.mac) ? state.rows.get(d.mac).registration.state : null;
  state.rows.set(d.mac, d);
  const reg = d.registration;
  const tr = el('tr');
  tr.dataset.mac = d.mac;
  tr.className = 'state-' + reg.state;
  const st = el('td');
  st.append(el('span', reg.state, 'badge ' + reg.state));
  // Why it is not registered (the page's verdict; a live update without one keeps the last).
  if (!d.verdict && before !== null) d.verdict = state.rows.get(d.mac) && state.rows.get(d.mac).verdict;
  const name = el('td');
  const link = el('a', d.name);
  link.href = '#device/' + d.mac;
  name.append(link);
  const dns = d.lines.map((l) => l.dn + (l.shared_with.length ? ' (shared)' : '')).join(', ');
  const actions = el('td', null, 'actions');
  actions.append(button('Restart', () => control(d.mac, 'restart'), 'restart'),
                 button('Reset', () => control(d.mac, 'reset'), 'reset'));
  tr.append(st, name, el('td', d.description), el('td', d.model), el('td', dns), el('td', reg.ip || '', 'ip'),
            el('td', reg.transport || ''), el('td', reg.active_load || '', 'active-load'),
            el('td', reg.inactive_load || '', 'inactive-load'), el('td', reg.last || '', 'last'),
            el('td', reg.user_agent || '', 'ua'), el('td', when(reg.last_seen), 'seen'),
            el('td', reg.state !== 'registered' && d.verdict && !d.verdict.ok ? `step ${d.verdict.step}: ${d.verdict.what}` : '', 'why'),
            actions);
  const old = $(`#phones tbody tr[data-mac="${d.mac}"]`);
  if (old) old.replaceWith(tr); else $('#phones tbody').append(tr);
  updateCounts(before, reg.state);
}

async function control(mac, action) {
  toast(`SEP${mac}: ${action} sent…`);
  try {
    const r = await api('POST', `/api/devices/${mac}/actions/${action}`);
    const confirmable = ['restart', 'reset', 'apply-config'].includes(action);
    toast(`SEP${mac}: ${action}: the phone answered ${r.status} ${r.phrase}` + (confirmable ? '; waiting for the outcome' : ''));
    if (confirmable) confirmOutcome(mac, action, r.since_ms);
  } catch (e) {
    toast(`SEP${mac}: ${action} failed: ${e.message}`, true);
  }
}

// The outcome of a restart, reset or apply-config, told once it is true: applied (the phone
// fetched its config and registered again), failed at a step, or no answer after 120 s.
async function confirmOutcome(mac, action, since) {
  const deadline = Date.now() + 125000;
  while (Date.now() < deadline) {
    await new Promise((done) => setTimeout(done, 2000));
    let o;
    try {
      o = await api('GET', `/api/devices/${mac}/outcome?action=${action}&since_ms=${since}&timeout=120`);
    } catch (e) {
      return;
    }
    if (o.done) {
      toast(`SEP${mac}: ${action}: ${o.outcome_what}`, o.outcome !== 'applied');
      return;
    }
  }
}

$('#search').addEventListener('input', () => {
  clearTimeout(state.searchTimer);
  state.searchTimer = setTimeout(() => { state.filter = $('#search').value.trim(); state.page = 0; loadPhones(); }, 200);
});
$('#prev').addEventListener('click', () => { state.page = Math.max(0, state.page - 1); loadPhones(); });
$('#next').addEventListener('click', () => { state.page++; loadPhones(); });
document.querySelectorAll('#phones th[data-sort]').forEach((th) => th.addEventListener('click', () => {
  const key = th.dataset.sort;
  state.sort = state.sort === key ? '-' + key : key;
  loadPhones();
}));
$('#add-toggle').addEventListener('click', () => { $('#add-form').hidden = !$('#add-form').hidden; $('#add-mac').focus(); });
$('#add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const lines = $('#add-lines').value.split(',').map((s) => s.trim()).filter(Boolean).map((dn) => ({ dn }));
  try {
    const d = await api('POST', '/api/devices', { device: $('#add-mac').value.trim(), model: $('#add-model').value,
                                                  description: $('#add-description').value, lines });
    toast(`${d.name} added`);
    $('#add-form').reset();
    $('#add-form').hidden = true;
    loadPhones();
  } catch (e) {
    toast(e.message, true);
  }
});

// --- one device ------------------------------------------------------------------------------------
// One level's phone settings (the lab, a model or a device): a value per key, saved or unset in place.
async function loadPhoneSettings(table, level) {
  const at = level.device ? 'device' : level.model ? 'model' : 'lab';
  const query = at === 'lab' ? '' : `?${at}=` + encodeURIComponent(level[at]);
  const body = $(table + ' tbody');
  body.replaceChildren();
  for (const s of await api('GET', '/api/phone-settings' + query)) {
    const input = el('input');
    input.value = s[at] ?? '';
    input.placeholder = at === 'lab' ? s.default : s.effective;
    const td = el('td');
    td.append(input);
    const act = el('td');
    act.append(button('Save', async () => {
      try { await api('PUT', '/api/phone-settings/' + s.key, { value: input.value.trim(), ...level }); toast(`${s.key} saved`); loadPhoneSettings(table, level); }
      catch (e) { toast(e.message, true); }
    }), button('Unset', async () => {
      try { await api('DELETE', '/api/phone-settings/' + s.key + query); toast(`${s.key} unset`); loadPhoneSettings(table, level); }
      catch (e) { toast(e.message, true); }
    }));
    const tr = el('tr', null, s[at] !== null && s[at] !== undefined ? 'changed' : '');
    tr.append(el('td', s.key), td, el('td', at === 'lab' ? s.default : s.effective), el('td', s.help), act);
    body.append(tr);
  }
}

// The verdict on top of the phone's page: the boot step it reached, what happened, what next.
async function loadVerdict(mac) {
  const box = $('#dev-why');
  try {
    const v = await api('GET', `/api/devices/${encodeURIComponent(mac)}/why`);
    box.className = 'verdict ' + (v.ok ? 'ok' : 'problem');
    box.replaceChildren(el('strong', `Step ${v.step} (${v.step_name}): `), el('span', v.what, 'what'));
    if (v.since) box.append(el('span', ` (since ${when(v.since)})`));
    if (v.next) box.append(el('div', 'Next: ' + v.next, 'next'));
  } catch (e) {
    box.replaceChildren(el('span', e.message));
  }
}

// The problem reports the phone uploaded, each a download link.
async function loadReports(mac) {
  const body = $('#dev-reports tbody');
  body.replaceChildren();
  const reports = await api('GET', `/api/devices/${encodeURIComponent(mac)}/reports`);
  if (!reports.length) { body.append(el('tr', null, 'empty')); body.lastChild.append(el('td', 'none yet')); return; }
  for (const r of reports) {
    const link = el('a', r.name);
    link.href = `/api/devices/${encodeURIComponent(mac)}/reports/${encodeURIComponent(r.name)}`;
    link.download = r.name;
    const name = el('td');
    name.append(link);
    const tr = el('tr');
    tr.append(name, el('td', `${r.size} bytes`), el('td', when(r.time_ms)));
    body.append(tr);
  }
}

// The phone's SIP trace, newest last: each message's first line, all of it on a click.
async function loadTrace(mac) {
  const body = $('#dev-trace tbody');
  const path = `/api/devices/${encodeURIComponent(mac)}`;
  $('#dev-pcap').href = `${path}/pcap`;
  const t = await api('GET', `${path}/trace`);
  body.replaceChildren();
  if (!t.messages.length) {
    const tr = el('tr', null, 'empty');
    tr.append(el('td', t.enabled ? 'no SIP message since labcm started' : 'the SIP trace is off (setting sip_trace_messages)'));
    body.append(tr);
    return;
  }
  for (const m of t.messages) {
    const text = el('details');
    text.append(el('summary', m.truncated ? `${m.first_line} (not whole: sofia's log cut it short)` : m.first_line));
    const pre = el('pre');
    // Line by line, each line's control characters made visible.
    pre.textContent = m.text.split(/\r?\n/).map(visible).join('\n');
    text.append(pre);
    const msg = el('td');
    msg.append(text);
    const tr = el('tr', null, m.direction === 'out' ? 'sent' : 'received');
    const d = new Date(Math.floor(m.time_us / 1000));
    tr.append(el('td', d.toLocaleTimeString() + '.' + String(d.getMilliseconds()).padStart(3, '0')),
              el('td', m.direction === 'out' ? '\u2192' : '\u2190'),
              el('td', `${m.transport} ${m.address.includes(':') ? '[' + m.address + ']' : m.address}:${m.port}`), msg);
    body.append(tr);
  }
}

async function loadDevice(mac) {
  try {
    renderDevice(await api('GET', '/api/devices/' + encodeURIComponent(mac)));
    await loadVerdict(mac);
    await loadTrace(mac);
    await loadReports(mac);
    await loadPhoneSettings('#dev-phone-settings', { device: mac });
    const events = await api('GET', '/api/events?limit=100&device=' + encodeURIComponent(mac));
    $('#dev-events tbody').replaceChildren();
    for (const e of events) addEventRow($('#dev-events tbody'), e, false, false);
  } catch (e) {
    toast(e.message, true);
  }
}

function renderDevice(d) {
  state.device = d;
  $('#device-title').textContent = `${d.name} (${d.model})`;
  if (document.activeElement === null || !$('#device-form').contains(document.activeElement)) {
    $('#dev-model').value = d.model;
    $('#dev-description').value = d.description;
    $('#dev-load').value = d.load;
    $('#dev-transport').value = d.transport;
    $('#dev-dhcp').value = d.dhcp_address || '';
  }
  const body = $('#dev-lines tbody');
  body.replaceChildren();
  for (const l of d.lines) {
    const tr = el('tr');
    const act = el('td');
    act.append(button('Edit', async () => {
      const dn = prompt(`Line ${l.index}: directory number`, l.dn);
      if (dn === null) return;
      const label = prompt(`Line ${l.index}: label next to the button`, l.label);
      if (label === null) return;
      try { renderDevice(await api('PATCH', `/api/devices/${d.mac}/lines/${l.index}`, { dn: dn.trim(), label })); }
      catch (e) { toast(e.message, true); }
    }), button('Remove', async () => {
      try { renderDevice(await api('DELETE', `/api/devices/${d.mac}/lines/${l.index}`)); } catch (e) { toast(e.message, true); }
    }));
    tr.append(el('td', l.index), el('td', l.dn), el('td', l.label), el('td', l.display_name), el('td', l.shared_with.join(', ')), act);
    body.append(tr);
  }
  const reg = d.registration;
  const facts = $('#dev-registration');
  facts.replaceChildren();
  const rows = [['State', reg.state], ['IP', reg.ip], ['Transport', reg.transport], ['Active load', reg.active_load],
                ['Inactive load', reg.inactive_load], ['Last', reg.last], ['User agent', reg.user_agent],
                ['Last seen', when(reg.last_seen)]];
  for (const [k, v] of rows) { facts.append(el('dt', k), el('dd', v || '')); }
}

$('#device-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const d = state.device;
  try {
    const r = await api('PATCH', '/api/devices/' + d.mac, { model: $('#dev-model').value, description: $('#dev-description').value,
      load: $('#dev-load').value, transport: $('#dev-transport').value, dhcp_address: $('#dev-dhcp').value.trim() });
    renderDevice(r);
    toast(`${r.name} saved`);
  } catch (e) {
    toast(e.message, true);
  }
});
$('#line-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    renderDevice(await api('POST', `/api/devices/${state.device.mac}/lines`, { dn: $('#line-dn').value.trim(),
      label: $('#line-label').value, display_name: $('#line-display').value }));
    $('#line-form').reset();
  } catch (e) {
    toast(e.message, true);
  }
});
$('#dev-restart').addEventListener('click', () => control(state.device.mac, 'restart'));
$('#dev-reset').addEventListener('click', () => control(state.device.mac, 'reset'));
$('#dev-apply').addEventListener('click', () => control(state.device.mac, 'apply-config'));
$('#dev-delete').addEventListener('click', async () => {
  if (!confirm(`Delete ${state.device.name}?`)) return;
  try { await api('DELETE', '/api/devices/' + state.device.mac); toast(`${state.device.name} deleted`); location.hash = '#phones'; }
  catch (e) { toast(e.message, true); }
});

// --- models, settings ------------------------------------------------------------------------------------
async function loadModels() {
  const body = $('#models tbody');
  body.replaceChildren();
  for (const m of await api('GET', '/api/models')) {
    const input = el('input');
    input.value = m.default_load;
    input.placeholder = m.load_prefix + '…';
    const td = el('td');
    td.append(input);
    const act = el('td');
    act.append(button('Save', async () => {
      try { await api('PUT', '/api/models/' + m.model, { load: input.value.trim() }); toast(`model ${m.model} saved`); }
      catch (e) { toast(e.message, true); }
    }));
    const tr = el('tr');
    tr.append(el('td', m.model), el('td', m.display_name), td, act);
    body.append(tr);
  }
  await loadFirmware();
  const select = $('#model-settings-model');
  if (!select.options.length) fillModels(select);
  if (select.value) await loadPhoneSettings('#model-phone-settings', { model: select.value });
}
$('#model-settings-model').addEventListener('change', (ev) =>
  loadPhoneSettings('#model-phone-settings', { model: ev.target.value }).catch((e) => toast(e.message, true)));

async function loadFirmware() {
  const body = $('#firmware tbody');
  body.replaceChildren();
  const f = await api('GET', '/api/firmware');
  if (!f.loads.length) {
    const td = el('td', 'no load in use: set a model\'s default load above');
    td.colSpan = 4;
    const tr = el('tr');
    tr.append(td);
    body.append(tr);
  }
  for (const l of f.loads) {
    const files = !l.loads_found ? `${l.load}.loads missing`
      : l.missing.length ? `${l.missing.length} of ${l.images} missing: ${l.missing.join(', ')}` : `all ${l.images}`;
    const tr = el('tr');
    tr.classList.toggle('bad', !l.complete);
    tr.append(el('td', l.load), el('td', l.used_by.join(', ')), el('td', files),
      el('td', l.complete ? 'yes' : 'no: phones keep their load'));
    body.append(tr);
  }
}

// A package file from an <input type=file>, sent as the body (the server streams it to disk).
async function uploadPackage(path, input, params, out) {
  const f = input.files[0];
  out.textContent = `uploading ${f.name} (${(f.size / 1048576).toFixed(1)} MiB)…`;
  try {
    return await api('POST', path + '?' + new URLSearchParams({ name: f.name, ...params }), f, 'application/octet-stream');
  } catch (e) {
    out.textContent = e.message;
    return null;
  }
}

$('#firmware-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#firmware-result');
  const r = await uploadPackage('/api/firmware/import', $('#firmware-file'), { set_default: $('#firmware-default').checked }, out);
  if (!r) return;
  const lines = [`imported ${r.package}: loads ${r.loads.join(', ')}; ${r.added.length} files added, ${r.replaced.length} replaced, ` +
                 `${r.unchanged.length} unchanged, ${r.ignored.length} ignored (not named by a .loads)`];
  for (const d of r.defaults || []) lines.push(`model ${d.model} default load = ${d.load}`);
  for (const l of r.no_model || []) lines.push(`no known model uses load ${l}: not set as a default`);
  for (const e of r.default_errors || []) lines.push(e);
  out.textContent = lines.join('\n');
  $('#firmware-form').reset();
  loadModels().catch((e) => toast(e.message, true));
});

$('#locale-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('#locale-result');
  const r = await uploadPackage('/api/locales/install', $('#locale-file'), { set: $('#locale-set').checked }, out);
  if (!r) return;
  const names = (v) => v.length ? v.join(', ') : 'none';
  const lines = [`installed ${r.package}: user locales ${names(r.user)}; network locales ${names(r.network)}`];
  for (const x of r.settings || []) lines.push(`${x.key} = ${x.value}`);
  for (const e of r.setting_errors || []) lines.push(e);
  out.textContent = lines.join('\n');
  $('#locale-form').reset();
  loadSettings().catch((e) => toast(e.message, true));
});

async function loadSettings() {
  const body = $('#settings tbody');
  body.replaceChildren();
  for (const s of await api('GET', '/api/settings')) {
    const input = el('input');
    input.value = s.value;
    input.dataset.key = s.key;
    const td = el('td');
    td.append(input);
    const act = el('td');
    act.append(button('Save', async () => {
      try { await api('PUT', '/api/settings/' + s.key, { value: input.value }); toast(`${s.key} saved`); loadSettings(); }
      catch (e) { toast(e.message, true); }
    }), button('Default', async () => {
      try { await api('DELETE', '/api/settings/' + s.key); toast(`${s.key} back to its default`); loadSettings(); }
      catch (e) { toast(e.message, true); }
    }));
    const tr = el('tr', null, s.changed ? 'changed' : '');
    tr.append(el('td', s.key), td, el('td', s.default), el('td', s.help), act);
    body.append(tr);
  }
  await loadPhoneSettings('#lab-phone-settings', {});
  await loadDialPlan();
}

// A table of the rows GET `path` returns, each with a Remove button (DELETE `removePath(row)`).
async function loadRemovableRows(table, path, cells, removePath, name) {
  const body = $(table + ' tbody');
  body.replaceChildren();
  for (const row of await api('GET', path)) {
    const act = el('td');
    act.append(button('Remove', async () => {
      try { await api('DELETE', removePath(row)); toast(`${name(row)} removed`); loadRemovableRows(table, path, cells, removePath, name); }
      catch (e) { toast(e.message, true); }
    }));
    const tr = el('tr');
    tr.append(...cells(row).map((c) => el('td', c)), act);
    body.append(tr);
  }
}

const loadDialPlan = () => loadRemovableRows('#dialplan', '/api/dialplan', (p) => [p.pattern, String(p.timeout), p.route],
  (p) => '/api/dialplan/' + encodeURIComponent(p.pattern), (p) => p.pattern);

$('#dialplan-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const pattern = $('#dial-pattern').value.trim();
  const body = { timeout: Number($('#dial-timeout').value || 0) };
  if ($('#dial-route').value.trim()) body.route = $('#dial-route').value.trim();
  try {
    await api('PUT', '/api/dialplan/' + encodeURIComponent(pattern), body);
    toast(`${pattern} added`);
    $('#dial-pattern').value = '';
    loadDialPlan();
  } catch (e) { toast(e.message, true); }
});

// --- calls ------------------------------------------------------------------------------------
async function loadCalls() {
  const body = $('#calls tbody');
  let calls;
  try { calls = await api('GET', '/api/calls'); } catch (e) { return toast(e.message, true); }
  body.replaceChildren();
  if (!calls.length) {
    const td = el('td', 'no calls in progress');
    td.colSpan = 4;
    const tr = el('tr');
    tr.append(td);
    body.append(tr);
  }
  for (const c of calls) {
    const tr = el('tr');
    tr.append(el('td', `${c.caller_dn} (${c.caller})`), el('td', c.number), el('td', c.callee), el('td', `${c.seconds} s`));
    body.append(tr);
  }
}

// Message waiting: a number's voicemail counts; its phones' lamps follow.
const loadMailboxes = () => loadRemovableRows('#mailboxes', '/api/mailboxes', (m) => [m.dn, String(m.new), String(m.old)],
  (m) => '/api/mailboxes/' + encodeURIComponent(m.dn), (m) => `mailbox ${m.dn}`);

$('#mailbox-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const dn = $('#mailbox-dn').value.trim();
  try {
    await api('PUT', '/api/mailboxes/' + encodeURIComponent(dn), { new: Number($('#mailbox-new').value || 0), old: Number($('#mailbox-old').value || 0) });
    toast(`mailbox ${dn} set`);
    loadMailboxes();
  } catch (e) { toast(e.message, true); }
});

// --- DHCP ------------------------------------------------------------------------------------
async function loadDhcp() {
  const pools = $('#pools tbody');
  const leases = $('#leases tbody');
  let p, l;
  try { [p, l] = await Promise.all([api('GET', '/api/dhcp/pools'), api('GET', '/api/dhcp/leases')]); }
  catch (e) { return toast(e.message, true); }
  pools.replaceChildren();
  for (const x of p) {
    const tr = el('tr');
    const act = el('td');
    act.append(button('Remove', async () => {
      try { await api('DELETE', '/api/dhcp/pools/' + encodeURIComponent(x.name)); loadDhcp(); } catch (e) { toast(e.message, true); }
    }));
    tr.append(el('td', x.name), el('td', x.subnet), el('td', `${x.range_first}-${x.range_last}`), el('td', x.routers),
              el('td', x.dns), el('td', x.tftp || "labcm's address"), el('td', x.option66), el('td', x.lease_time + ' s'), act);
    pools.append(tr);
  }
  leases.replaceChildren();
  for (const x of l) {
    const tr = el('tr', null, 'lease-' + x.state);
    const act = el('td');
    act.append(button('Free', async () => {
      try { await api('DELETE', '/api/dhcp/leases/' + x.address); loadDhcp(); } catch (e) { toast(e.message, true); }
    }));
    tr.append(el('td', x.address), el('td', x.mac), el('td', x.device), el('td', x.state),
              el('td', x.model ? `${x.model} (${x.vendor_class})` : x.vendor_class), el('td', when(x.expires_ms)), act);
    leases.append(tr);
  }
}

$('#pool-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {};
  for (const [id, key] of [['#pool-subnet', 'subnet'], ['#pool-range', 'range'], ['#pool-routers', 'routers'], ['#pool-tftp', 'tftp']]) {
    const v = $(id).value.trim();
    if (v) body[key] = v;
  }
  try { await api('PUT', '/api/dhcp/pools/' + encodeURIComponent($('#pool-name').value.trim()), body); $('#pool-form').reset(); loadDhcp(); }
  catch (e) { toast(e.message, true); }
});

// --- events ------------------------------------------------------------------------------------
function addEventRow(body, e, atTop, withPhone) {
  const tr = el('tr', null, 'sev-' + e.severity);
  const cells = [el('td', when(e.time_ms))];
  if (withPhone) cells.push(el('td', e.severity));
  cells.push(el('td', e.service), el('td', e.kind));
  if (withPhone) cells.push(el('td', e.mac ? 'SEP' + e.mac : ''), el('td', e.ip));
  cells.push(el('td', e.detail));
  tr.append(...cells);
  if (atTop) body.prepend(tr); else body.append(tr);
  while (body.children.length > 500) body.lastChild.remove();
}

async function loadEvents() {
  const q = new URLSearchParams({ limit: 200 });
  if (state.eventsFilter) q.set('device', state.eventsFilter);
  const body = $('#events tbody');
  try {
    const events = await api('GET', '/api/events?' + q);
    body.replaceChildren();
    for (const e of events) addEventRow(body, e, false, true);
  } catch (e) {
    toast(e.message, true);
  }
}
$('#events-filter').addEventListener('change', () => { state.eventsFilter = $('#events-filter').value.trim(); loadEvents(); });

// --- import ------------------------------------------------------------------------------------
$('#import-file').addEventListener('change', async () => {
  const f = $('#import-file').files[0];
  if (f) $('#import-text').value = await f.text();
});

async function runImport(dryRun) {
  const q = new URLSearchParams({ dry_run: dryRun, update: $('#import-update').checked });
  const out = $('#import-result');
  try {
    const r = await api('POST', '/api/import?' + q, $('#import-text').value, 'text/csv');
    out.textContent = dryRun ? `${r.devices} phone(s) ready to import; nothing written yet.`
                             : `imported: ${r.added} added, ${r.updated} updated.`;
  } catch (e) {
    const rows = (e.details || []).map((d) => `row ${d.row}: ${d.field}: ${d.message}`).join('\n');
    out.textContent = e.message + (rows ? '\n' + rows : '');
  }
}
$('#import-check').addEventListener('click', () => runImport(true));
$('#import-run').addEventListener('click', () => runImport(false));

// --- start ------------------------------------------------------------------------------------
(async () => {
  try { await showApp(await api('GET', '/api/session')); } catch (e) { showLogin(); }
})();
