// The bench runs in a plain clone, without the ATT&CK bundle beside the repository: the dataset
// builder then generates ATT&CK-like objects, which must be valid STIX 2.1 so that every figure
// (ingest, validation) measures accepted objects, and it must say that it did so.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ATTACK_LIKE_COUNTS, attackFileFrom, attackTargets, distinctObjects, generateAttackLike, generateObjects, loadAttackDataset } from '../../bench/dataset.js';
import { processObjects } from 'stix2-validator-ts';

describe('bench dataset without the ATT&CK bundle', function () {
  this.timeout(60_000);
  const missing = path.join(os.tmpdir(), 'meridian-no-such-dir', 'enterprise-attack.json');

  it('takes the bundle path from --attack, then MERIDIAN_BENCH_ATTACK, then beside the repository', function () {
    expect(attackFileFrom(['node', 'run.ts', '--attack', '/x/a.json'], { MERIDIAN_BENCH_ATTACK: '/y/b.json' })).to.equal('/x/a.json');
    expect(attackFileFrom(['node', 'run.ts'], { MERIDIAN_BENCH_ATTACK: '/y/b.json' })).to.equal('/y/b.json');
    expect(attackFileFrom(['node', 'run.ts'], {})).to.match(/shared[/\\]data[/\\]enterprise-attack\.json$/);
  });

  it('falls back to generated objects, says so in one line naming where the bundle comes from', function () {
    const notices: string[] = [];
    const d = loadAttackDataset({ file: missing, notice: (line) => notices.push(line) });
    expect(d.source).to.equal('generated');
    expect(d.label).to.match(/generated/i);
    expect(notices).to.have.length(1);
    expect(notices[0]).to.not.include('\n');
    expect(notices[0]).to.include(missing);
    expect(notices[0]).to.include('https://github.com/mitre-attack/attack-stix-data');
    expect(notices[0]).to.include('enterprise-attack/enterprise-attack.json');
    expect(notices[0]).to.match(/--attack FILE/);
    expect(notices[0]).to.match(/MERIDIAN_BENCH_ATTACK/);
  });

  it('reads a bundle that is there, and says nothing', function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-dataset-'));
    try {
      const file = path.join(dir, 'bundle.json');
      const objects = generateAttackLike(3, { 'attack-pattern': 2, malware: 1, tool: 1, 'intrusion-set': 1, campaign: 1, 'course-of-action': 1, relationship: 3 });
      writeFileSync(file, JSON.stringify({ type: 'bundle', id: 'bundle--0b0f7e0c-6b8f-4a52-9d10-3c1a8f6b7a11', objects }));
      const notices: string[] = [];
      const d = loadAttackDataset({ file, notice: (line) => notices.push(line) });
      expect(d.source).to.equal('bundle');
      expect(d.objects).to.deep.equal(objects);
      expect(notices).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates the ATT&CK mix of types and sizes, the same for the same seed', function () {
    const d = loadAttackDataset({ file: missing });
    expect(d.objects).to.have.length(24_772);
    const counts = new Map<string, number>();
    for (const o of d.objects) counts.set(o.type as string, (counts.get(o.type as string) ?? 0) + 1);
    for (const [type, n] of Object.entries(ATTACK_LIKE_COUNTS)) expect(counts.get(type), type).to.equal(n);
    // ATT&CK Enterprise v18.1 is about 38 MB of compact JSON.
    const bytes = JSON.stringify(d.objects).length;
    expect(bytes).to.be.within(25e6, 55e6);
    expect(new Set(d.objects.map((o) => o.id)).size).to.equal(d.objects.length);
    expect(attackTargets(d.objects).length).to.equal(835 + 696 + 91 + 187);
    expect(JSON.stringify(generateAttackLike(5).slice(0, 50))).to.equal(JSON.stringify(generateAttackLike(5).slice(0, 50)));
    expect(JSON.stringify(generateAttackLike(5).slice(0, 50))).to.not.equal(JSON.stringify(generateAttackLike(6).slice(0, 50)));
  });

  it('generates valid STIX 2.1 (the server pipeline accepts every object)', function () {
    const { objects } = loadAttackDataset({ file: missing });
    const ids = new Set(objects.map((o) => o.id));
    for (const o of objects) {
      if (o.type !== 'relationship') continue;
      expect(ids.has(o.source_ref), `${o.id as string} source`).to.equal(true);
      expect(ids.has(o.target_ref), `${o.id as string} target`).to.equal(true);
    }
    const outcomes = processObjects(objects);
    const failed = outcomes.map((o, i) => ({ i, o })).filter(({ o }) => !o.ok);
    expect(failed.slice(0, 3).map(({ i, o }) => ({ id: objects[i]!.id, findings: o.findings }))).to.deep.equal([]);
    // Warnings only where ATT&CK has them too: its statement marking uses the deprecated definition_type.
    const warned = outcomes.flatMap((o, i) => o.findings.map((f) => `${objects[i]!.type as string} ${f.code}`));
    expect(warned).to.deep.equal(['marking-definition STIX_DEPRECATED']);
  });

  it('makes a submission of distinct objects (one queue entry each), the same for the same seed', function () {
    const objects = distinctObjects(4, 2000, { prefix: 'sub' });
    expect(objects).to.have.length(2000);
    expect(new Set(objects.map((o) => o.id)).size).to.equal(2000);
    // generateObjects repeats ids (later versions, the same observable): those are left out, in order.
    const stream = [...generateObjects(4, 2300, { prefix: 'sub' })];
    expect(new Set(stream.map((o) => o.id)).size).to.be.lessThan(stream.length);
    expect(objects.slice(0, 100)).to.deep.equal(stream.filter((o, i) => stream.findIndex((p) => p.id === o.id) === i).slice(0, 100));
    expect(JSON.stringify(distinctObjects(4, 50))).to.equal(JSON.stringify(distinctObjects(4, 50)));
  });
});
