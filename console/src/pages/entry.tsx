// One queue entry: the STIX object rendered property by property, with the pipeline's findings
// beside the property they concern, its TLP, external references and pattern; its other versions
// (each comparable with this one), where it was published, and the raw JSON.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { TLP1_LEVEL_BY_ID, TLP2_LEVEL_BY_ID } from 'stix2-validator-ts/markings';
import { api, qs, roles } from '../api.js';
import type { DecisionResult, EntryDetail, Finding, Me, QueuePage, StixObject } from '../types.js';
import { ErrorNote, Loading, PageTitle, TlpBadge, useLoad, useReturnFocus, when } from '../ui.js';
import { type Action, DecisionPanel, outcomeText } from './decision.js';

const detailOf = (id: string) => api.get<EntryDetail>(`/admin/v1/curation/queue/${encodeURIComponent(id)}`);

/** The top-level property a finding's JSON pointer concerns ("" for the object as a whole). */
function propertyOf(f: Finding): string {
  return (f.path.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}

/** A STIX pattern with its parts told apart: object paths, operators, quoted values. */
function Pattern({ text }: { text: string }) {
  const parts = text.split(/('(?:[^'\\]|\\.)*'|\b(?:AND|OR|FOLLOWEDBY|NOT|LIKE|MATCHES|IN|ISSUBSET|ISSUPERSET|WITHIN|START|STOP|REPEATS|TIMES|SECONDS)\b|[[\]()]|[a-z0-9-]+:[A-Za-z0-9_.'[\]*-]+)/);
  return (
    <code class="pattern">
      {parts.map((p, i) => {
        if (!p) return null;
        const cls = p.startsWith("'") ? 'p-value' : /^[A-Z]+$/.test(p) ? 'p-op' : /^[[\]()]$/.test(p) ? 'p-bracket' : /:/.test(p) ? 'p-path' : '';
        return cls ? (
          <span key={i} class={cls}>
            {p}
          </span>
        ) : (
          p
        );
      })}
    </code>
  );
}

/** A marking reference: the TLP (1.0 or 2.0, STIX 2.1 §7.2.1.4) as its badge, any other marking as its id. */
function Marking({ id }: { id: string }) {
  const level = TLP2_LEVEL_BY_ID.get(id) ?? TLP1_LEVEL_BY_ID.get(id);
  return level ? (
    <span class="marking">
      <TlpBadge tlp={level} /> <code>{id}</code>
    </span>
  ) : (
    <code>{id}</code>
  );
}

function Value({ name, value }: { name: string; value: unknown }): preact.JSX.Element {
  if (name === 'pattern' && typeof value === 'string') return <Pattern text={value} />;
  if (name === 'object_marking_refs' && Array.isArray(value))
    return (
      <ul class="plain">
        {value.map((id, i) => (
          <li key={i}>
            <Marking id={String(id)} />
          </li>
        ))}
      </ul>
    );
  if (name === 'external_references' && Array.isArray(value))
    return (
      <ul class="plain">
        {value.map((r: Record<string, string>, i) => (
          <li key={i}>
            {r.source_name}
            {r.external_id ? ` ${r.external_id}` : ''}
            {r.url ? (
              <>
                {' '}
                <a href={r.url} rel="noreferrer noopener" target="_blank">
                  {r.url}
                </a>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    );
  if (Array.isArray(value))
    return (
      <ul class="plain">
        {value.map((v, i) => (
          <li key={i}>
            <Value name="" value={v} />
          </li>
        ))}
      </ul>
    );
  if (typeof value === 'string' && /^[a-z0-9-]+--[0-9a-f-]{36}$/.test(value)) return <code>{value}</code>;
  if (value !== null && typeof value === 'object') return <pre>{JSON.stringify(value, null, 2)}</pre>;
  return <span>{String(value)}</span>;
}

/** Property-level differences between two versions of an object. */
export function diffObjects(a: StixObject, b: StixObject): Array<{ name: string; before?: unknown; after?: unknown }> {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.filter((n) => JSON.stringify(a[n]) !== JSON.stringify(b[n])).map((n) => ({ name: n, before: a[n], after: b[n] }));
}

function Section({ title, children }: { title: string; children: ComponentChildren }) {
  const id = `s-${title.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function EntryPage({ id, me }: { id: string; me: Me }) {
  const detail = useLoad(() => detailOf(id), id);
  const [compare, setCompare] = useState<{ entry: string; diff: ReturnType<typeof diffObjects> }>();
  const [deciding, setDecidingAction] = useState<Action>();
  const focus = useReturnFocus();
  const setDeciding = (a: Action | undefined) => {
    if (a) focus.remember();
    else focus.restore();
    setDecidingAction(a);
  };
  const [outcome, setOutcome] = useState<string>();
  const [error, setError] = useState<unknown>();
  const d = detail.data;
  if (!d) return detail.error ? <ErrorNote error={detail.error} /> : <Loading what="the entry" />;
  const o = d.object;
  const findings = new Map<string, Finding[]>();
  for (const f of d.findings) findings.set(propertyOf(f), [...(findings.get(propertyOf(f)) ?? []), f]);
  const title = typeof o.name === 'string' ? o.name : o.id;
  const pending = d.state === 'pending' || d.state === 'approved';
  // The desk may annotate what is still under review or published (not what it turned down).
  const annotatable = pending || d.state === 'changes_requested';
  const compareWith = async (entryId: string) => {
    setError(undefined);
    try {
      const other = await detailOf(entryId);
      setCompare({ entry: entryId, diff: diffObjects(other.object, o) });
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <p>
        <a href="#/queue">← Back to the queue</a>
      </p>
      <PageTitle>
        {o.type}: {title}
      </PageTitle>
      <p class="meta">
        <TlpBadge tlp={d.tlp} /> <span class="state">{d.state}</span> · vendor {d.vendor ?? '—'} · intake {d.api_root} · added {when(d.date_added)} · version {d.version ?? '—'}
        {d.reason ? ` · reason: ${d.reason}` : ''}
      </p>
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      {roles.decides(me) && annotatable && (
        <div class="toolbar">
          {pending && (
            <>
              <button type="button" onClick={() => setDeciding('approve')}>
                Approve…
              </button>
              <button type="button" onClick={() => setDeciding('reject')}>
                Reject…
              </button>
              <button type="button" onClick={() => setDeciding('request-changes')}>
                Request changes…
              </button>
            </>
          )}
          <button type="button" onClick={() => setDeciding('annotate')}>
            Annotate…
          </button>
        </div>
      )}
      {deciding && (
        <DecisionPanel
          key={deciding}
          action={deciding}
          subject={{ entries: [{ id: d.id, rev: d.rev }] }}
          onCancel={() => setDeciding(undefined)}
          onDone={(r: DecisionResult) => {
            setDeciding(undefined);
            setOutcome(outcomeText(r));
            detail.reload();
          }}
        />
      )}
      <Section title="Properties">
        {(findings.get('') ?? []).map((f) => (
          <p key={f.code} class={`finding ${f.severity}`}>
            {f.code}: {f.message}
          </p>
        ))}
        <table class="props">
          <caption class="visually-hidden">Properties of {o.id}</caption>
          <thead>
            <tr>
              <th scope="col">Property</th>
              <th scope="col">Value</th>
              <th scope="col">Findings</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(o).map(([k, v]) => (
              <tr key={k} data-property={k} class={findings.has(k) ? 'flagged' : ''}>
                <th scope="row">{k}</th>
                <td>
                  <Value name={k} value={v} />
                </td>
                <td>
                  {(findings.get(k) ?? []).map((f) => (
                    <div key={f.code + f.path} class={`finding ${f.severity}`}>
                      <strong>{f.code}</strong> {f.path}: {f.message}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Other versions">
        {d.other_versions.length === 0 ? (
          <p class="muted">No other version of this object reached the desk.</p>
        ) : (
          <ul>
            {d.other_versions.map((v) => (
              <li key={v.id}>
                <a href={`#/entry/${encodeURIComponent(v.id)}`}>version {v.version ?? '—'}</a> ({v.state}){' '}
                <button type="button" onClick={() => void compareWith(v.id)}>
                  Compare with this version
                </button>
              </li>
            ))}
          </ul>
        )}
        <ErrorNote error={error} />
        {compare && (
          <table class="diff" aria-label="Differences from the other version">
            <thead>
              <tr>
                <th scope="col">Property</th>
                <th scope="col">Other version</th>
                <th scope="col">This version</th>
              </tr>
            </thead>
            <tbody>
              {compare.diff.map((c) => (
                <tr key={c.name}>
                  <th scope="row">{c.name}</th>
                  <td class="before">{c.before === undefined ? '—' : JSON.stringify(c.before)}</td>
                  <td class="after">{c.after === undefined ? '—' : JSON.stringify(c.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Publications">
        {d.published.length === 0 ? (
          <p class="muted">Not published anywhere.</p>
        ) : (
          <ul>
            {d.published.map((p) => (
              <li key={p.collection + p.date_added}>
                collection <code>{p.collection}</code>, {when(p.date_added)}
                {p.withdrawn ? `, withdrawn ${when(p.withdrawn)}` : ''}
                {p.diff?.length ? (
                  <table class="diff">
                    <caption>Changes since the version published there</caption>
                    <thead>
                      <tr>
                        <th scope="col">Property</th>
                        <th scope="col">Published</th>
                        <th scope="col">This version</th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.diff.map((c) => (
                        <tr key={c.path}>
                          <th scope="row">{c.path}</th>
                          <td class="before">{c.from === undefined ? '—' : JSON.stringify(c.from)}</td>
                          <td class="after">{c.to === undefined ? '—' : JSON.stringify(c.to)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="References and relationships">
        <Graph d={d} key={d.id} />
      </Section>
      <details>
        <summary>Raw JSON</summary>
        <pre class="raw">{JSON.stringify(o, null, 2)}</pre>
      </details>
    </>
  );
}

/** One edge of the graph: another object, and how this one is tied to it. */
interface Link {
  id: string;
  /** "references", or a relationship's type with its direction, or "sighting". */
  label: string;
  atDesk: boolean;
}

/** At most this many relationships and sightings of the same submission are read for the graph. */
const MAX_RELATIONSHIPS = 20;

/**
 * The relationships and sightings of the entry's own submission that concern its object (the queue
 * has no index by reference, and vendors send an object with its relationships): each as a link to
 * the object at its other end, which is at the desk when a queue entry holds it.
 */
async function relationshipsOf(d: EntryDetail): Promise<{ links: Link[]; cut: boolean }> {
  const page = await api.get<QueuePage>(`/admin/v1/curation/queue${qs({ submission: d.submission, type: 'relationship,sighting', limit: MAX_RELATIONSHIPS })}`);
  const objects = await Promise.all(page.entries.filter((e) => e.object_id !== d.object_id).map(async (e) => (await detailOf(e.id)).object));
  const self = d.object_id;
  const ends: Array<{ id: string; label: string }> = [];
  for (const o of objects) {
    const type = typeof o.relationship_type === 'string' ? o.relationship_type : 'related-to';
    if (o.type === 'relationship' && o.source_ref === self && typeof o.target_ref === 'string') ends.push({ id: o.target_ref, label: `${type} →` });
    else if (o.type === 'relationship' && o.target_ref === self && typeof o.source_ref === 'string') ends.push({ id: o.source_ref, label: `← ${type}` });
    else if (o.type === 'sighting' && o.sighting_of_ref === self) ends.push({ id: o.id, label: '← sighting' });
  }
  const atDesk = await Promise.all(ends.map(async (e) => (await api.get<QueuePage>(`/admin/v1/curation/queue${qs({ object: e.id, limit: 1 })}`)).entries.length > 0));
  return { links: ends.map((e, i) => ({ ...e, atDesk: atDesk[i]! })), cut: page.more };
}

function Graph({ d }: { d: EntryDetail }) {
  const related = useLoad(() => relationshipsOf(d), `${d.id}-relationships`);
  const links: Link[] = [...d.references.map((r) => ({ id: r.id, label: 'references', atDesk: r.in_intake })), ...(related.data?.links ?? [])];
  return (
    <>
      <ErrorNote error={related.error} />
      {links.length === 0 ? (
        related.loading ? <Loading what="relationships" /> : <p class="muted">It references no other object, and no relationship of its submission refers to it.</p>
      ) : (
        <References id={d.object_id} links={links} />
      )}
      {related.data?.cut && <p class="muted">Only the first {MAX_RELATIONSHIPS} relationships and sightings of the submission were read.</p>}
    </>
  );
}

/** The object and its links, as a small star graph, with the same as a list. */
function References({ id, links }: { id: string; links: Link[] }) {
  const width = 640;
  const rowH = 34;
  const height = Math.max(60, links.length * rowH + 10);
  return (
    <>
      <svg class="refs" viewBox={`0 0 ${width} ${height}`} width={width} height={height} aria-hidden="true">
        <rect x="4" y={height / 2 - 14} width="200" height="28" rx="4" class="ref-self" />
        <text x="12" y={height / 2 + 5} class="ref-text">
          {id.split('--')[0]}
        </text>
        {links.map((r, i) => {
          const y = 8 + i * rowH;
          return (
            <g key={`${r.label} ${r.id}`}>
              <line x1="204" y1={height / 2} x2="360" y2={y + 13} class="ref-edge" />
              <text x="300" y={y + 10} class="ref-label" text-anchor="middle">
                {r.label}
              </text>
              <rect x="360" y={y} width="270" height="26" rx="4" class={r.atDesk ? 'ref-in' : 'ref-out'} />
              <text x="368" y={y + 17} class="ref-text">
                {r.id.split('--')[0]}
                {r.atDesk ? '' : ' (not at the desk)'}
              </text>
            </g>
          );
        })}
      </svg>
      <ul>
        {links.map((r) => (
          <li key={`${r.label} ${r.id}`} data-link={r.label}>
            {r.label} <code>{r.id}</code> {r.atDesk ? '(at the desk)' : '(not at the desk: it would dangle unless published elsewhere)'}
          </li>
        ))}
      </ul>
    </>
  );
}
