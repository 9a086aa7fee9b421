// @ts-check
// The one way a front end calls the county: an operation by name, its
// request and its answer typed by the declarations generated from the Rust
// DTOs (county-api.d.ts), its method and path from the generated route
// table (county-routes.js), its refusals' words from the generated
// catalogue (codes.js, every crate's codes). `tsc` checks every caller (scripts/test.sh).
import { routes } from './county-routes.js';
import { codes } from './codes.js';

/** @typedef {import('./county-api').CountyOperations} Ops */

/**
 * A refusal, as every county answer gives it: a stable code and a message
 * in Chinese and English.
 * @typedef {{ code: string, message: { zh: string, en: string } }} CountyError
 */

/**
 * Runs a county operation. Path fields (`{id}`) are taken from the request;
 * a GET sends the rest as the query, a POST as a JSON body.
 * @template {keyof Ops} K
 * @param {K} name
 * @param {Ops[K]['request']} request
 * @param {{ token?: string | null, base?: string }} [options]
 * @returns {Promise<Ops[K]['response']>}
 */
export async function countyCall(name, request, options = {}) {
  const [method, pattern] = routes[name];
  /** @type {Record<string, unknown>} */
  const fields = { ...request };
  const path = pattern.replace(/\{(\w+)\}/g, (_, key) => {
    const value = fields[key];
    delete fields[key];
    return encodeURIComponent(String(value));
  });
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let url = `${options.base || ''}${path}`;
  /** @type {string | undefined} */
  let body;
  if (method === 'GET') {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) {
      if (value !== null && value !== undefined) query.set(key, String(value));
    }
    if (query.size) url += `?${query}`;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(fields);
  }
  const response = await fetch(url, { method, headers, body });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    // The server's own refusal; else the catalogue's words for its code
    // (a proxy may strip the body); else the bare status.
    const code = answer && typeof answer.code === 'string' ? answer.code : null;
    const known = code ? codes[code] : undefined;
    /** @type {CountyError} */
    const refusal = code && answer.message
      ? answer
      : known && code
        ? { code, message: { zh: known.zh, en: known.en } }
        : { code: `HTTP_${response.status}`, message: { zh: `服务器返回 ${response.status}`, en: `The server answered ${response.status}` } };
    throw refusal;
  }
  return answer;
}
