import type { PropertySummary } from '../../shared/schemas/properties';
import { type Api, describeError, signIn, signInAdmin } from './api';
import { h, table } from './dom';
import { dateTime } from './format';
import { blocklistPage } from './pages/blocklist';
import { clicksPage } from './pages/clicks';
import { overviewPage } from './pages/overview';
import { settingsPage } from './pages/settings';

/**
 * The dashboard: sign in with a key (kept in memory only), then four pages switched by the URL
 * fragment (#overview, #clicks, #blocklist, #settings) — the fragment names a page and nothing else, so
 * no key, address, visitor or gclid ever reaches a URL, a history entry or a referrer.
 */
type Page = (api: Api, main: HTMLElement) => Promise<void>;
const pages: Record<string, { title: string; render: Page }> = {
  overview: { title: 'Overview', render: overviewPage },
  clicks: { title: 'Click explorer', render: clicksPage },
  blocklist: { title: 'Blocklist & exclusions', render: blocklistPage },
  settings: { title: 'Settings', render: settingsPage },
};

let api: Api | undefined;
const main = () => document.getElementById('main') as HTMLElement;
const nav = () => document.getElementById('nav') as HTMLElement;

function showSignIn(message?: string): void {
  api = undefined;
  nav().hidden = true;
  (document.getElementById('who') as HTMLElement).textContent = '';
  document.title = 'Sign in · clicksieve';
  const input = h('input', {
    type: 'password',
    id: 'key',
    name: 'key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'key-hint',
  });
  const asAdmin = h('input', { type: 'checkbox', id: 'as-admin', name: 'as-admin' });
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' }, message ?? '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to your clicksieve dashboard'),
    h('label', { for: 'key' }, 'Dashboard key'),
    input,
    h(
      'p',
      { class: 'note', id: 'key-hint' },
      'Your property’s read-only key (rk_…), or its secret key (sk_…) to change settings. ',
      'It stays in this tab’s memory only: reloading or closing the tab signs you out.',
    ),
    h(
      'div',
      { class: 'check' },
      asAdmin,
      h('label', { for: 'as-admin' }, 'Operator: this is the deployment’s admin key'),
    ),
    button,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      if (asAdmin.checked) {
        const admin = await signInAdmin(input.value);
        input.value = '';
        await showProperties(await admin.properties());
        return;
      }
      api = await signIn(input.value);
      input.value = '';
      if (!location.hash || !(location.hash.slice(1) in pages)) history.replaceState(null, '', '#overview');
      await route();
    } catch (failure) {
      error.textContent = describeError(failure);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  main().replaceChildren(form);
  input.focus();
}

/** The operator's view: every property of the deployment (no keys: those are shown once, at creation). */
async function showProperties(properties: PropertySummary[]): Promise<void> {
  api = undefined;
  nav().hidden = false;
  for (const link of nav().querySelectorAll('a')) link.hidden = true;
  (document.getElementById('who') as HTMLElement).textContent = 'Operator · admin key';
  document.title = 'Properties · clicksieve';
  main().replaceChildren(
    h(
      'div',
      { 'data-page': 'properties' },
      h('h1', {}, `Properties (${properties.length})`),
      h(
        'section',
        { class: 'card' },
        h(
          'p',
          { class: 'note' },
          'Every property of this deployment, oldest first. Sign in with a property’s read-only or secret key to see its traffic.',
        ),
        table(
          'Oldest first',
          [['Name'], ['Id'], ['Domain'], ['Plan'], ['Status'], ['Created']],
          properties.map((p) => [
            p.name,
            h('span', { class: 'mono' }, p.id),
            p.domain ?? '—',
            p.plan,
            p.enabled ? 'enabled' : 'disabled',
            dateTime(p.created),
          ]),
          'properties-table',
        ),
      ),
    ),
  );
  main().focus();
}

async function route(): Promise<void> {
  if (!api) return showSignIn();
  const name = location.hash.slice(1);
  const page = pages[name] ?? pages.overview!;
  nav().hidden = false;
  for (const link of nav().querySelectorAll('a')) link.hidden = false;
  const who = document.getElementById('who') as HTMLElement;
  who.textContent = `${api.session.name} · ${api.session.kind === 'readonly' ? 'read-only' : 'secret key'}`;
  for (const link of nav().querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${name in pages ? name : 'overview'}`)
      link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.title} · clicksieve`;
  const target = main();
  target.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
  try {
    const content = h('div', { 'data-page': name in pages ? name : 'overview' });
    await page.render(api, content);
    target.replaceChildren(content);
  } catch (failure) {
    target.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(failure)));
  }
  target.focus();
}

document.addEventListener('DOMContentLoaded', () => {
  window.addEventListener('hashchange', () => void route());
  document.getElementById('signout')?.addEventListener('click', () => showSignIn('Signed out.'));
  showSignIn();
});
