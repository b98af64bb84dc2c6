// The desk rules of one collection (GET/PUT /admin/v1/curation/rules/{root}/{collection}): a
// published collection's release rules, checked at every decision that targets it, or an intake's
// policy. Admins and curators of the collection's root; the API refuses anyone else.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { type Collection, type RulesWire, TLPS } from '../types.js';
import { ErrorNote, type Field, FieldsForm, type FormValues, Loading, PageTitle, useLoad } from '../ui.js';
import { targetRef } from './decision.js';

const RELEASE_FIELDS: Field[] = [
  { name: 'max_tlp', label: 'Highest TLP', kind: 'select', options: TLPS, hint: 'objects marked higher are refused' },
  { name: 'forbidden_types', label: 'Forbidden object types', kind: 'list', hint: 'comma-separated, e.g. malware, tool' },
  { name: 'blocking_findings', label: 'Blocking finding codes', kind: 'list', hint: 'pipeline findings that block publication, e.g. STIX_VOCAB_VALUE' },
  { name: 'allowed_markings', label: 'Allowed markings', kind: 'list', hint: 'marking-definition ids; empty allows any' },
  { name: 'required_markings', label: 'Required markings', kind: 'list', hint: 'marking-definition ids every object must carry' },
  { name: 'require_created_by_ref', label: 'Objects must name their creator (created_by_ref)', kind: 'checkbox' },
  { name: 'approvals_required', label: 'Approvals required', kind: 'select', options: ['1', '2'], hint: '2: four eyes, two curators' },
];

const POLICY_FIELDS: Field[] = [
  { name: 'mode', label: 'Mode', kind: 'select', options: ['review', 'auto-publish'], required: true },
  { name: 'targets', label: 'Candidate targets', kind: 'list', hint: 'root/alias, comma-separated: curators of those roots see this queue' },
  { name: 'revocation_fast_path', label: 'Publish revocations of published objects at once', kind: 'checkbox' },
  { name: 'rules', label: 'Auto-publish rules (JSON)', kind: 'json', hint: '[{"targets": ["fr/published"], "when": {"organisations": ["acme-labs"], "max_tlp": "green", "no_warnings": true}}]' },
];

/** The form's values as the rules API takes them: empty fields left out. */
function releaseOf(v: FormValues): NonNullable<RulesWire['release']> {
  const lists = ['forbidden_types', 'blocking_findings', 'allowed_markings', 'required_markings'] as const;
  return {
    ...Object.fromEntries(lists.filter((k) => (v[k] as string[]).length > 0).map((k) => [k, v[k] as string[]])),
    ...(v.max_tlp ? { max_tlp: v.max_tlp as NonNullable<RulesWire['release']>['max_tlp'] } : {}),
    ...(v.require_created_by_ref === true ? { require_created_by_ref: true } : {}),
    ...(v.approvals_required ? { approvals_required: Number(v.approvals_required) as 1 | 2 } : {}),
  };
}

function policyOf(v: FormValues): NonNullable<RulesWire['policy']> {
  return {
    mode: v.mode as 'review' | 'auto-publish',
    ...((v.targets as string[]).length ? { targets: v.targets as string[] } : {}),
    revocation_fast_path: v.revocation_fast_path === true,
    ...(v.rules !== undefined ? { rules: v.rules as NonNullable<RulesWire['policy']>['rules'] } : {}),
  };
}

export function RulesPage() {
  const collections = useLoad(async () => (await api.get<{ collections: Collection[] }>('/admin/v1/collections')).collections, 'collections');
  const [chosen, setChosen] = useState<string>();
  const list = collections.data ?? [];
  const collection = list.find((c) => targetRef(c) === chosen) ?? list.find((c) => c.purpose === 'published') ?? list[0];
  return (
    <>
      <PageTitle>Desk rules</PageTitle>
      <p class="muted">A published collection's release rules are checked at every decision that targets it (the dry run shows what they block); an intake's policy decides what is published without a curator.</p>
      <ErrorNote error={collections.error} />
      {collections.loading && !collections.data ? (
        <Loading what="collections" />
      ) : !collection ? (
        <p>No collection that you curate.</p>
      ) : (
        <>
          <div class="field">
            <label for="rules-collection">Collection</label>
            <select id="rules-collection" value={targetRef(collection)} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
              {list.map((c) => (
                <option key={c.id} value={targetRef(c)}>
                  {targetRef(c)} — {c.title} ({c.purpose})
                </option>
              ))}
            </select>
          </div>
          <Rules key={collection.id} collection={collection} />
        </>
      )}
    </>
  );
}

function Rules({ collection }: { collection: Collection }) {
  const ref = targetRef(collection);
  const path = `/admin/v1/curation/rules/${encodeURIComponent(collection.api_root)}/${encodeURIComponent(collection.alias ?? collection.id)}`;
  const rules = useLoad(() => api.get<RulesWire>(path), path);
  const [outcome, setOutcome] = useState<string>();
  const published = collection.purpose === 'published';
  const r = rules.data;
  return (
    <section aria-labelledby="rules-form" class="rules">
      <h2 id="rules-form">{published ? `Release rules of ${ref}` : `Policy of the intake ${ref}`}</h2>
      <div aria-live="polite" role="status" class="outcome">
        {outcome}
      </div>
      <ErrorNote error={rules.error} />
      {!r ? (
        !rules.error && <Loading what="the rules" />
      ) : (
        <FieldsForm
          // Filled again from the answer after every save.
          key={JSON.stringify(r)}
          fields={published ? RELEASE_FIELDS : POLICY_FIELDS}
          initial={published ? { ...r.release, approvals_required: r.release?.approvals_required ? String(r.release.approvals_required) : '' } : { mode: 'review', revocation_fast_path: true, ...r.policy }}
          label={published ? 'Save the release rules' : 'Save the policy'}
          idPrefix="rules"
          submit={async (v) => {
            await api.put<RulesWire>(path, published ? { release: releaseOf(v) } : { policy: policyOf(v) });
            rules.reload();
            setOutcome(`Saved the ${published ? 'release rules' : 'policy'} of ${ref}.`);
          }}
        />
      )}
    </section>
  );
}
