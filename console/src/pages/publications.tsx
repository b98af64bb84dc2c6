// What is published in each published collection the account curates, read with TAXII like any
// subscriber would (GET …/objects/), with withdrawal (dry run, then confirm) per object, and the
// collection's recent changes from its change feed.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
// TAXII's shapes are the client library's (client/types.ts), so the two read the server alike.
import type { ChangeEntry, StixObject } from '../../../client/types.js';
import type { DecisionResult } from '../types.js';
import { ErrorNote, Loading, PageTitle, useLoad, when } from '../ui.js';
import { DecisionPanel, outcomeText, targetRef, usePublishedCollections } from './decision.js';

interface Envelope {
  more?: boolean;
  objects?: StixObject[];
}

interface ChangesPage {
  more?: boolean;
  changes?: ChangeEntry[];
}

export function Publications() {
  const collections = usePublishedCollections();
  const [chosen, setChosen] = useState<string>();
  const list = collections.data ?? [];
  const collection = list.find((c) => targetRef(c) === chosen) ?? list[0];
  return (
    <>
      <PageTitle>Publications</PageTitle>
      <ErrorNote error={collections.error} />
      {collections.loading && !collections.data ? (
        <Loading what="collections" />
      ) : list.length === 0 ? (
        <p>No published collection that you curate.</p>
      ) : (
        <>
          <div class="field">
            <label for="pub-collection">Collection</label>
            <select id="pub-collection" value={collection ? targetRef(collection) : ''} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
              {list.map((c) => (
                <option key={c.id} value={targetRef(c)}>
                  {targetRef(c)} — {c.title}
                </option>
              ))}
            </select>
          </div>
          {collection && <Published key={collection.id} root={collection.api_root} id={collection.id} target={targetRef(collection)} />}
        </>
      )}
    </>
  );
}

function Published({ root, id, target }: { root: string; id: string; target: string }) {
  const base = `/${encodeURIComponent(root)}/collections/${encodeURIComponent(id)}`;
  const objects = useLoad(() => api.taxii<Envelope>(`${base}/objects/?limit=200`), base);
  const changes = useLoad(() => api.taxii<ChangesPage>(`${base}/changes/?limit=20`), `${base}-changes`);
  const [withdrawing, setWithdrawing] = useState<string>();
  const [outcome, setOutcome] = useState<string>();
  const rows = objects.data?.objects ?? [];
  return (
    <>
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      {withdrawing && (
        <DecisionPanel
          action="withdraw"
          subject={{ objectId: withdrawing, target }}
          onCancel={() => setWithdrawing(undefined)}
          onDone={(r: DecisionResult) => {
            setWithdrawing(undefined);
            setOutcome(outcomeText(r));
            objects.reload();
            changes.reload();
          }}
        />
      )}
      <ErrorNote error={objects.error} />
      {objects.loading && !objects.data ? (
        <Loading what="objects" />
      ) : (
        <table class="published">
          <caption>
            {rows.length} object{rows.length === 1 ? '' : 's'} published in {target}
            {objects.data?.more ? ' (first 200)' : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Modified</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((o) => (
              <tr key={`${o.id}${String(o.modified)}`} data-object={o.id}>
                <td>{o.type}</td>
                <td>{typeof o.name === 'string' ? o.name : '—'}</td>
                <td>
                  <code>{o.id}</code>
                </td>
                <td>{when(typeof o.modified === 'string' ? o.modified : undefined)}</td>
                <td>
                  <button type="button" aria-label={`Withdraw ${o.id}`} onClick={() => setWithdrawing(o.id)}>
                    Withdraw…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recent changes</h2>
      <ErrorNote error={changes.error} />
      <ul class="changes">
        {(changes.data?.changes ?? []).map((c) => (
          <li key={c.id}>
            {when(c.date_added)} <strong>{c.type}</strong> <code>{c.object.id}</code> by {c.actor ?? '—'}
            {c.reason ? `: ${c.reason}` : ''}
          </li>
        ))}
      </ul>
    </>
  );
}
