// The desk at a glance, from GET /admin/v1/curation/stats: queue depth and age per intake,
// decisions per curator and time to publish per vendor, as charts with their numbers; the
// submissions each vendor sent per day, from the queue; what each published collection (each
// country) holds, from its manifest; and webhook health.
import { api, qs } from '../api.js';
import type { Collection, QueuePage, Stats } from '../types.js';
import { BarChart, ErrorNote, Loading, PageTitle, StackedColumns, useLoad } from '../ui.js';
import { targetRef } from './decision.js';

const DAYS = 7;
/** At most this many queue pages of 1000 entries are read for the chart (it says so when cut). */
const MAX_PAGES = 10;

/**
 * Submissions (distinct submission ids) per vendor per UTC day over the last DAYS days, from the
 * queue entries created since (every state): what reached the desk, as the curation API shows it.
 */
async function submissionsPerDay(): Promise<{ days: Array<{ label: string; values: Record<string, number> }>; vendors: string[]; cut: boolean }> {
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const since = new Date(today.getTime() - (DAYS - 1) * 86_400_000);
  const seen = new Map<string, Set<string>>(); // day → "vendor submission"
  let next: string | undefined;
  let pages = 0;
  do {
    const page = await api.get<QueuePage>(`/admin/v1/curation/queue${qs({ newer_than: since.toISOString(), limit: 1000, next })}`);
    for (const e of page.entries) {
      const day = e.created.slice(0, 10);
      seen.set(day, (seen.get(day) ?? new Set()).add(`${e.vendor ?? '(none)'}\n${e.submission}`));
    }
    next = page.next;
    pages += 1;
  } while (next && pages < MAX_PAGES);
  const vendors = new Set<string>();
  const days = Array.from({ length: DAYS }, (_, i) => {
    const day = new Date(since.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    const values: Record<string, number> = {};
    for (const key of seen.get(day) ?? []) {
      const vendor = key.split('\n')[0]!;
      vendors.add(vendor);
      values[vendor] = (values[vendor] ?? 0) + 1;
    }
    return { label: day.slice(5), values };
  });
  return { days, vendors: [...vendors].sort(), cut: next !== undefined };
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
  const stats = useLoad(() => api.get<Stats>('/admin/v1/curation/stats'), 'stats');
  const published = useLoad(publishedCounts, 'published');
  // Webhook health: the subscriptions the account may see (all of them for admins), by state.
  const hooks = useLoad(() => api.get<{ subscriptions: Array<{ state: string }> }>('/admin/v1/subscriptions').then((r) => r.subscriptions, () => undefined), 'hooks');
  const perDay = useLoad(submissionsPerDay, 'per-day');
  const d = stats.data;
  return (
    <>
      <PageTitle>Dashboard</PageTitle>
      <ErrorNote error={stats.error ?? published.error ?? perDay.error} />
      {!d ? (
        !stats.error && <Loading what="statistics" />
      ) : (
        <div class="charts">
          <BarChart title="Queue depth per intake" unit="entries" rows={d.queues.map((q) => ({ label: `${q.api_root}/${q.alias ?? q.intake}`, value: q.depth }))} />
          <BarChart title="Age of the oldest waiting entry per intake" format={age} rows={d.queues.filter((q) => q.depth > 0).map((q) => ({ label: `${q.api_root}/${q.alias ?? q.intake}`, value: q.age_seconds?.oldest ?? 0 }))} />
          {perDay.data && (
            <StackedColumns
              title={`Submissions per vendor per day (UTC, last ${DAYS} days${perDay.data.cut ? `, first ${MAX_PAGES * 1000} queue entries` : ''})`}
              unit="submissions"
              columns={perDay.data.days}
              series={perDay.data.vendors}
            />
          )}
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
