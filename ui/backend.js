// The one backend interface every screen uses: `backend.call(cmd, args)`
// returns a promise of the command's JSON answer, or rejects with the stable
// error `{code, message: {zh, en}, issues?, detail?}`.
//
// Two implementations run the same Rust code (`field::App::call`):
// - inside the Tauri app, IPC: `invoke('call', {cmd, args})`;
// - in a browser, HTTP to `sanjian app-web` on loopback: `POST /api/<cmd>`.
// So every screen can be tested in Chromium as well as in the real app.

function asApiError(e) {
  if (e && typeof e.code === 'string' && e.message && typeof e.message.zh === 'string') return e;
  const detail = String(e && e.message ? e.message : e);
  return { code: 'BACKEND_ERROR', message: { zh: `后台出错：${detail}`, en: `Backend error: ${detail}` } };
}

function tauriBackend(invoke) {
  return {
    kind: 'tauri',
    call: (cmd, args) => invoke('call', { cmd, args: args ?? null }).catch((e) => { throw asApiError(e); }),
  };
}

function httpBackend(base) {
  return {
    kind: 'http',
    async call(cmd, args) {
      let response;
      try {
        response = await fetch(`${base}/api/${encodeURIComponent(cmd)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(args ?? null),
        });
      } catch (e) {
        throw {
          code: 'BACKEND_UNREACHABLE',
          message: { zh: '无法连接本机后台服务', en: 'The local backend cannot be reached' },
        };
      }
      let body;
      try {
        body = await response.json();
      } catch {
        throw asApiError(`HTTP ${response.status}`);
      }
      if (!response.ok) throw asApiError(body);
      return body;
    },
  };
}

export function makeBackend(w) {
  const invoke = w.__TAURI__ && w.__TAURI__.core && w.__TAURI__.core.invoke;
  return invoke ? tauriBackend(invoke) : httpBackend('');
}

export { asApiError };
