// Reproducible benchmark datasets: the ATT&CK Enterprise objects plus generated indicators (with
// STIX patterns), SCOs, sightings and relationships, with later versions of some indicators.
// Everything follows from the seed: the same seed gives the same objects, byte for byte.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deterministicScoUuid } from '../stix-schemas/sco-id.js';

export type Obj = Record<string, unknown>;

export const ATTACK_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data/enterprise-attack.json');
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

let attackCache: Obj[] | undefined;

/** The ATT&CK Enterprise v18.1 objects (24,772), in bundle order. */
export function attackObjects(): Obj[] {
  attackCache ??= (JSON.parse(readFileSync(ATTACK_FILE, 'utf8')) as { objects: Obj[] }).objects;
  return attackCache;
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
