// Builds elements from text and attributes only: anything a journal says is put on the page as
// text (a text node), never parsed as markup, so `<script>` in a run's input shows as those characters.

/**
 * h('a', { href: '#/runs', class: 'x', onclick: handler }, 'text', childElement)
 * Attributes that are null, undefined or false are left out; `on…` attributes add listeners.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces what an element holds. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A link to a page of the dashboard; ids are encoded, so no run id can change where it leads. */
export function pageLink(path, ...children) {
  return h('a', { href: `#${path}` }, ...children);
}

export function runLink(runId) {
  return pageLink(`/runs/${encodeURIComponent(runId)}`, h('code', {}, runId));
}

export function statusBadge(status) {
  return h('span', { class: `status status-${status}`, 'data-status': status }, status);
}

export function notice(kind, ...children) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

/**
 * A run's tags (its request metadata) as chips reading name=value, as text. With `limit`, that
 * many at most and then how many more; null when the run has none.
 */
export function tagChips(tags, limit = Infinity) {
  const entries = Object.entries(tags ?? {});
  if (entries.length === 0) return null;
  const shown = entries.slice(0, limit);
  return h(
    'ul',
    { class: 'tags', 'aria-label': 'Tags' },
    shown.map(([name, value]) => h('li', { class: 'tag', title: `${name}=${value}` }, h('span', { class: 'tag-name' }, name), '=', h('span', { class: 'tag-value' }, value))),
    entries.length > shown.length ? h('li', { class: 'tag tag-more' }, `+${entries.length - shown.length} more`) : null,
  );
}
