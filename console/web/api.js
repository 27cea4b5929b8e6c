// The console's only way to the server: its public API, with the user's
// token when there is one. The token lives in this module's memory and
// nowhere else (no localStorage, no cookie), as the console promises.

export const PKG = '/vnfpkgm/v1';
export const VIM = '/vim/v1';

let token = '';

export function signedIn() { return token !== ''; }
export function setToken(t) { token = (t || '').trim(); }

// ApiError carries the ProblemDetails of an error answer (SOL 013), or a
// made-up one for a network failure.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function headers(extra) {
  const h = new Headers(extra || {});
  if (token) h.set('Authorization', 'Bearer ' + token);
  return h;
}

async function problemOf(resp) {
  const ct = resp.headers.get('Content-Type') || '';
  if (ct.includes('json')) {
    try { return await resp.json(); } catch (e) { /* fall through */ }
  }
  const text = await resp.text().catch(() => '');
  return { status: resp.status, title: resp.statusText, detail: text.slice(0, 500) };
}

// request sends one API call and returns {status, headers, body}: body is
// parsed JSON for JSON answers, text otherwise, null for 204.
export async function request(method, path, opts = {}) {
  const h = headers(opts.headers);
  let body = opts.body;
  if (opts.json !== undefined) {
    h.set('Content-Type', opts.contentType || 'application/json');
    body = JSON.stringify(opts.json);
  }
  if (!h.has('Accept')) h.set('Accept', 'application/json');
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: `the server could not be reached (${e.message})` });
  }
  if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
  let out = null;
  if (resp.status !== 204) {
    const ct = resp.headers.get('Content-Type') || '';
    out = ct.includes('json') ? await resp.json() : await resp.text();
  }
  return { status: resp.status, headers: resp.headers, body: out };
}

// nextMarker reads the nextpage_opaque_marker of a Link rel="next" header
// (SOL 013 §5.4.2.3).
export function nextMarker(linkHeader) {
  if (!linkHeader) return '';
  for (const part of linkHeader.split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?next"?/);
    if (m) {
      const u = new URL(m[1], location.href);
      return u.searchParams.get('nextpage_opaque_marker') || '';
    }
  }
  return '';
}

// filterValue quotes a SOL 013 filter value when it holds a character
// that would end it (comma, closing parenthesis, quote), doubling quotes.
export function filterValue(v) {
  return /[,)'()]|^\s|\s$/.test(v) ? `'${v.replace(/'/g, "''")}'` : v;
}

// upload PUTs a package's content with progress events (fetch has no
// upload progress; XMLHttpRequest does). It streams the File from disk:
// nothing is read into memory.
export function upload(pkgId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${PKG}/vnf_packages/${encodeURIComponent(pkgId)}/package_content`);
    if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.setRequestHeader('Content-Type', /\.(zip|csar)$/i.test(file.name) ? 'application/zip' : 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.status); return; }
      let pd;
      try { pd = JSON.parse(xhr.responseText); } catch (e) { pd = { detail: xhr.responseText.slice(0, 500) }; }
      reject(new ApiError(xhr.status, pd));
    };
    xhr.onerror = () => reject(new ApiError(0, { title: 'Network error', detail: 'the upload was cut' }));
    xhr.send(file);
  });
}

// clientCredentialsToken asks a token endpoint for a token with the
// client credentials grant (RFC 6749 §4.4, client_secret_basic).
export async function clientCredentialsToken(tokenUrl, clientId, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+');
  const resp = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      'Authorization': 'Basic ' + btoa(enc(clientId) + ':' + enc(secret)),
    },
    body: 'grant_type=client_credentials',
    cache: 'no-store',
  });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok || !body.access_token) {
    throw new Error(body.error_description || body.error || `the token endpoint answered ${resp.status}`);
  }
  return body.access_token;
}
