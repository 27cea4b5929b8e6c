// A small DOM builder: every piece of data reaches the page as text nodes
// or attribute values, never as HTML, so a package cannot inject markup.

export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// table builds a table with a caption; rows are arrays of cells.
export function table(caption, head, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.length
        ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
        : h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, 'None')))));
}

export function errorBox(err) {
  const pd = err.problem || {};
  return h('div', { class: 'error-box', role: 'alert' },
    h('strong', {}, pd.title || (err.status ? `HTTP ${err.status}` : 'Error')),
    ' ', pd.detail || err.message);
}

export function say(text) {
  const s = document.getElementById('status');
  s.textContent = '';
  setTimeout(() => { s.textContent = text; }, 50);
}

export function humanBytes(n) {
  if (typeof n !== 'number') return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function badge(state) {
  return h('span', { class: 'badge state-' + String(state).toLowerCase() }, state);
}
