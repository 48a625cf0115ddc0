import { type Api, describeError } from '../api';
import { h, statusRegion, table } from '../dom';
import { count, dateTime } from '../format';
import { searchClicksFor } from './clicks';

interface Blocklist {
  blocklist: { ip: string; score: number; lastSeen: string; reason: string }[];
  total: number;
}
/*
 * The answers of GET …/exclusions (`Exclusions`) and GET …/exclusions/plan (`ExclusionPlan`), as
 * shared/schemas/exclusions.ts defines them (the browser bundle cannot import the zod schemas: they
 * pull in Node modules). The API test checks the routes against those schemas.
 */
type Level = 'account' | 'campaign';
interface Excluded {
  value: string;
  level: Level;
  campaignId?: string;
  kind?: 'placement';
  by: 'clicksieve' | 'advertiser';
  reason?: string;
  addedAt?: string;
  runId?: string;
}
interface ExclusionsAnswer {
  accountState: 'known' | 'unknown';
  excluded: Excluded[];
  takenBack: string[];
  changeLog: {
    at: string;
    runId: string;
    action: 'added' | 'removed' | 'failed' | 'dry_run';
    value?: string;
    level?: Level;
    campaignId?: string;
    kind?: 'placement';
    reason: string;
    error?: string;
  }[];
}
interface Change {
  value: string;
  level: Level;
  kind?: 'placement';
  campaignId?: string;
  reason: string;
  score?: number;
  lastSeen?: string;
  collapsed?: string[];
}
interface PlanAnswer {
  mode: 'apply' | 'monitor_only' | 'dry_run' | 'not_linked' | 'link_disabled';
  accountState: 'known' | 'unknown';
  accountStateNote?: string;
  add: Change[];
  remove: Change[];
  unchanged: number;
  collapsed: { range: string; addresses: string[] }[];
  leftOut: { value: string; score: number; lastSeen: string; reason: string; collapsed?: string[] }[];
  room: { account: number; campaign: number };
}

/** Where an exclusion sits: the whole account or one campaign. */
const where = (entry: { level: 'account' | 'campaign'; campaignId?: string }) =>
  entry.level === 'account' ? 'Account' : `Campaign ${entry.campaignId ?? '?'}`;
const isPlacement = (entry: { kind?: 'placement' }) => entry.kind === 'placement';
const mono = (text: string) => h('span', { class: 'mono' }, text);
const optional = (text: string | undefined, show: (t: string) => string = (t) => t) =>
  text === undefined ? '—' : show(text);

/**
 * The blocklist, what the linked Google Ads account excludes now (IP addresses and placements apart,
 * clicksieve's with reason, time and run, the advertiser's own as "by hand"), what was taken back, the
 * change log and the next push. Taking an entry back or allowing it again needs the secret key.
 */
export async function blocklistPage(
  api: Api,
  main: HTMLElement,
  message?: string,
  /** Where the page is shown (main itself, unless main is a fresh copy being built to replace it). */
  shown: HTMLElement = main,
): Promise<void> {
  const id = encodeURIComponent(api.session.propertyId);
  const [list, exclusions, plan] = await Promise.all([
    api.get<Blocklist>(`/v1/property/${id}/blocklist?days=30`),
    api.get<ExclusionsAnswer>(`/v1/property/${id}/exclusions`),
    api.get<PlanAnswer>(`/v1/property/${id}/exclusions/plan`),
  ]);
  const status = statusRegion();
  status.id = 'exclusions-status';
  if (message) status.textContent = message;
  const canChange = api.session.kind === 'secret';
  /** Runs a change, then shows the page again as the API now answers it. */
  const act = async (button: HTMLButtonElement, change: () => Promise<string>) => {
    button.disabled = true;
    try {
      const done = await change();
      const fresh = h('div');
      await blocklistPage(api, fresh, done, shown);
      shown.replaceChildren(...fresh.childNodes);
    } catch (error) {
      status.textContent = describeError(error);
      button.disabled = false;
    }
  };
  const takeBack = (entry: Excluded) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        disabled: !canChange,
        'aria-label': `Remove ${entry.value} and don't re-add it`,
        'aria-describedby': canChange ? undefined : 'exclusions-readonly-note',
      },
      'Remove and don’t re-add',
    );
    button.addEventListener('click', () =>
      act(button, async () => {
        const answer = await api.remove<{ removed: unknown[]; pending: unknown[] }>(
          `/v1/property/${id}/exclusions?value=${encodeURIComponent(entry.value)}`,
        );
        const pending = answer?.pending.length ?? 0;
        return `${entry.value} taken back: removed from ${count(answer?.removed.length ?? 0)} place(s)${
          pending ? `, ${count(pending)} left for the next push to retry` : ''
        }; it will not be pushed again.`;
      }),
    );
    return button;
  };
  const allow = (value: string) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        disabled: !canChange,
        'aria-label': `Allow ${value} again`,
        'aria-describedby': canChange ? undefined : 'exclusions-readonly-note',
      },
      'Allow again',
    );
    button.addEventListener('click', () =>
      act(button, async () => {
        await api.remove(`/v1/property/${id}/exclusions/taken-back?value=${encodeURIComponent(value)}`);
        return `${value} may be pushed again when it is on the blocklist.`;
      }),
    );
    return button;
  };

  const download = h('button', { type: 'button', class: 'secondary' }, 'Download CSV');
  const downloadStatus = statusRegion();
  download.addEventListener('click', async () => {
    try {
      const csv = await api.text(`/v1/property/${id}/blocklist?days=30&format=csv`);
      saveFile(`blocklist-${api.session.propertyId}.csv`, csv, 'text/csv');
      downloadStatus.textContent = 'Blocklist downloaded.';
    } catch (error) {
      downloadStatus.textContent = describeError(error);
    }
  });

  const excludedTable = (entries: Excluded[], testId: string, what: string) =>
    entries.length === 0
      ? h('p', { 'data-testid': `${testId}-empty` }, `No ${what} is excluded.`)
      : table(
          'In the ad account now',
          [
            [what === 'placement' ? 'Placement' : 'Address or range'],
            ['Where'],
            ['By'],
            ['Why'],
            ['Added'],
            ['Run'],
            [''],
          ],
          entries.map((entry) => [
            mono(entry.value),
            where(entry),
            entry.by === 'clicksieve' ? 'clicksieve' : 'by hand',
            entry.reason ? h('code', {}, entry.reason) : '—',
            optional(entry.addedAt, dateTime),
            entry.runId ? mono(entry.runId) : '—',
            entry.by === 'clicksieve' && !exclusions.takenBack.includes(entry.value) ? takeBack(entry) : '',
          ]),
          testId,
        );
  const changeTable = (changes: Change[], testId: string) =>
    table(
      'Highest score first',
      [['What'], ['Where'], ['Why'], ['Score', true], ['Covers']],
      changes.map((change) => [
        mono(change.value),
        where(change),
        h('code', {}, change.reason),
        change.score === undefined ? '—' : String(change.score),
        change.collapsed?.length ? `${count(change.collapsed.length)} addresses` : '—',
      ]),
      testId,
    );

  main.append(
    h('h1', {}, 'Blocklist & exclusions'),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'blocklist-title' },
      h('h2', { id: 'blocklist-title' }, `Blocklist (${count(list.total)})`),
      h(
        'p',
        { class: 'note' },
        'Addresses whose highest click score of the last 30 days is at or above the block threshold, allowlist excluded.',
      ),
      list.blocklist.length === 0
        ? h('p', {}, 'No address is on the blocklist.')
        : table(
            'Highest score first',
            [['Address'], ['Score', true], ['Reason'], ['Last seen'], ['Clicks']],
            list.blocklist.map((entry) => [
              mono(entry.ip),
              String(entry.score),
              h('code', {}, entry.reason),
              dateTime(entry.lastSeen),
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  'aria-label': `Show clicks from ${entry.ip}`,
                  onclick: () => {
                    searchClicksFor('ip', entry.ip);
                    location.hash = '#clicks';
                  },
                },
                'Show clicks',
              ),
            ]),
            'blocklist-table',
          ),
      download,
      downloadStatus,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'excluded-title', 'data-testid': 'exclusions' },
      h('h2', { id: 'excluded-title' }, 'Excluded in Google Ads now'),
      exclusions.accountState === 'unknown'
        ? h(
            'p',
            { class: 'banner', role: 'note', 'data-testid': 'account-unknown' },
            'Account state unknown: no Google Ads account is linked, or it could not be read. ',
            'The lists below show what clicksieve recorded, not what the account holds.',
          )
        : null,
      canChange
        ? null
        : h(
            'p',
            { class: 'note', id: 'exclusions-readonly-note', 'data-testid': 'exclusions-readonly-note' },
            'Signed in with the read-only key: sign in with the secret key to take an exclusion back or allow one again.',
          ),
      status,
      h('h3', {}, 'IP addresses and ranges'),
      excludedTable(
        exclusions.excluded.filter((e) => !isPlacement(e)),
        'excluded-ips',
        'address',
      ),
      h('h3', {}, 'Placements'),
      excludedTable(exclusions.excluded.filter(isPlacement), 'excluded-placements', 'placement'),
      h('h3', {}, 'Taken back (never pushed again)'),
      exclusions.takenBack.length === 0
        ? h('p', { 'data-testid': 'taken-back-empty' }, 'Nothing was taken back.')
        : table(
            'Removed by you; clicksieve will not add them again until allowed',
            [['Address, range or placement'], ['']],
            exclusions.takenBack.map((value) => [mono(value), allow(value)]),
            'taken-back',
          ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'changelog-title', 'data-testid': 'change-log' },
      h('h2', { id: 'changelog-title' }, 'Change log'),
      h('p', { class: 'note' }, 'Every change clicksieve made or tried in the ad account, newest first.'),
      exclusions.changeLog.length === 0
        ? h('p', {}, 'No change yet.')
        : table(
            'Newest first',
            [['When'], ['Change'], ['What'], ['Where'], ['Why'], ['Run']],
            exclusions.changeLog.map((entry) => [
              dateTime(entry.at),
              h('span', { class: `change change-${entry.action}` }, entry.action.replace('_', ' ')),
              entry.value ? mono(entry.value) : '—',
              entry.level ? where({ level: entry.level, campaignId: entry.campaignId }) : '—',
              entry.error ? `${entry.reason} — ${entry.error}` : entry.reason,
              mono(entry.runId),
            ]),
            'change-log-table',
          ),
    ),
    planSection(plan, changeTable),
  );
}

const MODES: Record<PlanAnswer['mode'], string> = {
  apply: 'The next push applies these changes.',
  monitor_only: 'Monitor-only is on: the next push records this plan and changes nothing.',
  dry_run: 'Dry run is on: the next push records this plan and changes nothing.',
  not_linked: 'No Google Ads account is linked: nothing is pushed.',
  link_disabled: 'The Google Ads link is switched off: nothing is pushed.',
};

function planSection(plan: PlanAnswer, changeTable: (changes: Change[], testId: string) => HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'plan-title', 'data-testid': 'exclusions-plan' },
    h('h2', { id: 'plan-title' }, 'Next push'),
    h('p', { 'data-testid': 'plan-mode' }, MODES[plan.mode]),
    plan.accountState === 'unknown'
      ? h(
          'p',
          { class: 'banner', role: 'note', 'data-testid': 'plan-account-unknown' },
          `Account state unknown${plan.accountStateNote ? `: ${plan.accountStateNote}` : ''}.`,
        )
      : null,
    h(
      'p',
      { class: 'note', 'data-testid': 'plan-summary' },
      `${count(plan.add.length)} to add, ${count(plan.remove.length)} to remove, ${count(plan.unchanged)} unchanged; `,
      `room left: ${count(plan.room.account)} on the account, ${count(plan.room.campaign)} per campaign.`,
    ),
    h('h3', {}, 'To add'),
    plan.add.length === 0 ? h('p', {}, 'Nothing to add.') : changeTable(plan.add, 'plan-add'),
    h('h3', {}, 'To remove'),
    plan.remove.length === 0 ? h('p', {}, 'Nothing to remove.') : changeTable(plan.remove, 'plan-remove'),
    plan.collapsed.length === 0
      ? null
      : h(
          'div',
          {},
          h('h3', {}, 'Collapsed into ranges'),
          table(
            'Neighbouring addresses pushed as one range',
            [['Range'], ['Addresses']],
            plan.collapsed.map((c) => [mono(c.range), c.addresses.join(', ')]),
            'plan-collapsed',
          ),
        ),
    plan.leftOut.length === 0
      ? null
      : h(
          'div',
          {},
          h('h3', {}, 'Left out for room'),
          table(
            'Google Ads takes a limited number of IP exclusions: these scored lowest',
            [['What'], ['Score', true], ['Why'], ['Last seen']],
            plan.leftOut.map((l) => [mono(l.value), String(l.score), h('code', {}, l.reason), dateTime(l.lastSeen)]),
            'plan-left-out',
          ),
        ),
  );
}

/** Offers text as a file download without putting anything in a URL that leaves the page. */
function saveFile(name: string, content: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
