import uPlot from 'uplot';
import type { Api } from '../api';
import { append, field, h, table } from '../dom';
import { count, money, percent } from '../format';

interface DayPoint {
  date: string;
  clicks: number;
  clean: number;
  suspicious: number;
  invalid: number;
  invalidShare: number;
  wastedSpend: number | null;
}
interface Timeseries {
  currency: string;
  averageCpc: number | null;
  spendEstimate: string;
  days: DayPoint[];
  totals: Omit<DayPoint, 'date'>;
}
interface Stats {
  totalDecisions: number;
  cleanCount: number;
  suspiciousCount: number;
  fraudCount: number;
  fraudRate: string;
  topRules: { rule: string; count: number }[];
}
interface Sources {
  tracksConversions: boolean;
  propertyConversionRate: number;
  sources: {
    source: string;
    clicks: number;
    conversions: number;
    conversionRate: number;
    invalidShare: number | null;
    learned: string | null;
  }[];
}

/** The range the overview shows; kept in memory (not the URL) like everything else. */
let range: '7days' | '30days' | '90days' = '30days';

const COLORS = { clicks: '#0b57d0', invalid: '#b3261e' };

export async function overviewPage(api: Api, main: HTMLElement): Promise<void> {
  const id = encodeURIComponent(api.session.propertyId);
  const [series, stats, sources, config] = await Promise.all([
    api.get<Timeseries>(`/v1/property/${id}/timeseries?range=${range}`),
    api.get<Stats>(`/v1/property/${id}/stats?range=${range}`),
    api.get<Sources>(`/v1/property/${id}/sources`),
    api.get<{ monitorOnly: boolean }>(`/v1/properties/${id}/config`),
  ]);
  const select = h(
    'select',
    { id: 'range' },
    ...(['7days', '30days', '90days'] as const).map((value) =>
      h('option', { value, selected: value === range }, `Last ${value.replace('days', '')} days`),
    ),
  );
  select.addEventListener('change', async () => {
    range = select.value as typeof range;
    const fresh = h('div', { 'data-page': 'overview' });
    await overviewPage(api, fresh);
    main.replaceChildren(...fresh.childNodes);
    (main.querySelector('#range') as HTMLElement | null)?.focus();
  });

  const t = series.totals;
  const kpi = (label: string, value: string, testId: string, note?: string) =>
    h(
      'div',
      { class: 'kpi' },
      h('div', { class: 'label' }, label),
      h('div', { class: 'value', 'data-testid': testId }, value),
      note ? h('div', { class: 'note' }, note) : null,
    );
  const chart = h('div', { class: 'chart', role: 'img', 'aria-label': 'Clicks and invalid clicks per day' });

  append(
    main,
    h('h1', {}, 'Overview'),
    config.monitorOnly
      ? h(
          'div',
          { class: 'banner', role: 'note', 'data-testid': 'monitor-banner' },
          h('strong', {}, 'Monitor-only mode is on. '),
          'Clicks are scored and reported, but nothing is blocked and no exclusions are pushed.',
        )
      : null,
    h('div', { class: 'inline' }, h('div', {}, field('Period', select))),
    h(
      'div',
      { class: 'kpis', style: undefined },
      kpi('Paid clicks', count(t.clicks), 'kpi-clicks'),
      kpi('Invalid clicks', count(t.invalid), 'kpi-invalid', 'current verdict FRAUD'),
      kpi('Invalid share', percent(t.invalidShare), 'kpi-share'),
      kpi(
        'Estimated wasted spend',
        t.wastedSpend === null ? 'not set' : money(t.wastedSpend, series.currency),
        'kpi-spend',
        series.averageCpc === null
          ? 'Set the average cost per click in Settings to estimate it.'
          : `invalid clicks × average CPC ${money(series.averageCpc, series.currency)}`,
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title' }, 'Clicks per day'),
      h(
        'div',
        { class: 'legend-note', 'aria-hidden': 'true' },
        h('span', {}, h('span', { class: 'swatch', 'data-color': 'clicks' }), 'All paid clicks'),
        h('span', {}, h('span', { class: 'swatch', 'data-color': 'invalid' }), 'Invalid clicks'),
      ),
      chart,
      h(
        'details',
        {},
        h('summary', {}, 'Per-day numbers'),
        table(
          'Per day, in the property’s time zone',
          [['Day'], ['Clicks', true], ['Invalid', true], ['Invalid share', true], ['Est. wasted spend', true]],
          [...series.days]
            .reverse()
            .map((d) => [
              d.date,
              count(d.clicks),
              count(d.invalid),
              percent(d.invalidShare),
              d.wastedSpend === null ? '—' : money(d.wastedSpend, series.currency),
            ]),
          'days-table',
        ),
      ),
      h('p', { class: 'note' }, `How spend is estimated: ${series.spendEstimate}`),
    ),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'bands-title' },
        h('h2', { id: 'bands-title' }, 'Verdict bands'),
        table(
          'Clicks by current verdict',
          [['Band'], ['Clicks', true]],
          [
            [h('span', { class: 'CLEAN' }, 'Clean'), count(stats.cleanCount)],
            [h('span', { class: 'SUSPICIOUS' }, 'Suspicious'), count(stats.suspiciousCount)],
            [h('span', { class: 'FRAUD' }, 'Fraud'), count(stats.fraudCount)],
          ],
          'bands-table',
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'rules-title' },
        h('h2', { id: 'rules-title' }, 'Top rules'),
        stats.topRules.length === 0
          ? h('p', { class: 'note' }, 'No rule fired in this period.')
          : table(
              'Clicks whose verdict fired the rule',
              [['Rule'], ['Clicks', true]],
              stats.topRules.map((r) => [h('code', {}, r.rule), count(r.count)]),
              'rules-table',
            ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sources-title' },
      h('h2', { id: 'sources-title' }, 'Top traffic sources'),
      sources.sources.length === 0
        ? h('p', { class: 'note' }, 'No source has enough clicks yet to be ranked.')
        : table(
            sources.tracksConversions
              ? `By clicks; the property converts ${percent(sources.propertyConversionRate)} of its clicks`
              : 'By clicks; too few trusted conversions yet to judge sources by their conversion rate',
            [
              ['Source'],
              ['Clicks', true],
              ['Invalid share', true],
              ['Conversions', true],
              ['Conversion rate', true],
              ['Learned evidence'],
            ],
            sources.sources.map((s) => [
              h('code', {}, s.source),
              count(s.clicks),
              s.invalidShare === null
                ? h('span', { title: 'Not counted for this source yet' }, '—')
                : percent(s.invalidShare),
              count(s.conversions),
              percent(s.conversionRate),
              s.learned ?? '—',
            ]),
            'sources-table',
          ),
    ),
  );
  for (const swatch of main.querySelectorAll<HTMLElement>('.swatch')) {
    swatch.style.background = COLORS[swatch.dataset.color as keyof typeof COLORS];
  }
  drawChart(chart, series.days);
}

function drawChart(container: HTMLElement, days: DayPoint[]): void {
  const x = days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
  const width = () => Math.max(260, container.clientWidth || 600);
  const plot = new uPlot(
    {
      width: width(),
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{ stroke: '#4a5360' }, { stroke: '#4a5360', size: 44 }],
      series: [
        {},
        { label: 'Clicks', stroke: COLORS.clicks, width: 2, fill: 'rgba(11,87,208,0.08)' },
        { label: 'Invalid', stroke: COLORS.invalid, width: 2 },
      ],
    },
    [x, days.map((d) => d.clicks), days.map((d) => d.invalid)],
    container,
  );
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 240 }));
  observer.observe(container);
}
