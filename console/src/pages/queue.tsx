// The review queue: filters (as the queue endpoint takes them), a table with one active row and
// a selection, and the keyboard: j/k move, x selects, o or Enter opens, a approves, r rejects,
// c requests changes (the selection, or the active row when nothing is selected).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs, roles } from '../api.js';
import { type Collection, type DecisionResult, type Entry, type Me, type QueuePage as Page, QUEUE_STATES, TLPS } from '../types.js';
import { ErrorNote, Loading, PageTitle, TlpBadge, useLoad, when } from '../ui.js';
import { type Action, DecisionPanel, outcomeText, targetRef } from './decision.js';

const AGES: Record<string, number> = { 'older than 1 hour': 3600, 'older than 1 day': 86_400, 'older than 7 days': 7 * 86_400 };
const TLP_ORDER = ['clear', 'green', 'amber', 'amber+strict', 'red'];
/** The queue's order across all pages, as the queue endpoint pages it (order=asc|desc). */
const ORDERS = { 'oldest first': 'asc', 'newest first': 'desc' } as const;
/** Orders of the rows of the page shown; ties (and "queue order") keep the queue's order (a stable sort). */
const SORTS: Record<string, (a: Entry, b: Entry) => number> = {
  'queue order': () => 0,
  'highest TLP first': (a, b) => TLP_ORDER.indexOf(b.tlp) - TLP_ORDER.indexOf(a.tlp),
  'most findings first': (a, b) => b.findings.length - a.findings.length,
  'object type': (a, b) => a.object_type.localeCompare(b.object_type),
  vendor: (a, b) => (a.vendor ?? '').localeCompare(b.vendor ?? ''),
};
const FILTERS = ['state', 'intake', 'organisation', 'type', 'finding', 'tlp', 'submission', 'object', 'age'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

export function QueuePage({ me }: { me: Me }) {
  const decides = roles.decides(me);
  const [filters, setFilters] = useState<Filters>({ state: 'pending' });
  const [cursor, setCursor] = useState<string>();
  const [order, setOrder] = useState<keyof typeof ORDERS>('oldest first');
  /** The filters as the curation API takes them (the age as a time), without empty ones. */
  const wireFilters = (): Record<string, string> => {
    const { age, ...rest } = filters;
    const olderThan = age && AGES[age] ? new Date(Date.now() - AGES[age] * 1000).toISOString() : undefined;
    return Object.fromEntries(Object.entries({ ...rest, older_than: olderThan }).filter((e): e is [string, string] => Boolean(e[1])));
  };
  const query = () => qs({ ...wireFilters(), order: ORDERS[order], limit: 50, next: cursor });
  // Deciding on every entry the filters match (all pages), not on the rows selected on this one.
  const [everyMatch, setEveryMatch] = useState(false);
  const page = useLoad(() => api.get<Page>(`/admin/v1/curation/queue${query()}`), JSON.stringify([filters, order, cursor]));
  // Intakes by id, named root/alias as the intake filter takes them; vendors (and curators of other
  // roots) may not list the collections: their rows name the API root only.
  const intakes = useLoad(() => (decides ? api.get<{ collections: Collection[] }>('/admin/v1/collections').then((r) => new Map(r.collections.map((c) => [c.id, targetRef(c)])), () => undefined) : Promise.resolve(undefined)), 'intakes');
  const [sort, setSort] = useState<keyof typeof SORTS>('queue order');
  const entries = [...(page.data?.entries ?? [])].sort(SORTS[sort]);
  const [active, setActiveState] = useState(0);
  // Read by the key handler: keys pressed faster than a render must see the latest row.
  const activeRef = useRef(0);
  const setActive = (i: number) => {
    activeRef.current = i;
    setActiveState(i);
  };
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [deciding, setDeciding] = useState<{ action: Action; entries: Entry[]; filter?: Record<string, string | string[]> }>();
  const [outcome, setOutcome] = useState<string>();
  const rows = useRef<HTMLTableSectionElement>(null);
  // The key handler is re-attached after a render's effects run, later than the next key may come:
  // it reads what it needs from here, brought up to date at every render.
  const latest = useRef({ entries, selected, deciding, everyMatch });
  latest.current = { entries, selected, deciding, everyMatch };

  useEffect(() => {
    setActive(0);
    setSelected(new Set());
  }, [page.data]);

  const focusRow = (i: number) => {
    setActive(i);
    rows.current?.querySelectorAll<HTMLTableRowElement>('tr')[i]?.focus();
  };
  const toggle = (id: string) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  const chosen = (): Entry[] => {
    const { entries, selected } = latest.current;
    const row = entries[activeRef.current];
    return selected.size ? entries.filter((e) => selected.has(e.id)) : row ? [row] : [];
  };
  const decide = (action: Action) => {
    const list = chosen();
    if (!decides || !list.length) return;
    if (latest.current.everyMatch) {
      // the decision's filter takes lists for the state and the object type
      const { state, type, ...rest } = wireFilters();
      setDeciding({ action, entries: [], filter: { ...rest, ...(state ? { state: [state] } : {}), ...(type ? { type: [type] } : {}) } });
    } else setDeciding({ action, entries: list });
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { entries, deciding } = latest.current;
      if (deciding || typing(e.target) || e.ctrlKey || e.metaKey || e.altKey || entries.length === 0) return;
      const active = activeRef.current;
      const e0 = entries[active];
      switch (e.key) {
        case 'j':
          focusRow(Math.min(active + 1, entries.length - 1));
          break;
        case 'k':
          focusRow(Math.max(active - 1, 0));
          break;
        case 'x':
          if (e0) toggle(e0.id);
          break;
        case 'o':
        case 'Enter':
          if (e0 && (e.key === 'o' || (e.target as HTMLElement).tagName === 'TR')) location.hash = `#/entry/${encodeURIComponent(e0.id)}`;
          else return;
          break;
        case 'a':
          decide('approve');
          break;
        case 'r':
          decide('reject');
          break;
        case 'c':
          decide('request-changes');
          break;
        default:
          return;
      }
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const apply = (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const f: Filters = {};
    for (const k of FILTERS) {
      const v = (form.elements.namedItem(k) as HTMLInputElement | HTMLSelectElement | null)?.value.trim();
      if (v) f[k] = v;
    }
    setCursor(undefined);
    setFilters(f);
  };
  const done = (r: DecisionResult) => {
    setDeciding(undefined);
    setOutcome(outcomeText(r));
    page.reload();
  };

  return (
    <>
      <PageTitle>Review queue</PageTitle>
      <form class="filters" onSubmit={apply} aria-label="Queue filters">
        <Select name="state" label="State" options={QUEUE_STATES} value={filters.state} />
        <Text name="intake" label="Intake" placeholder="root/alias" value={filters.intake} />
        <Text name="organisation" label="Vendor" value={filters.organisation} />
        <Text name="type" label="Object type" placeholder="indicator" value={filters.type} />
        <Text name="finding" label="Finding code" value={filters.finding} />
        <Select name="tlp" label="TLP" options={TLPS} value={filters.tlp} />
        <Text name="submission" label="Submission" value={filters.submission} />
        <Text name="object" label="Object id" value={filters.object} />
        <Select name="age" label="Age" options={Object.keys(AGES)} value={filters.age} />
        <button type="submit">Apply filters</button>
      </form>
      <div class="field inline">
        <label for="queue-order">Order (all pages)</label>
        <select
          id="queue-order"
          value={order}
          onChange={(e) => {
            // A cursor continues one order only: the other order starts again at its first page.
            setOrder((e.currentTarget as HTMLSelectElement).value as keyof typeof ORDERS);
            setCursor(undefined);
          }}
        >
          {Object.keys(ORDERS).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      <div class="field inline">
        <label for="queue-sort">Sort this page</label>
        <select id="queue-sort" value={sort} onChange={(e) => setSort((e.currentTarget as HTMLSelectElement).value)}>
          {Object.keys(SORTS).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      <p class="muted" id="queue-keys">
        Keys: j / k next and previous, x select, o open{decides ? ', a approve, r reject, c request changes' : ''} (the selection, or the highlighted row).
      </p>
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      {decides && (
        <div class="toolbar">
          <span>{everyMatch ? 'every entry matching the filters' : `${selected.size} selected`}</span>
          <button type="button" disabled={!entries.length} onClick={() => decide('approve')}>
            Approve…
          </button>
          <button type="button" disabled={!entries.length} onClick={() => decide('reject')}>
            Reject…
          </button>
          <button type="button" disabled={!entries.length} onClick={() => decide('request-changes')}>
            Request changes…
          </button>
          <button type="button" disabled={!entries.length} onClick={() => decide('annotate')}>
            Annotate…
          </button>
          <button type="button" disabled={!selected.size} onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
          <span class="check">
            <input type="checkbox" id="every-match" checked={everyMatch} onChange={(e) => setEveryMatch((e.currentTarget as HTMLInputElement).checked)} />
            <label for="every-match">Decide on every entry matching the filters (all pages)</label>
          </span>
        </div>
      )}
      {deciding && (
        <DecisionPanel
          key={deciding.action}
          action={deciding.action}
          subject={deciding.filter ? { filter: deciding.filter } : { entries: deciding.entries.map((e) => ({ id: e.id, rev: e.rev })) }}
          onDone={done}
          onCancel={() => {
            setDeciding(undefined);
            focusRow(active);
          }}
        />
      )}
      <ErrorNote error={page.error} />
      {page.loading && !page.data ? (
        <Loading what="the queue" />
      ) : (
        <table class="queue" aria-describedby="queue-keys">
          <caption>
            {entries.length} entr{entries.length === 1 ? 'y' : 'ies'}
            {page.data?.more ? ' (more on the next page)' : ''}
          </caption>
          <thead>
            <tr>
              {decides && (
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={entries.length > 0 && selected.size === entries.length}
                    onChange={(e) => setSelected((e.currentTarget as HTMLInputElement).checked ? new Set(entries.map((x) => x.id)) : new Set())}
                  />
                </th>
              )}
              <th scope="col">Object</th>
              <th scope="col">Vendor</th>
              <th scope="col">Intake</th>
              <th scope="col">TLP</th>
              <th scope="col">Findings</th>
              <th scope="col">State</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
          <tbody ref={rows}>
            {entries.map((e, i) => (
              <tr key={e.id} tabIndex={i === active ? 0 : -1} class={i === active ? 'active' : ''} data-selected={selected.has(e.id) ? "" : undefined} data-object={e.object_id} onFocus={() => setActive(i)}>
                {decides && (
                  <td>
                    <input type="checkbox" aria-label={`Select ${e.object_id}`} checked={selected.has(e.id)} onChange={() => toggle(e.id)} />
                  </td>
                )}
                <td>
                  <a href={`#/entry/${encodeURIComponent(e.id)}`}>
                    <span class="type">{e.object_type}</span> <code>{e.object_id}</code>
                  </a>
                  {e.revoked && <span class="tag">revoked</span>}
                </td>
                <td>{e.vendor ?? '—'}</td>
                <td>{intakes.data?.get(e.intake) ?? e.api_root}</td>
                <td>
                  <TlpBadge tlp={e.tlp} />
                </td>
                <td>{e.findings.length ? e.findings.map((f) => <span key={f.code + f.path} class={`finding ${f.severity}`} title={f.message}>{f.code}</span>) : '—'}</td>
                <td>
                  {e.state}
                  {e.reason ? `: ${e.reason}` : ''}
                </td>
                <td>{when(e.date_added)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page.data?.next && (
        <button type="button" onClick={() => setCursor(page.data?.next)}>
          Next page
        </button>
      )}
      {cursor && (
        <button type="button" onClick={() => setCursor(undefined)}>
          First page
        </button>
      )}
    </>
  );
}

// The filter fields start from the applied filters and are then the curator's: a redraw (the queue
// arriving, a decision's outcome) must not undo what is being typed, so their values are defaults.
function Text({ name, label, placeholder, value }: { name: string; label: string; placeholder?: string; value: string | undefined }) {
  return (
    <div class="field">
      <label for={`f-${name}`}>{label}</label>
      <input id={`f-${name}`} name={name} placeholder={placeholder} defaultValue={value ?? ''} />
    </div>
  );
}

function Select({ name, label, options, value }: { name: string; label: string; options: readonly string[]; value: string | undefined }) {
  return (
    <div class="field">
      <label for={`f-${name}`}>{label}</label>
      <select id={`f-${name}`} name={name}>
        <option value="" selected={!value}>
          any
        </option>
        {options.map((o) => (
          <option key={o} value={o} selected={o === value}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}
