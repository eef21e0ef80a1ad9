// Calls to the API with this browser tab's token. The API checks every call; a 401 ends the
// session here too, so an expired or foreign token always leads back to sign-in.
const KEY = 'scrapersky.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
  // Whether the token names the operator role (queue controls). Read from its payload only to
  // hide what the API would refuse; the API decides.
  isOperator: () => {
    try {
      const part = (sessionStorage.getItem(KEY) || '').split('.')[1] || '';
      const claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
      const roles = [].concat(claims.role || [], claims.roles || []);
      return roles.includes('operator');
    } catch (e) {
      return false;
    }
  },
};

let unauthorized = () => {};
export function onUnauthorized(handler) { unauthorized = handler; }

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const headers = { Authorization: 'Bearer ' + (token.get() || '') };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { error: 'network', detail: 'the server cannot be reached' });
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401) {
    unauthorized(data && data.detail);
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// "?a=1&b=2" from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) q.set(k, v);
  const s = q.toString();
  return s ? '?' + s : '';
}
