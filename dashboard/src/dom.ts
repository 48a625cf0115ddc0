/** Builds elements from text only (never innerHTML), so nothing the API returns can become markup. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * A table: `columns` are [heading, numeric?]; cells are text or nodes. On a phone (app.css) each row becomes
 * a card whose cells carry their column's name (`data-label`), so nothing scrolls sideways; the explicit
 * roles keep it a table for screen readers once CSS changes its display.
 */
export function table(caption: string, columns: [string, boolean?][], rows: Child[][], testId?: string): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { 'data-testid': testId, role: 'table' },
      h('caption', { class: 'note' }, caption),
      h(
        'thead',
        { role: 'rowgroup' },
        h(
          'tr',
          { role: 'row' },
          ...columns.map(([name, num]) =>
            h('th', { scope: 'col', role: 'columnheader', class: num ? 'num' : undefined }, name),
          ),
        ),
      ),
      h(
        'tbody',
        { role: 'rowgroup' },
        ...rows.map((row) =>
          h(
            'tr',
            { role: 'row' },
            ...row.map((cell, i) =>
              h(
                'td',
                {
                  role: 'cell',
                  class: columns[i]?.[1] ? 'num' : undefined,
                  'data-label': columns[i]?.[0] || undefined,
                },
                cell,
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

let nextId = 0;
const uniqueId = (prefix: string) => `${prefix}-${++nextId}`;

/** A labelled control: the label's `for` points at the control. */
export function field(labelText: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uniqueId('f');
  control.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    {},
    h('label', { for: id }, labelText),
    control,
    hint ? h('div', { class: 'note', id: hintId }, hint) : null,
  );
}

export const statusRegion = () => h('p', { role: 'status', 'aria-live': 'polite' });
