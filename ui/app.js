// The field app's screens. Everything goes through `backend.call` (see
// backend.js): the same Rust commands answer in the Tauri app and, over
// loopback HTTP, in a browser. Forms are drawn from the backend's form
// definitions, so labels and options are the registry's own.
//
// Routes (location.hash): #/home, #/records/<kind>, #/record/<id>,
// #/new/<kind>?<prefill>, #/edit/<id>, #/card, #/verify, #/door.
// The lock and first-run screens replace the route while the app is not open.

import { makeBackend, asApiError } from './backend.js';
import { mapSvg, OUTCOME_COLOURS } from './map.js';
import { STRINGS } from './i18n.js';
import { pct } from './lib/format.js';

const backend = makeBackend(window);
const LANG_KEY = 'sanjian.lang';
const KINDS = ['entity', 'union', 'member', 'cadre', 'transfer', 'hardship', 'visit'];

let lang = loadLang();
let appState = null; // the last `status` answer
let schema = null; // {forms, ethnicities}
let areaList = null; // [{id, name, level, parent, township}]
let lastCard = null; // the card just issued, for #/card
let syncTimer = null;

// ---- helpers -----------------------------------------------------------------

function loadLang() {
  try {
    const saved = window.localStorage.getItem(LANG_KEY);
    if (saved in STRINGS) return saved;
  } catch { /* storage may be disabled */ }
  return 'zh';
}

function t(key, ...args) {
  const v = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}

// The device's date in China (the backend's "today"), for date defaults.
const today = () => (appState && appState.today) || new Date().toISOString().slice(0, 10);
const L = (m) => (m ? (m[lang] ?? m.zh ?? '') : '');
const labelOf = (x) => (lang === 'zh' ? x.zh : x.en);

// h('div.cls#id', {attrs, on: {click}}, ...children)
function h(spec, attrs, ...children) {
  const tag = spec.match(/^[a-z0-9]*/)[0] || 'div';
  const node = document.createElement(tag);
  const classes = [];
  for (const [, mark, name] of spec.slice(tag.length).matchAll(/([.#])([\w-]+)/g)) {
    if (mark === '#') node.id = name;
    else classes.push(name);
  }
  if (classes.length) node.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else if (k === 'html') node.innerHTML = v; // only for SVG made by the backend
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function hash(text) {
  let x = 5381;
  for (const c of text) x = ((x * 33) ^ c.codePointAt(0)) >>> 0;
  return x.toString(36);
}

function debounce(fn, ms) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}

async function call(cmd, args) {
  try {
    return await backend.call(cmd, args);
  } catch (e) {
    const err = asApiError(e);
    if (err.code === 'APP_LOCKED') {
      await refreshStatus();
      render();
    }
    throw err;
  }
}

function errorBox(err) {
  return h('p.banner.bad', { role: 'alert', dataset: { code: err.code } }, `✗ ${L(err.message)}`);
}

function view() {
  return document.getElementById('view');
}

function show(...nodes) {
  view().replaceChildren(...nodes);
  view().focus({ preventScroll: true });
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function fmtTime(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// 2026-12-02 09:57: the one way dates are written everywhere in the app
// (records show 2026-12-02; a locale's 2026/12/2 would differ).
function fmtDateTime(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${fmtTime(ms)}`;
}

// When something happened, with its day unless it was today: a day
// offline must not look fresh.
function fmtWhen(ms) {
  const d = new Date(ms);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  const same = (x, y) => x.getFullYear() === y.getFullYear() && x.getMonth() === y.getMonth() && x.getDate() === y.getDate();
  if (same(d, today)) return `${t('todayWord')} ${fmtTime(ms)}`;
  if (same(d, yesterday)) return `${t('yesterday')} ${fmtTime(ms)}`;
  return `${t('monthDay', d.getMonth() + 1, d.getDate())} ${fmtTime(ms)}`;
}

async function loadSchema() {
  if (!schema) schema = await call('forms');
  return schema;
}

async function loadAreas(force) {
  if (!areaList || force) areaList = await call('areas');
  return areaList;
}

function areaName(id) {
  const a = (areaList || []).find((x) => x.id === id);
  return a ? a.name : '';
}

function formOf(kind) {
  return schema.forms.find((f) => f.kind === kind);
}

function kindLabel(kind) {
  const f = schema && formOf(kind);
  if (f) return labelOf(f);
  return kind === 'area' ? (lang === 'zh' ? '区域' : 'area') : kind;
}

function getPath(obj, path) {
  return path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), obj);
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let at = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null) at[k] = {};
    at = at[k];
  }
  at[keys[keys.length - 1]] = value;
}

// ---- chrome: header, nav, sync status --------------------------------------

function renderChrome() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('appTitle');
  document.getElementById('title').textContent = t('appTitle');
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = t('langToggle');
  toggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  const open = appState && appState.state === 'open';
  document.getElementById('lock').hidden = !open;
  document.getElementById('lock').textContent = t('lock');
  document.getElementById('sync').hidden = !open;
  // Locked, nothing of the app shows around the lock screen, a sync's toast neither.
  const note = document.getElementById('sync-note');
  if (note && !open) note.hidden = true;
  const nav = document.getElementById('nav');
  nav.hidden = !open;
  nav.replaceChildren(
    ...[['#/home', 'navHome'], ['#/records/entity', 'navRecords'], ['#/door', 'navDoor'], ['#/map', 'navMap'], ['#/verify', 'navVerify']].map(
      ([href, key]) => h('a', { href, dataset: { nav: key }, 'aria-current': location.hash.startsWith(href.split('/').slice(0, 2).join('/')) ? 'page' : null }, t(key)),
    ),
  );
}

function renderSync(s) {
  const pill = document.getElementById('sync');
  if (!s) return;
  pill.dataset.state = s.state;
  pill.dataset.at = s.at_ms || '';
  const waiting = s.outbox ? ` · ${t('syncWaiting', s.outbox)}` : '';
  let text;
  switch (s.state) {
    case 'standalone': text = t('syncStandalone'); break;
    case 'offline': text = `${t('syncOffline')}${waiting}`; break;
    case 'syncing': text = t('syncSyncing'); break;
    case 'synced': text = `${t('syncSynced')} ${t('syncAt', fmtWhen(s.at_ms))}${waiting}`; break;
    case 'failed': text = `${t('syncFailed')}: ${L(s.message)}`; break;
    default: text = `${t('syncIdle')}${waiting}`;
  }
  const bar = h('span.sync-bar');
  if (s.state === 'syncing') {
    const total = s.total || 0;
    const done = s.done || 0;
    const progress = h('progress', { max: total || 1, value: total ? done : null, 'aria-label': t('syncSyncing') });
    bar.append(progress, h('span.sync-count', total ? `${done}/${total}` : `${done}`));
  }
  pill.replaceChildren(h('span.sync-dot', { 'aria-hidden': 'true' }), h('span.sync-text', text), bar);
  pill.title = s.state === 'offline' ? t('syncOfflineHelp') : t('syncNow');
}

let lastSyncAt = null;

// A note under the sync button for a few seconds (role=status).
let syncNoteTimer = null;
function syncNote(text) {
  if (!appState || appState.state !== 'open') return;
  let note = document.getElementById('sync-note');
  if (!note) {
    note = h('p.toast#sync-note', { role: 'status' });
    document.body.append(note);
  }
  note.textContent = text;
  note.hidden = false;
  clearTimeout(syncNoteTimer);
  syncNoteTimer = setTimeout(() => { note.hidden = true; }, 6000);
}

async function pollSync() {
  clearTimeout(syncTimer);
  if (!appState || appState.state !== 'open') return;
  let s = null;
  try {
    s = await backend.call('sync_status');
    if (s.code === 'DEVICE_WIPED') {
      // The county wiped this tablet: the backend deletes its data now.
      appState = await backend.call('status');
      return start();
    }
    renderSync(s);
    // A sync that brought records refreshes the home screen (the first
    // sync after enrolment brings the whole township); forms are left alone.
    if (s.state === 'synced' && s.at_ms !== lastSyncAt) {
      const first = lastSyncAt === null;
      lastSyncAt = s.at_ms;
      const onHome = ['', '#', '#/', '#/home'].includes(location.hash);
      if (!first && s.pulled > 0 && onHome) route();
      if (first && onHome) route();
    }
  } catch { /* shown by the next screen */ }
  syncTimer = setTimeout(pollSync, s && s.state === 'syncing' ? 500 : 2000);
}

// ---- first run and lock screens ---------------------------------------------

function pinInput(id, labelKey) {
  return [
    h('label', { for: id }, t(labelKey)),
    h('input.pin', { id, type: 'password', inputmode: 'numeric', autocomplete: 'off', maxlength: 12, pattern: '[0-9]*' }),
  ];
}

function setupScreen() {
  const out = h('div.out', { 'aria-live': 'polite' });
  const enrolText = h('textarea#enrolment', { rows: 3, spellcheck: false, autocomplete: 'off' });
  const reader = qrReader('enrol', (found) => { enrolText.value = found.trim(); }, out);
  const enrolBox = h('div.mode-enrol',
    h('label', { for: 'enrolment' }, t('enrolCode')),
    reader.buttons,
    reader.video,
    enrolText,
  );
  const standaloneBox = h('div.mode-standalone', { hidden: true },
    h('label', { for: 'operator' }, t('operator')),
    h('input#operator', { type: 'text', autocomplete: 'name' }),
  );
  const mode = (m) => {
    enrolBox.hidden = m !== 'enrol';
    standaloneBox.hidden = m !== 'standalone';
  };
  const form = h('form.card.narrow', { on: { submit: async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    const standalone = document.getElementById('mode-standalone').checked;
    const args = {
      pin: document.getElementById('pin').value,
      confirm: document.getElementById('pin2').value,
      enrolment: standalone ? null : document.getElementById('enrolment').value,
      operator: standalone ? document.getElementById('operator').value : null,
    };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      appState = await call('setup', args);
      start();
    } catch (e) {
      out.append(errorBox(e));
    } finally {
      button.disabled = false;
    }
  } } },
    h('h2', t('welcome')),
    appState.wiped ? h('p.banner.bad#wiped', t('wipedNotice')) : null,
    h('p.muted', t('setupIntro')),
    h('div.lang-choice', h('button.secondary', { type: 'button', on: { click: () => setLang('zh') } }, '中文'), h('button.secondary', { type: 'button', on: { click: () => setLang('en') } }, 'English')),
    pinInput('pin', 'pin'),
    pinInput('pin2', 'pinConfirm'),
    h('fieldset.modes',
      h('label.check', h('input#mode-enrol', { type: 'radio', name: 'mode', checked: true, on: { change: () => mode('enrol') } }), t('modeEnrol')),
      h('label.check', h('input#mode-standalone', { type: 'radio', name: 'mode', on: { change: () => mode('standalone') } }), t('modeStandalone')),
    ),
    enrolBox,
    standaloneBox,
    out,
    h('button.primary#setup-start', { type: 'submit' }, t('start')),
  );
  show(form);
}

function unlockScreen() {
  const out = h('div.out', { 'aria-live': 'polite' });
  const form = h('form.card.narrow#lock-screen', { on: { submit: async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    try {
      appState = await call('unlock', { pin: document.getElementById('unlock-pin').value });
      start();
    } catch (e) {
      if (e.code === 'PIN_WIPED') {
        appState = await call('status');
        appState.wiped = true;
        start();
        return;
      }
      out.append(errorBox(e));
      document.getElementById('unlock-pin').value = '';
    }
  } } },
    h('h2', t('unlockTitle')),
    appState.device && appState.device.person ? h('p.muted', appState.device.person) : null,
    pinInput('unlock-pin', 'pin'),
    out,
    h('button.primary#unlock', { type: 'submit' }, t('unlock')),
    h('button.link', { type: 'button', on: { click: resetDialog } }, t('forgotPin')),
  );
  if (appState.wait_ms > 0) out.append(h('p.banner.bad', t('waitSeconds', Math.ceil(appState.wait_ms / 1000))));
  show(form);
  watchForWipe(form);
}

// While the lock screen shows, ask the county now and then whether this
// tablet was reported lost (a remote wipe): the check needs no PIN.
async function watchForWipe(form) {
  while (form.isConnected) {
    try {
      const r = await call('check_wipe');
      if (r.wiped) {
        appState = await call('status');
        appState.wiped = true;
        start();
        return;
      }
    } catch (_) { /* offline: ask again later */ }
    await new Promise((done) => setTimeout(done, 60000));
  }
}

function resetDialog() {
  const out = h('div.out');
  const input = h('input#reset-confirm', { type: 'text', autocomplete: 'off' });
  const dialog = h('dialog.card',
    h('p', t('resetIntro')),
    input,
    out,
    h('div.actions',
      h('button.danger', { type: 'button', on: { click: async () => {
        try {
          appState = await call('reset', { confirm: input.value.trim() });
          dialog.close();
          dialog.remove();
          start();
        } catch (e) {
          out.replaceChildren(errorBox(e));
        }
      } } }, t('reset')),
      h('button.secondary', { type: 'button', on: { click: () => { dialog.close(); dialog.remove(); } } }, t('cancel')),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

// ---- home ---------------------------------------------------------------------

// One list of the worklist, folded unless `open`; "还有N项" opens the rest.
function todoList(titleKey, todo, describe, field, open) {
  const item = (r) => h('li', h('a', { href: `#/record/${r.id}` }, r.name), h('span.muted', ` ${describe(r)}`));
  const list = h('ul', todo.rows.map(item));
  const more = todo.total > todo.rows.length
    ? h('button.link.more', { type: 'button', on: { click: async () => {
      const all = await call('worklist', { limit: 2000 });
      list.replaceChildren(...all[field].rows.map(item));
      more.remove();
    } } }, t('more', todo.total - todo.rows.length))
    : null;
  return h('details.card.todo', { dataset: { todo: titleKey }, open: open && todo.total > 0 },
    h('summary', h('h3', t(titleKey), ' ', h('span.count', String(todo.total)))),
    todo.total ? list : h('p.muted', t('nothingLeft')),
    more,
  );
}

async function homeScreen() {
  const mine = routeSeq;
  await loadSchema();
  const home = await call('home');
  if (home.device) appState.device = home.device; // the scope may have changed in a sync
  await loadAreas(true);
  const d = home.device || {};
  const townships = areaOptions('township').map((a) => a.name);
  const w = home.worklist;
  const own = scope();
  const progressRows = home.progress.townships.filter((p) => !own || own.townships.includes(p.id)).map((p) => h('tr',
    h('th', { scope: 'row' }, p.name),
    h('td', pct(p.coverage)),
    h('td', pct(p.own_union_25)),
    h('td', pct(p.qualified)),
    h('td', `${p.new_unions}/${p.target_new_unions}`),
    h('td', `${p.new_members}/${p.target_new_members}`),
    h('td', String(p.vacancies)),
    h('td', { dataset: { col: 'membership' } }, pct(p.membership)),
    h('td', { dataset: { col: 'cards' } }, pct(p.carded)),
  ));
  if (mine !== routeSeq) return; // a newer route has rendered
  const sync = home.sync || {};
  show(
    // Today's work first: the door, then what waits.
    h('section.card.today#today',
      h('h2', `${t('todayTitle')} · ${home.today}`),
      h('div.actions',
        h('a.button.primary#home-door', { href: '#/door' }, t('doorStart')),
        h('a.button.secondary', { href: '#/new/member' }, `＋ ${kindLabel('member')}`),
        d.enrolled ? h('a.button.secondary#home-applications', { href: '#/applications' }, t('applicationsButton')) : null,
      ),
      h('p.counts',
        w.returned.total ? h('span.count-chip.bad', t('todayReturned', w.returned.total)) : null,
        h('span.count-chip', t('todayVisitAgain', w.visit_again.total)),
        h('span.count-chip', t('todayNotVisited', w.not_visited.total)),
        sync.outbox ? h('span.count-chip', t('syncWaiting', sync.outbox)) : null,
      ),
    ),
    h('section.card.scope',
      h('h2', t('myScope')),
      h('p', h('strong', d.person || '—'), d.enrolled ? ` · ${d.server}` : ` · ${t('standalone')}`),
      h('p.muted', townships.join('、') || '—'),
      h('p.counts', KINDS.map((k) => h('a.count-chip', { href: `#/records/${k}` }, `${kindLabel(k)} ${home.counts[k] ?? 0}`))),
    ),
    h('div.todos',
      w.returned.total ? todoList('todoReturned', w.returned, (r) => r.note || '', 'returned', true) : null,
      todoList('todoVisitAgain', w.visit_again, (r) => t('workers', r.count), 'visit_again', true),
      todoList('todoNotVisited', w.not_visited, (r) => t('workers', r.count), 'not_visited', true),
      todoList('todoNeedOwnUnion', w.need_own_union, (r) => t('workers', r.count), 'need_own_union', false),
      todoList('todoUncovered', w.uncovered, (r) => t('workers', r.count), 'uncovered', false),
      todoList('todoChairVacant', w.chair_vacant, () => '', 'chair_vacant', false),
      todoList('todoLiuyou', w.liuyou_missing, () => '', 'liuyou_missing', false),
      todoList('todoUncarded', w.uncarded, (r) => t('uncardedMembers', r.count), 'uncarded', false),
    ),
    photoPolicyCard(home),
    h('section.card',
      h('h2', t('progress')),
      h('div.table-wrap', h('table.progress',
        h('thead', h('tr', ...['township', 'coverage', 'ownUnion', 'qualified', 'newUnions', 'newMembers', 'vacancies', 'membershipRate', 'cardRate'].map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', progressRows),
      )),
    ),
  );
  // How many applications to join wait in the area (kept at the county:
  // asked when online, the button stays as it is when not).
  if (d.enrolled) {
    call('applications').then((got) => {
      const b = document.getElementById('home-applications');
      if (b && mine === routeSeq && got.total) {
        b.replaceChildren(t('applicationsButton'), ' ', h('span.count', String(got.total)));
        b.classList.replace('secondary', 'primary');
      }
    }, () => {});
  }
}

// ---- records: lists and search ------------------------------------------------

function rowNode(r) {
  const sub = [kindLabel(r.kind), areaName(r.township)].filter(Boolean).join(' · ');
  return h('li', h('a.row', { href: `#/record/${r.id}`, dataset: { id: r.id } },
    h('span.row-name', r.name),
    h('span.row-sub', sub),
    r.conflicts > 0 ? h('span.badge', t('conflictsBadge')) : null,
  ));
}

// A record offered as registered already or as a possible duplicate, with
// what tells two apart: birth date, the ID masked, union, employer.
function candidateNode(r) {
  const node = rowNode(r);
  const facts = [
    r.birth_date ? `${t('bornOn')} ${r.birth_date}` : null,
    r.masked_id || null,
    r.union_name ? `${t('unionOf')} ${r.union_name}` : null,
    r.employer_name || null,
  ].filter(Boolean);
  if (facts.length) node.querySelector('a.row').append(h('span.row-facts', facts.join(' · ')));
  return node;
}

async function recordsScreen(kind) {
  const mine = routeSeq;
  await loadSchema();
  await loadAreas();
  const list = h('ul.rows', { 'aria-live': 'polite' });
  const info = h('p.muted#list-info');
  const more = h('button.secondary#load-more', { type: 'button', hidden: true }, t('loadMore'));
  let last = null;
  let seq = 0;
  const loadPage = async () => {
    const page = await call('list', { kind, limit: 50, after: last ? { id: last.id, name: last.name } : null });
    info.textContent = t('total', page.total);
    list.append(...page.rows.map(rowNode));
    last = page.rows[page.rows.length - 1] || last;
    more.hidden = page.rows.length < 50 || list.children.length >= page.total;
  };
  more.addEventListener('click', loadPage);
  const search = h('input.search#search', { type: 'search', placeholder: t('search'), autocomplete: 'off', 'aria-label': t('search') });
  search.addEventListener('input', async () => {
    const q = search.value.trim();
    const mine = ++seq;
    if (!q) {
      list.replaceChildren();
      last = null;
      await loadPage();
      return;
    }
    const found = await call('search', { q, kind, limit: 50 });
    if (mine !== seq) return;
    more.hidden = true;
    info.textContent = found.rows.length ? '' : t('noResults');
    list.replaceChildren(...found.rows.map(rowNode));
  });
  if (mine !== routeSeq) return; // a newer route has rendered
  show(
    h('nav.tabs', { 'aria-label': t('navRecords') }, KINDS.map((k) => h('a', { href: `#/records/${k}`, 'aria-current': k === kind ? 'page' : null }, kindLabel(k)))),
    h('div.toolbar', search, h('a.button.primary', { href: `#/new/${kind}` }, `＋ ${t('newRecord')}`)),
    info,
    list,
    more,
  );
  await loadPage();
  search.focus();
}

// ---- forms -------------------------------------------------------------------------

function issueNode(issue) {
  return h('span.issue', { dataset: { code: issue.code, severity: issue.severity } }, `${issue.severity === 'error' ? '✗' : '⚠'} ${L(issue.message)}`);
}

// A record picker: type to search, pick from the list.
function refInput(field, value, onPick) {
  const id = `f-${field.name.replace(/\./g, '-')}`;
  const chosen = h('span.ref-chosen');
  const results = h('ul.ref-results', { role: 'listbox' });
  const input = h('input', { id, type: 'search', placeholder: t('pickRef'), autocomplete: 'off' });
  const setChosen = async (v, name) => {
    chosen.replaceChildren();
    if (!v) return;
    if (!name) {
      try { name = (await call('get', { id: v })).record.data.name; } catch { name = v.slice(0, 8); }
    }
    chosen.append(h('a', { href: `#/record/${v}` }, name || v.slice(0, 8)), ' ',
      h('button.link', { type: 'button', on: { click: () => { onPick(null); setChosen(null); } } }, t('clear')));
  };
  input.addEventListener('input', debounce(async () => {
    const q = input.value.trim();
    results.replaceChildren();
    if (!q) return;
    const found = await call('search', { q, kind: field.ref_kind, limit: 12 });
    results.replaceChildren(...found.rows.map((r) => h('li', h('button.option', { type: 'button', role: 'option', on: { click: () => {
      onPick(r.id);
      setChosen(r.id, r.name);
      input.value = '';
      results.replaceChildren();
    } } }, r.name, h('span.muted', ` ${areaName(r.township)}`)))));
  }, 150));
  setChosen(value);
  return { node: h('div.ref', chosen, input, results), input };
}

// The device's scope from its enrolment: null for the whole county (or a
// standalone device).
function scope() {
  const s = appState && appState.device && appState.device.scope;
  return s && !s.all ? s : null;
}

// Areas a record may be placed in: the device's own townships and grids.
// 第一、第二…第十九 and digits compare as numbers, so 第二网格 comes before
// 第十网格 and 第三 after 第二 (a plain sort puts 第三 before 第二).
const CN_DIGITS = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
function chineseNumber(text) {
  let total = 0;
  let digit = 0;
  for (const c of text) {
    if (c === '百') { total += (digit || 1) * 100; digit = 0; } else if (c === '十') { total += (digit || 1) * 10; digit = 0; } else digit = CN_DIGITS[c];
  }
  return total + digit;
}
function naturalKey(name) {
  return name.replace(/[零〇一二两三四五六七八九十百]+/g, (m) => String(chineseNumber(m)).padStart(6, '0'))
    .replace(/\d+/g, (m) => m.padStart(6, '0'));
}
function byName(a, b) {
  const x = naturalKey(a.name);
  const y = naturalKey(b.name);
  return x < y ? -1 : x > y ? 1 : 0;
}

// The areas a field may offer: townships in the device's scope; a
// township's communities; its grids, only those of the chosen community
// when one is chosen.
function areaOptions(level, township, community) {
  const s = scope();
  return areaList.filter((a) => a.level === level
    && (level === 'township' ? !s || s.townships.includes(a.id) : a.township === township)
    && (level !== 'grid' || !community || a.parent === community || !areaList.some((c) => c.id === a.parent && c.level === 'community'))
    && (level !== 'grid' || !s || !s.grids.length || s.grids.includes(a.id)))
    .sort(byName);
}

function areaSelect(field, data, onChange) {
  const id = `f-${field.name.replace(/\./g, '-')}`;
  const options = areaOptions(field.level, getPath(data, 'place.township'), getPath(data, 'place.community'));
  const select = h('select', { id },
    h('option', { value: '' }, t('none')),
    options.map((a) => h('option', { value: a.id, selected: a.id === getPath(data, field.name) }, a.name)),
  );
  select.addEventListener('change', () => onChange(select.value || null));
  return select;
}

function fieldInput(field, data, changed) {
  const id = `f-${field.name.replace(/\./g, '-')}`;
  const value = getPath(data, field.name);
  const set = (v) => changed(field.name, v);
  switch (field.type) {
    case 'bool': {
      const box = h('input', { id, type: 'checkbox', checked: !!value });
      box.addEventListener('change', () => set(box.checked));
      return box;
    }
    case 'choice': {
      const select = h('select', { id },
        h('option', { value: '' }, field.required ? '—' : t('none')),
        field.options.map((o) => h('option', { value: o.key, selected: o.key === value }, labelOf(o))),
      );
      select.addEventListener('change', () => set(select.value || null));
      return select;
    }
    case 'ethnicity': {
      const select = h('select', { id },
        h('option', { value: '' }, '—'),
        schema.ethnicities.map((e) => h('option', { value: e, selected: e === value }, e)),
      );
      select.addEventListener('change', () => set(select.value || null));
      return select;
    }
    case 'area':
      return areaSelect(field, data, set);
    case 'ref':
      return refInput(field, value, set).node;
    case 'position':
      return positionInput(id, value, set);
    case 'photos':
      return photosInput(id, field, () => getPath(data, field.name) || {}, set);
    case 'date':
      return dateInput(id, value, set);
    case 'textarea': {
      const area = h('textarea', { id, rows: 3 });
      area.value = value ?? '';
      area.addEventListener('input', () => set(area.value));
      return area;
    }
    default: {
      const type = { int: 'number', date: 'date', phone: 'tel', time: 'time' }[field.type] || 'text';
      const attrs = { id, type, autocomplete: 'off' };
      if (field.type === 'int') Object.assign(attrs, { inputmode: 'numeric', min: 0, step: 1 });
      if (['resident_id', 'credit_code'].includes(field.type)) Object.assign(attrs, { spellcheck: false, autocapitalize: 'characters', class: 'code-input' });
      const input = h('input', attrs);
      input.value = value ?? '';
      input.addEventListener('input', () => set(input.value === '' ? null : input.value));
      return input;
    }
  }
}

// A date always reads YYYY-MM-DD, whatever the tablet's locale (a native
// date input follows the system's: mm/dd/yyyy on an English one). Typed as
// eight digits, the dashes come by themselves (19900120 → 1990-01-20); the
// calendar button opens the system's own picker for the same value.
function dateInput(id, value, set) {
  const input = h('input.date-input', { id, type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: t('datePlaceholder'), maxlength: 10, spellcheck: false });
  input.value = value ?? '';
  input.addEventListener('input', () => {
    const raw = input.value;
    // Digits only are formatted; anything else typed is left for the check to explain.
    if (/^[\d-]*$/.test(raw)) {
      const d = raw.replace(/-/g, '').slice(0, 8);
      const formatted = d.length > 6 ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d.length > 4 ? `${d.slice(0, 4)}-${d.slice(4)}` : d;
      if (formatted !== raw && !raw.endsWith('-')) input.value = formatted;
    }
    set(input.value === '' ? null : input.value);
  });
  const picker = h('input.date-picker', { type: 'date', tabindex: -1, 'aria-hidden': 'true' });
  picker.addEventListener('change', () => {
    input.value = picker.value;
    set(picker.value || null);
  });
  const open = h('button.secondary.date-button', { type: 'button', title: t('pickDate'), on: { click: () => {
    picker.value = /^\d{4}-\d{2}-\d{2}$/.test(input.value) ? input.value : '';
    try { picker.showPicker(); } catch { picker.focus(); }
  } } }, t('calendar'));
  return h('span.date-field', input, open, picker);
}

function prefillFrom(params) {
  const data = {};
  for (const [k, v] of params) if (!k.startsWith('_')) setPath(data, k, v);
  return data;
}

// A word for the next record page ("saved"), set just before going there.
let flash = null;

async function formScreen(kind, id, params) {
  const mine = routeSeq;
  await loadSchema();
  await loadAreas();
  const form = formOf(kind);
  if (!form) return go('#/home');
  // A new form started from a record (a union from its entity, a member
  // from its union) keeps its own draft, apart from a blank form's.
  const context = [...params].map(([k, v]) => `${k}=${v}`).join('&');
  const draftKey = `${kind}-${id || 'new'}${context ? `-${hash(context)}` : ''}`;
  let data;
  let restored = false;
  if (id) {
    const got = await call('get', { id });
    data = got.record.data;
  } else {
    data = prefillFrom(params);
    // A surveyor with one township (or grid) starts there.
    const townships = areaOptions('township');
    if (!getPath(data, 'place.township') && townships.length === 1) setPath(data, 'place.township', townships[0].id);
    const grids = areaOptions('grid', getPath(data, 'place.township'), getPath(data, 'place.community'));
    if (!getPath(data, 'place.grid') && grids.length === 1 && scope()) setPath(data, 'place.grid', grids[0].id);
    // Most members are Han: the default saves a dropdown at every door.
    if (kind === 'member' && !getPath(data, 'ethnicity')) setPath(data, 'ethnicity', '汉族');
    // …and most workers are 群众 (no party membership).
    if (kind === 'member' && !getPath(data, 'political_status')) setPath(data, 'political_status', 'masses');
    // A member registered at the door joins today.
    if (kind === 'member' && !getPath(data, 'joined_on')) setPath(data, 'joined_on', today());
  }
  const draft = await call('draft_get', { key: draftKey });
  if (draft && typeof draft === 'object' && Object.keys(draft).length) {
    data = draft;
    restored = true;
  }
  let notDuplicate = false;
  let seq = 0;
  const issuesBy = new Map();
  const out = h('div.out', { 'aria-live': 'polite' });
  const dupBox = h('div.duplicates', { hidden: true });
  const regBox = h('div.banner.bad#already-registered', { hidden: true });
  const fieldsBox = h('div.fields');

  // A required field is marked once the surveyor has been to it, or has
  // tried to save: typing the first field turns nothing else red.
  const touched = new Set();
  let attempted = false;
  const showIssues = (all) => {
    const issues = all.filter((i) => i.code !== 'REQUIRED' || attempted || touched.has(i.field));
    issuesBy.clear();
    // The reason to keep a credit code shows only when the code fails its
    // check (or a reason was written already).
    const override = fieldsBox.querySelector('.field[data-field="credit_code_override"]');
    if (override) override.hidden = !all.some((i) => i.code === 'CREDIT_CODE_CHECKSUM') && !getPath(data, 'credit_code_override');
    for (const i of issues) {
      if (!issuesBy.has(i.field)) issuesBy.set(i.field, []);
      issuesBy.get(i.field).push(i);
    }
    for (const wrap of fieldsBox.querySelectorAll('.field')) {
      const list = issuesBy.get(wrap.dataset.field) || [];
      wrap.querySelector('.issues').replaceChildren(...list.map(issueNode));
      wrap.classList.toggle('has-error', list.some((i) => i.severity === 'error'));
      const control = wrap.querySelector('input,select,textarea');
      if (control) control.setAttribute('aria-invalid', String(list.some((i) => i.severity === 'error')));
    }
    // Issues on fields the form does not show (rules across fields).
    const shown = new Set(form.fields.map((f) => f.name));
    const others = issues.filter((i) => !shown.has(i.field));
    out.replaceChildren(...others.map((i) => h('p', issueNode(i))));
  };

  const showDuplicates = (dups) => {
    dupBox.hidden = !dups.length;
    if (!dups.length) return;
    const check = h('input#not-duplicate', { type: 'checkbox', checked: notDuplicate });
    check.addEventListener('change', () => { notDuplicate = check.checked; });
    dupBox.replaceChildren(
      h('p', h('strong', t('duplicatesTitle'))),
      h('ul.rows', dups.map(candidateNode)),
      h('label.check', check, t('notDuplicate')),
    );
  };
  // The same ID number or credit code: the person (or entity) is
  // registered already; open it, nothing to confirm.
  const showRegistered = (r) => {
    regBox.hidden = !r;
    if (!r) return;
    regBox.replaceChildren(
      h('p', h('strong', t('duplicateExists'))),
      h('ul.rows', candidateNode(r)),
      // Opening it ends this form: the person (or entity) is registered,
      // so nothing typed here is kept as a draft for the next new form.
      h('a.button.primary#open-registered', { href: `#/record/${r.id}`, on: { click: () => {
        saving = true;
        keepDraft.cancel();
        drafts = drafts.then(() => call('draft_drop', { key: draftKey })).catch(() => {});
      } } }, t('openExisting')),
    );
  };

  const validate = debounce(async () => {
    const mine = ++seq;
    try {
      const v = await call('validate', { record: { kind, data }, id: id || null });
      if (mine !== seq) return;
      showIssues(v.issues);
      if (!id) {
        showRegistered(v.registered);
        showDuplicates(v.duplicates);
      }
      // Derived fields (sex, birth date from the ID) shown as filled.
      for (const f of form.fields.filter((x) => x.derived)) {
        const derived = getPath(v.record.data, f.name);
        const control = document.getElementById(`f-${f.name.replace(/\./g, '-')}`);
        if (control && derived && !getPath(data, f.name)) {
          control.value = derived;
          control.dataset.derived = 'true';
        }
      }
    } catch (e) {
      if (mine === seq) out.replaceChildren(errorBox(e));
    }
  }, 180);
  // A draft belongs to this form and dies with its save: once a save
  // starts, no pending or in-flight draft write may land after it (else the
  // next new form would open with the person just saved).
  let saving = false;
  let drafts = Promise.resolve();
  const keepDraft = debounce(() => {
    if (saving) return;
    drafts = drafts.then(() => (saving ? null : call('draft_put', { key: draftKey, value: data }))).catch(() => {});
  }, 500);

  const changed = (name, value) => {
    touched.add(name);
    setPath(data, name, value);
    if (name === 'place.township') {
      setPath(data, 'place.community', null);
      setPath(data, 'place.grid', null);
      drawFields();
    }
    if (name === 'place.community') {
      // The grids offered follow the community; one of another goes.
      const grid = areaList.find((a) => a.id === getPath(data, 'place.grid'));
      if (grid && value && grid.parent !== value) setPath(data, 'place.grid', null);
      drawFields();
    }
    keepDraft();
    validate();
  };

  // The business licence's QR carries the credit code: read by the camera
  // (or from a photo of the licence) instead of typed. Made once, so a
  // redraw of the fields does not leave a camera running.
  let licence = null;
  if (kind === 'entity' && form.fields.some((f) => f.name === 'credit_code')) {
    const note = h('div.out#licence-out', { 'aria-live': 'polite' });
    const reader = qrReader('licence', async (text) => {
      try {
        const got = await call('licence_code', { text });
        const input = document.getElementById('f-credit_code');
        if (input) input.value = got.credit_code;
        note.replaceChildren(h('p.banner.ok#licence-read', t('licenceRead', got.credit_code)));
        changed('credit_code', got.credit_code);
      } catch (e) {
        note.replaceChildren(errorBox(e));
      }
    }, note, { scan: 'scanLicence', picture: 'licencePicture' });
    licence = h('div.licence', reader.buttons, reader.video, note);
  }

  const drawFields = () => {
    // A group's heading is a row of its own across the grid (inside a
    // field it made that cell taller than its row and left gaps).
    fieldsBox.replaceChildren(...form.fields.flatMap((f) => [f.group ? h('h3.group', lang === 'zh' ? f.group[0] : f.group[1]) : null, h('div.field', { dataset: { field: f.name, type: f.type } },
      f.type === 'bool'
        ? h('label.check', { for: `f-${f.name.replace(/\./g, '-')}` }, fieldInput(f, data, changed), labelOf(f))
        : [h('label', { for: `f-${f.name.replace(/\./g, '-')}` }, labelOf(f), f.required ? h('span.req', { title: t('required') }, ' *') : null),
          fieldInput(f, data, changed)],
      f.derived ? h('span.hint', t('derivedHint')) : null,
      f.name === 'credit_code' ? licence : null,
      h('span.issues', { 'aria-live': 'polite' }),
    )]).filter(Boolean));
    showIssues([...issuesBy.values()].flat());
  };
  drawFields();

  const saveButton = h('button.primary#save', { type: 'submit' }, t('save'));
  const formNode = h('form.card.record-form', { dataset: { kind }, novalidate: true, on: { submit: async (ev) => {
    ev.preventDefault();
    attempted = true;
    saveButton.disabled = true;
    saveButton.textContent = t('saving');
    saving = true;
    keepDraft.cancel();
    await drafts;
    try {
      // A union founded from an entity's page covers it in the same
      // transaction (`covers`).
      const covers = kind === 'union' && !id ? params.get('_cover') : null;
      const saved = await call('save', { record: { kind, data }, id: id || null, not_duplicate: notDuplicate, covers });
      await call('draft_drop', { key: draftKey });
      flash = { id: saved.id, text: t('savedNotice') };
      go(`#/record/${saved.id}`);
    } catch (e) {
      // Not saved: the form goes on, and so does its draft.
      saving = false;
      keepDraft();
      if (e.issues) showIssues(e.issues);
      if (e.code === 'POSSIBLE_DUPLICATE' && e.detail) showDuplicates(e.detail.duplicates);
      out.replaceChildren(errorBox(e));
      if (e.code === 'RECORD_DUPLICATE' && e.detail) {
        out.append(h('p', t('duplicateExists'), ' ', h('a#open-existing', { href: `#/record/${e.detail.id}` }, t('openExisting'))));
      }
      // The surveyor sees why at once: the first field in error, else the
      // message, scrolled into view above the action bar.
      const firstBad = fieldsBox.querySelector('.has-error input, .has-error select, .has-error textarea');
      if (firstBad) {
        firstBad.focus({ preventScroll: true });
        firstBad.closest('.field').scrollIntoView({ block: 'center' });
      } else {
        out.scrollIntoView({ block: 'center' });
      }
    } finally {
      saveButton.disabled = false;
      saveButton.textContent = t('save');
    }
  } } },
    h('h2', `${id ? t('edit') : t('newRecord')} · ${labelOf(form)}`),
    restored ? h('p.banner.info#draft-restored', t('draftRestored'), ' ',
      h('button.link', { type: 'button', on: { click: async () => { await call('draft_drop', { key: draftKey }); route(); } } }, t('discardDraft'))) : null,
    regBox,
    dupBox,
    fieldsBox,
    out,
    h('div.actions.sticky', saveButton),
  );
  // Enter in a field goes to the next field; only 保存 saves.
  formNode.addEventListener('keydown', (ev) => {
    const target = ev.target;
    if (ev.key !== 'Enter' || target.tagName !== 'INPUT' || ['button', 'submit', 'checkbox', 'radio', 'file'].includes(target.type)) return;
    ev.preventDefault();
    const controls = [...formNode.querySelectorAll('input:not(.date-picker), select, textarea')].filter((n) => n.offsetParent !== null && !n.disabled);
    const next = controls[controls.indexOf(target) + 1];
    if (next) next.focus();
  });
  if (mine !== routeSeq) return; // a newer route has rendered
  show(formNode);
  if (restored || id) validate();
  else showIssues([]);
  const first = formNode.querySelector('input,select,textarea');
  if (first) first.focus();
}

// ---- a record's page -----------------------------------------------------------

// A resident ID number on screen shows only what the backend's mask (the
// registry's, as in the county's ledgers) leaves until the surveyor taps 显示
// (someone may be looking over their shoulder at the door).
function personalValue(field, value, masked) {
  if (field.name !== 'resident_id' || !value || !masked) return displayValue(field, value);
  const text = h('span.masked', masked);
  const toggle = h('button.link.reveal', { type: 'button', on: { click: () => {
    const shown = text.textContent === String(value);
    text.textContent = shown ? masked : String(value);
    toggle.textContent = shown ? t('reveal') : t('hide');
  } } }, t('reveal'));
  return [text, ' ', toggle];
}

function displayValue(field, value) {
  if (value === null || value === undefined || value === '') return '—';
  switch (field.type) {
    case 'bool': return value ? t('yes') : t('no');
    case 'choice': {
      const o = field.options.find((x) => x.key === value);
      return o ? labelOf(o) : value;
    }
    case 'area': return areaName(value) || value;
    case 'position': return `${(value.lat_e6 / 1e6).toFixed(6)}, ${(value.lon_e6 / 1e6).toFixed(6)}${value.manual ? ` (${t('manualPosition')})` : (value.accuracy_m ? ` (±${value.accuracy_m} m)` : '')}`;
    case 'ref': return h('a.ref-link', { href: `#/record/${value}`, dataset: { ref: value } }, '…');
    default: return String(value);
  }
}

async function fillRefNames(node) {
  for (const a of node.querySelectorAll('a.ref-link')) {
    try {
      const got = await call('get', { id: a.dataset.ref });
      a.textContent = got.record.data.name || got.record.data.member_name || a.dataset.ref.slice(0, 8);
    } catch { a.textContent = a.dataset.ref.slice(0, 8); }
  }
}

function historyNode(entries, form) {
  const ops = { create: 'created', update: 'updated', delete: 'deletedOp', settle: 'settledOp' };
  // Field keys in the people's words; bookkeeping keys (_kind…) left out.
  const name = (key) => {
    const f = form && form.fields.find((x) => x.name === key);
    return f ? labelOf(f) : key;
  };
  return h('ol.history', entries.slice().reverse().map((e) => h('li',
    h('span.when', fmtDateTime(e.at_ms)),
    ' ', h('strong', e.by || e.device.slice(0, 8)), ' ', t(ops[e.op] || 'updated'),
    e.op !== 'create' && e.fields.some((f) => !f.field.startsWith('_'))
      ? h('span.muted', `：${e.fields.filter((f) => !f.field.startsWith('_')).map((f) => name(f.field)).join('、')}`)
      : null,
    e.note ? h('span.muted', ` (${e.note})`) : null,
  )));
}

function conflictsNode(id, conflicts, form) {
  return h('section.card.conflicts#conflicts',
    h('h3', t('conflicts')),
    h('p.muted', t('conflictHelp')),
    conflicts.map((c) => {
      const field = form && form.fields.find((f) => f.name === c.field);
      return h('div.conflict', { dataset: { field: c.field } },
        h('h4', field ? labelOf(field) : c.field),
        h('ul', c.values.map((v) => h('li',
          h('strong', field ? displayValue(field, v.value) : String(v.value)), ' ',
          h('span.muted', t('fromDevice', v.device.slice(0, 8))),
          v.winner ? h('span.badge', t('shownNow')) : null, ' ',
          h('button.secondary.choose', { type: 'button', on: { click: async () => {
            await call('settle', { id, field: c.field, value: v.value });
            route();
          } } }, t('chooseValue')),
        ))),
      );
    }),
  );
}

async function recordScreen(id) {
  const mine = routeSeq;
  await loadSchema();
  await loadAreas();
  const got = await call('get', { id });
  const { kind, data } = got.record;
  const form = formOf(kind);
  const fields = form ? form.fields : Object.keys(data).map((k) => ({ name: k, type: 'text', zh: k, en: k }));
  const out = h('div.out', { 'aria-live': 'polite' });
  const actions = h('div.actions');
  const extra = h('div.extra');
  if (!got.deleted && form) actions.append(h('a.button.secondary#edit', { href: `#/edit/${id}` }, t('edit')));
  if (!got.deleted && kind === 'entity') {
    // The kind to found comes from the backend (the registry's rule), and
    // only while no union covers the entity (a dissolved one does not).
    if (got.suggest_union) {
      const name = `${data.name}工会`;
      const q = new URLSearchParams({ name, kind: got.suggest_union, 'place.township': data.place.township, 'place.community': data.place.community || '', 'place.grid': data.place.grid || '', workers: data.workers, women_workers: data.women_workers, _cover: id });
      for (const [k, v] of [...q]) if (v === '') q.delete(k);
      actions.append(h('a.button.primary#found-union', { href: `#/new/union?${q}` }, t('foundUnion')));
    }
    const picker = refInput({ name: 'cover', ref_kind: 'union' }, data.union_id, async (u) => {
      data.union_id = u;
      try {
        await call('save', { record: got.record, id });
        route();
      } catch (e) { out.replaceChildren(errorBox(e)); }
    });
    extra.append(h('section.card', h('h3', t('coverBy')), picker.node));
    const now = new Date();
    const visitQuery = new URLSearchParams({ entity_id: id, entity_name: data.name, 'place.township': data.place.township,
      visited_on: today(), time: `${String(now.getHours()).padStart(2, '0')}:${String(now.getMinutes()).padStart(2, '0')}`,
      surveyor: (appState.device && appState.device.person) || '' });
    if (data.place.community) visitQuery.set('place.community', data.place.community);
    if (data.place.grid) visitQuery.set('place.grid', data.place.grid);
    actions.prepend(h('a.button.primary#record-visit', { href: `#/new/visit?${visitQuery}` }, t('recordVisit')));
    const visits = await call('visits', { id });
    const outcomeOf = (k) => { const f = formOf('visit').fields.find((x) => x.name === 'outcome'); const o = f.options.find((x) => x.key === k); return o ? labelOf(o) : k; };
    extra.append(h('section.card#entity-visits', h('h3', t('visitsTitle'), ' ', h('span.count', String(visits.length))),
      visits.length
        ? h('ul.rows', visits.map((v) => h('li', { dataset: { outcome: v.outcome } }, h('a', { href: `#/record/${v.id}` }, `${v.visited_on} ${v.time}`), ' ', outcomeOf(v.outcome), h('span.muted', ` · ${v.surveyor}${v.follow_up_on ? ` · ${t('followUp', v.follow_up_on)}` : ''}`))))
        : h('p.muted', t('notVisitedYet'))));
  }
  // What the plan's rules say about this record, each with its way out.
  const fixes = {};
  if (!got.deleted && kind === 'union') {
    const lists = {};
    for (const k of ['member', 'cadre', 'entity']) lists[k] = (await call('list', { kind: k, union_id: id, limit: 200 })).rows;
    const prefill = new URLSearchParams({ union_id: id, 'place.township': data.place.township });
    if (data.place.community) prefill.set('place.community', data.place.community);
    if (data.place.grid) prefill.set('place.grid', data.place.grid);
    // A union of one workplace: its members work there.
    const memberPrefill = new URLSearchParams(prefill);
    if (lists.entity.length === 1) {
      memberPrefill.set('employer_id', lists.entity[0].id);
      memberPrefill.set('employer_name', lists.entity[0].name);
    }
    actions.append(
      h('a.button.primary#add-member', { href: `#/new/member?${memberPrefill}&joined_on=${today()}` }, t('addMember')),
      h('a.button.secondary#add-cadre', { href: `#/new/cadre?${prefill}` }, t('addCadre')),
    );
    fixes.CHAIR_VACANT = h('a.button.primary#add-chair', { href: `#/new/cadre?${prefill}&role=chair` }, t('addChair'));
    if (appState.device && appState.device.enrolled) actions.append(h('a.button.secondary#union-poster', { href: `#/poster/${id}` }, t('posterButton')));
    const figures = await call('union_figures', { union: id });
    if (figures) {
      extra.append(h('section.card#union-figures',
        h('h3', t('unionFigures')),
        h('p',
          h('span.count-chip', `${t('activeMembersShort')} ${figures.active_members}`), ' ',
          h('span.count-chip', { dataset: { col: 'membership' } }, `${t('membershipRate')} ${pct(figures.membership)}`), ' ',
          h('span.count-chip', { dataset: { col: 'cards' } }, `${t('cardRate')} ${pct(figures.carded)}`), ' ',
          figures.carded.denominator > figures.carded.numerator
            ? h('span.count-chip.bad', t('uncardedMembers', figures.carded.denominator - figures.carded.numerator)) : null),
        h('p.muted', t('unionFiguresHelp'))));
    }
    for (const [k, title] of [['member', 'members'], ['cadre', 'cadres'], ['entity', 'coveredEntities']]) {
      extra.append(h('section.card', { dataset: { list: k } }, h('h3', t(title), ' ', h('span.count', String(lists[k].length))), h('ul.rows', lists[k].map(rowNode))));
    }
  }
  if (!got.deleted && kind === 'member' && data.union_id) {
    // The next member of the same union, where the surveyor stands: union,
    // workplace and place carried over.
    const next = new URLSearchParams({ union_id: data.union_id, 'place.township': data.place.township, joined_on: today() });
    for (const k of ['place.community', 'place.grid']) if (getPath(data, k)) next.set(k, getPath(data, k));
    if (data.employer_id) next.set('employer_id', data.employer_id);
    if (data.employer_name) next.set('employer_name', data.employer_name);
    actions.prepend(h('a.button.primary#next-member', { href: `#/new/member?${next}` }, t('nextMember')));
  }
  if (!got.deleted && kind === 'member') {
    // A member with a card: show it again (never issue it again, which
    // would revoke the card the member holds); issuing anew asks first.
    const hasCard = !!data.card_number;
    if (hasCard) {
      actions.append(h('button.primary#show-card', { type: 'button', on: { click: async () => {
        try {
          lastCard = await call('show_card', { member: id });
          go('#/card');
        } catch (e) { out.replaceChildren(errorBox(e)); }
      } } }, t('showCard')));
    }
    actions.append(h(hasCard ? 'button.secondary#issue-card' : 'button.primary#issue-card', { type: 'button', on: { click: async () => {
      if (hasCard && !window.confirm(t('reissueAsk', data.card_number))) return;
      try {
        lastCard = await call('issue_card', { member: id, years: 3 });
        go('#/card');
      } catch (e) { out.replaceChildren(errorBox(e)); }
    } } }, hasCard ? t('reissueCard') : t('issueCard')));
    actions.append(h('button.secondary#transfer', { type: 'button', on: { click: () => transferDialog(id, data) } }, t('transfer')));
  }
  if (kind === 'hardship') {
    const visits = Object.entries(data.visits || {}).sort((x, y) => String(y[1].date).localeCompare(String(x[1].date)));
    const kindOf = (k) => labelOf(schema.visit_kinds.find((o) => o.key === k) || { zh: k, en: k });
    extra.append(h('section.card#visits',
      h('h3', t('visits'), ' ', h('span.count', String(visits.length))),
      visits.length
        ? h('ul.rows', visits.map(([, v]) => h('li.visit', h('strong', v.date), ' ', kindOf(v.kind), ' · ', v.visitor,
          v.amount_yuan ? ` · ¥${v.amount_yuan}` : '', v.note ? h('span.muted', ` ${v.note}`) : null)))
        : h('p.muted', t('noVisits')),
      got.deleted ? null : h('button.secondary#add-visit', { type: 'button', on: { click: () => visitDialog(id, got.record) } }, t('addVisit')),
    ));
  }
  if (!got.deleted) actions.append(h('button.danger#delete', { type: 'button', on: { click: () => deleteDialog(id) } }, t('deleteRecord')));
  if (data.photos && Object.keys(data.photos).length) {
    const photoField = fields.find((f) => f.name === 'photos') || { options: [] };
    extra.prepend(h('section.card#photos', h('h3', t('photosTitle'), ' ', h('span.count', String(Object.keys(data.photos).length))),
      h('div.thumbs', Object.entries(data.photos).map(([hash, p]) => photoThumb(hash, p, photoField, null)))));
  }
  const rows = fields.filter((f) => f.type !== 'photos').map((f) => h('div.kv', { dataset: { field: f.name } }, h('dt', labelOf(f)), h('dd', personalValue(f, getPath(data, f.name), (got.masked || {})[f.name]))));
  const page = h('article.record', { dataset: { kind, id } },
    h('h2', data.name || data.member_name || data.entity_name || id, ' ', h('span.muted.kind', kindLabel(kind))),
    got.deleted ? h('p.banner.bad', `${t('deleted')}: ${got.deleted.reason} (${got.deleted.by})`) : null,
    got.returned ? h('p.banner.bad#returned', `${t('returnedBanner')}: ${got.returned.note || '—'} (${got.returned.by})`) : null,
    actions,
    out,
    (got.findings || []).length ? h('section.card#findings', h('h3', t('findingsTitle')),
      h('ul.findings', got.findings.map((f) => h('li', { dataset: { rule: f.rule, severity: f.severity } },
        h('span', lang === 'zh' ? f.why.zh : f.why.en), fixes[f.rule] || null)))) : null,
    got.conflicts.length ? conflictsNode(id, got.conflicts, form) : null,
    h('section.card', h('dl.kvs', rows)),
    extra,
    h('section.card', h('h3', t('history')), historyNode(got.history, form)),
  );
  if (mine !== routeSeq) return; // a newer route has rendered
  // Just saved: say so at the top, with the page's actions (为该单位建会,
  // 添加会员…) right under it.
  if (flash && flash.id === id) {
    page.insertBefore(h('p.banner.ok#saved-notice', { role: 'status' }, flash.text), actions);
    flash = null;
  }
  show(page);
  window.scrollTo(0, 0);
  fillRefNames(page);
}

// ---- applications to join (由本人申请) ----------------------------------------

// The area's applications, kept at the county: each checked at the door or
// on the phone, then confirmed (registered; the card next) or declined
// with a reason the applicant sees.
async function applicationsScreen() {
  const mine = routeSeq;
  let got;
  try {
    got = await call('applications');
  } catch (e) {
    if (mine !== routeSeq) return;
    return show(h('section.card', h('h2', t('applicationsTitle')), h('p.muted', t('applicationsOffline')), errorBox(e)));
  }
  if (mine !== routeSeq) return;
  const item = (a) => {
    const out = h('div.out');
    const reason = h('input', { type: 'text', id: `reason-${a.id}`, maxlength: 100 });
    const declineBox = h('div.decline', { hidden: true },
      h('label', { for: `reason-${a.id}` }, t('declineReason')), reason,
      h('button.danger', { type: 'button', id: `decline-send-${a.id}`, on: { click: async () => {
        try {
          await call('decide_application', { id: a.id, decision: 'decline', reason: reason.value });
          route();
        } catch (e) { out.replaceChildren(errorBox(e)); }
      } } }, t('declineSend')));
    return h('li.card.application', { dataset: { application: a.id } },
      h('h3', a.name, ' ', h('span.muted', a.masked_id)),
      h('p', h('a', { href: `tel:${a.phone}` }, a.phone), a.employer_name ? ` · ${a.employer_name}` : ''),
      h('p.muted', `${a.union_name} · ${t('appliedAt')} ${fmtDateTime(a.applied_at)}`,
        a.migrant_worker ? ` · ${t('migrantWorker')}` : '', a.dispatched_worker ? ` · ${t('dispatchedWorker')}` : ''),
      a.registered ? h('p.banner', t('registeredMerge')) : null,
      a.others ? h('p.muted', t('otherApplications', a.others)) : null,
      h('div.actions',
        h('button.primary', { type: 'button', id: `confirm-${a.id}`, on: { click: async () => {
          try {
            const d = await call('decide_application', { id: a.id, decision: 'confirm' });
            flash = { id: d.member_id, text: t('confirmedNotice') };
            go(`#/record/${d.member_id}`);
          } catch (e) { out.replaceChildren(errorBox(e)); }
        } } }, t('confirmApplication')),
        h('button.secondary', { type: 'button', id: `decline-${a.id}`, on: { click: () => { declineBox.hidden = false; reason.focus(); } } }, t('declineApplication'))),
      declineBox,
      out);
  };
  show(h('section.card#applications',
    h('h2', t('applicationsTitle'), ' ', h('span.count', String(got.total))),
    h('p.muted', t('applicationsHelp')),
    got.items.length ? h('ul.rows.applications', got.items.map(item)) : h('p.muted#applications-none', t('applicationsNone'))));
}

// A union's poster: its name and the QR code of its public form, for A4.
async function posterScreen(union) {
  const mine = routeSeq;
  const p = await call('application_poster', { union });
  if (mine !== routeSeq) return;
  const svg = new DOMParser().parseFromString(p.qr_svg, 'image/svg+xml').documentElement;
  show(h('article.poster#poster',
    h('h1', t('posterTitle')),
    h('h2', p.union_name),
    h('p.muted', p.township),
    h('div.qr', document.importNode(svg, true)),
    h('p', t('posterText')),
    h('p.muted.url', p.url),
    h('div.actions.no-print', h('button.primary#poster-print', { type: 'button', on: { click: () => window.print() } }, t('posterPrint')))));
}

function deleteDialog(id) {
  const reason = h('input#delete-reason', { type: 'text' });
  const out = h('div.out');
  const dialog = h('dialog.card',
    h('label', { for: 'delete-reason' }, t('deleteReason')), reason, out,
    h('div.actions',
      h('button.danger#confirm-delete', { type: 'button', on: { click: async () => {
        try {
          await call('delete', { id, reason: reason.value });
          dialog.close(); dialog.remove();
          route();
        } catch (e) { out.replaceChildren(errorBox(e)); }
      } } }, t('confirmDelete')),
      h('button.secondary', { type: 'button', on: { click: () => { dialog.close(); dialog.remove(); } } }, t('cancel')),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

// A visit is added under a fresh random key, so visits recorded on two
// devices offline both survive the merge.
function visitDialog(id, record) {
  // YYYY-MM-DD whatever the system's locale, like every form date.
  const date = { value: today() };
  const dateField = dateInput('visit-date', date.value, (v) => { date.value = v || ''; });
  const kind = h('select#visit-kind', schema.visit_kinds.map((o) => h('option', { value: o.key }, labelOf(o))));
  const visitor = h('input#visit-visitor', { type: 'text', value: (appState.device && appState.device.person) || '' });
  const amount = h('input#visit-amount', { type: 'number', inputmode: 'numeric', min: 0, value: '0' });
  const note = h('input#visit-note', { type: 'text' });
  const out = h('div.out');
  const close = () => { dialog.close(); dialog.remove(); };
  const dialog = h('dialog.card',
    h('h3', t('addVisit')),
    h('label', { for: 'visit-date' }, t('visitDate')), dateField,
    h('label', { for: 'visit-kind' }, t('visitKind')), kind,
    h('label', { for: 'visit-visitor' }, t('visitor')), visitor,
    h('label', { for: 'visit-amount' }, t('amount')), amount,
    h('label', { for: 'visit-note' }, t('note')), note,
    out,
    h('div.actions',
      h('button.primary#save-visit', { type: 'button', on: { click: async () => {
        // Added to the case as stored now, not to this page's copy.
        const visit = { date: date.value, kind: kind.value, visitor: visitor.value, amount_yuan: Number(amount.value || 0), note: note.value };
        try {
          await call('add_visit', { id, visit });
          close();
          route();
        } catch (e) { out.replaceChildren(errorBox(e)); }
      } } }, t('save')),
      h('button.secondary', { type: 'button', on: { click: close } }, t('cancel')),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

function transferDialog(id) {
  const transferForm = formOf('transfer');
  const reasons = transferForm.fields.find((f) => f.name === 'reason').options;
  let toUnion = null;
  const picker = refInput({ name: 'to_union', ref_kind: 'union' }, null, (u) => { toUnion = u; });
  const date = { value: today() };
  const dateField = dateInput('transfer-date', date.value, (v) => { date.value = v || ''; });
  const reason = h('select#transfer-reason', reasons.map((o) => h('option', { value: o.key }, labelOf(o))));
  const note = h('input#transfer-note', { type: 'text' });
  const out = h('div.out');
  const dialog = h('dialog.card.wide',
    h('h3', t('transfer')),
    h('label', t('toUnion')), picker.node,
    h('label', { for: 'transfer-date' }, t('transferDate')), dateField,
    h('label', { for: 'transfer-reason' }, t('transferReason')), reason,
    h('label', { for: 'transfer-note' }, t('note')), note,
    out,
    h('div.actions',
      h('button.primary#do-transfer', { type: 'button', on: { click: async () => {
        try {
          await call('transfer', { member: id, to_union: toUnion, date: date.value, reason: reason.value, note: note.value });
          dialog.close(); dialog.remove();
          route();
        } catch (e) { out.replaceChildren(errorBox(e)); }
      } } }, t('doTransfer')),
      h('button.secondary', { type: 'button', on: { click: () => { dialog.close(); dialog.remove(); } } }, t('cancel')),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

// ---- cards ----------------------------------------------------------------------

function cardScreen() {
  if (!lastCard) return go('#/home');
  const c = lastCard;
  show(h('article.member-card#member-card',
    h('div.card-face',
      h('h2', t('cardTitle')),
      h('div.qr', { html: c.svg, role: 'img', 'aria-label': c.text }),
      h('p.card-name', c.name),
      c.union_name ? h('p.card-union', c.union_name) : null,
      h('p', `${t('cardNumber')} ${c.number}`),
      h('p', `${t('issuedOn')} ${c.issued} · ${t('validUntil')} ${c.expires}`),
      h('p.card-text', c.text),
    ),
    c.replaces ? h('p.banner.info', t('replaces', c.replaces)) : null,
    h('div.actions.no-print',
      h('button.primary#print', { type: 'button', on: { click: () => window.print() } }, t('print')),
      h('a.button.secondary', { href: '#/verify' }, t('navVerify')),
    ),
  ));
}

async function verifyText(text, out) {
  out.replaceChildren();
  try {
    const v = await call('verify_card', { text });
    if (v.valid) {
      out.append(h('div.verdict.ok#verdict', { dataset: { valid: 'true' } },
        h('strong', `✓ ${t('valid')}`),
        h('p.card-name', v.name || ''),
        h('p', `${t('cardNumber')} ${v.number}`),
        v.union_name ? h('p', `${t('unionName')} ${v.union_name}`) : null,
        h('p', `${t('validUntil')} ${v.expires}`),
      ));
    } else {
      out.append(h('div.verdict.bad#verdict', { dataset: { valid: 'false', code: v.code } }, h('strong', `✗ ${t('invalid')}`), h('p', L(v.message))));
    }
  } catch (e) {
    out.append(errorBox(e));
  }
}

// Finds a QR code in pixels with jsQR (bundled locally in ui/vendor, no network).
function decodePixels(imageData) {
  if (typeof window.jsQR !== 'function') return null;
  const found = window.jsQR(imageData.data, imageData.width, imageData.height);
  return found ? found.data : null;
}

async function decodeImageFile(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement('canvas');
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return decodePixels(ctx.getImageData(0, 0, canvas.width, canvas.height));
}

// A QR reader: a camera button, a picture picker and the video preview.
// `onFound(text)` gets each decoded code; `out` shows why nothing was read.
// `prefix` keeps the element ids apart where two readers could meet.
function qrReader(prefix, onFound, out, labels = {}) {
  const scanLabel = labels.scan || 'scan';
  const video = h(`video#${prefix}-video.scan-video`, { playsinline: true, muted: true, hidden: true });
  let stream = null;
  const stop = () => {
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    stream = null;
    video.hidden = true;
    scanButton.textContent = t(scanLabel);
  };
  const scanButton = h(`button.secondary#${prefix}-scan`, { type: 'button', on: { click: async () => {
    if (stream) return stop();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== 'function') {
      out.replaceChildren(h('p.banner.bad', t('noCamera')));
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch {
      out.replaceChildren(h('p.banner.bad', t('noCamera')));
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    scanButton.textContent = t('stopScan');
    const canvas = document.createElement('canvas');
    const tick = () => {
      if (!stream) return;
      if (video.videoWidth) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        const ctx = canvas.getContext('2d', { willReadFrequently: true });
        ctx.drawImage(video, 0, 0);
        const found = decodePixels(ctx.getImageData(0, 0, canvas.width, canvas.height));
        if (found) {
          stop();
          onFound(found);
          return;
        }
      }
      requestAnimationFrame(tick);
    };
    tick();
  } } }, t(scanLabel));
  const file = h(`input#${prefix}-image`, { type: 'file', accept: 'image/*' });
  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    const found = await decodeImageFile(file.files[0]).catch(() => null);
    file.value = '';
    if (!found) {
      out.replaceChildren(h(`p.banner.bad#${prefix}-no-qr`, t('noQrInImage')));
      return;
    }
    onFound(found);
  });
  window.addEventListener('hashchange', stop, { once: true });
  return {
    buttons: h('div.actions', scanButton, h('label.button.secondary', { for: `${prefix}-image` }, t(labels.picture || 'pickImage')), file),
    video,
    stop,
  };
}

function verifyScreen() {
  const out = h('div.out#verify-out', { 'aria-live': 'polite' });
  const text = h('textarea#card-text', { rows: 3, spellcheck: false, placeholder: 'UC1:…' });
  const reader = qrReader('card', (found) => {
    text.value = found;
    verifyText(found, out);
  }, out);
  show(h('section.card.narrow',
    h('h2', t('verifyTitle')),
    h('p.muted', t('verifyHelp')),
    reader.buttons,
    reader.video,
    h('label', { for: 'card-text' }, t('pasteText')),
    text,
    h('button.primary#verify', { type: 'button', on: { click: () => verifyText(text.value, out) } }, t('verify')),
    out,
  ));
}

function doorScreen() {
  const search = h('input.search#door-search', { type: 'search', placeholder: t('search') });
  const list = h('ul.rows');
  search.addEventListener('input', debounce(async () => {
    const q = search.value.trim();
    if (!q) { list.replaceChildren(); return; }
    const found = await call('search', { q, kind: 'entity', limit: 20 });
    list.replaceChildren(...found.rows.map(rowNode));
  }, 120));
  show(h('section.card.narrow',
    h('h2', t('navDoor')),
    h('p.muted', t('doorIntro')),
    h('a.button.primary#door-new-entity', { href: '#/new/entity' }, `＋ ${t('doorStart')}`),
    h('p', t('doorSearch')),
    search,
    list,
  ));
}

// ---- the census: position, photos, map ---------------------------------------

// The device's position, or one typed by hand (flagged as such).
function positionInput(id, value, set) {
  const lat = h('input', { id: `${id}-lat`, type: 'text', inputmode: 'decimal', placeholder: t('lat'), autocomplete: 'off' });
  const lon = h('input', { id: `${id}-lon`, type: 'text', inputmode: 'decimal', placeholder: t('lon'), autocomplete: 'off' });
  const note = h('span.muted.position-note', { 'aria-live': 'polite' });
  const fill = (p) => {
    lat.value = p ? (p.lat_e6 / 1e6).toFixed(6) : '';
    lon.value = p ? (p.lon_e6 / 1e6).toFixed(6) : '';
    note.textContent = !p ? '' : (p.manual ? t('manualPosition') : t('accuracy', p.accuracy_m));
    note.dataset.manual = p ? String(!!p.manual) : '';
  };
  fill(value);
  const typed = () => {
    const a = parseFloat(lat.value);
    const b = parseFloat(lon.value);
    if (Number.isNaN(a) || Number.isNaN(b)) { set(null); note.textContent = ''; return; }
    set({ lat_e6: Math.round(a * 1e6), lon_e6: Math.round(b * 1e6), accuracy_m: null, manual: true });
    note.textContent = t('manualPosition');
    note.dataset.manual = 'true';
  };
  lat.addEventListener('input', typed);
  lon.addEventListener('input', typed);
  const locate = h('button.secondary', { id: `${id}-locate`, type: 'button', on: { click: () => {
    if (!navigator.geolocation) { note.textContent = t('noLocation'); return; }
    note.textContent = t('locating');
    navigator.geolocation.getCurrentPosition((pos) => {
      const p = { lat_e6: Math.round(pos.coords.latitude * 1e6), lon_e6: Math.round(pos.coords.longitude * 1e6), accuracy_m: Math.round(pos.coords.accuracy), manual: false };
      fill(p);
      set(p);
    }, () => { note.textContent = t('noLocation'); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  } } }, t('useLocation'));
  return h('div.position', { id }, locate, lat, lon, note);
}

// Which photos this device downloads: all, its grids only, the last days.
function photoPolicyCard() {
  const card = h('section.card#photo-policy', h('h3', t('photoPolicy')));
  call('blob_policy').then((got) => {
    const own = scope();
    const grids = own && own.grids.length ? own.grids.map((id) => ({ id, name: areaName(id) || id })) : areaOptions('grid');
    const gridSel = h('select#policy-grid', h('option', { value: '' }, t('allGrids')),
      grids.map((g) => h('option', { value: g.id, selected: got.policy.grids.length === 1 && got.policy.grids[0] === g.id }, g.name)));
    const daySel = h('select#policy-days', [[0, t('allDays')], [7, t('lastDays', 7)], [30, t('lastDays', 30)], [90, t('lastDays', 90)]].map(([d, label]) =>
      h('option', { value: d, selected: (got.policy.days || 0) === d }, label)));
    const said = h('span.muted#policy-status', { 'aria-live': 'polite' },
      got.unpushed ? t('photosWaiting', got.unpushed, (got.unpushed_bytes / 1048576).toFixed(1)) : '');
    const save = async () => {
      try {
        await call('set_blob_policy', { grids: gridSel.value ? [gridSel.value] : [], days: Number(daySel.value) || null });
        said.textContent = t('saved');
        said.dataset.code = 'saved';
      } catch (e) { said.replaceChildren(errorBox(asApiError(e))); }
    };
    gridSel.addEventListener('change', save);
    daySel.addEventListener('change', save);
    card.append(h('p.muted', t('photoPolicyHint')), h('div.row', gridSel, daySel), said);
  }).catch(() => {});
  return card;
}

// A photo resized on the device: long side at most 1600 px, re-encoded as
// JPEG (which drops its metadata); the time it was taken is kept apart.
async function resizePhoto(file) {
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    await new Promise((ok, bad) => { img.onload = ok; img.onerror = () => bad({ code: 'PHOTO_NOT_IMAGE', message: { zh: '无法读取该图片', en: 'That picture cannot be read' } }); img.src = url; });
    const scale = Math.min(1, 1600 / Math.max(img.naturalWidth, img.naturalHeight));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
    canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
    canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/jpeg', 0.85));
    const data = await new Promise((ok) => { const r = new FileReader(); r.onload = () => ok(r.result); r.readAsDataURL(blob); });
    const when = new Date(file.lastModified || Date.now());
    const pad = (n) => String(n).padStart(2, '0');
    const takenAt = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
    return { data, taken_at: takenAt };
  } finally {
    URL.revokeObjectURL(url);
  }
}

// A photo's thumbnail: its bytes from the store, or "not yet downloaded".
function photoThumb(hash, p, field, onRemove) {
  const item = (field.options || []).find((o) => o.key === p.item);
  const fig = h('figure.thumb', { dataset: { hash } });
  const cap = h('figcaption', item ? labelOf(item) : '', p.taken_at ? h('span.muted', ` ${p.taken_at}`) : null);
  fig.append(h('span.muted.loading', t('loading')), cap);
  call('photo', { hash }).then((got) => {
    const slot = fig.querySelector('.loading');
    if (got.state === 'present') {
      slot.replaceWith(h('img', { src: `data:image/jpeg;base64,${got.data}`, alt: item ? labelOf(item) : t('photosTitle'), loading: 'lazy' }));
    } else {
      slot.textContent = t('notDownloaded');
      slot.classList.add('not-downloaded');
      fig.dataset.state = got.state;
    }
  }).catch(() => {});
  if (onRemove) fig.append(h('button.link', { type: 'button', on: { click: onRemove } }, t('removePhoto')));
  return fig;
}

// The photos of a form: taken with the camera where there is one, or
// chosen from files; for a union, each names the item it is evidence of.
function photosInput(id, field, current, set) {
  const thumbs = h('div.thumbs');
  const out = h('div.out', { 'aria-live': 'polite' });
  const draw = () => thumbs.replaceChildren(...Object.entries(current()).map(([hash, p]) => photoThumb(hash, p, field, () => {
    const m = { ...current() };
    delete m[hash];
    set(m);
    draw();
  })));
  const options = field.options || [];
  const item = options.length
    ? h('select', { id: `${id}-item` }, h('option', { value: '' }, t('photoOfRecord')), options.map((o) => h('option', { value: o.key }, labelOf(o))))
    : null;
  const input = h('input.visually-hidden', { id: `${id}-file`, type: 'file', accept: 'image/*', capture: 'environment', multiple: true });
  input.addEventListener('change', async () => {
    out.replaceChildren(h('span.muted', t('addingPhoto')));
    try {
      for (const file of input.files) {
        const photo = await resizePhoto(file);
        const got = await call('attach_photo', { ...photo, item: item ? item.value : '' });
        set({ ...current(), [got.hash]: got.photo });
      }
      out.replaceChildren();
    } catch (e) {
      out.replaceChildren(errorBox(asApiError(e)));
    }
    input.value = '';
    draw();
  });
  draw();
  return h('div.photos', { id }, thumbs, item, h('label.button.secondary', { for: `${id}-file` }, t('addPhoto')), input, out);
}

async function mapScreen(params) {
  const mine = routeSeq;
  await loadSchema();
  await loadAreas();
  const townships = areaOptions('township');
  const township = params.get('township') || (townships[0] && townships[0].id) || '';
  const grids = areaOptions('grid', township);
  const grid = params.get('grid') || '';
  const got = await call('map', { township: township || null, grid: grid || null });
  const outcomes = formOf('visit').fields.find((f) => f.name === 'outcome').options;
  const outcomeLabel = (k) => { const o = outcomes.find((x) => x.key === k); return o ? labelOf(o) : k; };
  const pick = (name, list, value, blank) => {
    const sel = h('select', { id: `map-${name}` }, blank ? h('option', { value: '' }, blank) : null,
      list.map((a) => h('option', { value: a.id, selected: a.id === value }, a.name)));
    sel.addEventListener('change', () => {
      const q = new URLSearchParams({ township: name === 'township' ? sel.value : township });
      if (name === 'grid' && sel.value) q.set('grid', sel.value);
      go(`#/map?${q}`);
    });
    return sel;
  };
  const counts = {};
  for (const p of got.points) counts[p.outcome] = (counts[p.outcome] || 0) + 1;
  const legend = h('ul.legend', outcomes.map((o) => h('li', h('span.swatch', { style: `background:${OUTCOME_COLOURS[o.key]}` }), ` ${labelOf(o)} ${counts[o.key] || 0}`)),
    h('li', h('span.swatch.hollow'), ` ${t('manualPosition')}`));
  if (mine !== routeSeq) return;
  show(h('section.card#map-screen',
    h('h2', t('mapTitle'), ' ', h('span.muted', String(got.year))),
    h('div.row', pick('township', townships, township), pick('grid', grids, grid, t('allGrids'))),
    got.points.length ? mapSvg(got.points, (g) => areaName(g) || t('noGrid'), outcomeLabel) : h('p.muted#map-empty', t('mapEmpty')),
    legend,
    h('p.muted', t('mapHint', got.points.length)),
  ));
}

// ---- routing --------------------------------------------------------------------

// Screens load asynchronously; one that finishes after the route changed
// again must not draw over the newer screen.
let routeSeq = 0;

async function route() {
  routeSeq += 1;
  if (!appState || appState.state !== 'open') return render();
  renderChrome();
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  try {
    switch (parts[0]) {
      case 'records': return await recordsScreen(KINDS.includes(parts[1]) ? parts[1] : 'entity');
      case 'record': return await recordScreen(parts[1]);
      case 'new': return await formScreen(parts[1], null, params);
      case 'edit': {
        const got = await call('get', { id: parts[1] });
        return await formScreen(got.record.kind, parts[1], params);
      }
      case 'card': return cardScreen();
      case 'verify': return verifyScreen();
      case 'door': return doorScreen();
      case 'map': return await mapScreen(params);
      case 'applications': return await applicationsScreen();
      case 'poster': return await posterScreen(parts[1]);
      default: return await homeScreen();
    }
  } catch (e) {
    show(errorBox(asApiError(e)));
  }
}

async function refreshStatus() {
  try {
    appState = await backend.call('status');
  } catch (e) {
    appState = { state: 'error', error: asApiError(e) };
  }
}

function render() {
  renderChrome();
  if (!appState) return show(h('p.muted', t('loading')));
  switch (appState.state) {
    case 'new': return setupScreen();
    case 'locked': return unlockScreen();
    case 'open': return route();
    default: return show(errorBox(appState.error || asApiError('unknown state')));
  }
}

function setLang(next) {
  lang = next;
  try { window.localStorage.setItem(LANG_KEY, lang); } catch { /* not kept; fine */ }
  render();
  pollSync();
}

function start() {
  render();
  pollSync();
}

async function boot() {
  document.getElementById('lang-toggle').addEventListener('click', () => setLang(lang === 'zh' ? 'en' : 'zh'));
  document.getElementById('lock').addEventListener('click', async () => {
    appState = await call('lock');
    lastCard = null;
    start();
  });
  document.getElementById('sync').addEventListener('click', async () => {
    const before = Number(document.getElementById('sync').dataset.at || 0);
    syncNote(t('syncSyncing'));
    try { await call('sync_now'); } catch { /* the pill shows why */ }
    pollSync();
    // Say what the tap did, in words a finger can read (no hover).
    for (let i = 0; i < 60; i++) {
      await new Promise((done) => setTimeout(done, 500));
      let s;
      try { s = await backend.call('sync_status'); } catch { continue; }
      if (s.state === 'synced' && s.at_ms > before) return syncNote(t('syncResult', s.pushed || 0, s.pulled || 0));
      if (s.state === 'offline') return syncNote(t('syncOfflineHelp'));
      if (s.state === 'failed') return syncNote(`${t('syncFailed')}: ${L(s.message)}`);
      if (s.state === 'standalone') return syncNote(t('syncStandalone'));
    }
  });
  window.addEventListener('hashchange', route);
  await refreshStatus();
  start();
}

boot();
