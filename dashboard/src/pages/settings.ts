import { type Api, describeError } from '../api';
import { append, field, h, statusRegion } from '../dom';
import { dateTime } from '../format';

interface Config {
  thresholds: { suspicious: number; fraud: number };
  monitorOnly: boolean;
  allowlist: string[];
  ruleWeights: Record<string, number>;
  averageCpc?: number | null;
  currency: string;
}
type ExportStatus =
  | { status: 'ready'; url: string; expires_at: string; rows: number }
  | { status: 'pending'; export_id: string }
  | { status: 'failed'; export_id: string; error: string };

export async function settingsPage(api: Api, main: HTMLElement): Promise<void> {
  const id = encodeURIComponent(api.session.propertyId);
  const [config, stats] = await Promise.all([
    api.get<Config>(`/v1/properties/${id}/config`),
    api.get<{ topRules: { rule: string }[] }>(`/v1/property/${id}/stats?range=30days`),
  ]);
  const readOnly = api.session.kind === 'readonly';
  append(
    main,
    h('h1', {}, 'Settings'),
    readOnly
      ? h(
          'p',
          { class: 'banner', role: 'note', 'data-testid': 'readonly-note' },
          'You are signed in with the read-only key: settings can be viewed, not changed. Sign in with the secret key to change them.',
        )
      : null,
    configForm(
      api,
      id,
      config,
      stats.topRules.map((r) => r.rule),
      readOnly,
    ),
    readOnly ? null : rotationSection(api, id),
    exportSection(api),
  );
}

function configForm(api: Api, id: string, config: Config, firedRules: string[], readOnly: boolean): HTMLElement {
  const number = (name: string, value: number | null | undefined, min: number, max: number, step = '1') =>
    h('input', { type: 'number', id: name, name, min, max, step, value: value ?? '' });
  const suspicious = number('suspicious', config.thresholds.suspicious, 1, 100);
  const fraud = number('fraud', config.thresholds.fraud, 1, 100);
  const monitorOnly = h('input', { type: 'checkbox', id: 'monitorOnly', checked: config.monitorOnly });
  const allowlist = h('textarea', { id: 'allowlist', rows: 4, spellcheck: 'false' });
  allowlist.value = config.allowlist.join('\n');
  const averageCpc = number('averageCpc', config.averageCpc, 0, 10_000, '0.01');
  const rules = [...new Set([...Object.keys(config.ruleWeights), ...firedRules])].sort();
  const weights = rules.map((rule) => ({
    rule,
    input: Object.assign(number(`weight-${rule}`, config.ruleWeights[rule] ?? null, 0, 10, '0.05'), {
      placeholder: '1 (default)',
    }),
  }));
  const status = statusRegion();
  const fieldset = h(
    'fieldset',
    { disabled: readOnly },
    h('legend', {}, 'Scoring and blocking'),
    h(
      'div',
      { class: 'inline' },
      h('div', {}, field('Suspicious from score', suspicious)),
      h('div', {}, field('Block (fraud) from score', fraud)),
    ),
    h(
      'label',
      { class: 'check', for: 'monitorOnly' },
      monitorOnly,
      'Monitor only (score and report, never block or exclude)',
    ),
    field('Allowlist', allowlist, 'One IP address or CIDR range per line; never blocked or excluded.'),
    field(
      `Average cost per click (${config.currency})`,
      averageCpc,
      'Used only to estimate wasted spend. Empty = no estimate.',
    ),
    h('h3', {}, 'Rule weights'),
    h(
      'p',
      { class: 'note' },
      'Multiplier per rule (1 = as shipped, 0 = off). Empty keeps the default. Rules listed: those set and those that fired in 30 days. ',
      'Run the backtest (README, “Backtest”) to see each band’s conversion rate before changing them.',
    ),
    weights.length === 0
      ? h('p', { class: 'note' }, 'No rule fired yet.')
      : h('div', { class: 'inline' }, ...weights.map((w) => h('div', {}, field(w.rule, w.input)))),
    h('button', { type: 'submit', class: 'primary' }, 'Save settings'),
  );
  const form = h('form', { 'aria-label': 'Settings', class: 'card' }, fieldset, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const ruleWeights: Record<string, number> = {};
    for (const w of weights) if (w.input.value !== '') ruleWeights[w.rule] = Number(w.input.value);
    const body = {
      thresholds: { suspicious: Number(suspicious.value), fraud: Number(fraud.value) },
      monitorOnly: monitorOnly.checked,
      allowlist: allowlist.value
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
      ruleWeights,
      averageCpc: averageCpc.value === '' ? null : Number(averageCpc.value),
    };
    status.className = '';
    status.textContent = 'Saving…';
    try {
      await api.send('PUT', `/v1/properties/${id}/config`, body);
      status.className = 'ok';
      status.textContent = 'Saved.';
    } catch (error) {
      status.className = 'error';
      status.textContent = describeError(error);
    }
  });
  return form;
}

function rotationSection(api: Api, id: string): HTMLElement {
  const status = statusRegion();
  const output = h('div', {});
  const rotate = (which: 'readonly' | 'webhook' | 'secret', label: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          if (!confirm(`${label}? The current value stops working at once.`)) return;
          try {
            const rotated = await api.send<Record<string, string>>('POST', `/v1/properties/${id}/rotate-keys`, {
              which,
            });
            const value = rotated.readonlyKey ?? rotated.webhookSecret ?? rotated.secretKey ?? '';
            output.replaceChildren(
              h('p', {}, 'New value, shown once — store it now:'),
              h('p', { class: 'mono', 'data-testid': 'rotated-key' }, value),
              ...(which === 'secret'
                ? [h('p', { class: 'note' }, 'Your session used the old secret key: sign out and in again.')]
                : []),
            );
            status.textContent = `Rotated at ${dateTime(rotated.rotatedAt ?? new Date().toISOString())}.`;
          } catch (error) {
            status.textContent = describeError(error);
          }
        },
      },
      label,
    );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'rotate-title' },
    h('h2', { id: 'rotate-title' }, 'Keys'),
    h(
      'p',
      { class: 'note' },
      'Rotation replaces a key; the old one is refused from the next request on. The public key is not secret and is not rotated.',
    ),
    h(
      'div',
      { class: 'inline' },
      rotate('readonly', 'Rotate the read-only key'),
      rotate('webhook', 'Rotate the webhook secret'),
      rotate('secret', 'Rotate the secret key'),
    ),
    output,
    status,
  );
}

function exportSection(api: Api): HTMLElement {
  const today = new Date().toISOString().slice(0, 10);
  const from = h('input', { type: 'date', id: 'export-from', value: today });
  const to = h('input', { type: 'date', id: 'export-to', value: today });
  const status = statusRegion();
  const link = h('div', {});
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, 'Export clicks (CSV)'),
    h(
      'p',
      { class: 'note' },
      'Every click with its verdicts, for settlement with your ad network. Dates are in the property’s time zone.',
    ),
    h('div', { class: 'inline' }, h('div', {}, field('From', from)), h('div', {}, field('To', to))),
    h('button', { type: 'submit', class: 'primary' }, 'Prepare export'),
    status,
    link,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    link.replaceChildren();
    status.textContent = 'Preparing…';
    try {
      let answer = (await api.get<{ data: ExportStatus }>(`/v1/bot/export?from=${from.value}&to=${to.value}`)).data;
      for (let i = 0; answer.status === 'pending' && i < 60; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        answer = (await api.get<{ data: ExportStatus }>(`/v1/bot/export/${encodeURIComponent(answer.export_id)}`)).data;
      }
      if (answer.status === 'ready') {
        status.textContent = `Ready: ${answer.rows} rows. The link works until ${dateTime(answer.expires_at)}.`;
        link.replaceChildren(
          h('a', { href: answer.url, rel: 'noreferrer', 'data-testid': 'export-link' }, 'Download the CSV'),
        );
      } else if (answer.status === 'failed') {
        status.textContent = `The export failed: ${answer.error}`;
      } else {
        status.textContent = 'Still preparing; try again in a minute.';
      }
    } catch (error) {
      status.textContent = describeError(error);
    }
  });
  return form;
}
