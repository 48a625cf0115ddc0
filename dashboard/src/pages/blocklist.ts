import { type Api, ApiError, describeError } from '../api';
import { h, statusRegion, table } from '../dom';
import { count, dateTime } from '../format';
import { searchClicksFor } from './clicks';

interface Blocklist {
  blocklist: { ip: string; score: number; lastSeen: string; reason: string }[];
  total: number;
}

/** One row of the ad-account exclusion log or plan, as far as the dashboard needs to show it. */
type ExclusionRow = Record<string, unknown>;

export async function blocklistPage(api: Api, main: HTMLElement): Promise<void> {
  const id = encodeURIComponent(api.session.propertyId);
  const list = await api.get<Blocklist>(`/v1/property/${id}/blocklist?days=30`);
  const status = statusRegion();
  const download = h('button', { type: 'button', class: 'secondary' }, 'Download CSV');
  download.addEventListener('click', async () => {
    try {
      const csv = await api.text(`/v1/property/${id}/blocklist?days=30&format=csv`);
      saveFile(`blocklist-${api.session.propertyId}.csv`, csv, 'text/csv');
      status.textContent = 'Blocklist downloaded.';
    } catch (error) {
      status.textContent = describeError(error);
    }
  });
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
              h('span', { class: 'mono' }, entry.ip),
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
      status,
    ),
    await exclusionsSection(
      api,
      id,
      'exclusions',
      'Google Ads exclusion log',
      'What was excluded or removed, when and why.',
    ),
    await exclusionsSection(
      api,
      id,
      'exclusions/plan',
      'Next push',
      'What the next push would add to or remove from the linked campaigns (IP addresses and placements).',
    ),
  );
}

async function exclusionsSection(
  api: Api,
  id: string,
  path: string,
  title: string,
  about: string,
): Promise<HTMLElement> {
  const headingId = `${path.replace('/', '-')}-title`;
  const section = h(
    'section',
    { class: 'card', 'aria-labelledby': headingId, 'data-testid': path.replace('/', '-') },
    h('h2', { id: headingId }, title),
    h('p', { class: 'note' }, about),
  );
  try {
    const answer = await api.get<Record<string, unknown>>(`/v1/property/${id}/${path}`);
    const rows = Object.values(answer).find(Array.isArray) as ExclusionRow[] | undefined;
    if (!rows || rows.length === 0) section.append(h('p', {}, 'Nothing here yet.'));
    else section.append(exclusionTable(rows));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      section.append(
        h(
          'p',
          { class: 'banner', role: 'note' },
          'Not available on this deployment: it has no Google Ads exclusion routes yet.',
        ),
      );
    } else {
      section.append(h('p', { class: 'error' }, describeError(error)));
    }
  }
  return section;
}

function exclusionTable(rows: ExclusionRow[]): HTMLElement {
  const text = (row: ExclusionRow, ...names: string[]) => {
    for (const name of names) if (row[name] !== undefined && row[name] !== null) return String(row[name]);
    return '—';
  };
  return table(
    'Newest first',
    [['What'], ['Change'], ['When'], ['Why'], ['Campaign']],
    rows.map((row) => [
      h('span', { class: 'mono' }, text(row, 'ip', 'placement', 'target', 'value')),
      text(row, 'action', 'change', 'status'),
      text(row, 'at', 'when', 'createdAt'),
      text(row, 'reason', 'why'),
      text(row, 'campaignId', 'campaign'),
    ]),
  );
}

/** Offers text as a file download without putting anything in a URL that leaves the page. */
export function saveFile(name: string, content: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
