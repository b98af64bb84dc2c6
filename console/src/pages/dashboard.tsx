// The desk at a glance, from GET /admin/v1/curation/stats: queue depth and age per intake,
// decisions per curator, time to publish and submissions per day per vendor, as charts with their
// numbers; what each published collection (each country) holds, from its manifest; and webhook health.
import { api, qs } from '../api.js';
import type { Collection, Stats } from '../types.js';
import { BarChart, ErrorNote, Loading, PageTitle, StackedColumns, useLoad } from '../ui.js';
import { targetRef } from './decision.js';

/** Days of the submissions chart (the statistics' window; its columns fit the dashboard). */
const DAYS = 7;
const DAY_MS = 86_400_000;

/** The statistics' submissions per vendor per day as one column per UTC day of the window, days without any included. */
function perDayColumns(stats: Stats): { days: Array<{ label: string; values: Record<string, number> }>; vendors: string[] } {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const vendorOf = (r: Stats['submissions_per_day'][number]) => r.vendor ?? '(none)';
  const days = Array.from({ length: stats.days }, (_, i) => {
    const day = new Date(today.getTime() - (stats.days - 1 - i) * DAY_MS).toISOString().slice(0, 10);
    return { label: day.slice(5), values: Object.fromEntries(stats.submissions_per_day.filter((r) => r.day === day).map((r) => [vendorOf(r), r.submissions])) };
  });
  return { days, vendors: [...new Set(stats.submissions_per_day.map(vendorOf))].sort() };
}

/** Objects (latest versions) per published collection, from each collection's TAXII manifest: one page, counted. */
async function publishedCounts(): Promise<Array<{ label: string; value: number }>> {
  const collections = (await api.get<{ collections: Collection[] }>('/admin/v1/collections')).collections.filter((c) => c.purpose === 'published');
  const query = new URLSearchParams({ limit: '1000', 'match[version]': 'last' }).toString();
  return Promise.all(
    collections.map(async (c) => {
      const page = await api.taxii<{ more?: boolean; objects?: unknown[] }>(`/${encodeURIComponent(c.api_root)}/collections/${encodeURIComponent(c.id)}/manifest/?${query}`);
      return { label: `${targetRef(c)}${page.more ? ' (1000+)' : ''}`, value: page.objects?.length ?? 0 };
    }),
  );
}

export function Dashboard() {
  const stats = useLoad(() => api.get<Stats>(`/admin/v1/curation/stats${qs({ days: DAYS })}`), 'stats');
  const published = useLoad(publishedCounts, 'published');
  // Webhook health: the subscriptions the account may see (all of them for admins), by state.
  const hooks = useLoad(() => api.get<{ subscriptions: Array<{ state: string }> }>('/admin/v1/subscriptions').then((r) => r.subscriptions, () => undefined), 'hooks');
  const d = stats.data;
  const perDay = d && perDayColumns(d);
  return (
    <>
      <PageTitle>Dashboard</PageTitle>
      <ErrorNote error={stats.error ?? published.error} />
      {!d ? (
        !stats.error && <Loading what="statistics" />
      ) : (
        <div class="charts">
          <BarChart title="Queue depth per intake" unit="entries" rows={d.queues.map((q) => ({ label: `${q.api_root}/${q.alias ?? q.intake}`, value: q.depth }))} />
          <BarChart title="Age of the oldest waiting entry per intake" format={age} rows={d.queues.filter((q) => q.depth > 0).map((q) => ({ label: `${q.api_root}/${q.alias ?? q.intake}`, value: q.age_seconds?.oldest ?? 0 }))} />
          {perDay && <StackedColumns title={`Submissions per vendor per day (UTC, last ${d.days} days)`} unit="submissions" columns={perDay.days} series={perDay.vendors} />}
          <BarChart title="Decisions per curator" unit="decisions" rows={d.decisions_per_curator.map((c) => ({ label: c.curator, value: c.decisions }))} />
          {published.data && <BarChart title="Objects published per collection (per country)" unit="objects" rows={published.data} />}
          {hooks.data && hooks.data.length > 0 && (
            <BarChart title="Webhook subscriptions by state" unit="subscriptions" rows={[...new Set(hooks.data.map((h) => h.state))].sort().map((state) => ({ label: state, value: hooks.data!.filter((h) => h.state === state).length }))} />
          )}
          <BarChart title="Publications per vendor" unit="publications" rows={d.time_to_publish.map((t) => ({ label: t.vendor ?? '(none)', value: t.publications }))} />
          <table>
            <caption>Queue age per intake</caption>
            <thead>
              <tr>
                <th scope="col">Intake</th>
                <th scope="col">Depth</th>
                <th scope="col">Median age</th>
                <th scope="col">Oldest</th>
              </tr>
            </thead>
            <tbody>
              {d.queues.map((q) => (
                <tr key={q.intake}>
                  <th scope="row">{`${q.api_root}/${q.alias ?? q.intake}`}</th>
                  <td>{q.depth}</td>
                  <td>{age(q.age_seconds?.p50)}</td>
                  <td>{age(q.age_seconds?.oldest)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Time to publish per vendor (median)</caption>
            <thead>
              <tr>
                <th scope="col">Vendor</th>
                <th scope="col">Publications</th>
                <th scope="col">Median time to publish</th>
              </tr>
            </thead>
            <tbody>
              {d.time_to_publish.map((t) => (
                <tr key={t.vendor ?? ''}>
                  <th scope="row">{t.vendor ?? '(none)'}</th>
                  <td>{t.publications}</td>
                  <td>{age(t.p50_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function age(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}
