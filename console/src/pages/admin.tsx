// Administration through the admin API (/admin/v1/…): every page is a list with its columns and,
// where the API allows it, a creation form and removal; the pages differ only in their description
// below. The API decides who may do what; the navigation only hides pages an account cannot use.
import { useState } from 'preact/hooks';
import { api, qs } from '../api.js';
import { type Me, ROLES, TLPS } from '../types.js';
import { ErrorNote, type Field, FieldsForm, type FormValues, Loading, PageTitle, useLoad, when } from '../ui.js';

type Row = Record<string, unknown>;

export interface AdminPageSpec {
  key: string;
  title: string;
  /** Who sees the page: admins only, admins and curators, or every account (its own things). */
  audience: 'admin' | 'curator' | 'everyone';
  path: (me: Me) => string;
  listKey: string;
  columns: Array<[label: string, value: (r: Row) => string]>;
  create?: { label: string; fields: Field[]; body: (v: FormValues) => Row };
  /** Query filters (the audit log). */
  filters?: Field[];
  /** The query of the next page, when the answer says there is one. */
  next?: (answer: Row) => Record<string, string> | undefined;
  /** The path that removes a row, when the API allows it. */
  remove?: (r: Row, me: Me) => string;
  describe: (r: Row) => string;
  /** A PATCH that flips the row's `disabled` (organisations, accounts). */
  disable?: (r: Row) => string;
  /** What to say once a row is created (default: "Created …"). */
  created?: (r: Row) => string;
}

const s = (v: unknown) => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v));
const col = (label: string, key: string): [string, (r: Row) => string] => [label, (r) => s(r[key])];
const at = (label: string, key: string): [string, (r: Row) => string] => [label, (r) => when(r[key] as string | undefined)];
/** The defined, non-empty values of a form (empty lists and false flags left out). */
const defined = (v: FormValues): Row => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== '' && !(Array.isArray(x) && x.length === 0)));

export const ADMIN_PAGES: AdminPageSpec[] = [
  {
    key: 'organisations', title: 'Organisations', audience: 'admin', path: () => '/admin/v1/organisations', listKey: 'organisations',
    columns: [col('Name', 'name'), col('Kind', 'kind'), col('Country', 'country'), [`Disabled`, (r) => (r.disabled ? 'yes' : 'no')], at('Created', 'created')],
    create: {
      label: 'Add organisation',
      fields: [{ name: 'name', label: 'Name', required: true }, { name: 'kind', label: 'Kind', kind: 'select', options: ['member-agency', 'vendor', 'desk'], required: true }, { name: 'country', label: 'Country (ISO code)' }],
      body: defined,
    },
    disable: (r) => `/admin/v1/organisations/${encodeURIComponent(s(r.name))}`,
    describe: (r) => s(r.name),
  },
  {
    key: 'accounts', title: 'Accounts', audience: 'admin', path: () => '/admin/v1/accounts', listKey: 'accounts',
    columns: [col('Name', 'name'), col('Organisation', 'organisation'), col('Roles', 'roles'), col('Curator roots', 'curator_roots'), [`Disabled`, (r) => (r.disabled ? 'yes' : 'no')], at('Created', 'created')],
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
    disable: (r) => `/admin/v1/accounts/${encodeURIComponent(s(r.name))}`,
    describe: (r) => s(r.name),
  },
  {
    key: 'api-roots', title: 'API roots', audience: 'curator', path: () => '/admin/v1/api-roots', listKey: 'api_roots',
    columns: [col('Path', 'path'), col('Title', 'title'), col('Country', 'country'), col('Max content length', 'max_content_length'), [`TAXII 2.0 view`, (r) => (r.taxii20 ? 'on' : 'off')]],
    create: {
      label: 'Add API root',
      fields: [{ name: 'path', label: 'Path', required: true }, { name: 'title', label: 'Title', required: true }, { name: 'country', label: 'Country (ISO code)' }],
      body: defined,
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

export function AdminPage({ page, me }: { page: AdminPageSpec; me: Me }) {
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [after, setAfter] = useState<Record<string, string>>({});
  const list = useLoad(() => api.get<Row>(`${page.path(me)}${qs({ ...filter, ...after, ...(page.filters ? { limit: 100 } : {}) })}`), JSON.stringify([filter, after]));
  const [outcome, setOutcome] = useState<string>();
  const [error, setError] = useState<unknown>();
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
  const remove = (r: Row) => act(r, () => api.del(page.remove!(r, me)), 'Removed');
  const flip = (r: Row) => act(r, () => api.patch(page.disable!(r), { disabled: !r.disabled }), r.disabled ? 'Enabled' : 'Disabled');
  const actions = Boolean(page.remove || page.disable);
  return (
    <>
      <PageTitle>{page.title}</PageTitle>
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
                    {page.disable && (
                      <button type="button" aria-label={`${r.disabled ? 'Enable' : 'Disable'} ${page.describe(r)}`} onClick={() => void flip(r)}>
                        {r.disabled ? 'Enable' : 'Disable'}
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
      {page.create && (
        <section aria-labelledby={`${page.key}-create`}>
          <h2 id={`${page.key}-create`}>{page.create.label}</h2>
          <FieldsForm
            fields={page.create.fields}
            label={page.create.label}
            idPrefix={page.key}
            submit={async (v) => {
              const created = await api.post<Row>(page.path(me), page.create!.body(v));
              setOutcome(page.created ? page.created(created) : `Created ${page.describe(created)}.`);
              list.reload();
            }}
          />
        </section>
      )}
    </>
  );
}
