// `meridian subscription …` on a data folder, as an operator runs it: the same validation, SSRF
// policy and audit as the subscriptions API; a secret printed only when made.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runCli } from '../helpers/process.js';

describe('end to end: meridian subscription', function () {
  this.timeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), 'meridian-subs-'));
    env = { MERIDIAN_DATA_DIR: dir, MERIDIAN_WEBHOOK_ALLOW_TARGETS: '127.0.0.1', OWN_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
    for (const args of [
      ['org', 'add', 'fr-police', '--kind', 'member-agency', '--country', 'fr'],
      ['root', 'add', 'fr', '--title', 'France'],
      ['collection', 'add', '--root', 'fr', '--title', 'Published', '--alias', 'published'],
      ['grant', '--organisation', 'fr-police', '--collection', 'published', '--root', 'fr', '--read'],
    ]) {
      const r = await runCli(args, env);
      expect(r.code, r.stderr).to.equal(0);
    }
    // an organisation reads through its accounts: a subscription sees what they could
    {
      const r = await runCli(['account', 'add', 'fr-analyst', '--password-stdin', '--organisation', 'fr-police', '--role', 'subscriber'], env, 'fr analyst passphrase\n');
      expect(r.code, r.stderr).to.equal(0);
    }
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds, lists, shows, updates, disables, enables, rotates, logs and removes a subscription', async function () {
    const added = await runCli(['subscription', 'add', '--organisation', 'fr-police', '--url', 'https://127.0.0.1:8443/hooks/meridian', '--collection', 'fr/published', '--max-tlp', 'amber'], env);
    expect(added.code, added.stderr).to.equal(0);
    const sub = JSON.parse(added.stdout);
    expect(sub.secret).to.match(/^whsec_/);
    expect(sub).to.include({ organisation: 'fr-police', state: 'enabled', max_tlp: 'amber' });

    const listed = await runCli(['subscription', 'list'], env);
    expect(JSON.parse(listed.stdout).map((s: { id: string }) => s.id)).to.deep.equal([sub.id]);
    expect(listed.stdout).to.not.include(sub.secret);
    const shown = JSON.parse((await runCli(['subscription', 'show', sub.id], env)).stdout);
    expect(shown).to.not.have.property('secret');

    const updated = JSON.parse((await runCli(['subscription', 'update', sub.id, '--max-tlp', 'green', '--event-type', 'object.withdrawn,object.revoked'], env)).stdout);
    expect(updated).to.include({ max_tlp: 'green' });
    expect(updated.event_types).to.deep.equal(['object.withdrawn', 'object.revoked']);
    expect(JSON.parse((await runCli(['subscription', 'disable', sub.id, '--reason', 'receiver maintenance'], env)).stdout)).to.include({ state: 'disabled', disabled_reason: 'receiver maintenance' });
    expect(JSON.parse((await runCli(['subscription', 'enable', sub.id], env)).stdout)).to.include({ state: 'enabled' });
    const rotated = JSON.parse((await runCli(['subscription', 'rotate-secret', sub.id, '--secret-env', 'OWN_SECRET'], env)).stdout);
    expect(rotated.secret).to.equal(env.OWN_SECRET);
    expect(rotated).to.have.property('previous_secret_until');
    expect(JSON.parse((await runCli(['subscription', 'deliveries', sub.id], env)).stdout)).to.deep.equal({ more: false, deliveries: [] });

    const audit = await runCli(['audit', '--action', 'subscription.create', '--json'], env);
    expect(audit.stdout).to.include(sub.id);
    expect(audit.stdout).to.not.include(sub.secret);

    expect((await runCli(['subscription', 'remove', sub.id], env)).code).to.equal(0);
    expect(JSON.parse((await runCli(['subscription', 'list'], env)).stdout)).to.deep.equal([]);
  });

  it('declares subscriptions in a layout file: created once, updated when they differ, unchanged otherwise', async function () {
    const layout = (maxTlp: string) => `subscriptions:
  - organisation: fr-police
    url: https://127.0.0.1:8443/layout-hook
    collections: [fr/published]
    max_tlp: ${maxTlp}
    secret_env: OWN_SECRET
`;
    const file = path.join(dir, 'subs.yaml');
    writeFileSync(file, layout('amber'));
    const first = await runCli(['apply', file], env);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/created subscription fr-police → https:\/\/127\.0\.0\.1:8443\/layout-hook/);
    expect(first.stdout).to.not.include('whsec_');
    expect((await runCli(['apply', file], env)).stdout).to.match(/nothing to change/);
    writeFileSync(file, layout('green'));
    expect((await runCli(['apply', file], env)).stdout).to.match(/updated subscription fr-police/);
    const listed = JSON.parse((await runCli(['subscription', 'list'], env)).stdout) as Array<{ url: string; max_tlp: string }>;
    expect(listed.find((x) => x.url.endsWith('/layout-hook'))!.max_tlp).to.equal('green');
    const missing = await runCli(['apply', file], { ...env, OWN_SECRET: '' });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/subscriptions\[0\]\.secret_env/);
  });

  it('refuses what the API refuses, in one line', async function () {
    const plain = await runCli(['subscription', 'add', '--organisation', 'fr-police', '--url', 'http://198.51.100.7/hook', '--collection', 'fr/published'], env);
    expect(plain.code).to.equal(2);
    expect(plain.stderr.trim().split('\n')).to.have.length(1);
    expect(plain.stderr).to.match(/url/);
    const unknown = await runCli(['subscription', 'add', '--organisation', 'fr-police', '--url', 'https://127.0.0.1:8443/h', '--collection', 'de/published'], env);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/no published collection "de\/published"/);
    expect((await runCli(['subscription', 'show', '0b7c0d1e-0000-4000-8000-000000000000'], env)).code).to.equal(1);
    expect((await runCli(['subscription', 'add', '--organisation', 'fr-police', '--url', 'https://127.0.0.1:8443/h', '--collection', 'fr/published', '--secret-env', 'NOT_SET'], env)).code).to.equal(2);
  });
});
