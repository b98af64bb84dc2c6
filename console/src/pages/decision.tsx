// A decision (approve, reject, withdraw) in two steps: the dry run first (POST …/decisions with
// dry_run: true), whose per-target report is shown, then the same request confirmed. Changing any
// field after the preview asks for a new preview, so what is confirmed is what was previewed.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import { type Collection, type DecisionResult, WITHDRAWAL_REASONS } from '../types.js';
import { ErrorNote, Loading, useLoad } from '../ui.js';

export type Action = 'approve' | 'reject' | 'request-changes' | 'withdraw' | 'annotate';

const TITLES: Record<Action, string> = { approve: 'Approve', reject: 'Reject', 'request-changes': 'Request changes to', withdraw: 'Withdraw', annotate: 'Annotate' };
/** The opinion values of a STIX 2.1 opinion (§4.15). */
const OPINIONS = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'] as const;
/** Decisions whose reason the vendor reads, and which need one. */
const NEEDS_REASON = new Set<Action>(['reject', 'request-changes']);

export interface DecisionSubject {
  /** Queue entries (approve, reject), with the rev the curator saw. */
  entries?: Array<{ id: string; rev: number }>;
  /** Every entry the queue filter matches when the decision is sent (the curation API's `filter`). */
  filter?: Record<string, string | string[]>;
  /** A published object and the collection to withdraw it from (withdraw). */
  objectId?: string;
  target?: string;
}

const DECISIONS = '/admin/v1/curation/decisions';

export function targetRef(c: Collection): string {
  return `${c.api_root}/${c.alias ?? c.id}`;
}

export function usePublishedCollections() {
  return useLoad(async () => (await api.get<{ collections: Collection[] }>('/admin/v1/collections')).collections.filter((c) => c.purpose === 'published'), 'published');
}

export function DecisionPanel({ action, subject, onDone, onCancel }: { action: Action; subject: DecisionSubject; onDone: (r: DecisionResult) => void; onCancel: () => void }) {
  const collections = usePublishedCollections();
  const [targets, setTargets] = useState<string[]>(subject.target ? [subject.target] : []);
  const [reason, setReason] = useState('');
  const [reasonCode, setReasonCode] = useState<string>(WITHDRAWAL_REASONS[0]);
  const [includeRefs, setIncludeRefs] = useState(false);
  const [paths, setPaths] = useState('');
  // annotate: the desk's STIX note (§4.13: content, abstract) or opinion (§4.15: opinion, explanation)
  const [kind, setKind] = useState<'note' | 'opinion'>('note');
  const [opinion, setOpinion] = useState<string>('agree');
  const [abstract, setAbstract] = useState('');
  const [preview, setPreview] = useState<{ key: string; result: DecisionResult }>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  const body: Record<string, unknown> = { action };
  if (action === 'withdraw') Object.assign(body, { object_id: subject.objectId, targets, reason_code: reasonCode, reason });
  else Object.assign(body, subject.filter ? { filter: subject.filter } : { entries: subject.entries });
  if (action === 'approve') Object.assign(body, { targets, ...(includeRefs ? { include_refs: true } : {}), ...(reason ? { reason } : {}) });
  // The note's content or the opinion's explanation is typed in the reason's text area.
  if (action === 'annotate')
    Object.assign(body, {
      targets,
      annotation: kind === 'note' ? { type: 'note', content: reason, ...(abstract ? { abstract } : {}) } : { type: 'opinion', opinion, ...(reason ? { explanation: reason } : {}) },
    });
  if (NEEDS_REASON.has(action)) body.reason = reason;
  const pointers = paths.split(',').map((p) => p.trim()).filter(Boolean);
  if (action === 'request-changes' && pointers.length) body.changes = pointers.map((path) => ({ path, message: reason }));
  const key = JSON.stringify(body);
  const current = preview?.key === key ? preview.result : undefined;
  const blocked = current?.targets.some((t) => t.violations.length > 0) ?? false;

  const send = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.post<DecisionResult>(DECISIONS, { ...body, dry_run: dryRun });
      if (dryRun) setPreview({ key, result });
      else onDone(result);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const count = subject.entries?.length ?? 1;
  const what = action === 'withdraw' ? subject.objectId : subject.filter ? 'every entry matching the filters' : `${count} entr${count === 1 ? 'y' : 'ies'}`;
  return (
    <section class="panel" aria-labelledby="decision-title" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h2 id="decision-title" tabIndex={-1} ref={heading}>
        {TITLES[action]} {what}
      </h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send(true);
        }}
      >
        {!NEEDS_REASON.has(action) && (
          <fieldset>
            <legend>{action === 'withdraw' ? 'Withdraw from' : 'Publish to'}</legend>
            {collections.error ? <ErrorNote error={collections.error} /> : null}
            {collections.loading && !collections.data ? <Loading what="the collections" /> : null}
            {(collections.data ?? [])
              .filter((c) => action !== 'withdraw' || targetRef(c) === subject.target)
              .map((c) => {
                const ref = targetRef(c);
                const id = `target-${ref.replace(/[^a-z0-9]/gi, '-')}`;
                return (
                  <span class="check" key={ref}>
                    <input
                      type="checkbox"
                      id={id}
                      value={ref}
                      checked={targets.includes(ref)}
                      disabled={action === 'withdraw'}
                      onChange={(e) => setTargets((t) => ((e.currentTarget as HTMLInputElement).checked ? [...t, ref] : t.filter((x) => x !== ref)))}
                    />
                    <label for={id}>
                      {ref} <span class="muted">({c.title})</span>
                    </label>
                  </span>
                );
              })}
          </fieldset>
        )}
        {action === 'approve' && (
          <div class="field check">
            <input type="checkbox" id="include-refs" checked={includeRefs} onChange={(e) => setIncludeRefs((e.currentTarget as HTMLInputElement).checked)} />
            <label for="include-refs">Also publish the identities and marking definitions it references</label>
          </div>
        )}
        {action === 'withdraw' && (
          <div class="field">
            <label for="reason-code">Reason code</label>
            <select id="reason-code" value={reasonCode} onChange={(e) => setReasonCode((e.currentTarget as HTMLSelectElement).value)}>
              {WITHDRAWAL_REASONS.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </div>
        )}
        {action === 'annotate' && (
          <fieldset>
            <legend>The desk's annotation</legend>
            {(['note', 'opinion'] as const).map((k) => (
              <span class="check" key={k}>
                <input type="radio" id={`annotation-${k}`} name="annotation-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
                <label for={`annotation-${k}`}>{k === 'note' ? 'Note' : 'Opinion'}</label>
              </span>
            ))}
            {kind === 'note' ? (
              <div class="field">
                <label for="abstract">Summary (optional)</label>
                <input id="abstract" value={abstract} onInput={(e) => setAbstract((e.currentTarget as HTMLInputElement).value)} />
              </div>
            ) : (
              <div class="field">
                <label for="opinion">Opinion</label>
                <select id="opinion" value={opinion} onChange={(e) => setOpinion((e.currentTarget as HTMLSelectElement).value)}>
                  {OPINIONS.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              </div>
            )}
          </fieldset>
        )}
        <div class="field">
          <label for="reason">{action === 'annotate' ? (kind === 'note' ? 'Text of the note (required; subscribers read it)' : 'Explanation (optional)') : `Reason${NEEDS_REASON.has(action) ? ' (required; the vendor reads it)' : ' (optional)'}`}</label>
          <textarea id="reason" rows={2} value={reason} required={NEEDS_REASON.has(action) || (action === 'annotate' && kind === 'note')} onInput={(e) => setReason((e.currentTarget as HTMLTextAreaElement).value)} />
        </div>
        {action === 'request-changes' && (
          <div class="field">
            <label for="change-paths">Properties to change (optional)</label>
            <input id="change-paths" value={paths} placeholder="/indicator_types/0, /valid_from" onInput={(e) => setPaths((e.currentTarget as HTMLInputElement).value)} />
            <small>JSON pointers, comma-separated; each is sent with the reason</small>
          </div>
        )}
        <div class="actions">
          <button type="submit" disabled={busy || (NEEDS_REASON.has(action) ? !reason.trim() : targets.length === 0 || (action === 'annotate' && kind === 'note' && !reason.trim()))}>
            Preview (dry run)
          </button>
          <button type="button" class="primary" disabled={busy || !current || blocked} onClick={() => void send(false)}>
            Confirm {action}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      {current && <Preview result={current} />}
    </section>
  );
}

function Preview({ result }: { result: DecisionResult }) {
  return (
    <div class="preview" role="status" aria-label="Dry-run preview">
      <h3>Preview: nothing has changed yet</h3>
      <p>
        {result.entries} entr{result.entries === 1 ? 'y' : 'ies'}; would publish {result.targets.reduce((n, t) => n + t.publish.length, 0)} object version(s)
        {result.action === 'withdraw' ? `, withdraw from ${result.targets.map((t) => t.target).join(', ')}` : ''}.
      </p>
      {result.targets.length > 0 && (
        <table>
          <caption class="visually-hidden">What the decision would do, per target</caption>
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Would publish</th>
              <th scope="col">Awaiting approval</th>
              <th scope="col">Dangling references</th>
              <th scope="col">Newly seen by</th>
              <th scope="col">Rule violations</th>
            </tr>
          </thead>
          <tbody>
            {result.targets.map((t) => (
              <tr key={t.target} data-target={t.target}>
                <th scope="row">{t.target}</th>
                <td>{t.publish.length ? t.publish.map((p) => <div key={p.id}><code>{p.id}</code> ({p.change})</div>) : '—'}</td>
                <td>{t.awaiting_approval.length ? t.awaiting_approval.map((a) => <div key={a.entry}>{a.approvals} of {a.required} approvals</div>) : '—'}</td>
                <td>{t.dangling_refs.length ? t.dangling_refs.map((r) => <div key={r}><code>{r}</code></div>) : '—'}</td>
                <td>{t.new_recipients.join(', ') || '—'}</td>
                <td class={t.violations.length ? 'bad' : ''}>{t.violations.length ? t.violations.map((v, i) => <div key={i}>{v.message ?? v.rule ?? JSON.stringify(v)}</div>) : 'none'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function outcomeText(r: DecisionResult): string {
  const verb = ({ approve: 'Approved', reject: 'Rejected', 'request-changes': 'Requested changes to', withdraw: 'Withdrew', annotate: 'Annotated' } as Record<string, string>)[r.action] ?? r.action;
  if (r.action === 'withdraw') return `${verb} from ${r.targets.map((t) => t.target).join(', ')}.`;
  if (r.action === 'annotate') return `${verb} ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}; published the desk's ${r.targets[0]?.publish[0]?.type ?? 'annotation'} to ${r.targets.map((t) => t.target).join(', ')}.`;
  return `${verb} ${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}${r.action === 'approve' ? `; published ${r.published}` : ''}.`;
}
