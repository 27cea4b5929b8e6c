// The console: a hash-routed page over the public API (api.js). Each view
// renders into <main> from what the API answers; nothing is cached
// between views except the files this page uploaded (to show the lines of
// their onboarding problems).
import { PKG, VIM, ApiError, request, nextMarker, filterValue, upload, setToken, signedIn, clientCredentialsToken } from './api.js';
import { h, table, errorBox, say, humanBytes, badge } from './dom.js';
import { draw, KINDS } from './graph.js';
import { readMember } from './zip.js';

export const VNFD_MODEL = 'application/vnd.vnfpkgm.vnfd+json';
const ONBOARDING = ['CREATED', 'UPLOADING', 'PROCESSING', 'ONBOARDED', 'ERROR'];
const OPERATIONAL = ['ENABLED', 'DISABLED'];
const USAGE = ['IN_USE', 'NOT_IN_USE'];

// uploadedFiles keeps the File of each package uploaded from this page.
const uploadedFiles = new Map();
// polling is the timer of a view that follows a package's state.
let polling = null;

const main = () => document.getElementById('main');

function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes.filter(Boolean));
}

function pkgUrl(id, rest = '') { return `${PKG}/vnf_packages/${encodeURIComponent(id)}${rest}`; }
function link(hash, text) { return h('a', { href: hash }, text); }
function artifactUrl(id, path) { return pkgUrl(id, '/artifacts/' + path.split('/').map(encodeURIComponent).join('/')); }

// ---- routing ----

function route() {
  clearTimeout(polling);
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const q = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll('nav a').forEach((a) => {
    if (a.dataset.section === (parts[0] || 'packages')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const views = {
    packages: () => (parts[1] ? (parts[2] === 'file' ? fileView(parts[1], q) : packageView(parts[1])) : listView(q)),
    upload: () => uploadView(q),
    vims: () => (parts[1] ? vimView(parts[1]) : vimsView()),
    subscriptions: () => subscriptionsView(),
  };
  const view = views[parts[0] || 'packages'] || views.packages;
  view().catch((e) => show(h('h1', {}, 'Error'), errorBox(e)));
}

// ---- package list ----

function select(id, label, values, current) {
  return [h('label', { for: id }, label),
    h('select', { id, name: id },
      h('option', { value: '' }, 'any'),
      values.map((v) => h('option', { value: v, selected: v === current }, v)))];
}

function filterOf(q) {
  const parts = [];
  const eq = (attr, v) => { if (v) parts.push(`(eq,${attr},${filterValue(v)})`); };
  eq('vnfProvider', q.get('provider'));
  eq('vnfProductName', q.get('product'));
  eq('onboardingState', q.get('onboarding'));
  eq('operationalState', q.get('operational'));
  eq('usageState', q.get('usage'));
  if (q.get('text')) parts.push(`(cont,vnfProductName,${filterValue(q.get('text'))})`);
  return parts.join(';');
}

async function listView(q) {
  const form = h('form', { class: 'facets', role: 'search', 'aria-label': 'Filter packages' },
    h('label', { for: 'f-text' }, 'Product name contains'),
    h('input', { id: 'f-text', name: 'text', value: q.get('text') || '' }),
    h('label', { for: 'f-provider' }, 'Provider'),
    h('input', { id: 'f-provider', name: 'provider', value: q.get('provider') || '' }),
    h('label', { for: 'f-product' }, 'Product'),
    h('input', { id: 'f-product', name: 'product', value: q.get('product') || '' }),
    select('f-onboarding', 'Onboarding state', ONBOARDING, q.get('onboarding')),
    select('f-operational', 'Operational state', OPERATIONAL, q.get('operational')),
    select('f-usage', 'Usage state', USAGE, q.get('usage')),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of new FormData(form)) {
      const key = k.replace(/^f-/, '');
      if (v) next.set(key, v);
    }
    location.hash = '#/packages?' + next.toString();
  });
  const filter = filterOf(q);
  const params = new URLSearchParams();
  if (filter) params.set('filter', filter);
  if (q.get('marker')) params.set('nextpage_opaque_marker', q.get('marker'));
  show(h('h1', {}, 'Packages'), form, h('p', { class: 'loading' }, 'Loading…'));
  let resp;
  try {
    resp = await request('GET', `${PKG}/vnf_packages?${params}`);
  } catch (e) {
    show(h('h1', {}, 'Packages'), form, errorBox(e));
    return;
  }
  const rows = resp.body.map((p) => [
    link(`#/packages/${encodeURIComponent(p.id)}`, p.vnfProductName || p.id),
    p.vnfProvider || '', p.vnfSoftwareVersion || '', p.vnfdVersion || '',
    badge(p.onboardingState), badge(p.operationalState), badge(p.usageState)]);
  const marker = nextMarker(resp.headers.get('Link'));
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' },
    q.get('marker') ? link('#/packages?' + withoutMarker(q), 'First page') : null,
    marker ? link('#/packages?' + withMarker(q, marker), 'Next page') : null);
  show(h('h1', {}, 'Packages'), form,
    h('p', { class: 'summary' }, `${resp.body.length} package${resp.body.length === 1 ? '' : 's'} on this page`, filter ? ` matching ${filter}` : ''),
    table('VNF packages', ['Product', 'Provider', 'Software version', 'VNFD version', 'Onboarding', 'Operational', 'Usage'], rows),
    pager);
  say(`${resp.body.length} packages listed`);
}

function withoutMarker(q) { const c = new URLSearchParams(q); c.delete('marker'); return c.toString(); }
function withMarker(q, m) { const c = new URLSearchParams(q); c.set('marker', m); return c.toString(); }

// ---- one package ----

const OWN_SECTIONS = new Set(['softwareImages', 'additionalArtifacts', 'onboardingFailureDetails', '_links', 'userDefinedData']);

function fieldValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
  return String(v);
}

function actions(p, reload) {
  const out = [];
  // after runs once the action succeeded: the page shows the new state
  // (a deleted package has none: its action navigates away instead).
  const act = (label, fn, after = reload) => out.push(h('button', { type: 'button', 'data-action': label.toLowerCase(), onclick: async (ev) => {
    ev.target.disabled = true;
    try { await fn(); say(label + ': done'); after(); } catch (e) { ev.target.disabled = false; showInlineError(e); }
  } }, label));
  const patch = (state) => request('PATCH', pkgUrl(p.id), { json: { operationalState: state }, contentType: 'application/merge-patch+json' });
  if (p.onboardingState === 'ONBOARDED') {
    if (p.operationalState === 'ENABLED') act('Disable', () => patch('DISABLED'));
    else act('Enable', () => patch('ENABLED'));
  }
  const deletable = p.onboardingState !== 'ONBOARDED' || (p.operationalState === 'DISABLED' && p.usageState === 'NOT_IN_USE');
  if (deletable && !['UPLOADING', 'PROCESSING'].includes(p.onboardingState)) {
    act('Delete', async () => {
      if (!confirm(`Delete package ${p.vnfProductName || p.id}? Its content is removed.`)) throw new Error('not deleted');
      await request('DELETE', pkgUrl(p.id));
    }, () => { location.hash = '#/packages'; });
  }
  if (p.onboardingState === 'CREATED') out.push(link(`#/upload?id=${encodeURIComponent(p.id)}`, 'Upload content'));
  return out;
}

function showInlineError(e) {
  if (e.message === 'not deleted') return;
  const box = document.getElementById('action-error');
  if (box) box.replaceChildren(errorBox(e));
}

function downloads(p) {
  if (p.onboardingState !== 'ONBOARDED') return null;
  const dl = (label, url) => h('li', {}, h('a', { href: url, download: '' }, label), ' ', h('code', {}, url));
  return h('section', { 'aria-labelledby': 'dl-title' },
    h('h2', { id: 'dl-title' }, 'Downloads'),
    h('p', { class: 'hint' }, 'These URLs serve HTTP Range requests (resumable, parallel downloads). With authentication on, fetch them with your token: ',
      h('code', {}, 'curl -C - -H "Authorization: Bearer $TOKEN" -o FILE URL'), ' or ', h('code', {}, 'vnfpkgm package download'), '.'),
    h('ul', {},
      dl('Package content', pkgUrl(p.id, '/package_content')),
      dl('VNFD (zip)', pkgUrl(p.id, '/vnfd')),
      dl('Manifest', pkgUrl(p.id, '/manifest'))));
}

export function problemsTable(pkgId, details) {
  // Errors first (what made the package fail), in the server's order.
  const rank = { error: 0, warning: 1 };
  const problems = [...((details && details.problems) || [])]
    .map((pr, i) => [pr, i]).sort(([a, i], [b, j]) => ((rank[a.severity] ?? 2) - (rank[b.severity] ?? 2)) || i - j).map(([pr]) => pr);
  const rows = problems.map((pr) => {
    let where = pr.file || '(archive)';
    if (pr.line) where += `:${pr.line}` + (pr.column ? `:${pr.column}` : '');
    const loc = pr.file
      ? link(`#/packages/${encodeURIComponent(pkgId)}/file?path=${encodeURIComponent(pr.file)}&line=${pr.line || 0}`, where)
      : where;
    return [h('span', { class: 'sev sev-' + pr.severity }, pr.severity), h('code', {}, pr.code), loc, pr.message];
  });
  return h('section', { class: 'problems', 'aria-labelledby': 'problems-title' },
    h('h2', { id: 'problems-title' }, 'Onboarding problems'),
    details && details.detail ? h('p', {}, details.detail) : null,
    table(`${problems.length} problem${problems.length === 1 ? '' : 's'}`, ['Severity', 'Code', 'Where', 'Message'], rows));
}

async function packageView(id) {
  const { body: p } = await request('GET', pkgUrl(id));
  const reload = () => packageView(id).catch((e) => show(errorBox(e)));
  const fields = Object.entries(p).filter(([k]) => !OWN_SECTIONS.has(k));
  const info = h('section', { 'aria-labelledby': 'info-title' },
    h('h2', { id: 'info-title' }, 'VnfPkgInfo'),
    h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, fieldValue(v))])),
    p.userDefinedData ? [h('h3', {}, 'userDefinedData'), fieldValue(p.userDefinedData)] : null);
  const images = table('Software images', ['Id', 'Name', 'Version', 'Checksum', 'Container', 'Disk', 'Size', 'Image'],
    (p.softwareImages || []).map((i) => [i.id, i.name, i.version,
      h('code', { title: i.checksum && i.checksum.hash }, i.checksum ? `${i.checksum.algorithm}:${i.checksum.hash.slice(0, 12)}…` : ''),
      i.containerFormat, i.diskFormat, humanBytes(i.size),
      i.imagePath && p.onboardingState === 'ONBOARDED' ? h('a', { href: artifactUrl(p.id, i.imagePath), download: '' }, i.imagePath) : (i.imagePath || '')]));
  const artifacts = table('Additional artifacts', ['Path', 'Checksum', 'Set'],
    (p.additionalArtifacts || []).map((a) => [
      p.onboardingState === 'ONBOARDED' ? h('a', { href: artifactUrl(p.id, a.artifactPath), download: '' }, a.artifactPath) : a.artifactPath,
      a.checksum ? h('code', { title: a.checksum.hash }, `${a.checksum.algorithm}:${a.checksum.hash.slice(0, 12)}…`) : '',
      a.nonManoArtifactSetId || '']));
  const graph = h('section', { id: 'vnfd', 'aria-labelledby': 'vnfd-title' }, h('h2', { id: 'vnfd-title' }, 'VNFD'));
  // What an operator looks for first: what is wrong, then what the VNF is.
  const sections = [
    h('h1', {}, p.vnfProductName || 'Package ' + p.id),
    h('p', { class: 'states' }, 'Onboarding ', badge(p.onboardingState), ' Operational ', badge(p.operationalState), ' Usage ', badge(p.usageState)),
    h('div', { class: 'actions' }, actions(p, reload)),
    h('div', { id: 'action-error' }),
    p.onboardingFailureDetails ? problemsTable(p.id, p.onboardingFailureDetails) : null,
    graph, images, artifacts, downloads(p), info,
  ];
  show(...sections);
  if (p.onboardingState === 'ONBOARDED') await vnfdSection(p, graph);
  else graph.append(h('p', { class: 'hint' }, 'The VNFD is drawn once the package is ONBOARDED.'));
  if (['UPLOADING', 'PROCESSING'].includes(p.onboardingState)) polling = setTimeout(reload, 1000);
}

async function vnfdSection(p, container) {
  let model;
  try {
    ({ body: model } = await request('GET', pkgUrl(p.id, '/vnfd'), { headers: { Accept: VNFD_MODEL } }));
  } catch (e) {
    container.append(errorBox(e));
    return;
  }
  const flavours = model.flavours || [];
  if (!flavours.length) {
    container.append(h('p', {}, 'This VNFD has no deployment flavour.'));
    return;
  }
  const picker = h('select', { id: 'flavour' }, flavours.map((f, i) => h('option', { value: i }, f.flavourId)));
  const canvas = h('div', { class: 'graph-wrap' });
  const details = h('aside', { class: 'node-details', 'aria-live': 'polite', 'aria-labelledby': 'node-title' },
    h('h3', { id: 'node-title' }, 'Node'), h('p', { class: 'hint' }, 'Select a node to see its properties.'));
  const policies = h('div', { class: 'policies' });
  const render = () => {
    const f = flavours[Number(picker.value)];
    canvas.replaceChildren(draw(f, (n) => {
      details.replaceChildren(h('h3', { id: 'node-title' }, `${KINDS.find((k) => k.kind === n.kind).label} ${n.id}`),
        h('pre', { class: 'json' }, JSON.stringify(n.data, null, 2)));
    }));
    policies.replaceChildren(
      table('Instantiation levels' + (f.defaultLevel ? ` (default ${f.defaultLevel})` : ''), ['Level', 'Description', 'VDU instances', 'Scale levels'],
        (f.instantiationLevels || []).map((l) => [l.id, l.description || '',
          Object.entries(l.vduInstances || {}).map(([k, v]) => `${k}: ${v}`).join(', '),
          Object.entries(l.scaleInfo || {}).map(([k, v]) => `${k}: ${v}`).join(', ')])),
      table('Scaling aspects', ['Aspect', 'Name', 'Max scale level', 'Step deltas'],
        (f.scalingAspects || []).map((a) => [a.id, a.name || '', String(a.maxScaleLevel), (a.stepDeltas || []).join(', ')])));
  };
  picker.addEventListener('change', render);
  container.append(
    h('p', {}, `${model.provider} ${model.productName} ${model.softwareVersion} (VNFD ${model.descriptorId}, version ${model.descriptorVersion})`),
    h('label', { for: 'flavour' }, 'Deployment flavour'), picker,
    h('div', { class: 'graph-layout' }, canvas, details),
    h('p', { class: 'legend' }, KINDS.map((k) => h('span', { class: 'legend-item node-' + k.kind }, k.label))),
    policies);
  render();
}

// ---- a file of a package, one line highlighted ----

async function fileView(id, q) {
  const path = q.get('path') || '';
  const line = Number(q.get('line') || 0);
  const back = link(`#/packages/${encodeURIComponent(id)}`, 'Back to the package');
  show(h('h1', {}, path), back, h('p', { class: 'loading' }, 'Loading…'));
  const { body: p } = await request('GET', pkgUrl(id));
  let text;
  try {
    if (p.onboardingState === 'ONBOARDED') {
      ({ body: text } = await request('GET', artifactUrl(id, path), { headers: { Accept: '*/*' } }));
    } else if (uploadedFiles.has(id)) {
      text = await readMember(uploadedFiles.get(id), path);
    } else {
      show(h('h1', {}, path), back, h('p', {},
        `The package is ${p.onboardingState}: the API serves its files only once it is ONBOARDED (SOL 005). `,
        'Files uploaded from this page are read from your browser; open the package file with an editor at the line given.'));
      return;
    }
  } catch (e) {
    show(h('h1', {}, path), back, errorBox(e));
    return;
  }
  const lines = String(text).split('\n');
  const list = h('ol', { class: 'source', 'aria-label': path },
    lines.map((l, i) => h('li', i + 1 === line ? { class: 'highlight', id: 'hl', 'aria-current': 'true' } : {}, h('code', {}, l || ' '))));
  show(h('h1', {}, path + (line ? `:${line}` : '')), back, list);
  const hl = document.getElementById('hl');
  if (hl) hl.scrollIntoView({ block: 'center' });
}

// ---- upload ----

async function followState(id, box) {
  const step = async () => {
    let p;
    try {
      ({ body: p } = await request('GET', pkgUrl(id)));
    } catch (e) {
      box.replaceChildren(errorBox(e));
      return;
    }
    const done = p.onboardingState === 'ONBOARDED' || p.onboardingState === 'ERROR' ||
      (p.onboardingState === 'CREATED' && p.onboardingFailureDetails);
    box.replaceChildren(h('p', { class: 'onboarding-state' }, 'Onboarding state: ', badge(p.onboardingState)),
      done ? link(`#/packages/${encodeURIComponent(id)}`, 'Open the package') : null,
      p.onboardingFailureDetails ? problemsTable(id, p.onboardingFailureDetails) : null);
    if (done) say('Onboarding ended: ' + p.onboardingState);
    else polling = setTimeout(step, 500);
  };
  await step();
}

async function uploadView(q) {
  const existing = q.get('id');
  const progress = h('progress', { id: 'upload-progress', max: 100, value: 0 });
  const progressText = h('span', { id: 'upload-progress-text' }, '');
  const stateBox = h('div', { id: 'upload-state', 'aria-live': 'polite' });
  const errorArea = h('div', {});
  const fileInput = h('input', { id: 'upload-file', type: 'file', accept: '.zip,.csar,.tar,.tgz,.gz,application/zip' });
  const start = async (file) => {
    errorArea.replaceChildren();
    try {
      const id = existing || (await request('POST', `${PKG}/vnf_packages`, { json: {} })).body.id;
      uploadedFiles.set(id, file);
      say(`Uploading ${file.name}`);
      await upload(id, file, (loaded, total) => {
        progress.value = Math.floor((loaded / total) * 100);
        progressText.textContent = `${humanBytes(loaded)} of ${humanBytes(total)}`;
      });
      progress.value = 100;
      await followState(id, stateBox);
    } catch (e) {
      errorArea.replaceChildren(errorBox(e));
    }
  };
  fileInput.addEventListener('change', () => { if (fileInput.files[0]) start(fileInput.files[0]); });
  const drop = h('div', { class: 'dropzone', id: 'dropzone' },
    h('p', {}, 'Drop a CSAR here, or choose one: '),
    h('label', { for: 'upload-file' }, 'Package file'), fileInput);
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files[0]) start(ev.dataTransfer.files[0]);
  });
  const uriForm = h('form', { class: 'uri-form' },
    h('label', { for: 'upload-uri' }, 'Or fetch it from a URL'),
    h('input', { id: 'upload-uri', type: 'url', required: true, placeholder: 'https://…' }),
    h('button', { type: 'submit' }, 'Fetch'));
  uriForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    errorArea.replaceChildren();
    try {
      const id = existing || (await request('POST', `${PKG}/vnf_packages`, { json: {} })).body.id;
      await request('POST', pkgUrl(id, '/package_content/upload_from_uri'),
        { json: { addressInformation: document.getElementById('upload-uri').value } });
      await followState(id, stateBox);
    } catch (e) {
      errorArea.replaceChildren(errorBox(e));
    }
  });
  show(h('h1', {}, existing ? 'Upload content of package ' + existing : 'Upload a package'),
    drop, uriForm,
    h('div', { class: 'progress' }, h('label', { for: 'upload-progress' }, 'Upload progress'), progress, progressText),
    errorArea, stateBox);
}

// ---- VIMs and compute ----

async function vimsView() {
  const { body: vims } = await request('GET', `${VIM}/vims`);
  show(h('h1', {}, 'VIMs'),
    table('Registered VIMs', ['Name', 'Type', 'Endpoint', 'Default'],
      vims.map((v) => [link(`#/vims/${encodeURIComponent(v.id)}`, v.name || v.id), v.type, v.endpoint || '', v.default ? 'yes' : ''])));
}

async function vimView(id) {
  const base = `${VIM}/vims/${encodeURIComponent(id)}`;
  const [{ body: v }, { body: images }, { body: computes }] = await Promise.all([
    request('GET', base), request('GET', base + '/software_images'), request('GET', base + '/compute')]);
  const consoleBox = h('pre', { id: 'console-text', class: 'console', 'aria-label': 'Console output' }, 'Choose "Show console" on a compute instance.');
  const showConsole = async (c) => {
    try {
      const { body } = await request('GET', `${base}/compute/${encodeURIComponent(c.id)}/console`, { headers: { Accept: 'text/plain' } });
      consoleBox.textContent = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
    } catch (e) {
      consoleBox.textContent = e.message;
    }
  };
  show(h('h1', {}, v.name || v.id),
    h('p', {}, `${v.type} VIM`, v.endpoint ? ` at ${v.endpoint}` : ''),
    h('h2', {}, 'Capabilities'),
    v.info ? h('ul', { class: 'caps' }, v.info.capabilities.map((c) => h('li', {}, c))) : h('p', { class: 'error' }, 'Unknown: ' + (v.infoError || 'the driver did not answer')),
    table('Software images', ['Package', 'Software image', 'VIM image', 'Orphaned'],
      images.map((i) => [link(`#/packages/${encodeURIComponent(i.vnfPkgId)}`, i.vnfPkgId), i.softwareImageId, i.vimImageId,
        i.leftInVim ? `yes, left in the VIM: ${i.leftInVimReason || ''}` : i.orphaned ? 'yes' : ''])),
    table('Compute', ['Name', 'VDU', 'State', 'Reason', 'Console'],
      computes.map((c) => [c.name || c.id, c.vduId, badge(c.state), c.stateReason || '',
        h('button', { type: 'button', onclick: () => showConsole(c) }, 'Show console')])),
    h('h2', {}, 'Console'), consoleBox);
}

// ---- subscriptions ----

async function subscriptionsView() {
  const form = h('form', { class: 'sub-form', 'aria-label': 'New subscription' },
    h('label', { for: 's-callback' }, 'Callback URI'),
    h('input', { id: 's-callback', type: 'url', required: true }),
    h('fieldset', {}, h('legend', {}, 'Notification types'),
      ['VnfPackageOnboardingNotification', 'VnfPackageChangeNotification'].map((t) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'types', value: t }), ' ' + t))),
    h('label', { for: 's-vnfd' }, 'VNFD id (optional)'),
    h('input', { id: 's-vnfd' }),
    h('label', { for: 's-provider' }, 'Provider (optional)'),
    h('input', { id: 's-provider' }),
    h('button', { type: 'submit' }, 'Subscribe'));
  const errorArea = h('div', {});
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const filter = {};
    const types = [...form.querySelectorAll('input[name=types]:checked')].map((i) => i.value);
    if (types.length) filter.notificationTypes = types;
    const vnfd = document.getElementById('s-vnfd').value.trim();
    if (vnfd) filter.vnfdId = [vnfd];
    const provider = document.getElementById('s-provider').value.trim();
    if (provider) filter.vnfProductsFromProviders = [{ vnfProvider: provider }];
    try {
      await request('POST', `${PKG}/subscriptions`, { json: { callbackUri: document.getElementById('s-callback').value, filter } });
      say('Subscription created');
      subscriptionsView();
    } catch (e) {
      errorArea.replaceChildren(errorBox(e));
    }
  });
  let list;
  try {
    ({ body: list } = await request('GET', `${PKG}/subscriptions`));
  } catch (e) {
    show(h('h1', {}, 'Subscriptions'), errorBox(e), form, errorArea);
    return;
  }
  show(h('h1', {}, 'Subscriptions'),
    table('Subscriptions', ['Id', 'Callback', 'Filter', ''],
      list.map((s) => [s.id, s.callbackUri, h('code', {}, JSON.stringify(s.filter || {})),
        h('button', { type: 'button', onclick: async () => {
          try { await request('DELETE', `${PKG}/subscriptions/${encodeURIComponent(s.id)}`); subscriptionsView(); } catch (e) { errorArea.replaceChildren(errorBox(e)); }
        } }, 'Delete')])),
    h('h2', {}, 'New subscription'), form, errorArea);
}

// ---- sign-in ----

function setupSignin() {
  const dialog = document.getElementById('signin');
  const button = document.getElementById('signin-button');
  const err = document.getElementById('signin-error');
  const label = () => { button.textContent = signedIn() ? 'Signed in' : 'Sign in'; };
  button.addEventListener('click', () => { err.textContent = ''; dialog.showModal(); });
  document.getElementById('signin-cancel').addEventListener('click', () => dialog.close());
  document.getElementById('signout').addEventListener('click', () => {
    setToken('');
    label();
    dialog.close();
    route();
  });
  document.getElementById('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      let t = f.token.value.trim();
      if (!t && f.clientId.value) t = await clientCredentialsToken(f.tokenUrl.value, f.clientId.value, f.clientSecret.value);
      if (!t) throw new Error('give a token, or a client id and secret');
      setToken(t);
      f.reset();
      label();
      dialog.close();
      route();
    } catch (e) {
      err.textContent = e.message;
    }
  });
}

window.addEventListener('hashchange', route);
setupSignin();
route();

export { ApiError };
