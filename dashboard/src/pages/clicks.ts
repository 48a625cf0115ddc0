import type { Api } from '../api';
import { describeError } from '../api';
import { field, h, statusRegion, table } from '../dom';
import { count, dateTime } from '../format';

interface Outcome {
  score: number;
  label: 'CLEAN' | 'SUSPICIOUS' | 'FRAUD';
  action: string;
  botLevel: string;
  rules: string[];
}
interface Signal {
  rule: string;
  weight: number;
  details: string;
}
export interface ClickExplanation {
  clickId: string;
  at: string;
  visitorId: string;
  ip: string;
  claimedIp?: string;
  gclid?: string;
  userAgent?: string;
  pageUrl?: string;
  valueTrack: Record<string, string>;
  atClick: Outcome;
  final: Outcome;
  reasons: { rule: string; score: number; details: string }[];
  signals: { click: Signal[]; behaviour: Signal[] };
  beacon: { received: boolean; at: string | null };
  conversion: { converted: boolean; at: string | null };
  done: { blocked: boolean; monitorOnly: boolean; onBlocklist: boolean; adsExclusion: string };
}
interface SearchResult {
  clicks: ClickExplanation[];
  scanned: number;
  truncated: boolean;
}

const CRITERIA = {
  clickId: 'Click id (clk_…)',
  gclid: 'Google click id (gclid)',
  visitorId: 'Visitor id (vis_…)',
  ip: 'IP address',
} as const;
type Criterion = keyof typeof CRITERIA;

/** A search handed over by another page (the blocklist's "show clicks"), in memory only. */
let pending: { by: Criterion; value: string } | undefined;
export const searchClicksFor = (by: Criterion, value: string) => {
  pending = { by, value };
};

const ADS: Record<string, string> = {
  not_linked: 'No Google Ads account is linked.',
  link_disabled: 'The Google Ads link is switched off.',
  not_on_blocklist: 'Not excluded in Google Ads: the address is not on the blocklist.',
  pushed_hourly: 'On the blocklist: the hourly push excludes the address in the linked Google Ads campaigns.',
};

export async function clicksPage(api: Api, main: HTMLElement): Promise<void> {
  const by = h(
    'select',
    { id: 'search-by' },
    ...Object.entries(CRITERIA).map(([value, label]) => h('option', { value }, label)),
  );
  const value = h('input', {
    type: 'text',
    id: 'search-value',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const days = h(
    'select',
    { id: 'search-days' },
    ...[1, 7, 14, 30].map((d) => h('option', { value: d, selected: d === 7 }, `Last ${d} day${d > 1 ? 's' : ''}`)),
  );
  const status = statusRegion();
  const results = h('div', { 'data-testid': 'click-results' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'search-title' },
    h('h2', { id: 'search-title' }, 'Find a click'),
    h(
      'div',
      { class: 'inline' },
      h('div', {}, field('Search by', by)),
      h('div', {}, field('Value', value)),
      h('div', {}, field('Look back', days, 'For a click id the whole history is searched.')),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Search'),
    status,
  );
  const run = async () => {
    const criterion = by.value as Criterion;
    const body =
      criterion === 'clickId'
        ? { clickId: value.value.trim() }
        : { [criterion]: value.value.trim(), days: Number(days.value) };
    status.textContent = 'Searching…';
    results.replaceChildren();
    try {
      const found = await api.send<SearchResult>(
        'POST',
        `/v1/property/${encodeURIComponent(api.session.propertyId)}/clicks/search`,
        body,
      );
      status.textContent =
        found.clicks.length === 0
          ? `No click found (${count(found.scanned)} read).`
          : `${count(found.clicks.length)} click${found.clicks.length > 1 ? 's' : ''} found (${count(found.scanned)} read)${found.truncated ? '; the period holds more clicks than one search reads — shorten it' : ''}.`;
      results.replaceChildren(...found.clicks.map(clickCard));
    } catch (error) {
      status.textContent = describeError(error);
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  main.append(h('h1', {}, 'Click explorer'), form, results);
  if (pending) {
    by.value = pending.by;
    value.value = pending.value;
    pending = undefined;
    await run();
  }
}

const verdict = (title: string, o: Outcome, testId: string) =>
  h(
    'div',
    { class: 'kpi', 'data-testid': testId },
    h('div', { class: 'label' }, title),
    h('div', { class: `value ${o.label}` }, `${o.label} · ${o.score}`),
    h('div', { class: 'note' }, `action ${o.action}, bot level ${o.botLevel}`),
  );

function clickCard(click: ClickExplanation): HTMLElement {
  const done = click.done;
  return h(
    'article',
    { class: 'card', 'data-click-id': click.clickId, 'aria-label': `Click ${click.clickId}` },
    h('h2', {}, h('span', { class: 'mono' }, click.clickId)),
    h(
      'p',
      { class: 'note' },
      `${dateTime(click.at)} · from `,
      h('span', { class: 'mono' }, click.ip),
      click.claimedIp ? ` (claimed ${click.claimedIp}, not used)` : '',
    ),
    h(
      'div',
      { class: 'verdicts' },
      verdict('At the click', click.atClick, 'verdict-at-click'),
      verdict('Final verdict', click.final, 'verdict-final'),
    ),
    h('h3', {}, 'Why'),
    click.reasons.length === 0
      ? h('p', { class: 'note' }, 'No rule fired.')
      : table(
          'Reasons of the final verdict: each rule’s points and the numbers behind it',
          [['Rule'], ['Points', true], ['Evidence']],
          click.reasons.map((r) => [h('code', {}, r.rule), String(r.score), r.details]),
          'reasons-table',
        ),
    click.signals.behaviour.length > 0
      ? table(
          'Landing-page behaviour weighed',
          [['Signal'], ['Weight', true], ['Measured']],
          click.signals.behaviour.map((s) => [h('code', {}, s.rule), s.weight.toFixed(2), s.details]),
        )
      : null,
    h('h3', {}, 'What happened next'),
    h(
      'ul',
      {},
      h(
        'li',
        {},
        click.beacon.received
          ? `Landing-page beacon received ${dateTime(click.beacon.at!)}.`
          : 'No landing-page beacon received.',
      ),
      h(
        'li',
        {},
        click.conversion.converted ? `Converted ${dateTime(click.conversion.at!)}.` : 'No conversion recorded.',
      ),
      h(
        'li',
        { 'data-testid': 'done-blocked' },
        done.blocked
          ? 'Blocked: the landing page was told to block this visitor.'
          : done.monitorOnly
            ? 'Not blocked: monitor-only mode is on.'
            : 'Not blocked.',
      ),
      h('li', {}, done.onBlocklist ? 'The address is on the blocklist.' : 'The address is not on the blocklist.'),
      h('li', {}, ADS[done.adsExclusion] ?? done.adsExclusion),
    ),
    h(
      'details',
      {},
      h('summary', {}, 'Click details'),
      table(
        'As received',
        [['Field'], ['Value']],
        [
          ['Visitor', h('span', { class: 'mono' }, click.visitorId)],
          ['gclid', h('span', { class: 'mono' }, click.gclid ?? '—')],
          ['User agent', click.userAgent ?? '—'],
          ['Landing page', h('span', { class: 'mono' }, click.pageUrl ?? '—')],
          ...Object.entries(click.valueTrack).map(([k, v]) => [k, v]),
        ],
      ),
    ),
  );
}
