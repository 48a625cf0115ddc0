import { type Api, describeError } from '../api';
import { append, field, h, statusRegion, table } from '../dom';
import { count, dateTime, percent } from '../format';

interface Config {
  thresholds: { suspicious: number; fraud: number };
  monitorOnly: boolean;
  allowlist: string[];
  ruleWeights: Record<string, number>;
  averageCpc?: number | null;
  currency: string;
}
interface Figures {
  clicks: number;
  conversions: number;
  conversionRate: number | null;
}
interface Calibration {
  from: string;
  to: string;
  basis: string;
  total: Figures;
  bands: (Figures & { band: 'CLEAN' | 'SUSPICIOUS' | 'FRAUD' })[];
  deciles: (Figures & { fromScore: number; toScore: number })[];
  rules: (Figures & { rule: string })[];
}
type ExportStatus =
  | { status: 'ready'; url: string; expires_at: string; rows: number }
  | { status: 'pending'; export_id: string }
  | { status: 'failed'; export_id: string; error: string };

export async function settingsPage(api: Api, main: HTMLElement): Promise<void> {
  const id = encodeURIComponent(api.session.propertyId);
  const [config, stats, calibration] = await Promise.all([
    api.get<Config>(`/v1/properties/${id}/config`),
    api.get<{ topRules: { rule: string }[] }>(`/v1/property/${id}/stats?range=30days`),
    api.get<Calibration>(`/v1/property/${id}/calibration?range=90days`),
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
      calibration,
      readOnly,
    ),
    readOnly ? null : rotationSection(api, id),
    exportSection(api),
  );
}

/** "0.0% convert (0 of 812)": the rate with the counts behind it, so a rate over a handful of clicks shows as such. */
const conversionText = (f: Figures): string =>
  f.conversionRate === null
    ? 'no clicks'
    : `${percent(f.conversionRate)} convert (${count(f.conversions)} of ${count(f.clicks)})`;

const BAND_NAMES = { CLEAN: 'Clean', SUSPICIOUS: 'Suspicious', FRAUD: 'Fraud' } as const;

/** The evidence to set thresholds by: how the clicks of each at-click band and score decile converted. */
function calibrationGuide(calibration: Calibration): HTMLElement {
  return h(
    'div',
    { class: 'guide', 'data-testid': 'calibration' },
    h('h3', {}, 'How each band converted'),
    h(
      'p',
      { class: 'note' },
      `Your own traffic, ${calibration.from} to ${calibration.to}: ${calibration.basis} `,
      'A band that converts like Clean is blocking real customers; a Fraud band that never converts is doing its job.',
    ),
    table(
      `All clicks: ${conversionText(calibration.total)}`,
      [['Band at the click'], ['Conversion rate', true], ['Clicks', true], ['Converted', true]],
      calibration.bands.map((b) => [
        h('span', { class: b.band }, BAND_NAMES[b.band]),
        b.conversionRate === null ? '—' : percent(b.conversionRate),
        count(b.clicks),
        count(b.conversions),
      ]),
      'calibration-bands',
    ),
    h(
      'details',
      {},
      h('summary', {}, 'By score decile'),
      table(
        'Clicks by their score at the click (scores no click had are left out)',
        [['Score'], ['Conversion rate', true], ['Clicks', true], ['Converted', true]],
        calibration.deciles
          .filter((d) => d.clicks > 0)
          .map((d) => [
            `${d.fromScore}–${d.toScore}`,
            d.conversionRate === null ? '—' : percent(d.conversionRate),
            count(d.clicks),
            count(d.conversions),
          ]),
        'calibration-deciles',
      ),
    ),
  );
}

function configForm(
  api: Api,
  id: string,
  config: Config,
  firedRules: string[],
  calibration: Calibration,
  readOnly: boolean,
): HTMLElement {
  const number = (name: string, value: number | null | undefined, min: number, max: number, step = '1') =>
    h('input', { type: 'number', id: name, name, min, max, step, value: value ?? '' });
  const suspicious = number('suspicious', config.thresholds.suspicious, 1, 100);
  const fraud = number('fraud', config.thresholds.fraud, 1, 100);
  const monitorOnly = h('input', { type: 'checkbox', id: 'monitorOnly', checked: config.monitorOnly });
  const allowlist = h('textarea', { id: 'allowlist', rows: 4, spellcheck: 'false' });
  allowlist.value = config.allowlist.join('\n');
  const averageCpc = number('averageCpc', config.averageCpc, 0, 10_000, '0.01');
  const ruleRates = new Map(calibration.rules.map((r) => [r.rule, r]));
  const rules = [
    ...new Set([...Object.keys(config.ruleWeights), ...firedRules, ...calibration.rules.map((r) => r.rule)]),
  ].sort();
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
    calibrationGuide(calibration),
    h('h3', {}, 'Rule weights'),
    h(
      'p',
      { class: 'note' },
      'Multiplier per rule (1 = as shipped, 0 = off). Empty keeps the default. Rules listed: those set and those that fired. ',
      'Under each: how the clicks it fired on at the click converted — a rule whose clicks convert like your clean ',
      'traffic deserves a lower weight.',
    ),
    weights.length === 0
      ? h('p', { class: 'note' }, 'No rule fired yet.')
      : h(
          'div',
          { class: 'inline' },
          ...weights.map((w) => {
            const rate = ruleRates.get(w.rule);
            return h(
              'div',
              { 'data-rule': w.rule },
              field(
                w.rule,
                w.input,
                rate ? `Fired at the click: ${conversionText(rate)}` : 'Did not fire at the click.',
              ),
            );
          }),
        ),
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
