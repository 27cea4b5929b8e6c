// Draws one deployment flavour of a VNFD (the server's
// application/vnd.vnfpkgm.vnfd+json model) as an SVG diagram.
//
// Layout: a VNFD's topology is layered by kind before anything is
// computed (images feed storages and VDUs, VDUs bind connection points,
// connection points attach to virtual links, external CPs expose links),
// so the layers are fixed columns and only the order inside each column
// is left to choose. That order is found with the barycenter heuristic of
// layered graph drawing (sweeps that sort each column by the mean
// position of its neighbours in the column before it, then after it),
// which removes most edge crossings on graphs of this size (tens of
// nodes). A general layout library would spend its effort on the
// layering this domain already gives.

const SVGNS = 'http://www.w3.org/2000/svg';

export const KINDS = [
  { kind: 'image', label: 'Software image' },
  { kind: 'storage', label: 'Virtual storage' },
  { kind: 'vdu', label: 'VDU' },
  { kind: 'cp', label: 'Connection point' },
  { kind: 'vl', label: 'Virtual link' },
  { kind: 'extcp', label: 'External CP' },
];
const COLUMN = Object.fromEntries(KINDS.map((k, i) => [k.kind, i]));

// graphOf turns a flavour into nodes and edges. Every reference of the
// model becomes one edge; a reference to a node the flavour lacks is
// kept out (the server validated the VNFD, so this only guards drawing).
export function graphOf(flavour) {
  const nodes = new Map();
  const edges = [];
  const add = (kind, id, data) => {
    const key = kind + ':' + id;
    if (!nodes.has(key)) nodes.set(key, { key, kind, id, data });
    return key;
  };
  const link = (from, to, kind) => {
    if (nodes.has(from) && nodes.has(to)) edges.push({ from, to, kind });
  };
  const extOfCp = new Map();
  for (const x of flavour.extCps || []) {
    if (x.kind === 'VduCp') extOfCp.set(x.id, x);
  }
  for (const v of flavour.vdus || []) add('vdu', v.id, v);
  for (const s of flavour.storages || []) add('storage', s.id, s);
  for (const cp of flavour.vduCps || []) add('cp', cp.id, { ...cp, external: extOfCp.get(cp.id) || null });
  for (const vl of flavour.virtualLinks || []) add('vl', vl.id, vl);
  for (const x of flavour.extCps || []) {
    if (x.kind !== 'VduCp') add('extcp', x.id, x);
  }
  const imageKey = (img) => add('image', img.id, img);
  for (const v of flavour.vdus || []) {
    if (v.swImage) link(imageKey(v.swImage), 'vdu:' + v.id, 'image');
    for (const s of v.storages || []) link('storage:' + s, 'vdu:' + v.id, 'storage');
  }
  for (const s of flavour.storages || []) {
    if (s.swImage) link(imageKey(s.swImage), 'storage:' + s.id, 'image');
  }
  for (const cp of flavour.vduCps || []) {
    if (cp.virtualBinding) link('vdu:' + cp.virtualBinding, 'cp:' + cp.id, 'binding');
    if (cp.virtualLink) link('cp:' + cp.id, 'vl:' + cp.virtualLink, 'link');
  }
  for (const x of flavour.extCps || []) {
    if (x.kind !== 'VduCp' && x.internalVirtualLink) link('vl:' + x.internalVirtualLink, 'extcp:' + x.id, 'external');
  }
  return { nodes: [...nodes.values()], edges };
}

// order places the nodes of each column by barycenter sweeps.
function order(nodes, edges) {
  const cols = KINDS.map(() => []);
  for (const n of nodes) cols[COLUMN[n.kind]].push(n);
  for (const c of cols) c.sort((a, b) => a.id.localeCompare(b.id));
  const pos = new Map();
  const index = () => cols.forEach((c) => c.forEach((n, i) => pos.set(n.key, i)));
  index();
  const neighbours = new Map(nodes.map((n) => [n.key, []]));
  for (const e of edges) {
    neighbours.get(e.from).push(e.to);
    neighbours.get(e.to).push(e.from);
  }
  const sweep = (ci, side) => {
    const col = cols[ci];
    const bary = new Map();
    for (const n of col) {
      const ps = neighbours.get(n.key).filter((k) => COLUMN[k.split(':')[0]] === ci + side).map((k) => pos.get(k));
      bary.set(n.key, ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : pos.get(n.key));
    }
    col.sort((a, b) => bary.get(a.key) - bary.get(b.key) || a.id.localeCompare(b.id));
    col.forEach((n, i) => pos.set(n.key, i));
  };
  for (let round = 0; round < 4; round++) {
    for (let c = 1; c < cols.length; c++) sweep(c, -1);
    for (let c = cols.length - 2; c >= 0; c--) sweep(c, +1);
  }
  return cols;
}

const NODE_W = 150;
const NODE_H = 40;
const COL_GAP = 70;
const ROW_GAP = 22;

function el(name, attrs = {}, text) {
  const e = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function shorten(s, n) { return s.length > n ? s.slice(0, n - 1) + '…' : s; }

// draw renders the flavour into a new <svg> and calls onSelect(node) when
// a node is clicked or chosen with the keyboard (Enter or Space).
export function draw(flavour, onSelect) {
  const { nodes, edges } = graphOf(flavour);
  const cols = order(nodes, edges);
  const used = cols.map((c, i) => (c.length ? i : -1)).filter((i) => i >= 0);
  const x = new Map(used.map((ci, i) => [ci, 20 + i * (NODE_W + COL_GAP)]));
  const tallest = Math.max(1, ...cols.map((c) => c.length));
  const height = 50 + tallest * (NODE_H + ROW_GAP);
  const width = 40 + used.length * (NODE_W + COL_GAP) - COL_GAP;
  const at = new Map();
  cols.forEach((col, ci) => {
    const top = 40 + ((tallest - col.length) * (NODE_H + ROW_GAP)) / 2;
    col.forEach((n, i) => at.set(n.key, { x: x.get(ci), y: top + i * (NODE_H + ROW_GAP) }));
  });
  const svg = el('svg', {
    viewBox: `0 0 ${Math.max(width, 200)} ${height}`, class: 'vnfd-graph', role: 'group',
    'aria-label': `Topology of flavour ${flavour.flavourId}: ${nodes.length} nodes, ${edges.length} links`,
    'data-flavour': flavour.flavourId,
  });
  for (const ci of used) {
    svg.append(el('text', { x: x.get(ci) + NODE_W / 2, y: 20, class: 'col-title', 'text-anchor': 'middle' }, KINDS[ci].label + 's'));
  }
  const edgeLayer = el('g', { class: 'edges' });
  for (const e of edges) {
    const a = at.get(e.from), b = at.get(e.to);
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    edgeLayer.append(el('path', {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, class: 'edge edge-' + e.kind,
      'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind,
    }));
  }
  svg.append(edgeLayer);
  for (const n of nodes) {
    const p = at.get(n.key);
    const external = n.kind === 'extcp' || (n.kind === 'cp' && n.data.external);
    const g = el('g', {
      class: 'node node-' + n.kind + (external ? ' external' : ''), transform: `translate(${p.x},${p.y})`,
      tabindex: '0', role: 'button', 'data-kind': n.kind, 'data-id': n.id,
      'aria-label': `${KINDS[COLUMN[n.kind]].label} ${n.id}${external ? ' (external)' : ''}`,
    });
    g.append(el('rect', { width: NODE_W, height: NODE_H, rx: n.kind === 'cp' || n.kind === 'extcp' ? 20 : 6 }));
    const label = n.kind === 'image' ? n.data.name || n.id : n.id;
    g.append(el('text', { x: NODE_W / 2, y: NODE_H / 2 + 5, 'text-anchor': 'middle' }, shorten(label, 20)));
    g.append(el('title', {}, `${KINDS[COLUMN[n.kind]].label}: ${label}`));
    const select = () => {
      svg.querySelectorAll('.node.selected').forEach((s) => s.classList.remove('selected'));
      g.classList.add('selected');
      onSelect(n);
    };
    g.addEventListener('click', select);
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(); }
    });
    svg.append(g);
  }
  return svg;
}
