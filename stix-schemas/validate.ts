// The validator: structural pass (nulls, depth), per-type property tables, then the named rules of rules.ts.
import { type FindingCode, FINDING_CODES } from './codes.js';
import { type Finding, quote } from './findings.js';
import {
  DICTIONARY_KEY, HASH_FORMATS, HASH_KEY, PROPERTY_NAME, RESERVED_PROPERTIES, canonicalHashName, isBase64, isCountryCode, isCpe23, isHex,
  isIanaCharset, isIanaMediaType, isLanguageTag, isTypeName, parseIdentifier,
} from './formats.js';
import { nonFiniteNumberFinding } from './numbers.js';
import { child } from './pointer.js';
import { type ObjectDef, type Prop, customPropertyType } from './props.js';
import { parseStixTimestamp } from './timestamp.js';
import { type StixObject, isRecord } from './types-common.js';
import { COMMON_PROPS, type Kind, TYPES, type TypeDef, commonUse, customDef } from './types.js';
import { ENUMS, OPEN_VOCABS } from './vocab.js';

/** Deeper nesting than this is refused before any recursive check runs (no input can blow the stack). */
export const MAX_DEPTH = 64;

/** Collects findings; the severity of each code comes from the catalogue. */
export class Report {
  readonly findings: Finding[] = [];
  /**
   * Adds a finding. `value` is the offending value, quoted safely (findings.ts quote); a message that cites
   * no section gets the code's section appended, so every finding names its rule.
   */
  add(code: FindingCode, path: string, message: string, value?: unknown): void {
    const info = FINDING_CODES[code];
    let text = value === undefined ? message : `${message}; got ${quote(value)}`;
    if (!text.includes('§')) text += ` (§${info.section})`;
    this.findings.push({ code, severity: info.severity, path, message: text });
  }
}

/** One validation: the object, its definition, and what the rules need to share. */
export interface Check {
  obj: StixObject;
  type: string;
  def: TypeDef;
  custom: boolean;
  report: Report;
}

/**
 * §2: no nulls anywhere, and a bounded depth. The recursion stops at MAX_DEPTH, so no input can exhaust the
 * stack; paths are only built for what is reported. Returns false when the object is too deep to check further.
 */
export function structuralPass(root: unknown, report: Report): boolean {
  return visit(root, 0, { keys: [], nulls: 0, report });
}

interface Walk { keys: Array<string | number>; nulls: number; report: Report }
const pointer = (w: Walk): string => w.keys.reduce<string>((p, k) => child(p, k), '');

/**
 * ±Infinity or NaN (x - x is 0 for every finite number): JSON text cannot carry them, so they mean a number
 * that overflowed when parsed, or an object built in code. Numbers that are finite but were rounded can only
 * be seen in the text (numbers.ts, before parsing).
 */
function nonFinite(w: Walk, key: string | number, value: number): void {
  w.keys.push(key);
  w.report.findings.push(nonFiniteNumberFinding(pointer(w), value));
  w.keys.pop();
}

function visit(value: unknown, depth: number, w: Walk): boolean {
  if (value === null) {
    if (w.nulls++ < 20) w.report.add('STIX_NULL_VALUE', pointer(w), 'a STIX value MUST NOT be null; omit the property instead (§2)');
    return true;
  }
  if (typeof value !== 'object') return true;
  if (depth >= MAX_DEPTH) {
    w.report.add('STIX_TOO_DEEP', pointer(w), `nesting deeper than ${MAX_DEPTH} levels is refused (Meridian's limit, so that no input exhausts the stack)`);
    return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item !== 'object') {
        if (typeof item === 'number' && item - item !== 0) nonFinite(w, i, item);
        continue;
      }
      w.keys.push(i);
      const ok = visit(item, depth + 1, w);
      w.keys.pop();
      if (!ok) return false;
    }
    return true;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (item !== null && typeof item !== 'object') {
      if (typeof item === 'number' && item - item !== 0) nonFinite(w, key, item);
      continue;
    }
    w.keys.push(key);
    const ok = visit(item, depth + 1, w);
    w.keys.pop();
    if (!ok) return false;
  }
  return true;
}

const TYPE_NAMES: Record<Prop['k'], string> = {
  string: 'a string', boolean: 'a boolean', integer: 'an integer', float: 'a number', timestamp: 'a timestamp string',
  ref: 'an identifier', list: 'a list', ov: 'a string', enum: 'a string', hashes: 'a dictionary of hashes',
  dict: 'a dictionary', object: 'an object', hex: 'a hex string', binary: 'a base64 string', lang: 'a language tag',
  country: 'a country code', mime: 'a media type string', cpe: 'a CPE string', charset: 'a character set name',
  integerOrString: 'an integer or a string', any: 'a value',
};

function wrongType(p: Prop, v: unknown, path: string, r: Report): void {
  r.add('STIX_PROPERTY_TYPE', path, `MUST be ${TYPE_NAMES[p.k]}`, typeof v === 'string' ? v : jsonType(v));
}

/** What a JSON value is, for "MUST be a string; got a number" (the value itself may be large). */
function jsonType(v: unknown): string {
  return { string: 'a string', number: 'a number', boolean: 'a boolean', object: Array.isArray(v) ? 'a list' : 'an object' }[typeof v as string] ?? typeof v;
}

/** "'file' or 'artifact'": the types a reference property allows, quoted. */
function allowedTypes(p: Extract<Prop, { k: 'ref' }>): string {
  if (p.allowed) return p.allowed;
  if (typeof p.to !== 'object') return 'the types this property allows';
  const names = [...p.to].map((t) => `'${t}'`);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
}

/** Checks one value against its property descriptor. */
export function checkValue(p: Prop, v: unknown, path: string, r: Report): void {
  if (v === null || v === undefined) return; // nulls are reported once, by the structural pass
  switch (p.k) {
    case 'any':
      return;
    case 'boolean':
      if (typeof v !== 'boolean') wrongType(p, v, path, r);
      return;
    case 'integer':
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v) || (p.k === 'integer' && !Number.isInteger(v))) return wrongType(p, v, path, r);
      if (p.k === 'integer' && !Number.isSafeInteger(v)) return r.add('STIX_VALUE_RANGE', path, 'integers MUST fit in 54 bits, ±(2^53−1) (§2.10)', v);
      if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) {
        r.add('STIX_VALUE_RANGE', path, `MUST be between ${p.min ?? '-∞'} and ${p.max ?? '∞'}`, v);
      }
      return;
    case 'integerOrString':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isSafeInteger(v))) wrongType(p, v, path, r);
      return;
    case 'list':
      if (!Array.isArray(v)) return wrongType(p, v, path, r);
      if (v.length === 0) return r.add('STIX_EMPTY_LIST', path, 'a list MUST NOT be empty (§2.12)');
      for (let i = 0; i < v.length; i++) checkValue(p.of, v[i], child(path, i), r);
      return;
    case 'object':
      if (!isRecord(v)) return wrongType(p, v, path, r);
      checkObjectDef(p.def, v, path, r);
      return;
    case 'dict':
      if (!isRecord(v)) return wrongType(p, v, path, r);
      checkDictionary(v, path, r, p.values);
      return;
    case 'hashes':
      if (!isRecord(v)) return wrongType(p, v, path, r);
      checkHashes(v, path, r);
      return;
    default:
  }
  if (typeof v !== 'string') return wrongType(p, v, path, r);
  switch (p.k) {
    case 'timestamp':
      if (!parseStixTimestamp(v)) r.add('STIX_TIMESTAMP_INVALID', path, 'MUST be an RFC 3339 UTC timestamp YYYY-MM-DDTHH:mm:ss[.s+]Z of a real date (§2.16)', v);
      return;
    case 'ref': {
      const id = parseIdentifier(v);
      if (!id) return r.add('STIX_REF_INVALID', path, 'MUST be an identifier "<type>--<RFC 4122 UUID>" (§2.9)', v);
      const to = p.to;
      if (to !== 'any' && !(typeof to === 'function' ? to(id.type) : to.has(id.type))) {
        r.add('STIX_REF_TARGET_TYPE', path, `MUST NOT reference an object of type '${id.type}'; allowed: ${allowedTypes(p)} (§3.3)`, v);
      }
      return;
    }
    case 'ov':
      if (!OPEN_VOCABS[p.vocab].has(v)) r.add('STIX_VOCAB_VALUE', path, `SHOULD come from ${p.vocab} (§2.14, §10)`, v);
      return;
    case 'enum':
      if (!ENUMS[p.vocab].has(v)) r.add('STIX_ENUM_VALUE', path, `MUST come from ${p.vocab} (§2.4, §10)`, v);
      return;
    case 'hex':
      if (!isHex(v)) r.add('STIX_HEX_INVALID', path, 'MUST be an even number of lowercase hex digits (§2.8)', v);
      return;
    case 'binary':
      if (!isBase64(v)) r.add('STIX_BINARY_INVALID', path, 'MUST be base64 (RFC 4648, §2.1)', v);
      return;
    case 'lang':
      if (!isLanguageTag(v)) r.add('STIX_LANG_INVALID', path, 'MUST be an RFC 5646 language tag (§3.2)', v);
      return;
    case 'country':
      if (!isCountryCode(v)) r.add('STIX_COUNTRY_INVALID', path, 'SHOULD be an ISO 3166-1 alpha-2 country code (§4.10)', v);
      return;
    case 'mime':
      if (!isIanaMediaType(v)) r.add('STIX_MIME_TYPE_UNKNOWN', path, 'SHOULD be a media type from the IANA registry (§6.1, §6.7)', v);
      return;
    case 'cpe':
      if (!isCpe23(v)) r.add('STIX_CPE_INVALID', path, 'MUST be a CPE 2.3 formatted string "cpe:2.3:…" (§6.14)', v);
      return;
    case 'charset':
      if (!isIanaCharset(v)) r.add('STIX_CHARSET_INVALID', path, 'MUST be a name from the IANA character set registry (§3.9.1)', v);
      return;
    default:
  }
}

function checkDictionary(v: Record<string, unknown>, path: string, r: Report, values?: Prop): void {
  const keys = Object.keys(v);
  if (keys.length === 0) return r.add('STIX_EMPTY_DICTIONARY', path, 'a dictionary MUST NOT be empty (§2.3)');
  for (const key of keys) {
    if (!DICTIONARY_KEY.test(key)) r.add('STIX_DICTIONARY_KEY_INVALID', child(path, key), 'dictionary keys MUST be ASCII letters, digits, "-" and "_", at most 250 (§2.3)', key);
    if (values) checkValue(values, v[key], child(path, key), r);
  }
}

/** §2.7 hashes: key form (MUST), vocabulary (SHOULD), and the value format of known algorithms (MUST). */
function checkHashes(v: Record<string, unknown>, path: string, r: Report): void {
  const keys = Object.keys(v);
  if (keys.length === 0) return r.add('STIX_EMPTY_DICTIONARY', path, 'hashes MUST hold at least one hash (§2.7)');
  for (const key of keys) {
    const at = child(path, key);
    const value = v[key];
    if (!HASH_KEY.test(key)) r.add('STIX_DICTIONARY_KEY_INVALID', at, 'hash names MUST be 3–250 ASCII letters, digits, "-" and "_" (§2.7)', key);
    const canonical = canonicalHashName(key);
    if (canonical !== key) {
      r.add('STIX_HASH_ALGORITHM', at, canonical
        ? `hash names SHOULD come from hash-algorithm-ov: spell it "${canonical}" (§2.7, §10.7)`
        : 'hash names SHOULD come from hash-algorithm-ov (§2.7, §10.7)', key);
    }
    if (typeof value !== 'string') {
      r.add('STIX_PROPERTY_TYPE', at, 'a hash value MUST be a string (§2.7)', jsonType(value));
    } else if (canonical && !HASH_FORMATS[canonical]?.test(value)) {
      r.add('STIX_HASH_VALUE', at, `MUST be a well-formed ${canonical} value (§2.7)`, value);
    }
  }
}

/** An embedded type: required, at-least-one-of, known properties, custom ones (§11.1). */
export function checkObjectDef(def: ObjectDef, v: Record<string, unknown>, path: string, r: Report): void {
  const keys = Object.keys(v);
  if (keys.length === 0) return r.add('STIX_EMPTY_DICTIONARY', path, 'MUST hold at least one property (§2.3)');
  for (const name of def.required ?? []) {
    if (!(name in v)) r.add('STIX_REQUIRED_PROPERTY', child(path, name), `${name} is required and MUST be present (§3.1)`);
  }
  if (def.oneOf && !def.oneOf.some((n) => n in v)) {
    r.add('STIX_PROPERTY_DEPENDENCY', child(path, def.oneOf[0]!), `at least one of ${def.oneOf.join(', ')} MUST be present`);
  }
  for (const key of keys) {
    const p = def.props[key];
    if (p) checkValue(p, v[key], child(path, key), r);
    else checkCustomProperty(key, v[key], child(path, key), r, def.mirrors !== true);
  }
}

/** §3.1, §3.8, §7.3.2, §11.1: a property the specification does not define (custom, extension or custom-object property). */
export function checkCustomProperty(name: string, value: unknown, path: string, r: Report, wantPrefix: boolean): void {
  if (RESERVED_PROPERTIES.has(name)) {
    r.add('STIX_RESERVED_PROPERTY', path, `"${name}" is a reserved property name and MUST NOT be present (§3.8)`);
    return;
  }
  if (!PROPERTY_NAME.test(name)) {
    r.add('STIX_PROPERTY_NAME_INVALID', path, 'property names MUST start with a letter and hold only a–z, 0–9 and "_", 3–250 characters (§3.1, §11.1)', name);
    return;
  }
  if (wantPrefix && !name.startsWith('x_')) r.add('STIX_CUSTOM_PROPERTY_PREFIX', path, 'custom property names SHOULD start with "x_" (§11.1)', name);
  // §3.1 says what a reference/binary/hex property must be named, not the converse: a mismatch is only a warning.
  const expected = customPropertyType(name);
  if (expected.k !== 'any') {
    const probe = new Report();
    checkValue(expected, value, path, probe);
    const suffix = /_(?:refs?|bin|hex)$/.exec(name)?.[0] ?? '';
    if (probe.findings.length) r.add('STIX_CUSTOM_PROPERTY_SUFFIX', path, `a custom property named *${suffix} SHOULD hold ${expected.k === 'list' ? 'a list of identifiers' : TYPE_NAMES[expected.k]} (§3.1)`, value);
  }
}

/** The kind a custom object declares through a new-sdo / new-sco / new-sro extension (§7.3), if any. */
function declaredKind(obj: StixObject): Kind | undefined {
  if (!isRecord(obj.extensions)) return undefined;
  for (const ext of Object.values(obj.extensions)) {
    const t = isRecord(ext) ? ext.extension_type : undefined;
    if (t === 'new-sdo') return 'sdo';
    if (t === 'new-sco') return 'sco';
    if (t === 'new-sro') return 'sro';
  }
  return undefined;
}

export type Rule = (c: Check) => void;

/** Validates one (already upgraded) object against STIX 2.1; rules run after the property pass. */
export function validateObject(obj: StixObject, report: Report, rules: readonly Rule[]): Check | undefined {
  const type = obj.type;
  if (!isTypeName(type)) {
    report.add('STIX_TYPE_INVALID', '/type', 'type MUST be 3–250 characters of a–z, 0–9 and single hyphens, starting with a letter or digit (§3.1)', type === undefined ? 'nothing' : type);
    return undefined;
  }
  const known = TYPES[type];
  let def = known ?? customDef(obj);
  if (!known) {
    const kind = declaredKind(obj);
    if (kind) def = { ...def, kind };
    if (!type.startsWith('x-') && !kind) report.add('STIX_CUSTOM_OBJECT_PREFIX', '/type', 'a custom object type SHOULD start with "x-" (§11.2)', type);
  }
  const c: Check = { obj, type, def, custom: !known, report };

  const id = parseIdentifier(obj.id);
  if (!id || id.type !== type) {
    report.add('STIX_ID_INVALID', '/id', `id MUST be "${type}--<RFC 4122 UUID>" (§2.9)`, 'id' in obj ? obj.id : 'nothing');
  } else if (def.kind !== 'sco' && id.uuidVersion !== 4) {
    report.add('STIX_ID_NOT_UUIDV4', '/id', `SDOs, SROs and meta objects SHOULD use a UUIDv4; this is a UUIDv${id.uuidVersion} (§2.9)`, obj.id);
  }
  if ('spec_version' in obj && obj.spec_version !== '2.1') {
    report.add('STIX_SPEC_VERSION_INVALID', '/spec_version', 'spec_version MUST be "2.1" (§3.2)', obj.spec_version);
  }

  const topLevelExtension = isRecord(obj.extensions) &&
    Object.values(obj.extensions).some((e) => isRecord(e) && e.extension_type === 'toplevel-property-extension');
  for (const key in obj) {
    const path = child('', key);
    const p = def.props[key];
    if (p) {
      checkValue(p, obj[key], path, report);
    } else if (key in COMMON_PROPS) {
      if (!commonUse(def.kind, key)) {
        report.add('STIX_FORBIDDEN_PROPERTY', path, `${key} is not applicable to ${def.kind === 'sco' ? 'SCOs' : `a ${type}`} and MUST NOT be present (§3.2)`);
      } else if (key !== 'type' && key !== 'id' && key !== 'spec_version' && key !== 'extensions') {
        checkValue(COMMON_PROPS[key]!, obj[key], path, report);
      }
    } else {
      // §11.2: custom objects may name their properties freely; elsewhere the "x_" prefix is expected.
      checkCustomProperty(key, obj[key], path, report, !c.custom && !topLevelExtension);
    }
  }
  for (const name in COMMON_PROPS) {
    if (commonUse(def.kind, name) === 'req' && !(name in obj)) report.add('STIX_REQUIRED_PROPERTY', child('', name), `${name} is required on ${def.kind === 'sco' ? 'an SCO' : `a ${type}`} and MUST be present (§3.2)`);
  }
  for (const name of def.required) {
    if (!(name in obj)) report.add('STIX_REQUIRED_PROPERTY', child('', name), `${name} is required on a ${type} and MUST be present (§3.1)`);
  }
  if (def.oneOf && !def.oneOf.some((n) => n in obj)) {
    report.add('STIX_PROPERTY_DEPENDENCY', child('', def.oneOf[0]!), `a ${type} MUST have at least one of ${def.oneOf.join(', ')}`);
  }
  for (const rule of rules) rule(c);
  return c;
}
