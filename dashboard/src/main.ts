import { type Api, describeError, signIn } from './api';
import { h } from './dom';
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
    button,
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
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

async function route(): Promise<void> {
  if (!api) return showSignIn();
  const name = location.hash.slice(1);
  const page = pages[name] ?? pages.overview!;
  nav().hidden = false;
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
