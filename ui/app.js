// The field app's first screen: checks a resident ID number and a Unified
// Social Credit Code while they are typed.
//
// The screen reaches the backend only through the `backend` object, whose
// two methods return a promise of the command's result or reject with the
// stable error `{code, message: {zh, en}}`:
//   backend.validateId(id)             -> {id, birth_date, sex, sex_label}
//   backend.validateCreditCode(code)   -> the normalised code
// Inside the Tauri app it invokes the Rust commands; anywhere else it is
// "unavailable" (a later issue adds an HTTP implementation with the same
// methods, so these screens can also be tested in a browser).

const STRINGS = {
  zh: {
    appTitle: '三建 · 工会组建登记',
    langToggle: 'English',
    idHeading: '身份证号校验',
    idLabel: '公民身份号码',
    idPlaceholder: '18位身份证号',
    creditHeading: '统一社会信用代码校验',
    creditLabel: '统一社会信用代码',
    creditPlaceholder: '18位代码，见营业执照',
    valid: '有效',
    birthDate: '出生日期',
    sex: '性别',
    backendUnavailable: '后台不可用：请在三建应用中打开本页面，此处无法校验。',
  },
  en: {
    appTitle: 'Sanjian · Union-building registry',
    langToggle: '中文',
    idHeading: 'Resident ID check',
    idLabel: 'Resident ID number',
    idPlaceholder: '18-character ID number',
    creditHeading: 'Unified Social Credit Code check',
    creditLabel: 'Unified Social Credit Code',
    creditPlaceholder: '18 characters, on the business licence',
    valid: 'Valid',
    birthDate: 'Birth date',
    sex: 'Sex',
    backendUnavailable: 'Backend unavailable: open this screen in the Sanjian app; nothing can be checked here.',
  },
};

const LANG_KEY = 'sanjian.lang';

// ---- backend -------------------------------------------------------------

const UNAVAILABLE = {
  code: 'BACKEND_UNAVAILABLE',
  message: { zh: STRINGS.zh.backendUnavailable, en: STRINGS.en.backendUnavailable },
};

// Anything that is not already {code, message: {zh, en}} (an unknown command,
// a panicking handler) becomes BACKEND_ERROR carrying its text.
function asApiError(e) {
  if (e && typeof e.code === 'string' && e.message && typeof e.message.zh === 'string') return e;
  const detail = String(e && e.message ? e.message : e);
  return { code: 'BACKEND_ERROR', message: { zh: `后台出错：${detail}`, en: `Backend error: ${detail}` } };
}

function tauriBackend(invoke) {
  const call = (cmd, args) => invoke(cmd, args).catch((e) => { throw asApiError(e); });
  return {
    available: true,
    validateId: (id) => call('validate_id', { id }),
    validateCreditCode: (code) => call('validate_credit_code', { code }),
  };
}

function unavailableBackend() {
  const refuse = () => Promise.reject(UNAVAILABLE);
  return { available: false, validateId: refuse, validateCreditCode: refuse };
}

function makeBackend(w) {
  const invoke = w.__TAURI__ && w.__TAURI__.core && w.__TAURI__.core.invoke;
  return invoke ? tauriBackend(invoke) : unavailableBackend();
}

const backend = makeBackend(window);

// ---- screen --------------------------------------------------------------

let lang = loadLang();

function loadLang() {
  try {
    const saved = window.localStorage.getItem(LANG_KEY);
    if (saved in STRINGS) return saved;
  } catch { /* storage may be disabled; fall back to Chinese */ }
  return 'zh';
}

function t(key) {
  return STRINGS[lang][key];
}

// One entry per checked field: how to ask the backend and how to show a
// valid answer. `shown` is the latest answer, kept so a language switch can
// redraw it; `seq` discards answers that arrive after newer input.
const FIELDS = [
  {
    input: 'resident-id',
    output: 'resident-id-result',
    check: (value) => backend.validateId(value),
    describe: (info) => [
      [null, info.id],
      [t('birthDate'), info.birth_date],
      [t('sex'), info.sex_label[lang]],
    ],
    seq: 0,
    shown: null,
  },
  {
    input: 'credit-code',
    output: 'credit-code-result',
    check: (value) => backend.validateCreditCode(value),
    describe: (code) => [[null, code]],
    seq: 0,
    shown: null,
  },
];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A ✓ or ✗ so that the result never relies on colour alone; a bare ✗ is
// hidden from screen readers, which read the message after it.
function verdict(mark, text) {
  const node = el('strong', 'verdict', text ? `${mark} ${text}` : mark);
  if (!text) node.setAttribute('aria-hidden', 'true');
  return node;
}

function renderField(field) {
  const input = document.getElementById(field.input);
  const out = document.getElementById(field.output);
  const shown = field.shown;
  out.replaceChildren();
  if (!shown) {
    out.dataset.state = '';
    delete out.dataset.code;
    input.removeAttribute('aria-invalid');
    return;
  }
  if (shown.ok) {
    out.dataset.state = 'valid';
    delete out.dataset.code;
    input.setAttribute('aria-invalid', 'false');
    out.append(verdict('✓', t('valid')));
    for (const [label, value] of field.describe(shown.value)) {
      const part = el('span', 'fact');
      if (label) part.append(el('span', 'fact-label', label));
      part.append(el('span', 'fact-value', value));
      out.append(part);
    }
  } else {
    out.dataset.state = 'invalid';
    out.dataset.code = shown.error.code;
    input.setAttribute('aria-invalid', 'true');
    out.append(verdict('✗'), el('span', 'message', shown.error.message[lang]));
  }
}

async function onInput(field, value) {
  const seq = ++field.seq;
  if (value.trim() === '') {
    field.shown = null;
    renderField(field);
    return;
  }
  let shown;
  try {
    shown = { ok: true, value: await field.check(value) };
  } catch (e) {
    shown = { ok: false, error: asApiError(e) };
  }
  if (seq !== field.seq) return; // newer input is already being checked
  field.shown = shown;
  renderField(field);
}

function renderStatic() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('appTitle');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = t('langToggle');
  toggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  const status = document.getElementById('backend-status');
  status.hidden = backend.available;
  status.textContent = backend.available ? '' : t('backendUnavailable');
}

function render() {
  renderStatic();
  FIELDS.forEach(renderField);
}

function setLang(next) {
  lang = next;
  try { window.localStorage.setItem(LANG_KEY, lang); } catch { /* not persisted; fine */ }
  render();
}

function start() {
  for (const field of FIELDS) {
    const input = document.getElementById(field.input);
    input.disabled = !backend.available;
    input.addEventListener('input', () => onInput(field, input.value));
  }
  document.getElementById('lang-toggle').addEventListener('click', () => setLang(lang === 'zh' ? 'en' : 'zh'));
  render();
}

start();
