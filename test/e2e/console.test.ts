// The web console in a real browser: Debian's chromium driven by playwright-core against a real
// listening server, the console bundled from the current source first. Each scenario asserts on
// what the page shows and on what the APIs then answer. Screenshots of the key screens are written
// to docs/console/ (shown in docs/console.md); axe-core checks each key screen for serious or
// critical violations. When chromium cannot be started at all, the suite is skipped with the reason.
import { mkdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import axe from 'axe-core';
import { expect } from 'chai';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { buildConsole } from '../../console/build.js';
import type { Collection, DecisionResult, Entry, EntryDetail, Me, RulesWire, Stats } from '../../console/src/types.js';
import type { DecisionResult as DeskDecision, DeskService } from '../../desk/service.js';
import type { RulesWire as DeskRules, entryDetailView, entryView } from '../../desk/wire.js';
import type { accountView, collectionView } from '../../server/admin/routes.js';
import { TAXII, indicator, testServer } from '../helpers/server.js';

// The console's API types (console/src/types.ts) against the types of what the server writes
// (desk/wire.ts, desk/service.ts, server/admin/routes.ts), checked by `npm run typecheck`: a field
// the console reads that the server renames, drops or retypes fails the check. The OpenAPI
// description documents these as admin records without their fields, so the server's own types are
// the reference; test/http/console.test.ts checks that every path the console calls is in the description.
/** true when whatever the server writes as S reads as the console's C. */
type Reads<S, C> = [S] extends [C] ? true : false;
type ConsoleReadsTheWire = [
  Reads<ReturnType<typeof entryView>, Entry>,
  // the server types the object as any JSON object; every stored one has its id and type (STIX 2.1 §3.2)
  Reads<Omit<ReturnType<typeof entryDetailView>, 'object'> & { object: Record<string, unknown> & { id: string; type: string } }, EntryDetail>,
  Reads<DeskDecision, DecisionResult>,
  Reads<Awaited<ReturnType<DeskService['stats']>>, Stats>,
  Reads<ReturnType<typeof accountView>, Me>,
  Reads<ReturnType<typeof collectionView>, Collection>,
  // the console writes desk rules too: the same type both ways
  Reads<DeskRules, RulesWire>,
  Reads<RulesWire, DeskRules>,
] extends true[]
  ? true
  : never;
const _wireTypesAgree: ConsoleReadsTheWire = true;

const CHROMIUM = '/usr/bin/chromium';
/** Signing in verifies a password hash (scrypt, deliberately slow): on a busy CI machine it gets longer than other waits. */
const SIGN_IN_MS = 30_000;
const SHOTS = path.resolve('docs/console');
const PW = { vendor: 'acme feed passphrase 1', alice: 'alice desk passphrase 1', admin: 'desk admin passphrase 1', fr: 'fr analyst passphrase', de: 'de analyst passphrase' };

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

describe('the web console in chromium (sign-in, queue, decisions, object view, publications, administration)', function () {
  // Bounded: every wait below has its own short timeout; the whole suite takes well under a minute.
  this.timeout(90_000);
  let browser: Browser | undefined;
  let http: Server | undefined;
  let base = '';
  let w: Awaited<ReturnType<typeof world>>;
  let context: BrowserContext | undefined;

  async function world() {
    const s = await testServer();
    const { admin } = s;
    for (const [p, country] of [['desk', undefined], ['fr', 'fr'], ['de', 'de'], ['global', undefined]] as const) await admin.addApiRoot({ path: p, title: p, ...(country ? { country } : {}) });
    await admin.addOrganisation({ name: 'acme-labs', kind: 'vendor' });
    await admin.addOrganisation({ name: 'interpol-desk', kind: 'desk' });
    await admin.addOrganisation({ name: 'fr-police', kind: 'member-agency', country: 'fr' });
    await admin.addOrganisation({ name: 'de-police', kind: 'member-agency', country: 'de' });
    const intake = await s.collection('desk', { alias: 'intake', purpose: 'intake', title: 'Vendor intake' });
    const fr = await s.collection('fr', { alias: 'published', title: 'France' });
    const de = await s.collection('de', { alias: 'published', title: 'Germany' });
    await s.collection('global', { alias: 'published', title: 'All member countries' });
    await admin.addAccount({ name: 'acme-feed', password: PW.vendor, roles: ['publisher'], organisation: 'acme-labs' });
    await admin.addAccount({ name: 'alice', password: PW.alice, roles: ['curator'], organisation: 'interpol-desk', curatorRoots: ['desk', 'fr', 'de', 'global'] });
    await admin.addAccount({ name: 'root-admin', password: PW.admin, roles: ['admin'], organisation: 'interpol-desk' });
    await admin.addAccount({ name: 'fr-analyst', password: PW.fr, roles: ['subscriber'], organisation: 'fr-police' });
    await admin.addAccount({ name: 'de-analyst', password: PW.de, roles: ['subscriber'], organisation: 'de-police' });
    await admin.grant({ collection: intake.id, apiRoot: 'desk', account: 'acme-feed', read: false, write: true });
    await admin.grant({ collection: fr.id, apiRoot: 'fr', organisation: 'fr-police', read: true, write: false });
    await admin.grant({ collection: de.id, apiRoot: 'de', organisation: 'de-police', read: true, write: false });
    return s;
  }

  async function api<T = any>(who: [string, string], url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const res = await fetch(`${base}${url}`, { ...init, headers: { Authorization: basic(...who), Accept: url.startsWith('/admin') ? 'application/json' : TAXII, ...(init.body ? { 'Content-Type': url.startsWith('/admin') ? 'application/json' : TAXII } : {}) } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  const vendorPosts = async (objects: unknown[]) => expect((await api(['acme-feed', PW.vendor], '/desk/collections/intake/objects/', { method: 'POST', body: JSON.stringify({ objects }) })).status).to.equal(202);
  const polled = async (who: [string, string], root: string) => ((await api<{ objects?: Array<{ id: string }> }>(who, `/${root}/collections/published/objects/`)).body.objects ?? []).map((o) => o.id).sort();
  const queue = async (query: string) => (await api<{ entries: Array<{ object_id: string; state: string; reason?: string }> }>(['alice', PW.alice], `/admin/v1/curation/queue${query}`)).body.entries;

  before(async function () {
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        // Playwright gives every launch a fresh temporary profile (--user-data-dir) of its own.
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        timeout: 30_000,
      });
    } catch (err) {
      console.log(`    skipped: chromium cannot be started at ${CHROMIUM} (${String((err as Error).message).split('\n')[0]}); install it with: apt-get install -y chromium`);
      this.skip();
    }
    await buildConsole();
    mkdirSync(SHOTS, { recursive: true });
    w = await world();
    http = createServer(w.app);
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async function () {
    await browser?.close();
    await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  });

  /**
   * A fresh page (a new context: nothing kept from another test) that fails the test on CSP
   * violations or page errors; with `clock`, the page's timers run on a clock the test moves.
   */
  async function open(opts: { clock?: boolean } = {}): Promise<Page> {
    await context?.close();
    context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    if (opts.clock) await page.clock.install();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 40[14]/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    (page as Page & { problems: string[] }).problems = problems;
    await page.goto(`${base}/console/`);
    return page;
  }
  const problemsOf = (page: Page) => (page as Page & { problems: string[] }).problems;

  async function signIn(page: Page, name: string, password: string) {
    await page.getByLabel('Account name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: SIGN_IN_MS });
  }

  async function shot(page: Page, name: string) {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  }

  /** axe-core on the page as it is: no serious or critical violation. */
  async function accessible(page: Page, what: string) {
    await page.evaluate(axe.source); // through the DevTools protocol, so the page's CSP does not block it
    const { passes, violations } = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return {
        passes: r.passes.length,
        violations: r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`),
      };
    });
    expect(passes, `${what}: axe ran no check`).to.be.greaterThan(10);
    expect(violations, `${what}: ${violations.join('\n')}`).to.deep.equal([]);
  }

  const row = (page: Page, objectId: string) => page.locator(`tr[data-object="${objectId}"]`);

  it('lets a curator filter the queue, open an object, approve two objects to two countries after the dry run, reject one with a reason and withdraw one', async function () {
    const a = indicator({ name: 'C2 server' });
    const b = indicator({ name: 'Phishing kit host' });
    const c = indicator({ name: 'Sinkhole' });
    const maker = 'identity--2f3a4b5c-6d7e-4f80-9a1b-2c3d4e5f6a7b';
    const tlpGreen = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'; // TLP 1.0 GREEN, STIX 2.1 §7.2.1.4
    const warned = { ...indicator({ name: 'Odd vocabulary' }), indicator_types: ['not-in-the-vocabulary'], created_by_ref: maker, object_marking_refs: [tlpGreen] };
    await vendorPosts([a, b, c, warned]);

    const page = await open();
    await shot(page, 'sign-in');
    await accessible(page, 'sign-in');
    await signIn(page, 'alice', PW.alice);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).to.deep.equal(['Dashboard', 'Review queue', 'Publications', 'Desk rules', 'API roots', 'Collections', 'Grants', 'My API keys']);

    // the queue, then filtered by finding code: the page and the API agree
    await nav.getByRole('link', { name: 'Review queue' }).click();
    await row(page, a.id).waitFor();
    expect(await page.locator('table.queue tbody tr').count()).to.equal(4);
    await row(page, a.id).locator('td', { hasText: 'desk/intake' }).waitFor();
    await shot(page, 'queue');
    await accessible(page, 'queue');
    await page.getByLabel('Finding code').fill('STIX_VOCAB_VALUE');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('table.queue caption', { hasText: '1 entry' }).waitFor();
    expect(await page.locator('table.queue tbody tr').getAttribute('data-object')).to.equal(warned.id);
    expect((await queue('?state=pending&finding=STIX_VOCAB_VALUE')).map((e) => e.object_id)).to.deep.equal([warned.id]);

    // the object view: properties, the finding beside its property, TLP badge, raw JSON
    await row(page, warned.id).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'indicator: Odd vocabulary' }).waitFor();
    const flagged = page.locator('tr[data-property="indicator_types"]');
    expect(await flagged.textContent()).to.include('STIX_VOCAB_VALUE');
    expect(await page.locator('tr[data-property="pattern"] .p-path').first().textContent()).to.equal('ipv4-addr:value');
    expect(await page.locator('.meta .tlp').textContent()).to.equal('TLP:GREEN');
    expect(await page.locator('tr[data-property="object_marking_refs"]').textContent()).to.include('TLP:GREEN').and.include(tlpGreen);
    expect(await page.getByRole('region', { name: 'References and relationships' }).locator('li[data-link="references"]', { hasText: maker }).textContent()).to.include('not at the desk');
    await shot(page, 'object');
    await page.getByText('Raw JSON').click();
    expect(JSON.parse((await page.locator('pre.raw').textContent())!)).to.deep.include({ id: warned.id, name: 'Odd vocabulary' });
    await accessible(page, 'object view');
    await page.getByRole('link', { name: '← Back to the queue' }).click();

    // bulk: A and B selected, approved to fr and de after the dry run
    await page.getByLabel('Finding code').fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('table.queue caption', { hasText: '4 entries' }).waitFor();
    await row(page, a.id).getByRole('checkbox').check();
    await row(page, b.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const panel = page.getByRole('region', { name: /Approve 2 entries/ });
    await panel.getByLabel(/^fr\/published/).check();
    await panel.getByLabel(/^de\/published/).check();
    expect(await panel.getByRole('button', { name: 'Confirm approve' }).isDisabled()).to.equal(true);
    await panel.getByRole('button', { name: 'Preview (dry run)' }).click();
    const preview = page.getByRole('status', { name: 'Dry-run preview' });
    await preview.waitFor();
    for (const target of ['fr/published', 'de/published']) {
      const cells = preview.locator(`tr[data-target="${target}"]`);
      expect(await cells.textContent()).to.include(a.id).and.include(b.id);
    }
    expect(await preview.textContent()).to.include('would publish 4 object version(s)');
    // the dry run changed nothing
    expect(await polled(['fr-analyst', PW.fr], 'fr')).to.deep.equal([]);
    await shot(page, 'decision-preview');
    await accessible(page, 'decision preview');
    await panel.getByRole('button', { name: 'Confirm approve' }).click();
    await page.locator('.outcome', { hasText: 'Approved 2 entries; published 4.' }).waitFor();
    expect(await polled(['fr-analyst', PW.fr], 'fr')).to.deep.equal([a.id, b.id].sort());
    expect(await polled(['de-analyst', PW.de], 'de')).to.deep.equal([a.id, b.id].sort());
    await row(page, a.id).waitFor({ state: 'detached' }); // the pending queue no longer lists them

    // Germany's release rules block the finding STIX_VOCAB_VALUE: set on the rules page, then the dry run shows the block
    await nav.getByRole('link', { name: 'Desk rules' }).click();
    await page.getByLabel('Collection').selectOption('de/published');
    const rules = page.getByRole('form', { name: 'Save the release rules' });
    await rules.getByLabel(/^Blocking finding codes/).fill('STIX_VOCAB_VALUE');
    await rules.getByLabel(/^Forbidden object types/).fill('malware, tool');
    await rules.getByLabel(/^Highest TLP/).selectOption('amber');
    await rules.getByRole('button', { name: 'Save the release rules' }).click();
    await page.locator('.outcome', { hasText: 'Saved the release rules of de/published.' }).waitFor();
    expect((await api(['alice', PW.alice], '/admin/v1/curation/rules/de/published')).body).to.deep.equal({ release: { blocking_findings: ['STIX_VOCAB_VALUE'], forbidden_types: ['malware', 'tool'], max_tlp: 'amber' } });
    // the form shows what the API now holds
    expect(await rules.getByLabel(/^Forbidden object types/).inputValue()).to.equal('malware, tool');
    await shot(page, 'rules');
    await accessible(page, 'desk rules');
    await nav.getByRole('link', { name: 'Review queue' }).click();
    await row(page, warned.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Approve…' }).click();
    const blocked = page.getByRole('region', { name: /Approve 1 entry/ });
    await blocked.getByLabel(/^de\/published/).check();
    await blocked.getByRole('button', { name: 'Preview (dry run)' }).click();
    expect(await page.getByRole('status', { name: 'Dry-run preview' }).locator('tr[data-target="de/published"] td.bad').textContent()).to.include('STIX_VOCAB_VALUE');
    expect(await blocked.getByRole('button', { name: 'Confirm approve' }).isDisabled()).to.equal(true);
    await blocked.getByRole('button', { name: 'Cancel' }).click();
    expect(await polled(['de-analyst', PW.de], 'de')).to.deep.equal([a.id, b.id].sort());
    await row(page, warned.id).getByRole('checkbox').uncheck();

    // reject C with a reason the vendor reads
    await row(page, c.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Reject…' }).click();
    const reject = page.getByRole('region', { name: /Reject 1 entry/ });
    await reject.getByLabel(/^Reason/).fill('a sinkhole, not malicious');
    await reject.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByRole('status', { name: 'Dry-run preview' }).waitFor();
    await reject.getByRole('button', { name: 'Confirm reject' }).click();
    await page.locator('.outcome', { hasText: 'Rejected 1 entry.' }).waitFor();
    const rejected = (await queue('?state=rejected')).find((e) => e.object_id === c.id);
    expect(rejected?.reason).to.equal('a sinkhole, not malicious');
    const vendorView = await api<{ entries: Array<{ object_id: string; reason?: string }> }>(['acme-feed', PW.vendor], '/admin/v1/curation/queue?state=rejected');
    expect(vendorView.body.entries.find((e) => e.object_id === c.id)?.reason).to.equal('a sinkhole, not malicious');

    // request changes to the odd vocabulary, naming the property
    await row(page, warned.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Request changes…' }).click();
    const changes = page.getByRole('region', { name: /Request changes to 1 entry/ });
    await changes.getByLabel(/^Reason/).fill('use a value of indicator-type-ov');
    await changes.getByLabel(/^Properties to change/).fill('/indicator_types/0');
    await changes.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByRole('status', { name: 'Dry-run preview' }).waitFor();
    await changes.getByRole('button', { name: 'Confirm request-changes' }).click();
    await page.locator('.outcome', { hasText: 'Requested changes to 1 entry.' }).waitFor();
    const asked = (await api<{ entries: Array<{ requested_changes?: Array<{ path: string; message: string }> }> }>(['alice', PW.alice], `/admin/v1/curation/queue?state=changes_requested&object=${warned.id}`)).body.entries;
    expect(asked[0]?.requested_changes?.map((c) => c.path)).to.deep.equal(['/indicator_types/0']);

    // withdraw A from Germany: the page, then what the German police and the change feed see
    await nav.getByRole('link', { name: 'Publications' }).click();
    await page.getByLabel('Collection').selectOption('de/published');
    await row(page, a.id).waitFor();
    await shot(page, 'publications');
    await accessible(page, 'publications');
    await page.getByRole('button', { name: `Withdraw ${a.id}` }).click();
    const withdraw = page.getByRole('region', { name: /Withdraw/ });
    await withdraw.getByLabel('Reason code').selectOption('false_positive');
    await withdraw.getByLabel(/^Reason \(/).fill('a CDN address');
    await withdraw.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByRole('status', { name: 'Dry-run preview' }).waitFor();
    expect(await polled(['de-analyst', PW.de], 'de')).to.deep.equal([a.id, b.id].sort());
    await withdraw.getByRole('button', { name: 'Confirm withdraw' }).click();
    await page.locator('.outcome', { hasText: 'Withdrew from de/published.' }).waitFor();
    await row(page, a.id).waitFor({ state: 'detached' });
    expect(await polled(['de-analyst', PW.de], 'de')).to.deep.equal([b.id]);
    expect(await polled(['fr-analyst', PW.fr], 'fr')).to.deep.equal([a.id, b.id].sort());
    await page.locator('ul.changes li', { hasText: 'object.withdrawn' }).waitFor();

    // a new version of B: its page lists the earlier one, compares them and shows where B is published
    const b2 = { ...b, name: 'Phishing kit host, second site', modified: '2024-02-01T00:00:00.000Z' };
    await vendorPosts([b2]);
    await nav.getByRole('link', { name: 'Review queue' }).click();
    await row(page, b.id).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'indicator: Phishing kit host, second site' }).waitFor();
    await page.getByRole('button', { name: 'Compare with this version' }).click();
    const diff = page.getByRole('table', { name: 'Differences from the other version' });
    await diff.locator('tbody tr').first().waitFor();
    expect(await diff.locator('tbody th').allTextContents()).to.deep.equal(['modified', 'name']);
    expect(await diff.locator('tbody tr', { hasText: 'name' }).textContent()).to.include('"Phishing kit host"').and.include('"Phishing kit host, second site"');
    expect(await page.getByRole('region', { name: 'Publications' }).locator('li').count()).to.equal(2);
    await shot(page, 'versions');
    await accessible(page, 'versions and diff');

    // the desk's note on the new version, published to France next to the object
    await page.getByRole('button', { name: 'Annotate…' }).click();
    const annotate = page.getByRole('region', { name: /Annotate 1 entry/ });
    await annotate.getByLabel(/^fr\/published/).check();
    await annotate.getByLabel(/^Text of the note/).fill('seen in three cases in France');
    await annotate.getByRole('button', { name: 'Preview (dry run)' }).click();
    expect(await page.getByRole('status', { name: 'Dry-run preview' }).locator('tr[data-target="fr/published"]').textContent()).to.match(/note--/);
    expect((await polled(['fr-analyst', PW.fr], 'fr')).filter((id) => id.startsWith('note--'))).to.deep.equal([]);
    await annotate.getByRole('button', { name: 'Confirm annotate' }).click();
    await page.locator('.outcome', { hasText: "Annotated 1 entry; published the desk's note to fr/published." }).waitFor();
    const notes = ((await api<{ objects?: Array<{ type: string; content?: string; object_refs?: string[] }> }>(['fr-analyst', PW.fr], '/fr/collections/published/objects/?match[type]=note')).body.objects ?? []);
    expect(notes.map((n) => [n.content, n.object_refs])).to.deep.equal([['seen in three cases in France', [b.id]]]);

    // the dashboard, from the desk's statistics; an envelope whose every object fails is a submission too
    await vendorPosts([{ ...indicator({ name: 'Unparsable pattern' }), pattern: "[ipv4-addr:value = '1.2.3.4'" }]);
    await nav.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('img', { name: /Decisions per curator: alice/ }).waitFor();
    const perCollection = await page.getByRole('img', { name: /^Objects published per collection/ }).getAttribute('aria-label');
    // France: A, B, the desk's note and the desk's identity that signs it
    expect(perCollection).to.include('fr/published 4 objects').and.include('de/published 1 objects').and.include('global/published 0 objects');
    await page.getByRole('img', { name: /^Age of the oldest waiting entry per intake: desk\/intake \d+ s/ }).waitFor();
    // submissions per vendor per day: every column against the API's statistics (the two envelopes of
    // this test and the failed one; the queue holds entries of two only)
    const today = new Date().toISOString().slice(0, 10);
    const stats = (await api<Stats>(['alice', PW.alice], '/admin/v1/curation/stats?days=7')).body;
    expect(stats.submissions_per_day).to.deep.equal([{ day: today, vendor: 'acme-labs', submissions: 3 }]);
    const perDay = await page.getByRole('img', { name: /^Submissions per vendor per day \(UTC, last 7 days\)/ }).getAttribute('aria-label');
    const columns = perDay!.slice(perDay!.indexOf(': ') + 2).split('; ');
    expect(columns).to.have.length(7);
    for (const [i, column] of columns.entries()) {
      const day = new Date(Date.parse(`${today}T00:00:00Z`) - (6 - i) * 86_400_000).toISOString().slice(0, 10);
      const rows = stats.submissions_per_day.filter((r) => r.day === day);
      expect(column).to.equal(`${day.slice(5)}: ${rows.map((r) => `${r.vendor} ${r.submissions}`).join(', ') || 'no submissions'}`);
    }

    // API roots are an admin's to create and change: a curator sees the list only, and the API agrees
    await nav.getByRole('link', { name: 'API roots' }).click();
    await page.locator('table.admin caption', { hasText: '4 api roots' }).waitFor();
    expect(await page.getByRole('button', { name: /^Edit / }).count()).to.equal(0);
    expect(await page.getByRole('form', { name: 'Add API root' }).count()).to.equal(0);
    expect((await api(['alice', PW.alice], '/admin/v1/api-roots/fr', { method: 'PATCH', body: JSON.stringify({ title: 'France' }) })).status).to.equal(403);

    // the intake's policy: the vendor's vulnerabilities published to France without a curator; JSON that does not parse is refused in the page
    await nav.getByRole('link', { name: 'Desk rules' }).click();
    await page.getByLabel('Collection').selectOption('desk/intake');
    const policy = page.getByRole('form', { name: 'Save the policy' });
    expect(await policy.getByLabel('Publish revocations of published objects at once').isChecked()).to.equal(true);
    await policy.getByLabel('Mode').selectOption('auto-publish');
    await policy.getByLabel(/^Auto-publish rules/).fill('[{"targets": ["fr/published"], "when": {"organisations": ["acme-labs"], "types": ["vulnerability"]');
    await policy.getByRole('button', { name: 'Save the policy' }).click();
    await policy.getByRole('alert').filter({ hasText: 'Auto-publish rules (JSON): not JSON' }).waitFor();
    expect((await api(['alice', PW.alice], '/admin/v1/curation/rules/desk/intake')).body).to.deep.equal({});
    await policy.getByLabel(/^Auto-publish rules/).fill('[{"targets": ["fr/published"], "when": {"organisations": ["acme-labs"], "types": ["vulnerability"]}}]');
    await policy.getByRole('button', { name: 'Save the policy' }).click();
    await page.locator('.outcome', { hasText: 'Saved the policy of desk/intake.' }).waitFor();
    expect((await api(['alice', PW.alice], '/admin/v1/curation/rules/desk/intake')).body).to.deep.equal({
      policy: { mode: 'auto-publish', revocation_fast_path: true, rules: [{ targets: ['fr/published'], when: { organisations: ['acme-labs'], types: ['vulnerability'] } }] },
    });
    const stamp = '2024-04-01T00:00:00.000Z';
    const vuln = { type: 'vulnerability', spec_version: '2.1', id: `vulnerability--${crypto.randomUUID()}`, created: stamp, modified: stamp, name: 'CVE-2024-0001' };
    await vendorPosts([vuln]);
    expect((await queue(`?object=${vuln.id}`))[0]?.state).to.equal('approved');
    expect(await polled(['fr-analyst', PW.fr], 'fr')).to.include(vuln.id);
    // the dashboard again, with the auto-published vulnerability's submission counted
    await nav.getByRole('link', { name: 'Dashboard' }).click();
    expect(await page.getByRole('img', { name: /^Submissions per vendor per day/ }).getAttribute('aria-label')).to.include(`${today.slice(5)}: acme-labs 4`);
    await shot(page, 'dashboard');
    await accessible(page, 'dashboard');
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it('walks the review queue with the keyboard alone: sign in, j/k, x, a with targets and the dry run, then o', async function () {
    const k = [indicator({ name: 'Key one' }), indicator({ name: 'Key two' }), indicator({ name: 'Key three' })];
    await vendorPosts(k);
    const page = await open();
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return { tag: el?.tagName, id: el?.id, text: el?.textContent?.trim().slice(0, 60), object: el?.getAttribute('data-object') ?? undefined, label: el?.getAttribute('aria-label') ?? undefined };
    });
    /** Tab (at most 40 times) until the focused element matches. */
    const tabTo = async (match: (f: Awaited<ReturnType<typeof focused>>) => boolean, what: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        if (match(await focused())) return;
      }
      throw new Error(`Tab never reached ${what}`);
    };
    await tabTo((f) => f.id === 'username', 'the account name');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    expect((await focused()).id).to.equal('password');
    await page.keyboard.type(PW.alice);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: SIGN_IN_MS });
    await tabTo((f) => f.tag === 'A' && f.text === 'Review queue', 'the queue link');
    await page.keyboard.press('Enter');
    await row(page, k[0]!.id).waitFor();
    const order = await page.locator('table.queue tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-object')));
    // j twice, k once: the second row is focused and highlighted
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    expect((await focused()).object).to.equal(order[1]);
    expect(await row(page, order[1]!).getAttribute('class')).to.equal('active');
    // x selects it, a opens the approval for the selection, focus on the panel's heading
    await page.keyboard.press('x');
    expect(await row(page, order[1]!).getByRole('checkbox').isChecked()).to.equal(true);
    await page.keyboard.press('a');
    await page.getByRole('region', { name: /Approve 1 entry/ }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'decision-title', undefined, { timeout: 5000 });
    // the targets arrive with the collections; a keyboard user waits for them too
    await page.getByRole('region', { name: /Approve 1 entry/ }).getByLabel(/^fr\/published/).waitFor();
    await tabTo((f) => f.id === 'target-fr-published', 'the fr target');
    await page.keyboard.press('Space');
    await tabTo((f) => f.text === 'Preview (dry run)', 'the preview button');
    await page.keyboard.press('Enter');
    await page.getByRole('status', { name: 'Dry-run preview' }).waitFor();
    await tabTo((f) => f.text === 'Confirm approve', 'the confirm button');
    await shot(page, 'keyboard-walk');
    await page.keyboard.press('Enter');
    await page.locator('.outcome', { hasText: 'Approved 1 entry; published 1.' }).waitFor();
    expect(await polled(['fr-analyst', PW.fr], 'fr')).to.include(order[1]);
    expect((await queue(`?object=${order[1]}`))[0]?.state).to.equal('approved');
    // back in the queue (now two rows): j moves, o opens the highlighted entry
    await row(page, order[1]!).waitFor({ state: 'detached' });
    await page.locator('table.queue tbody tr').first().focus();
    await page.keyboard.press('j');
    const opened = (await focused()).object!;
    await page.keyboard.press('o');
    await page.getByRole('heading', { level: 1, name: /^indicator: Key/ }).waitFor();
    expect(await page.locator('pre.raw').textContent({ timeout: 2000 }).catch(() => '')).to.include(opened);
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it('decides on every entry matching the filters, beyond the page shown', async function () {
    // more than the 50 rows of a queue page
    const batch = Array.from({ length: 52 }, (_, i) => indicator({ name: `Batch ${i}` }));
    const posted = await api<{ id: string }>(['acme-feed', PW.vendor], '/desk/collections/intake/objects/', { method: 'POST', body: JSON.stringify({ objects: batch }) });
    expect(posted.status).to.equal(202);
    const other = indicator({ name: 'Not in the batch' });
    await vendorPosts([other]);
    const page = await open();
    await signIn(page, 'alice', PW.alice);
    // the filter typed while the queue is still on its way: its arrival must not wipe what was typed
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const isQueue = (url: URL) => url.pathname === '/admin/v1/curation/queue';
    await page.route(isQueue, async (route) => {
      await held;
      await route.continue();
    }, { times: 1 });
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Review queue' }).click();
    await page.getByLabel('Submission').fill(posted.body.id);
    const arrived = page.waitForResponse((r) => isQueue(new URL(r.url())));
    release();
    await arrived;
    await page.locator('table.queue caption').waitFor();
    expect(await page.getByLabel('Submission').inputValue()).to.equal(posted.body.id);
    const filtered = page.waitForResponse((r) => isQueue(new URL(r.url())) && new URL(r.url()).searchParams.get('submission') === posted.body.id);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await filtered;
    await page.locator('table.queue caption', { hasText: '50 entries (more on the next page)' }).waitFor();
    const shown = () => page.locator('table.queue tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-object')));
    expect(await shown()).to.deep.equal(batch.slice(0, 50).map((o) => o.id));
    // newest first across all pages: the server's order (the page and the API agree), and the next page continues it
    const newestFirst = batch.map((o) => o.id).reverse();
    const ordered = page.waitForResponse((r) => isQueue(new URL(r.url())) && new URL(r.url()).searchParams.get('order') === 'desc');
    await page.getByLabel('Order (all pages)').selectOption('newest first');
    await ordered;
    await page.locator(`table.queue tbody tr:first-child[data-object="${newestFirst[0]}"]`).waitFor();
    expect(await shown()).to.deep.equal(newestFirst.slice(0, 50));
    expect((await queue(`?state=pending&submission=${posted.body.id}&order=desc&limit=50`)).map((e) => e.object_id)).to.deep.equal(newestFirst.slice(0, 50));
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.locator('table.queue caption', { hasText: '2 entries' }).waitFor();
    expect(await shown()).to.deep.equal(newestFirst.slice(50));
    await page.getByLabel('Decide on every entry matching the filters (all pages)').check();
    await page.getByRole('button', { name: 'Reject…' }).click();
    const reject = page.getByRole('region', { name: 'Reject every entry matching the filters' });
    await reject.getByLabel(/^Reason/).fill('a test batch');
    await reject.getByRole('button', { name: 'Preview (dry run)' }).click();
    expect(await page.getByRole('status', { name: 'Dry-run preview' }).textContent()).to.include('52 entries');
    expect(await queue(`?state=pending&submission=${posted.body.id}&limit=100`)).to.have.length(52);
    await reject.getByRole('button', { name: 'Confirm reject' }).click();
    await page.locator('.outcome', { hasText: 'Rejected 52 entries.' }).waitFor();
    const rejected = await queue(`?state=rejected&submission=${posted.body.id}&limit=100`);
    expect(rejected.map((e) => e.object_id).sort()).to.deep.equal(batch.map((o) => o.id).sort());
    expect(rejected.every((e) => e.reason === 'a test batch')).to.equal(true);
    expect((await queue(`?object=${other.id}`))[0]?.state).to.equal('pending');
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it("draws an object's references and the relationships of its submission as a small graph", async function () {
    const ind = indicator({ name: 'Drops the loader' });
    const stamp = '2024-03-01T00:00:00.000Z';
    const mal = { type: 'malware', spec_version: '2.1', id: `malware--${crypto.randomUUID()}`, created: stamp, modified: stamp, name: 'Loader', is_family: true };
    const rel = { type: 'relationship', spec_version: '2.1', id: `relationship--${crypto.randomUUID()}`, created: stamp, modified: stamp, relationship_type: 'indicates', source_ref: ind.id, target_ref: mal.id };
    const absent = `threat-actor--${crypto.randomUUID()}`;
    const rel2 = { type: 'relationship', spec_version: '2.1', id: `relationship--${crypto.randomUUID()}`, created: stamp, modified: stamp, relationship_type: 'attributed-to', source_ref: mal.id, target_ref: absent };
    await vendorPosts([ind, mal, rel, rel2]);
    const page = await open();
    await signIn(page, 'alice', PW.alice);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Review queue' }).click();
    await row(page, mal.id).getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: 'malware: Loader' }).waitFor();
    const graph = page.getByRole('region', { name: 'References and relationships' });
    await graph.locator('li').nth(1).waitFor();
    expect(await graph.locator('li').allTextContents()).to.have.members([`← indicates ${ind.id} (at the desk)`, `attributed-to → ${absent} (not at the desk: it would dangle unless published elsewhere)`]);
    await graph.scrollIntoViewIfNeeded();
    await shot(page, 'relationships');
    await accessible(page, 'relationships');
    // what the graph drew is what the curation API holds for that submission
    const submission = (await queue(`?object=${mal.id}`).then((e) => e[0] as unknown as { submission: string })).submission;
    const inSubmission = await api<{ entries: Array<{ id: string; object_type: string }> }>(['alice', PW.alice], `/admin/v1/curation/queue?submission=${submission}&type=relationship`);
    const details = await Promise.all(inSubmission.body.entries.map(async (e) => (await api<{ object: { source_ref: string; target_ref: string } }>(['alice', PW.alice], `/admin/v1/curation/queue/${e.id}`)).body.object));
    expect(details.map((o) => [o.source_ref, o.target_ref])).to.have.deep.members([[ind.id, mal.id], [mal.id, absent]]);
    expect(await queue(`?object=${absent}`)).to.deep.equal([]);
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it('shows a subscriber no administration at all, and the API agrees', async function () {
    const page = await open();
    await signIn(page, 'fr-analyst', PW.fr);
    // nothing but the account's own API keys
    expect(await page.getByRole('navigation', { name: 'Console' }).getByRole('link').allTextContents()).to.deep.equal(['My API keys']);
    await page.getByText('The console has nothing for this account').waitFor();
    // typing an administration address gives the same page, not the grants
    await page.goto(`${base}/console/#/admin/grants`);
    await page.getByRole('heading', { level: 1, name: 'Signed in as fr-analyst' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Grants' }).count()).to.equal(0);
    await shot(page, 'subscriber');
    await accessible(page, 'subscriber');
    expect((await api(['fr-analyst', PW.fr], '/admin/v1/grants')).status).to.equal(404);
    // its own API key, whose secret is shown once and works at once
    await page.getByRole('link', { name: 'My API keys' }).click();
    await page.getByRole('form', { name: 'Add API key' }).getByLabel(/^Name/).fill('siem');
    await page.getByRole('button', { name: 'Add API key' }).click();
    const said = (await page.locator('.outcome', { hasText: 'Created API key siem.' }).textContent())!;
    const secret = said.slice(said.lastIndexOf(': ') + 2).trim();
    expect((await api(['fr-analyst', secret], '/fr/collections/')).status).to.equal(200);
    await page.locator('table.admin tbody tr', { hasText: 'siem' }).waitFor();
    await accessible(page, 'own API keys');
    expect((await api(['fr-analyst', PW.fr], '/admin/v1/curation/queue')).status).to.equal(404);
  });

  it("shows a vendor its own entries, states and reasons, read-only", async function () {
    const v = indicator({ name: 'Vendor follows this' });
    await vendorPosts([v]);
    const [entry] = await api<{ entries: Array<{ id: string; rev: number }> }>(['alice', PW.alice], `/admin/v1/curation/queue?object=${v.id}`).then((r) => r.body.entries);
    const rejected = await api(['alice', PW.alice], '/admin/v1/curation/decisions', { method: 'POST', body: JSON.stringify({ action: 'reject', entries: [{ id: entry!.id, rev: entry!.rev }], reason: 'duplicate of an earlier report' }) });
    expect(rejected.status).to.equal(201);
    const page = await open();
    await signIn(page, 'acme-feed', PW.vendor);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).to.deep.equal(['Review queue', 'My API keys']);
    await page.getByLabel('State').selectOption('rejected');
    await page.getByLabel('Object id').fill(v.id);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await row(page, v.id).textContent()).to.include('rejected: duplicate of an earlier report');
    expect(await page.getByRole('button', { name: /Approve/ }).count()).to.equal(0);
    expect(await page.locator('table.queue input[type="checkbox"]').count()).to.equal(0);
    await accessible(page, "vendor's queue");
  });

  it('lets an admin create a grant with a TLP cap, and the API shows it', async function () {
    const page = await open();
    await signIn(page, 'root-admin', PW.admin);
    const nav = page.getByRole('navigation', { name: 'Console' });
    expect(await nav.getByRole('link').allTextContents()).to.include.members(['Organisations', 'Accounts', 'Grants', 'Audit log', 'Webhooks']);
    await nav.getByRole('link', { name: 'Grants' }).click();
    await page.locator('table.admin caption', { hasText: '3 grants' }).waitFor();
    const form = page.getByRole('form', { name: 'Add grant' });
    await form.getByLabel('API root').fill('global');
    await form.getByLabel(/^Collection/).fill('published');
    await form.getByLabel('Organisation').fill('fr-police');
    await form.getByLabel('Read').check();
    await form.getByLabel('TLP cap').selectOption('amber');
    await form.getByRole('button', { name: 'Add grant' }).click();
    await page.locator('.outcome', { hasText: 'Created fr-police on global/published.' }).waitFor();
    await page.locator('table.admin caption', { hasText: '4 grants' }).waitFor();
    const grants = (await api<{ grants: Array<{ api_root: string; organisation?: string; read: boolean; write: boolean; max_tlp: string }> }>(['root-admin', PW.admin], '/admin/v1/grants?organisation=fr-police')).body.grants;
    expect(grants.find((g) => g.api_root === 'global')).to.deep.include({ organisation: 'fr-police', read: true, write: false, max_tlp: 'amber' });
    await shot(page, 'grants');
    await accessible(page, 'grants');
    // the cap lowered to GREEN by editing the grant
    await page.getByRole('button', { name: 'Edit fr-police on global/published' }).click();
    const grantEdit = page.getByRole('form', { name: 'Save' });
    expect(await grantEdit.getByLabel('TLP cap').inputValue()).to.equal('amber');
    expect(await grantEdit.getByLabel('Read', { exact: true }).isChecked()).to.equal(true);
    await grantEdit.getByLabel('TLP cap').selectOption('green');
    await grantEdit.getByRole('button', { name: 'Save' }).click();
    await page.locator('.outcome', { hasText: 'Saved fr-police on global/published.' }).waitFor();
    const lowered = (await api<{ grants: Array<{ api_root: string; read: boolean; max_tlp: string }> }>(['root-admin', PW.admin], '/admin/v1/grants?organisation=fr-police')).body.grants;
    expect(lowered.find((g) => g.api_root === 'global')).to.deep.include({ read: true, max_tlp: 'green' });
    // the audit log shows who did it
    await nav.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('grant.set');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('table.admin tbody tr', { hasText: 'root-admin' }).first().waitFor();
    await accessible(page, 'audit log');
    // an account disabled and enabled again: its credentials stop and start working
    await nav.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('button', { name: 'Disable de-analyst' }).click();
    await page.locator('.outcome', { hasText: 'Disabled de-analyst.' }).waitFor();
    expect((await api(['root-admin', PW.admin], '/admin/v1/accounts/de-analyst')).body).to.deep.include({ disabled: true });
    expect((await api(['de-analyst', PW.de], '/de/collections/')).status).to.equal(401);
    await page.getByRole('button', { name: 'Enable de-analyst' }).click();
    await page.locator('.outcome', { hasText: 'Enabled de-analyst.' }).waitFor();
    expect((await api(['de-analyst', PW.de], '/de/collections/')).status).to.equal(200);
    await accessible(page, 'accounts');
    // roles and curator roots: de-analyst made a curator of de, then a subscriber again
    const editAccount = async (check: (form: ReturnType<Page['getByRole']>) => Promise<void>) => {
      await page.getByRole('button', { name: 'Edit de-analyst' }).click();
      const form = page.getByRole('form', { name: 'Save' });
      await check(form);
      await form.getByRole('button', { name: 'Save' }).click();
      await page.locator('.outcome', { hasText: 'Saved de-analyst.' }).waitFor();
      // the focus goes back where it was, for whoever works with the keyboard
      await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Edit de-analyst', undefined, { timeout: 5000 });
    };
    await editAccount(async (form) => {
      expect(await form.getByLabel('subscriber', { exact: true }).isChecked()).to.equal(true);
      await form.getByLabel('curator', { exact: true }).check();
      await form.getByLabel(/^Curator roots/).fill('de');
    });
    await page.locator('table.admin tbody tr', { hasText: 'de-analyst' }).filter({ hasText: /curator/ }).waitFor();
    const made = (await api<{ roles: string[]; curator_roots?: string[] }>(['de-analyst', PW.de], '/admin/v1/me')).body;
    expect(made.roles).to.have.members(['subscriber', 'curator']);
    expect(made.curator_roots).to.deep.equal(['de']);
    expect((await api(['de-analyst', PW.de], '/admin/v1/curation/queue')).status).to.equal(200);
    await editAccount(async (form) => {
      expect(await form.getByLabel(/^Curator roots/).inputValue()).to.equal('de');
      await page.getByRole('heading', { level: 2, name: 'Edit de-analyst' }).waitFor();
      await shot(page, 'accounts');
      await accessible(page, 'account edit');
      await form.getByLabel('curator', { exact: true }).uncheck();
      await form.getByLabel(/^Curator roots/).fill('');
    });
    const me = (await api<{ roles: string[]; curator_roots?: string[] }>(['de-analyst', PW.de], '/admin/v1/me')).body;
    expect([me.roles, me.curator_roots]).to.deep.equal([['subscriber'], undefined]);
    expect((await api(['de-analyst', PW.de], '/admin/v1/curation/queue')).status).to.equal(404);
    // an API key for the vendor's feed, made by the admin: the secret shown once works, then revoked it does not
    await page.getByRole('link', { name: 'API keys of acme-feed' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys of acme-feed' }).waitFor();
    await page.getByRole('form', { name: 'Add API key' }).getByLabel(/^Name/).fill('feed-2');
    await page.getByRole('button', { name: 'Add API key' }).click();
    const keySaid = (await page.locator('.outcome', { hasText: 'Created API key feed-2.' }).textContent())!;
    const feedKey = keySaid.slice(keySaid.lastIndexOf(': ') + 2).trim();
    expect((await api(['acme-feed', feedKey], '/desk/collections/')).status).to.equal(200);
    const listed = (await api<{ api_keys: Array<{ name: string }> }>(['root-admin', PW.admin], '/admin/v1/accounts/acme-feed/api-keys')).body.api_keys;
    expect(listed.map((k) => k.name)).to.deep.equal(['feed-2']);
    await accessible(page, "an account's API keys");
    await page.getByRole('button', { name: 'Remove API key feed-2' }).click();
    await page.locator('.outcome', { hasText: 'Removed API key feed-2.' }).waitFor();
    expect((await api(['acme-feed', feedKey], '/desk/collections/')).status).to.equal(401);
    await page.getByRole('link', { name: '← Accounts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    // an API root renamed and its size limit raised; a size of 0 is refused in the page, nothing sent
    await nav.getByRole('link', { name: 'API roots' }).click();
    await page.getByRole('button', { name: 'Edit global' }).click();
    const rootEdit = page.getByRole('form', { name: 'Save' });
    await rootEdit.getByLabel(/^Title/).fill('All member countries');
    await rootEdit.getByLabel(/^Max content length/).fill('0');
    await rootEdit.getByRole('button', { name: 'Save' }).click();
    await rootEdit.getByRole('alert').filter({ hasText: 'a whole number of bytes' }).waitFor();
    expect((await api<{ title: string }>(['root-admin', PW.admin], '/admin/v1/api-roots/global')).body.title).to.equal('global');
    await rootEdit.getByLabel(/^Max content length/).fill('20000000');
    await rootEdit.getByRole('button', { name: 'Save' }).click();
    await page.locator('.outcome', { hasText: 'Saved global.' }).waitFor();
    expect((await api(['root-admin', PW.admin], '/admin/v1/api-roots/global')).body).to.deep.include({ title: 'All member countries', max_content_length: 20_000_000 });
    expect((await api(['fr-analyst', PW.fr], '/global/')).body).to.deep.include({ title: 'All member countries', max_content_length: 20_000_000 });
    // a webhook subscription for the French police: the signing secret shown once, the API lists it; disabled
    await nav.getByRole('link', { name: 'Webhooks' }).click();
    const hook = page.getByRole('form', { name: 'Add webhook subscription' });
    await hook.getByLabel(/^Receiver URL/).fill('https://receiver.example.org/meridian');
    await hook.getByLabel(/^Organisation/).fill('fr-police');
    await hook.getByLabel(/^Collections/).fill('fr/published');
    await hook.getByLabel('object.published').check();
    await hook.getByRole('button', { name: 'Add webhook subscription' }).click();
    const hookSaid = (await page.locator('.outcome', { hasText: 'Copy its signing secret now' }).textContent())!;
    expect(hookSaid).to.match(/: whsec_\S+$/);
    const subs = (await api<{ subscriptions: Array<{ id: string; url: string; organisation: string; event_types: string[]; state: string }> }>(['root-admin', PW.admin], '/admin/v1/subscriptions')).body.subscriptions;
    expect(subs.map((x) => [x.url, x.organisation, x.event_types])).to.deep.equal([['https://receiver.example.org/meridian', 'fr-police', ['object.published']]]);
    await page.getByRole('button', { name: 'Disable the subscription of fr-police to https://receiver.example.org/meridian' }).click();
    await page.locator('.outcome', { hasText: 'Disabled the subscription' }).waitFor();
    expect((await api<{ state: string }>(['root-admin', PW.admin], `/admin/v1/subscriptions/${subs[0]!.id}`)).body.state).to.equal('disabled');
    await shot(page, 'webhooks');
    await accessible(page, 'webhooks');
    await page.getByRole('link', { name: 'Delivery log of https://receiver.example.org/meridian' }).click();
    await page.getByRole('heading', { level: 1, name: 'Deliveries to https://receiver.example.org/meridian' }).waitFor();
    await page.locator('table.admin caption', { hasText: 'deliveries, newest first' }).waitFor();
    await accessible(page, 'delivery log');
    // webhook health on the dashboard, as the API lists the subscriptions
    await nav.getByRole('link', { name: 'Dashboard' }).click();
    const health = await page.getByRole('img', { name: /^Webhook subscriptions by state/ }).getAttribute('aria-label');
    const states = (await api<{ subscriptions: Array<{ state: string }> }>(['root-admin', PW.admin], '/admin/v1/subscriptions')).body.subscriptions.map((x) => x.state);
    expect(states).to.deep.equal(['disabled']);
    expect(health).to.equal('Webhook subscriptions by state: disabled 1 subscriptions');
    await accessible(page, "an admin's dashboard");
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it('returns to the sign-in form when the token expires, mid-decision, and nothing half-done is sent', async function () {
    const late = indicator({ name: 'Decided after the token expired' });
    await vendorPosts([late]);
    const page = await open({ clock: true });
    await signIn(page, 'alice', PW.alice);
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Review queue' }).click();
    await row(page, late.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Reject…' }).click();
    const reject = page.getByRole('region', { name: /Reject 1 entry/ });
    await reject.getByLabel(/^Reason/).fill('typed before a long lunch');
    // the access token lives tokenTtlSeconds (900 s here): the page ends the session just before
    expect(w.config.tokenTtlSeconds).to.equal(900);
    // a minute before, a warning; the work is still there
    await page.clock.fastForward('14:00');
    await page.getByRole('status').filter({ hasText: 'Your session ends in 60 seconds' }).waitFor();
    expect(await reject.getByLabel(/^Reason/).inputValue()).to.equal('typed before a long lunch');
    await page.clock.fastForward('01:00');
    await page.getByText('Your session has expired. Sign in again to continue.').waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).to.equal('Meridian console');
    expect(await page.getByRole('region', { name: /Reject/ }).count()).to.equal(0);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).to.equal(0);
    await shot(page, 'session-expired');
    await accessible(page, 'session expired');
    // nothing was decided while the token lapsed
    expect((await queue(`?object=${late.id}`))[0]?.state).to.equal('pending');
    // signing in again goes on where the curator was, with a working token
    await signIn(page, 'alice', PW.alice);
    await row(page, late.id).getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Reject…' }).click();
    await reject.getByLabel(/^Reason/).fill('a test object');
    await reject.getByRole('button', { name: 'Preview (dry run)' }).click();
    await page.getByRole('status', { name: 'Dry-run preview' }).waitFor();
    await reject.getByRole('button', { name: 'Confirm reject' }).click();
    await page.locator('.outcome', { hasText: 'Rejected 1 entry.' }).waitFor();
    expect((await queue(`?object=${late.id}`))[0]).to.deep.include({ state: 'rejected', reason: 'a test object' });
    expect(problemsOf(page)).to.deep.equal([]);
  });

  it('ends the session when the token stops working, and asks to sign in again', async function () {
    const page = await open();
    await signIn(page, 'alice', PW.alice);
    // What the console loads after signing in is loaded: a request of it still under way when the
    // password changes would end the session before the click below (the nav gone with it).
    await page.waitForLoadState('networkidle');
    // a changed password ends every token of the account at once
    await w.admin.updateAccount('alice', { password: 'a brand new passphrase 1' });
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Review queue' }).click();
    await page.getByText('Your session has expired. Sign in again to continue.').waitFor();
    await page.getByLabel('Account name').waitFor();
    await signIn(page, 'alice', 'a brand new passphrase 1');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await w.admin.updateAccount('alice', { password: PW.alice });
  });
});
