// Semantic checks of one comparison (§9.6, §9.7): the object path against the SCO model of §6,
// and the operator/constant rules the specification states as MUST.
import type { Comparison, Literal, LiteralType, ObjectPath, SetLiteral } from './ast.js';
import { PROPERTY_NAME } from '../formats.js';
import type { Sink } from './lexer.js';
import { HASH_ALGORITHMS, NON_SCO_TYPES, type PropType, SCOS, type Scalar } from './sco-model.js';

interface Resolved {
  /** What the path may denote; several when a reference can point at several types. */
  types: PropType[];
  /** The algorithm when the path ends in a hashes key. */
  hashAlgorithm?: string;
}

const SCALARS: ReadonlySet<PropType> = new Set<Scalar>(['string', 'integer', 'float', 'boolean', 'timestamp', 'binary', 'hex', 'ipv4', 'ipv6']);

/** §9.2: which constants each property type can be compared with. */
const COMPARABLE: Readonly<Record<Scalar, readonly LiteralType[]>> = {
  string: ['string', 'binary', 'hex'],
  ipv4: ['string', 'binary', 'hex'],
  ipv6: ['string', 'binary', 'hex'],
  binary: ['binary', 'hex', 'string'],
  hex: ['binary', 'hex', 'string'],
  integer: ['integer', 'float'],
  float: ['integer', 'float'],
  boolean: ['boolean'],
  timestamp: ['timestamp'],
};

const HASH_HEX_LENGTH: Readonly<Record<string, number>> = {
  MD5: 32, 'SHA-1': 40, 'SHA-256': 64, 'SHA-512': 128, 'SHA3-256': 64, 'SHA3-512': 128,
};

// §3.1 type names; custom SCO types follow the same rule.
const TYPE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,249}$/;

const isScalar = (t: PropType): t is Scalar => typeof t === 'string' && SCALARS.has(t);

export function checkComparison(c: Comparison, sink: Sink): void {
  const resolved = resolvePath(c.path, sink);
  const value = c.value;
  if (!value) return; // EXISTS: the path is all there is, lists included.
  const at = c.path.end;
  if (resolved?.types.some((t) => typeof t === 'object' && 'list' in t)) {
    sink.report('STIX_PATTERN_LIST_WITHOUT_INDEX', at, `${pathText(c.path)} is a list: compare its items with [n] or [*] (§9.7.2)`, pathText(c.path));
    return;
  }
  switch (c.operator) {
    case 'LIKE':
    case 'MATCHES':
      if (value.type !== 'string') {
        sink.report('STIX_PATTERN_OPERAND_INVALID', at, `${c.operator} takes a string constant, not ${value.type} (§9.6.1)`, pathText(c.path));
        return;
      }
      if (c.operator === 'MATCHES' && !regexMayBeValid(value.value)) {
        sink.report('STIX_PATTERN_REGEX_INVALID', at, `'${value.value.slice(0, 80)}' is not a valid regular expression (PCRE, §9.6.1)`, pathText(c.path));
      }
      if (resolved && noneAccepts(resolved.types, 'string')) {
        sink.report('STIX_PATTERN_VALUE_TYPE_MISMATCH', at, `${c.operator} compares text, but ${pathText(c.path)} is ${describe(resolved.types)}`, pathText(c.path));
      }
      return;
    case 'ISSUBSET':
    case 'ISSUPERSET':
      checkSubset(c, value, resolved, sink);
      return;
    case '<':
    case '>':
    case '<=':
    case '>=':
      if (value.type === 'boolean') {
        sink.report('STIX_PATTERN_OPERAND_INVALID', at, `${c.operator} needs an orderable constant; booleans are not ordered (§9.6.1)`, pathText(c.path));
        return;
      }
      break;
    default:
  }
  if (!resolved) return;
  const literals = value.type === 'set' ? value.values : [value];
  const first = literals[0];
  if (first && noneAccepts(resolved.types, first.type)) {
    sink.report('STIX_PATTERN_VALUE_TYPE_MISMATCH', at, `${pathText(c.path)} is ${describe(resolved.types)}; a ${first.type} constant never compares equal to it (§9.2)`, pathText(c.path));
  }
  const algorithm = resolved.hashAlgorithm;
  const length = algorithm === undefined ? undefined : HASH_HEX_LENGTH[algorithm];
  if (length !== undefined && (c.operator === '=' || c.operator === '!=' || c.operator === 'IN')) {
    for (const lit of literals) {
      if (lit.type === 'string' && !isHexOfLength(lit.value, length)) {
        sink.report('STIX_PATTERN_HASH_VALUE_INVALID', at, `'${lit.value.slice(0, 80)}' is not a ${algorithm} hash (${length} hex digits)`, pathText(c.path));
      }
    }
  }
}

function checkSubset(c: Comparison, value: Literal | SetLiteral, resolved: Resolved | undefined, sink: Sink): void {
  const at = c.path.end;
  if (value.type !== 'string') {
    sink.report('STIX_PATTERN_OPERAND_INVALID', at, `${c.operator} takes an IP address or CIDR block as a string constant, not ${value.type} (§9.6.1)`, pathText(c.path));
    return;
  }
  const family = ipFamily(value.value);
  if (family === undefined) {
    sink.report('STIX_PATTERN_IP_INVALID', at, `'${value.value.slice(0, 80)}' is not an IPv4 or IPv6 address or CIDR block (§9.6.1)`, pathText(c.path));
    return;
  }
  if (!resolved) return;
  const hasV4 = resolved.types.includes('ipv4');
  const hasV6 = resolved.types.includes('ipv6');
  if (!hasV4 && !hasV6) {
    sink.report('STIX_PATTERN_SUBSET_PATH', at, `${c.operator} applies to the value of an ipv4-addr or ipv6-addr; ${pathText(c.path)} is ${describe(resolved.types)} (§9.6.1)`, pathText(c.path));
  } else if ((family === 4 && !hasV4) || (family === 6 && !hasV6)) {
    sink.report('STIX_PATTERN_IP_INVALID', at, `'${value.value}' is an IPv${family} constant but ${pathText(c.path)} holds IPv${family === 4 ? 6 : 4} addresses`, pathText(c.path));
  }
}

// PCRE syntax JavaScript lacks: atomic groups, inline options, comments, branch reset, recursion,
// conditionals, verbs, \A \Z \z \G \Q…\E \K \h \R \X, possessive quantifiers, \p{…} and \g.
const PCRE_ONLY = /\(\?(?:[>|#PR&(+]|[a-zA-Z^-]+[:)])|\(\*|\\[AZzGQEKhHRXCpPg]|[*+?}]\+/;

/**
 * §9.6.1 MATCHES takes a PCRE regular expression. We have no PCRE here, so a regex counts as invalid
 * only when JavaScript cannot compile it and it uses no PCRE-only syntax that would explain that.
 */
function regexMayBeValid(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return PCRE_ONLY.test(source);
  }
}

/** True when the path is known to be only scalars, none of which accept a constant of this type. */
function noneAccepts(types: PropType[], literal: LiteralType): boolean {
  return types.every((t) => isScalar(t) && !COMPARABLE[t].includes(literal));
}

function isHexOfLength(value: string, length: number): boolean {
  if (value.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = value.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function describe(types: PropType[]): string {
  const names = types.map((t) => (typeof t === 'string' ? t : 'list' in t ? 'a list' : 'ref' in t ? 'a reference' : 'an object'));
  return [...new Set(names)].join(' or ');
}

export function pathText(path: ObjectPath, steps = path.steps.length): string {
  if (steps === 0) return path.objectType;
  let out = `${path.objectType}:`;
  for (let i = 0; i < steps; i++) {
    const s = path.steps[i]!;
    if (s.kind === 'index') out += `[${s.index}]`;
    else out += (i === 0 ? '' : '.') + (s.quoted ? `'${s.name}'` : s.name);
  }
  return out;
}

/** Walks a path through the SCO model; undefined when it leaves what the model knows (custom content). */
export function resolvePath(path: ObjectPath, sink: Sink): Resolved | undefined {
  const objectType = path.objectType;
  if (!Object.hasOwn(SCOS, objectType)) {
    if (!TYPE_NAME.test(objectType)) {
      sink.report('STIX_PATTERN_OBJECT_TYPE_INVALID', path.start, `'${objectType}' is not a STIX type name (3–250 characters of a–z, 0–9 and single hyphens, §3.1)`, objectType);
    } else if (NON_SCO_TYPES.has(objectType)) {
      sink.report('STIX_PATTERN_NOT_SCO_TYPE', path.start, `'${objectType}' is not a cyber-observable type; patterns match SCOs in observations (§9.1)`, objectType);
    } else {
      sink.report('STIX_PATTERN_UNKNOWN_OBJECT_TYPE', path.start, `'${objectType}' is not a STIX 2.1 SCO type; fine for a custom object, otherwise a typo`, objectType);
      checkPropertyName(path, 0, sink); // a custom object's top-level properties follow §3.1 too
    }
    return undefined;
  }
  let types: PropType[] = [{ obj: SCOS[objectType]! }];
  let hashAlgorithm: string | undefined;
  let listWarned = false;
  for (let i = 0; i < path.steps.length; i++) {
    const step = path.steps[i]!;
    hashAlgorithm = undefined;
    const next: PropType[] = [];
    if (step.kind === 'index') {
      for (const t of types) {
        if (t === 'any') return undefined;
        if (typeof t === 'object' && 'list' in t) next.push(t.list);
      }
      if (next.length === 0) {
        sink.report('STIX_PATTERN_PATH_INVALID', path.start, `${pathText(path, i)} is ${describe(types)}, not a list, so it takes no [${step.index}] index (§9.7.2)`, pathText(path, i + 1));
        return undefined;
      }
      types = next;
      continue;
    }
    const name = step.name;
    let scalarOnly = true;
    for (let t of types) {
      if (typeof t === 'object' && 'list' in t) {
        if (!listWarned) {
          sink.report('STIX_PATTERN_LIST_WITHOUT_INDEX', path.start, `${pathText(path, i)} is a list: address its items with [n] or [*] (§9.7.2)`, pathText(path, i + 1));
          listWarned = true;
        }
        t = t.list;
      }
      if (t === 'any' || t === 'dictionary') return undefined;
      if (isScalar(t)) continue;
      scalarOnly = false;
      if (t === 'hashes') {
        checkHashAlgorithm(name, path, sink);
        hashAlgorithm = name;
        next.push('string');
      } else if ('ext' in t) {
        if (Object.hasOwn(t.ext, name)) {
          next.push({ obj: t.ext[name]! });
          continue;
        }
        // §7.3 extension-definition ids and 2.0-style x- names are custom extensions.
        if (!name.startsWith('extension-definition--') && !name.startsWith('x-')) {
          sink.report('STIX_PATTERN_UNKNOWN_EXTENSION', path.start, `'${name}' is not a predefined ${objectType} extension nor an extension-definition id`, pathText(path, i + 1));
        } else {
          checkPropertyName(path, i + 1, sink); // §7.3.2, §11.3: extension properties are named like any other
        }
        return undefined;
      } else if ('ref' in t) {
        for (const target of t.ref) {
          if (!Object.hasOwn(SCOS, target)) return undefined;
          const props = SCOS[target]!;
          if (Object.hasOwn(props, name)) next.push(props[name]!);
        }
      } else if ('obj' in t && Object.hasOwn(t.obj, name)) {
        next.push(t.obj[name]!);
      }
    }
    if (next.length === 0) {
      if (!scalarOnly && name !== '' && !PROPERTY_NAME.test(name)) {
        checkPropertyName(path, i, sink);
      } else if (scalarOnly) {
        sink.report('STIX_PATTERN_PATH_INVALID', path.start, `${pathText(path, i)} is ${describe(types)} and has no property '${name}' (§9.7)`, pathText(path, i + 1));
      } else {
        sink.report('STIX_PATTERN_UNKNOWN_PROPERTY', path.start, `'${name}' is not a property of ${pathText(path, i)} (§6); fine for a custom property, otherwise a typo`, pathText(path, i + 1));
      }
      return undefined;
    }
    types = next;
  }
  return hashAlgorithm === undefined ? { types } : { types, hashAlgorithm };
}

/**
 * §3.1: a property name (custom ones included) MUST start with a letter and hold only a–z, 0–9 and "_", 3–250
 * characters; an upper-case name cannot match a STIX object, so it is an error, not an unknown property.
 */
function checkPropertyName(path: ObjectPath, i: number, sink: Sink): void {
  const step = path.steps[i];
  if (step?.kind !== 'property' || step.name === '' || PROPERTY_NAME.test(step.name)) return; // '' is a path error already
  sink.report('STIX_PATTERN_PROPERTY_NAME_INVALID', path.start, `'${step.name.slice(0, 80)}' is no property name: property names MUST start with a letter and hold only a–z, 0–9 and "_", 3–250 characters (§3.1, §9.7)`, pathText(path, i + 1));
}

function checkHashAlgorithm(name: string, path: ObjectPath, sink: Sink): void {
  if (HASH_ALGORITHMS.has(name)) return;
  const squash = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const meant = [...HASH_ALGORITHMS].find((a) => squash(a) === squash(name));
  sink.report('STIX_PATTERN_HASH_ALGORITHM_UNKNOWN', path.start, `'${name}' is not in hash-algorithm-ov${meant ? `; did you mean '${meant}'?` : ''}`, pathText(path));
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpv4(s: string): boolean {
  const m = IPV4.exec(s);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function isIpv6(s: string): boolean {
  const halves = s.split('::');
  if (halves.length > 2) return false;
  let groups = 0;
  for (let h = 0; h < halves.length; h++) {
    if (halves[h] === '') continue;
    const parts = halves[h]!.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      // An embedded IPv4 address may end the address (RFC 4291 §2.2).
      if (h === halves.length - 1 && i === parts.length - 1 && p.includes('.')) {
        if (!isIpv4(p)) return false;
        groups += 2;
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        groups++;
      } else {
        return false;
      }
    }
  }
  return halves.length === 2 ? groups <= 7 : groups === 8;
}

/** 4 or 6 for an address or CIDR block of that family; undefined otherwise. */
export function ipFamily(value: string): 4 | 6 | undefined {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const prefix = slash < 0 ? undefined : value.slice(slash + 1);
  if (prefix !== undefined && !/^(?:0|[1-9]\d{0,2})$/.test(prefix)) return undefined;
  if (isIpv4(address)) return prefix === undefined || Number(prefix) <= 32 ? 4 : undefined;
  if (isIpv6(address)) return prefix === undefined || Number(prefix) <= 128 ? 6 : undefined;
  return undefined;
}
