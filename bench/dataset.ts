// Reproducible benchmark datasets: the ATT&CK Enterprise objects plus generated indicators (with
// STIX patterns), SCOs, sightings and relationships, with later versions of some indicators.
// Everything follows from the seed: the same seed gives the same objects, byte for byte.
// Without the ATT&CK bundle (a plain clone), a generated stand-in of the same shape and size is used.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deterministicScoUuid } from 'stix2-validator-ts/sco-id';

export type Obj = Record<string, unknown>;

/** Where the bundle is looked for when neither `--attack FILE` nor MERIDIAN_BENCH_ATTACK names one. */
export const ATTACK_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data/enterprise-attack.json');
export const ATTACK_ORIGIN = 'MITRE ATT&CK Enterprise STIX 2.1: https://github.com/mitre-attack/attack-stix-data, file enterprise-attack/enterprise-attack.json';
const TLP_CLEAR = 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9';

/** mulberry32: small, fast, good enough for test data, and the same on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  uuid4(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[this.int(4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

export interface AttackDataset {
  objects: Obj[];
  /** `bundle`: read from `file`; `generated`: the bundle was not found, ATT&CK-like objects stand in. */
  source: 'bundle' | 'generated';
  /** The path that was read, or looked for. */
  file: string;
  /** Names the data in tables and results, so generated figures are never taken for ATT&CK ones. */
  label: string;
}

/** The bundle path: `--attack FILE`, else MERIDIAN_BENCH_ATTACK, else ATTACK_FILE beside the repository. */
export function attackFileFrom(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string {
  const i = argv.indexOf('--attack');
  if (i >= 0 && argv[i + 1]) return path.resolve(argv[i + 1]!);
  if (env.MERIDIAN_BENCH_ATTACK) return path.resolve(env.MERIDIAN_BENCH_ATTACK);
  return ATTACK_FILE;
}

/**
 * Reads the ATT&CK bundle at `file`; when there is none, generates ATT&CK-like objects (seeded, the
 * same everywhere) and says so in one line through `notice`.
 */
export function loadAttackDataset(options: { file?: string; notice?: (line: string) => void } = {}): AttackDataset {
  const file = options.file ?? attackFileFrom();
  if (existsSync(file)) {
    const objects = (JSON.parse(readFileSync(file, 'utf8')) as { objects: Obj[] }).objects;
    return { objects, source: 'bundle', file, label: `ATT&CK Enterprise bundle (${objects.length.toLocaleString('en-US')} objects, ${path.basename(file)})` };
  }
  const objects = generateAttackLike(ATTACK_LIKE_SEED);
  const label = `generated ATT&CK-like objects (${objects.length.toLocaleString('en-US')}; ATT&CK bundle not found)`;
  options.notice?.(
    `bench: ATT&CK bundle not found at ${file}; it is ${ATTACK_ORIGIN} (give its path with --attack FILE or MERIDIAN_BENCH_ATTACK); figures use ${objects.length.toLocaleString('en-US')} generated ATT&CK-like objects instead`,
  );
  return { objects, source: 'generated', file, label };
}

let attackCache: AttackDataset | undefined;

/** The bench's ATT&CK data, read (or generated) once per process; the fallback is announced on stderr. */
export function attackDataset(): AttackDataset {
  attackCache ??= loadAttackDataset({ notice: (line) => process.stderr.write(`${line}\n`) });
  return attackCache;
}

/** The ATT&CK Enterprise v18.1 objects (24,772), in bundle order, or their generated stand-in. */
export function attackObjects(): Obj[] {
  return attackDataset().objects;
}

// ---- a generated stand-in for ATT&CK Enterprise -------------------------------------------------

const ATTACK_LIKE_SEED = 0x0a77ac18;

/**
 * Object counts of ATT&CK Enterprise v18.1 for the standard STIX types; the relationships also take
 * the place of its x-mitre-* objects, so the total (24,772) and the bytes per envelope stay alike.
 */
export const ATTACK_LIKE_COUNTS = {
  'attack-pattern': 835,
  malware: 696,
  tool: 91,
  'intrusion-set': 187,
  campaign: 52,
  'course-of-action': 268,
  relationship: 22_641,
} as const;

const PROSE = [
  'adversaries', 'may', 'abuse', 'legitimate', 'system', 'utilities', 'to', 'execute', 'payloads', 'and', 'evade', 'detection',
  'credentials', 'registry', 'service', 'scheduled', 'task', 'persistence', 'the', 'network', 'traffic', 'remote', 'access',
  'encrypted', 'channel', 'of', 'process', 'injection', 'memory', 'loader', 'phishing', 'attachment', 'user', 'privileges',
  'domain', 'controller', 'lateral', 'movement', 'exfiltration', 'over', 'web', 'protocols', 'command', 'interpreter', 'with',
  'obfuscated', 'files', 'or', 'information', 'in', 'order', 'collect', 'data', 'from', 'local', 'host', 'monitor', 'for',
];
const TACTICS = ['reconnaissance', 'resource-development', 'initial-access', 'execution', 'persistence', 'privilege-escalation', 'defense-evasion', 'credential-access', 'discovery', 'lateral-movement', 'collection', 'command-and-control', 'exfiltration', 'impact'];
const PLATFORMS = ['Windows', 'Linux', 'macOS', 'Network Devices', 'Containers', 'IaaS', 'SaaS', 'Office Suite', 'Identity Provider', 'ESXi'];

/**
 * ATT&CK-like objects in bundle order: a marking and an identity, then techniques, software,
 * groups, campaigns and mitigations with ATT&CK's properties (external ids, kill chain phases,
 * x_mitre_* extensions) and text of about the same length, then relationships between them
 * (uses, mitigates, subtechnique-of, attributed-to). Valid STIX 2.1, reproducible from `seed`.
 */
export function generateAttackLike(seed: number, counts: Readonly<Record<keyof typeof ATTACK_LIKE_COUNTS, number>> = ATTACK_LIKE_COUNTS): Obj[] {
  const rng = new Rng(seed);
  const base = Date.UTC(2017, 4, 31);
  const when = () => iso(base + rng.int(8 * 365 * 86_400_000));
  const sentence = () => {
    const n = 8 + rng.int(14);
    const words = Array.from({ length: n }, () => rng.pick(PROSE));
    return `${words[0]!.charAt(0).toUpperCase()}${words.join(' ').slice(1)}.`;
  };
  const prose = (chars: number) => {
    let text = sentence();
    while (text.length < chars) text += ` ${sentence()}`;
    return text;
  };
  const title = () => `${rng.pick(PROSE)} ${rng.pick(PROSE)}`.replace(/\b\w/g, (c) => c.toUpperCase());
  const marking = `marking-definition--${rng.uuid4()}`;
  const identity = `identity--${rng.uuid4()}`;
  const common = (type: string, created: string) => ({
    type, spec_version: '2.1', id: `${type}--${rng.uuid4()}`, created, created_by_ref: identity, modified: created,
    object_marking_refs: [marking], revoked: false, x_mitre_deprecated: false, x_mitre_version: `1.${rng.int(5)}`,
    x_mitre_attack_spec_version: '3.3.0', x_mitre_domains: ['enterprise-attack'], x_mitre_modified_by_ref: identity,
  });
  const refs = (prefix: string, n: number, kind: string) => [
    { source_name: 'mitre-attack', url: `https://attack.example/${kind}/${prefix}${String(n).padStart(4, '0')}`, external_id: `${prefix}${String(n).padStart(4, '0')}` },
    ...Array.from({ length: rng.int(6) }, (_, k) => ({ source_name: `${rng.pick(PROSE)} ${2015 + rng.int(10)}-${k}`, description: prose(60), url: `https://reports.example/${rng.hex(12)}` })),
  ];
  const platforms = () => [...new Set(Array.from({ length: 1 + rng.int(4) }, () => rng.pick(PLATFORMS)))];

  const out: Obj[] = [
    { type: 'marking-definition', spec_version: '2.1', id: marking, created: iso(base), created_by_ref: identity, definition_type: 'statement', name: 'generated statement', definition: { statement: 'Generated benchmark data standing in for MITRE ATT&CK; not ATT&CK content.' } },
    { type: 'identity', spec_version: '2.1', id: identity, created: iso(base), modified: iso(base), name: 'Generated ATT&CK-like producer', identity_class: 'organization', object_marking_refs: [marking] },
  ];
  const techniques: string[] = [];
  const parents: string[] = [];
  for (let n = 0; n < counts['attack-pattern']; n++) {
    const created = when();
    const sub = parents.length > 0 && rng.next() < 0.55;
    const o = {
      ...common('attack-pattern', created), name: title(), description: prose(900 + rng.int(1800)),
      kill_chain_phases: [{ kill_chain_name: 'mitre-attack', phase_name: rng.pick(TACTICS) }], external_references: refs('T', 1000 + n, 'techniques'),
      x_mitre_platforms: platforms(), x_mitre_is_subtechnique: sub, x_mitre_detection: prose(200 + rng.int(400)),
    };
    techniques.push(o.id);
    if (!sub) parents.push(o.id);
    out.push(o);
  }
  const software: string[] = [];
  for (let n = 0; n < counts.malware; n++) {
    const o = { ...common('malware', when()), name: title(), description: prose(500 + rng.int(1200)), is_family: true, external_references: refs('S', n, 'software'), x_mitre_aliases: [title()], x_mitre_platforms: platforms() };
    software.push(o.id);
    out.push(o);
  }
  for (let n = 0; n < counts.tool; n++) {
    const o = { ...common('tool', when()), name: title(), description: prose(400 + rng.int(1000)), external_references: refs('S', 5000 + n, 'software'), x_mitre_aliases: [title()], x_mitre_platforms: platforms() };
    software.push(o.id);
    out.push(o);
  }
  const groups: string[] = [];
  for (let n = 0; n < counts['intrusion-set']; n++) {
    const o = { ...common('intrusion-set', when()), name: title(), description: prose(700 + rng.int(1600)), aliases: [title(), title()], external_references: refs('G', n, 'groups') };
    groups.push(o.id);
    out.push(o);
  }
  const campaigns: string[] = [];
  for (let n = 0; n < counts.campaign; n++) {
    const first = base + rng.int(6 * 365 * 86_400_000);
    const o = { ...common('campaign', iso(first)), name: title(), description: prose(400 + rng.int(900)), aliases: [title()], first_seen: iso(first), last_seen: iso(first + rng.int(400 * 86_400_000)), external_references: refs('C', n, 'campaigns') };
    campaigns.push(o.id);
    out.push(o);
  }
  const mitigations: string[] = [];
  for (let n = 0; n < counts['course-of-action']; n++) {
    const o = { ...common('course-of-action', when()), name: title(), description: prose(300 + rng.int(900)), external_references: refs('M', 1000 + n, 'mitigations') };
    mitigations.push(o.id);
    out.push(o);
  }
  const actors = [...groups, ...software, ...campaigns];
  for (let n = 0; n < counts.relationship; n++) {
    const roll = rng.next();
    const [relationship_type, source_ref, target_ref] =
      roll < 0.86 ? ['uses', rng.pick(actors), rng.next() < 0.9 || software.length === 0 ? rng.pick(techniques) : rng.pick(software)]
        : roll < 0.93 ? ['mitigates', rng.pick(mitigations), rng.pick(techniques)]
          : roll < 0.99 ? ['subtechnique-of', rng.pick(techniques), rng.pick(parents)]
            : ['attributed-to', rng.pick(campaigns.length ? campaigns : groups), rng.pick(groups)];
    const created = when();
    const cited = refs('R', n, 'relationships').slice(1, 3); // a relationship has no ATT&CK id, only sources
    out.push({
      ...common('relationship', created), relationship_type, source_ref, target_ref,
      description: prose(80 + rng.int(500)), ...(cited.length ? { external_references: cited } : {}),
    });
  }
  return out;
}

const WORDS = ['amber', 'basalt', 'cobalt', 'delta', 'ember', 'fjord', 'granite', 'harbor', 'indigo', 'jade', 'krypton', 'lumen', 'meteor', 'nimbus', 'onyx', 'prism', 'quartz', 'raven', 'sierra', 'tundra'];
const TLDS = ['com', 'net', 'org', 'info', 'biz', 'io', 'ru', 'cn', 'xyz', 'top'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Generates `count` objects. The stream starts with one identity (the producer), then mixes
 * indicators (≈40%), SCOs (≈25%), relationships (≈20%), sightings (≈10%) and new versions of earlier
 * indicators (≈5%).
 */
export function* generateObjects(seed: number, count: number, options: { targets?: string[]; prefix?: string } = {}): Generator<Obj> {
  const rng = new Rng(seed);
  const base = Date.UTC(2024, 0, 1);
  const targets = options.targets?.length ? options.targets : [`attack-pattern--${rng.uuid4()}`];
  const producer = `identity--${rng.uuid4()}`;
  const prefix = options.prefix ?? 'bench';
  yield { type: 'identity', spec_version: '2.1', id: producer, created: iso(base), modified: iso(base), name: `${prefix} producer`, identity_class: 'organization', object_marking_refs: [TLP_CLEAR] };
  const indicators: Array<{ id: string; created: number; modified: number; pattern: string; name: string }> = [];
  let clock = base;
  for (let n = 1; n < count; n++) {
    clock += 1 + rng.int(60_000);
    const roll = rng.next();
    const w = () => rng.pick(WORDS);
    const domain = () => `${w()}-${w()}${rng.int(1000)}.${rng.pick(TLDS)}`;
    const ip = () => `${1 + rng.int(222)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
    if (roll < 0.4 || indicators.length === 0) {
      const kind = rng.int(6);
      const pattern = [
        () => `[ipv4-addr:value = '${ip()}']`,
        () => `[domain-name:value = '${domain()}']`,
        () => `[file:hashes.'SHA-256' = '${rng.hex(64)}']`,
        () => `[url:value = 'https://${domain()}/${w()}/${rng.hex(8)}']`,
        () => `[file:hashes.MD5 = '${rng.hex(32)}' OR file:hashes.'SHA-1' = '${rng.hex(40)}']`,
        () => `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '${ip()}'] FOLLOWEDBY [domain-name:value = '${domain()}'] WITHIN 600 SECONDS`,
      ][kind]!();
      const id = `indicator--${rng.uuid4()}`;
      const name = `${w()} ${w()} ${['c2', 'dropper', 'phishing', 'scanner', 'loader'][rng.int(5)]}`;
      indicators.push({ id, created: clock, modified: clock, pattern, name });
      yield {
        type: 'indicator', spec_version: '2.1', id, created_by_ref: producer, created: iso(clock), modified: iso(clock),
        name, description: `Generated indicator ${n} (${prefix}).`, indicator_types: [rng.pick(['malicious-activity', 'anomalous-activity', 'attribution', 'compromised'])],
        pattern, pattern_type: 'stix', valid_from: iso(clock), confidence: rng.int(101), labels: [w()], object_marking_refs: [TLP_CLEAR],
      };
    } else if (roll < 0.65) {
      const kind = rng.int(4);
      let sco: Obj;
      if (kind === 0) sco = { type: 'ipv4-addr', spec_version: '2.1', value: ip() };
      else if (kind === 1) sco = { type: 'domain-name', spec_version: '2.1', value: domain() };
      else if (kind === 2) sco = { type: 'url', spec_version: '2.1', value: `https://${domain()}/${rng.hex(12)}` };
      else sco = { type: 'file', spec_version: '2.1', hashes: { 'SHA-256': rng.hex(64) }, name: `${w()}.exe`, size: 1000 + rng.int(5_000_000) };
      yield { type: sco.type, spec_version: '2.1', id: `${sco.type as string}--${deterministicScoUuid(sco)}`, ...sco };
    } else if (roll < 0.85) {
      const source = rng.pick(indicators);
      yield {
        type: 'relationship', spec_version: '2.1', id: `relationship--${rng.uuid4()}`, created_by_ref: producer, created: iso(clock), modified: iso(clock),
        relationship_type: 'indicates', source_ref: source.id, target_ref: rng.pick(targets), object_marking_refs: [TLP_CLEAR],
      };
    } else if (roll < 0.95) {
      const of = rng.pick(indicators);
      const first = clock - rng.int(86_400_000);
      yield {
        type: 'sighting', spec_version: '2.1', id: `sighting--${rng.uuid4()}`, created_by_ref: producer, created: iso(clock), modified: iso(clock),
        sighting_of_ref: of.id, count: 1 + rng.int(50), first_seen: iso(first), last_seen: iso(clock), where_sighted_refs: [producer], object_marking_refs: [TLP_CLEAR],
      };
    } else {
      // A new version of an earlier indicator: same id and created, later modified.
      const prev = rng.pick(indicators);
      prev.modified = Math.max(clock, prev.modified + 1);
      yield {
        type: 'indicator', spec_version: '2.1', id: prev.id, created_by_ref: producer, created: iso(prev.created), modified: iso(prev.modified),
        name: prev.name, description: `Revised ${n} (${prefix}).`, indicator_types: ['malicious-activity'],
        pattern: prev.pattern, pattern_type: 'stix', valid_from: iso(prev.created), confidence: rng.int(101), object_marking_refs: [TLP_CLEAR],
      };
    }
  }
}

/** Relationship targets taken from ATT&CK: techniques, malware, tools, intrusion sets. */
export function attackTargets(objects: Obj[]): string[] {
  const kinds = new Set(['attack-pattern', 'malware', 'tool', 'intrusion-set']);
  return objects.filter((o) => kinds.has(o.type as string)).map((o) => o.id as string);
}

/**
 * The ingest mix: ATT&CK objects and `generated` generated objects, merged in a seeded order that
 * keeps each stream's own order (so versions follow their originals).
 */
export function ingestMix(seed: number, generated: number): Obj[] {
  const attack = attackObjects();
  const gen = [...generateObjects(seed, generated, { targets: attackTargets(attack), prefix: 'ingest' })];
  const rng = new Rng(seed ^ 0x5bd1e995);
  const out: Obj[] = [];
  let a = 0;
  let g = 0;
  while (a < attack.length || g < gen.length) {
    const takeAttack = g >= gen.length || (a < attack.length && rng.next() < (attack.length - a) / (attack.length - a + gen.length - g));
    out.push(takeAttack ? attack[a++]! : gen[g++]!);
  }
  return out;
}

/** Splits objects into TAXII envelopes of `size` objects, serialised. */
export function envelopes(objects: Obj[], size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < objects.length; i += size) out.push(Buffer.from(JSON.stringify({ objects: objects.slice(i, i + size) })));
  return out;
}

/**
 * The first `count` objects of `generateObjects` with ids not seen before: no later versions and no
 * repeated observables, so each object of a submission becomes exactly one queue entry (a later
 * version would supersede an earlier one and shrink what a decision publishes).
 */
export function distinctObjects(seed: number, count: number, options: { targets?: string[]; prefix?: string } = {}): Obj[] {
  const seen = new Set<string>();
  const out: Obj[] = [];
  for (const o of generateObjects(seed, Number.MAX_SAFE_INTEGER, options)) {
    if (seen.has(o.id as string)) continue;
    seen.add(o.id as string);
    out.push(o);
    if (out.length >= count) break;
  }
  return out;
}
