// DOM helpers. User text only ever becomes a Text node or an attribute value: nothing here parses
// HTML (no innerHTML anywhere in the client), so text such as <img src=x onerror=...> is shown,
// never run. The page's Content-Security-Policy forbids inline scripts and styles anyway.

// h('button', { class: 'x', 'data-action': 'vote' }, 'Vote'): attributes only (no properties, no
// listeners: the views use event delegation on data-action), children are nodes or text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' || k.startsWith('on')) throw new Error(`h(): attribute ${k} is not allowed`);
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const keyOf = (n) => (n.nodeType === Node.ELEMENT_NODE ? n.getAttribute('data-key') : null);

function sameKind(a, b) {
  return a.nodeType === b.nodeType && a.nodeName === b.nodeName && keyOf(a) === keyOf(b);
}

// Makes `from` look like `to` (a freshly built tree) while keeping the existing elements where
// they match: focus, caret, a half-typed input, an open <details> and a click in progress all
// survive a re-render. Children match by data-key when they have one, else by position and tag.
// Form controls keep what the user typed; an element with data-sync gets its value/checked
// property from `to` (state that comes from the server, such as a select of the idea's group).
export function morph(from, to) {
  if (from.nodeType === Node.TEXT_NODE) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return;
  }
  // data-sync: the server's value moved since the last render, so the control follows it; a
  // value the user is editing (not yet sent, or refused) otherwise stays.
  const sync = to.hasAttribute('data-sync');
  const isSelect = from.nodeName === 'SELECT';
  const checkedMoved = sync && from.type === 'checkbox' && from.hasAttribute('checked') !== to.hasAttribute('checked');
  const valueMoved = sync && !isSelect && from.type !== 'checkbox' && from.getAttribute('value') !== to.getAttribute('value');
  const selectedOf = (el) => el.querySelector('option[selected]')?.getAttribute('value') ?? null;
  const oldSelected = sync && isSelect ? selectedOf(from) : null;
  const newSelected = sync && isSelect ? selectedOf(to) : null;
  const keepOpen = from.nodeName === 'DETAILS'; // <details> open state belongs to the user.
  for (const a of [...from.attributes]) {
    if (!to.hasAttribute(a.name) && !(keepOpen && a.name === 'open')) from.removeAttribute(a.name);
  }
  for (const a of [...to.attributes]) {
    if (keepOpen && a.name === 'open') continue;
    if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
  }
  if (checkedMoved) from.checked = to.hasAttribute('checked');
  if (valueMoved) from.value = to.getAttribute('value') ?? '';
  if (from.nodeName === 'TEXTAREA') return; // Its text child is its default value: keep the user's.
  morphChildren(from, to);
  if (sync && isSelect && newSelected !== null && (oldSelected !== newSelected || from.value !== newSelected) && document.activeElement !== from) {
    from.value = newSelected;
  }
}

function morphChildren(from, to) {
  const wanted = [...to.childNodes];
  const keyed = new Map();
  for (const c of from.childNodes) {
    const k = keyOf(c);
    if (k !== null) keyed.set(k, c);
  }
  for (let i = 0; i < wanted.length; i += 1) {
    const w = wanted[i];
    const cur = from.childNodes[i];
    const k = keyOf(w);
    let match = null;
    if (k !== null) {
      const old = keyed.get(k);
      if (old && sameKind(old, w)) match = old;
    } else if (cur && sameKind(cur, w)) {
      match = cur;
    }
    if (match) {
      if (match !== cur) from.insertBefore(match, cur ?? null);
      morph(match, w);
    } else {
      from.insertBefore(w, cur ?? null);
    }
  }
  while (from.childNodes.length > wanted.length) from.lastChild.remove();
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}
