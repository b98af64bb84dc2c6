// Administration through the admin API (/admin/v1/…): every page is a list with its columns and,
// where the API allows it, a creation form and removal; the pages differ only in their description
// below. The API decides who may do what; the navigation only hides pages an account cannot use.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, qs, roles } from '../api.js';
import { type Me, ROLES, TLPS } from '../types.js';
import { ErrorNote, type Field, FieldsForm, type FormValues, Loading, PageTitle, useLoad, useReturnFocus, when } from '../ui.js';

type Row = Record<string, unknown>;

export interface AdminPageSpec {
  key: string;
  title: string;
  /** Who sees the page: admins only, admins and curators, or every account (its own things). */
  audience: 'admin' | 'curator' | 'everyone';
  /** Creating and editing need an admin (curators see the list only). */
  adminChanges?: boolean;
  path: (me: Me) => string;
  listKey: string;
  columns: Array<[label: string, value: (r: Row) => ComponentChildren]>;
  create?: { label: string; fields: Field[]; body: (v: FormValues) => Row };
  /** Query filters (the audit log). */
  filters?: Field[];
  /** The query of the next page, when the answer says there is one. */
  next?: (answer: Row) => Record<string, string> | undefined;
  /** The path that removes a row, when the API allows it. */
  remove?: (r: Row, me: Me) => string;
  describe: (r: Row) => string;
  /** Disables or enables the row again: the request, and whether the row is disabled now. */
  disable?: { disabled: (r: Row) => boolean; request: (r: Row, disable: boolean) => { method: 'PATCH' | 'POST'; path: string; body: Row } };
  /** Changes a row (PATCH): the form's fields, its values from the row, and the body sent. */
  edit?: { fields: Field[]; values: (r: Row) => FormValues; body: (v: FormValues) => Row; path: (r: Row) => string };
  /** What to say once a row is created (default: "Created …"). */
  created?: (r: Row) => string;
}

const s = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v));
const col = (label: string, key: string): [string, (r: Row) => string] => [label, (r) => s(r[key])];
const at = (label: string, key: string): [string, (r: Row) => string] => [label, (r) => when(r[key] as string | undefined)];
/** The defined, non-empty values of a form (empty lists and false flags left out). */
const defined = (v: FormValues): Row => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== '' && !(Array.isArray(x) && x.length === 0)));

/** Disabling by PATCH {disabled} (organisations, accounts). */
const flag = (path: (r: Row) => string): AdminPageSpec['disable'] => ({ disabled: (r) => r.disabled === true, request: (r, disabled) => ({ method: 'PATCH', path: path(r), body: { disabled } }) });
const EVENT_TYPES = ['object.published', 'object.updated', 'object.revoked', 'object.withdrawn', 'curation.approved', 'curation.rejected', 'curation.changes_requested', 'curation.withdrawn'];

export const ADMIN_PAGES: AdminPageSpec[] = [
  {
    key: 'organisations', title: 'Organisations', audience: 'admin', path: () => '/admin/v1/organisations', listKey: 'organisations',
    columns: [col('Name', 'name'), col('Kind', 'kind'), col('Country', 'country'), [`Disabled`, (r) => (r.disabled ? 'yes' : 'no')], at('Created', 'created')],
    create: {
      label: 'Add organisation',
      fields: [{ name: 'name', label: 'Name', required: true }, { name: 'kind', label: 'Kind', kind: 'select', options: ['member-agency', 'vendor', 'desk'], required: true }, { name: 'country', label: 'Country (ISO code)' }],
      body: defined,
    },
    disable: flag((r) => `/admin/v1/organisations/${encodeURIComponent(s(r.name))}`),
    describe: (r) => s(r.name),
  },
  {
    key: 'accounts', title: 'Accounts', audience: 'admin', path: () => '/admin/v1/accounts', listKey: 'accounts',
    columns: [
      col('Name', 'name'), col('Organisation', 'organisation'), col('Roles', 'roles'), col('Curator roots', 'curator_roots'), [`Disabled`, (r) => (r.disabled ? 'yes' : 'no')], at('Created', 'created'),
      ['API keys', (r) => <a href={`#/admin/accounts/${encodeURIComponent(s(r.name))}/api-keys`} aria-label={`API keys of ${s(r.name)}`}>keys</a>],
    ],
    create: {
      label: 'Add account',
      fields: [
        { name: 'name', label: 'Name', required: true },
        { name: 'password', label: 'Password', kind: 'password', required: true, hint: 'at least 12 characters' },
        { name: 'organisation', label: 'Organisation' },
        { name: 'roles', label: 'Roles', kind: 'checkboxes', options: ROLES },
        { name: 'curator_roots', label: 'Curator roots', kind: 'list', hint: 'comma-separated API root paths' },
      ],
      body: defined,
    },
    disable: flag((r) => `/admin/v1/accounts/${encodeURIComponent(s(r.name))}`),
    edit: {
      fields: [
        { name: 'roles', label: 'Roles', kind: 'checkboxes', options: ROLES },
        { name: 'curator_roots', label: 'Curator roots', kind: 'list', hint: 'comma-separated API root paths; empty for none' },
        { name: 'organisation', label: 'Organisation' },
        { name: 'password', label: 'New password', kind: 'password', hint: 'leave empty to keep the password' },
      ],
      values: (r) => ({ roles: r.roles ?? [], curator_roots: r.curator_roots ?? [], organisation: r.organisation ?? '' }),
      // Roles and curator roots are sent even when emptied: that is how they are taken away.
      body: (v) => ({ roles: v.roles, curator_roots: v.curator_roots, ...(v.organisation ? { organisation: v.organisation } : {}), ...(v.password ? { password: v.password } : {}) }),
      path: (r) => `/admin/v1/accounts/${encodeURIComponent(s(r.name))}`,
    },
    describe: (r) => s(r.name),
  },
  {
    key: 'api-roots', title: 'API roots', audience: 'curator', adminChanges: true, path: () => '/admin/v1/api-roots', listKey: 'api_roots',
    columns: [col('Path', 'path'), col('Title', 'title'), col('Country', 'country'), col('Max content length', 'max_content_length'), [`TAXII 2.0 view`, (r) => (r.taxii20 ? 'on' : 'off')]],
    create: {
      label: 'Add API root',
      fields: [{ name: 'path', label: 'Path', required: true }, { name: 'title', label: 'Title', required: true }, { name: 'country', label: 'Country (ISO code)' }],
      body: defined,
    },
    edit: {
      fields: [
        { name: 'title', label: 'Title', required: true },
        { name: 'description', label: 'Description' },
        { name: 'max_content_length', label: 'Max content length (bytes)', required: true },
        { name: 'taxii20', label: 'TAXII 2.0 view', kind: 'checkbox' },
      ],
      values: (r) => ({ title: r.title, description: r.description ?? '', max_content_length: r.max_content_length, taxii20: r.taxii20 === true }),
      body: (v) => {
        const max = Number(v.max_content_length);
        if (!Number.isInteger(max) || max < 1) throw new Error('Max content length: a whole number of bytes, at least 1.');
        // an emptied description is sent empty: that is how it is removed
        return { title: v.title, description: v.description, max_content_length: max, taxii20: v.taxii20 === true };
      },
      path: (r) => `/admin/v1/api-roots/${encodeURIComponent(s(r.path))}`,
    },
    describe: (r) => s(r.path),
  },
  {
    key: 'collections', title: 'Collections', audience: 'curator', path: () => '/admin/v1/collections', listKey: 'collections',
    columns: [col('API root', 'api_root'), col('Alias', 'alias'), col('Title', 'title'), col('Purpose', 'purpose'), col('Id', 'id')],
    create: {
      label: 'Add collection',
      fields: [
        { name: 'api_root', label: 'API root', required: true },
        { name: 'title', label: 'Title', required: true },
        { name: 'alias', label: 'Alias' },
        { name: 'purpose', label: 'Purpose', kind: 'select', options: ['published', 'intake'] },
      ],
      body: defined,
    },
    edit: {
      fields: [
        { name: 'title', label: 'Title', required: true },
        { name: 'description', label: 'Description' },
        { name: 'purpose', label: 'Purpose', kind: 'select', options: ['published', 'intake'], required: true },
      ],
      values: (r) => ({ title: r.title, description: r.description ?? '', purpose: r.purpose }),
      body: (v) => ({ title: v.title, description: v.description, purpose: v.purpose }),
      path: (r) => `/admin/v1/collections/${encodeURIComponent(s(r.id))}${qs({ api_root: s(r.api_root) })}`,
    },
    describe: (r) => `${s(r.api_root)}/${s(r.alias ?? r.id)}`,
  },
  {
    key: 'grants', title: 'Grants', audience: 'curator', path: () => '/admin/v1/grants', listKey: 'grants',
    columns: [
      ['Collection', (r) => `${s(r.api_root)}/${s(r.collection_alias ?? r.collection)}`],
      ['Subject', (r) => (r.account ? `account ${s(r.account)}` : `organisation ${s(r.organisation)}`) + (r.role ? ` (role ${s(r.role)})` : '')],
      ['Rights', (r) => [r.read ? 'read' : '', r.write ? 'write' : ''].filter(Boolean).join(' + ')],
      col('TLP cap', 'max_tlp'),
      at('Created', 'created'),
    ],
    create: {
      label: 'Add grant',
      fields: [
        { name: 'api_root', label: 'API root', required: true },
        { name: 'collection', label: 'Collection (alias or id)', required: true },
        { name: 'account', label: 'Account' },
        { name: 'organisation', label: 'Organisation' },
        { name: 'role', label: 'Only for role', kind: 'select', options: ROLES },
        { name: 'read', label: 'Read', kind: 'checkbox' },
        { name: 'write', label: 'Write', kind: 'checkbox' },
        { name: 'max_tlp', label: 'TLP cap', kind: 'select', options: TLPS },
      ],
      body: (v) => ({ ...defined(v), read: v.read === true, write: v.write === true }),
    },
    remove: (r) => `/admin/v1/grants/${encodeURIComponent(s(r.id))}`,
    edit: {
      fields: [
        { name: 'read', label: 'Read', kind: 'checkbox' },
        { name: 'write', label: 'Write', kind: 'checkbox' },
        { name: 'max_tlp', label: 'TLP cap', kind: 'select', options: TLPS, required: true },
      ],
      values: (r) => ({ read: r.read === true, write: r.write === true, max_tlp: r.max_tlp }),
      body: (v) => ({ read: v.read === true, write: v.write === true, max_tlp: v.max_tlp }),
      path: (r) => `/admin/v1/grants/${encodeURIComponent(s(r.id))}`,
    },
    describe: (r) => `${s(r.account ?? r.organisation)} on ${s(r.api_root)}/${s(r.collection_alias ?? r.collection)}`,
  },
  {
    key: 'audit', title: 'Audit log', audience: 'admin', path: () => '/admin/v1/audit', listKey: 'events',
    columns: [at('At', 'at'), col('Actor', 'actor'), col('Action', 'action'), col('Outcome', 'outcome'), col('Target', 'target'), ['Detail', (r) => (r.detail ? JSON.stringify(r.detail) : '')]],
    filters: [
      { name: 'actor', label: 'Actor' },
      { name: 'action', label: 'Action', hint: 'e.g. curation.approve, grant.set' },
      { name: 'outcome', label: 'Outcome', kind: 'select', options: ['success', 'failure'] },
      { name: 'since', label: 'Since', hint: 'RFC 3339, e.g. 2026-01-31T00:00:00Z' },
    ],
    next: (a) => (a.more && a.next_after !== undefined ? { after: s(a.next_after) } : undefined),
    describe: (r) => s(r.seq),
  },
  {
    key: 'subscriptions', title: 'Webhooks', audience: 'admin', path: () => '/admin/v1/subscriptions', listKey: 'subscriptions',
    columns: [
      col('Organisation', 'organisation'),
      col('URL', 'url'),
      ['State', (r) => `${s(r.state)}${r.disabled_reason ? `: ${s(r.disabled_reason)}` : ''}`],
      col('Collections', 'collections'),
      col('Events', 'event_types'),
      col('Failed attempts', 'failed_attempts'),
      at('Last success', 'last_success'),
      ['Deliveries', (r) => <a href={`#/admin/subscriptions/${encodeURIComponent(s(r.id))}`} aria-label={`Delivery log of ${s(r.url)}`}>log</a>],
    ],
    create: {
      label: 'Add webhook subscription',
      fields: [
        { name: 'url', label: 'Receiver URL', required: true, hint: 'https://…' },
        { name: 'organisation', label: 'Organisation', required: true },
        { name: 'collections', label: 'Collections', kind: 'list', hint: 'root/alias, comma-separated' },
        { name: 'event_types', label: 'Events', kind: 'checkboxes', options: EVENT_TYPES },
        { name: 'max_tlp', label: 'TLP cap', kind: 'select', options: TLPS },
      ],
      body: defined,
    },
    disable: {
      disabled: (r) => r.state === 'disabled',
      request: (r, disable) => ({ method: 'POST', path: `/admin/v1/subscriptions/${encodeURIComponent(s(r.id))}/${disable ? 'disable' : 'enable'}`, body: {} }),
    },
    remove: (r) => `/admin/v1/subscriptions/${encodeURIComponent(s(r.id))}`,
    describe: (r) => `the subscription of ${s(r.organisation)} to ${s(r.url)}`,
    created: (r) => `Created the subscription of ${s(r.organisation)} to ${s(r.url)}. Copy its signing secret now, it is not shown again: ${s(r.secret)}`,
  },
  {
    key: 'api-keys', title: 'My API keys', audience: 'everyone', path: (me) => `/admin/v1/accounts/${encodeURIComponent(me.name)}/api-keys`, listKey: 'api_keys',
    columns: [col('Name', 'name'), col('Prefix', 'prefix'), at('Created', 'created'), at('Expires', 'expires'), at('Last used', 'last_used'), at('Revoked', 'revoked')],
    create: {
      label: 'Add API key',
      fields: [{ name: 'name', label: 'Name', required: true }, { name: 'expires', label: 'Expires', hint: 'optional, RFC 3339, e.g. 2027-01-31T00:00:00Z' }],
      body: defined,
    },
    remove: (r, me) => `/admin/v1/accounts/${encodeURIComponent(me.name)}/api-keys/${encodeURIComponent(s(r.id))}`,
    describe: (r) => `API key ${s(r.name)}`,
    created: (r) => `Created API key ${s(r.name)}. Copy its secret now, it is not shown again: ${s(r.key)}`,
  },
];

/** `owner`: another account whose things the page shows (an admin managing its API keys); the signed-in account by default. */
export function AdminPage({ page, me, owner }: { page: AdminPageSpec; me: Me; owner?: string }) {
  // The pages' paths name the account they concern by the Me they are given.
  const who: Me = owner ? { ...me, name: owner } : me;
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [after, setAfter] = useState<Record<string, string>>({});
  const list = useLoad(() => api.get<Row>(`${page.path(who)}${qs({ ...filter, ...after, ...(page.filters ? { limit: 100 } : {}) })}`), JSON.stringify([filter, after]));
  const [outcome, setOutcome] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [editing, setEditingRow] = useState<Row>();
  const focus = useReturnFocus();
  const setEditing = (r: Row | undefined) => {
    if (r) focus.remember();
    else focus.restore();
    setEditingRow(r);
  };
  const rows = (list.data?.[page.listKey] as Row[] | undefined) ?? [];
  const next = list.data && page.next ? page.next(list.data) : undefined;
  const act = async (r: Row, run: () => Promise<unknown>, done: string) => {
    setError(undefined);
    try {
      await run();
      setOutcome(`${done} ${page.describe(r)}.`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const remove = (r: Row) => act(r, () => api.del(page.remove!(r, who)), 'Removed');
  const flip = (r: Row) => {
    const now = page.disable!.disabled(r);
    const { method, path, body } = page.disable!.request(r, !now);
    return act(r, () => (method === 'PATCH' ? api.patch(path, body) : api.post(path, body)), now ? 'Enabled' : 'Disabled');
  };
  const changes = !page.adminChanges || roles.isAdmin(me);
  const edit = changes ? page.edit : undefined;
  const create = changes ? page.create : undefined;
  const actions = Boolean(page.remove || page.disable || edit);
  return (
    <>
      {owner && (
        <p>
          <a href="#/admin/accounts">← Accounts</a>
        </p>
      )}
      <PageTitle>{owner ? `API keys of ${owner}` : page.title}</PageTitle>
      {page.filters && (
        <FieldsForm
          fields={page.filters}
          label="Filter"
          idPrefix={`${page.key}-filter`}
          submit={async (v) => {
            setAfter({});
            setFilter(Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string' && x !== '')) as Record<string, string>);
          }}
        />
      )}
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      <ErrorNote error={list.error ?? error} />
      {list.loading && !list.data ? (
        <Loading what={page.title.toLowerCase()} />
      ) : (
        <table class="admin">
          <caption>
            {rows.length} {page.title.toLowerCase()}
          </caption>
          <thead>
            <tr>
              {page.columns.map(([label]) => (
                <th scope="col" key={label}>
                  {label}
                </th>
              ))}
              {actions && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={s(r.id ?? r.seq ?? r.path ?? i)}>
                {page.columns.map(([label, value]) => (
                  <td key={label}>{value(r)}</td>
                ))}
                {actions && (
                  <td>
                    {edit && (
                      <button type="button" aria-label={`Edit ${page.describe(r)}`} aria-expanded={editing === r} onClick={() => setEditing(r)}>
                        Edit
                      </button>
                    )}
                    {page.disable && (
                      <button type="button" aria-label={`${page.disable.disabled(r) ? 'Enable' : 'Disable'} ${page.describe(r)}`} onClick={() => void flip(r)}>
                        {page.disable.disabled(r) ? 'Enable' : 'Disable'}
                      </button>
                    )}
                    {page.remove && !r.revoked && (
                      <button type="button" aria-label={`Remove ${page.describe(r)}`} onClick={() => void remove(r)}>
                        Remove
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {edit && editing && (
        <section key={page.describe(editing)} aria-labelledby={`${page.key}-edit`} class="panel" onKeyDown={(e) => e.key === 'Escape' && setEditing(undefined)}>
          <EditTitle id={`${page.key}-edit`}>Edit {page.describe(editing)}</EditTitle>
          <FieldsForm
            fields={edit.fields}
            initial={edit.values(editing)}
            label="Save"
            idPrefix={`${page.key}-edit`}
            submit={async (v) => {
              await api.patch(edit.path(editing), edit.body(v));
              setOutcome(`Saved ${page.describe(editing)}.`);
              setEditing(undefined);
              list.reload();
            }}
          />
          <button type="button" onClick={() => setEditing(undefined)}>
            Cancel
          </button>
        </section>
      )}
      {(next || Object.keys(after).length > 0) && (
        <div class="toolbar">
          {Object.keys(after).length > 0 && (
            <button type="button" onClick={() => setAfter({})}>
              First page
            </button>
          )}
          {next && (
            <button type="button" onClick={() => setAfter(next)}>
              Next page
            </button>
          )}
        </div>
      )}
      {create && (
        <section aria-labelledby={`${page.key}-create`}>
          <h2 id={`${page.key}-create`}>{create.label}</h2>
          <FieldsForm
            fields={create.fields}
            label={create.label}
            idPrefix={page.key}
            submit={async (v) => {
              const created = await api.post<Row>(page.path(who), create.body(v));
              setOutcome(page.created ? page.created(created) : `Created ${page.describe(created)}.`);
              list.reload();
            }}
          />
        </section>
      )}
    </>
  );
}

/** A panel's heading, focused when the panel opens (keyboard and screen-reader users land in it). */
function EditTitle({ id, children }: { id: string; children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h2 id={id} tabIndex={-1} ref={ref}>
      {children}
    </h2>
  );
}

interface Delivery {
  id: string;
  webhook_id: string;
  event_type: string;
  kind: string;
  attempt: number;
  at: string;
  outcome: string;
  status_code?: number;
  duration_ms: number;
  error?: string;
  next_attempt?: string;
}

/** One subscription's delivery log, newest first, with a test delivery and redelivery of one event. */
export function Deliveries({ id }: { id: string }) {
  const base = `/admin/v1/subscriptions/${encodeURIComponent(id)}`;
  const sub = useLoad(() => api.get<Row>(base), base);
  const log = useLoad(() => api.get<{ deliveries: Delivery[] }>(`${base}/deliveries?limit=100`), `${base}-log`);
  const [outcome, setOutcome] = useState<string>();
  const [error, setError] = useState<unknown>();
  const run = async (path: string, body: Row, said: string) => {
    setError(undefined);
    try {
      await api.post(path, body);
      setOutcome(said);
      log.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <p>
        <a href="#/admin/subscriptions">← Webhooks</a>
      </p>
      <PageTitle>Deliveries to {s(sub.data?.url ?? id)}</PageTitle>
      <p class="meta">
        {sub.data ? `${s(sub.data.organisation)} · ${s(sub.data.state)} · ${s(sub.data.failed_attempts)} failed attempts · last success ${when(sub.data.last_success as string | undefined) || 'never'}` : ''}
      </p>
      <div class="toolbar">
        <button type="button" onClick={() => void run(`${base}/test`, {}, 'Sent a test delivery.')}>
          Send a test delivery
        </button>
      </div>
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      <ErrorNote error={sub.error ?? log.error ?? error} />
      {log.data ? (
        <table class="admin">
          <caption>{log.data.deliveries.length} deliveries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Event</th>
              <th scope="col">Attempt</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status</th>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {log.data.deliveries.map((d) => (
              <tr key={d.id}>
                <td>{when(d.at)}</td>
                <td>
                  {d.event_type} <code>{d.webhook_id}</code>
                </td>
                <td>{d.attempt}</td>
                <td>
                  {d.outcome}
                  {d.error ? `: ${d.error}` : ''}
                  {d.next_attempt ? ` (next ${when(d.next_attempt)})` : ''}
                </td>
                <td>{d.status_code ?? '—'}</td>
                <td>{d.duration_ms} ms</td>
                <td>
                  <button type="button" aria-label={`Redeliver ${d.webhook_id}`} onClick={() => void run(`${base}/redeliver`, { delivery: d.id }, `Redelivery of ${d.webhook_id} queued.`)}>
                    Redeliver
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        !log.error && <Loading what="deliveries" />
      )}
    </>
  );
}
