// Named MUST/SHOULD rules over whole objects (STIX 2.1 §3–§7). Each is a small function of one validation.
import { isIP } from 'node:net';
import { PROPERTY_NAME, isDomainName, isLanguageTag, isUrl, parseIdentifier } from './formats.js';
import {
  TLP1_CREATED, TLP1_IDS, TLP1_LEVEL_BY_ID, TLP2_CREATED, TLP2_EXTENSION_ID, TLP2_IDS, TLP2_LEVEL_BY_ID,
} from './markings.js';
import { checkPattern } from './pattern/index.js';
import { child } from './pointer.js';
import { deterministicScoUuid } from './sco-id.js';
import { parseStixTimestamp, timestampKey } from './timestamp.js';
import { isRecord } from './types-common.js';
import { SCO_TYPES, isScoOrCustom } from './types.js';
import { type Check, type Rule, checkCustomProperty, checkObjectDef } from './validate.js';
import { ENUMS } from './vocab.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const key = (v: unknown): string | undefined => (typeof v === 'string' ? timestampKey(v) : undefined);

/** §3.2: created and modified carry at least millisecond precision. */
export const timestampPrecision: Rule = ({ obj, report }) => {
  for (const name of ['created', 'modified']) {
    const t = parseStixTimestamp(obj[name]);
    if (t && t.fraction.length < 3) report.add('STIX_TIMESTAMP_PRECISION', `/${name}`, `${name} MUST have at least millisecond precision (§3.2)`, obj[name]);
  }
};

/** §3.6.1: modified is not earlier than created. */
export const modifiedAfterCreated: Rule = ({ obj, report }) => {
  const created = key(obj.created);
  const modified = key(obj.modified);
  if (created && modified && modified < created) report.add('STIX_MODIFIED_BEFORE_CREATED', '/modified', `modified MUST NOT be earlier than created (${String(obj.created)}) (§3.2, §3.6.1)`, obj.modified);
};

// [types, earlier, later, strictly later?]
const ORDERED: ReadonlyArray<[readonly string[], string, string, boolean]> = [
  [['campaign', 'infrastructure', 'intrusion-set', 'malware', 'threat-actor', 'sighting'], 'first_seen', 'last_seen', false],
  [['indicator'], 'valid_from', 'valid_until', true],
  [['observed-data'], 'first_observed', 'last_observed', false],
  [['relationship'], 'start_time', 'stop_time', true],
  [['network-traffic'], 'start', 'end', false],
];

/** §4.2, §4.7, §4.14, §5.1.2, §5.2.1, §6.12: ordered timestamp pairs. */
export const timestampOrder: Rule = ({ obj, type, report }) => {
  for (const [types, earlier, later, strict] of ORDERED) {
    if (!types.includes(type)) continue;
    const a = key(obj[earlier]);
    const b = key(obj[later]);
    if (a && b && (strict ? b <= a : b < a)) {
      report.add('STIX_TIMESTAMP_ORDER', `/${later}`, `${later} MUST be ${strict ? 'later than' : 'at or after'} ${earlier} (${String(obj[earlier])})`, obj[later]);
    }
  }
};

/** §3.1: an *_enc property is not present without the property it describes. */
export const encodingDependency: Rule = ({ obj, report }) => {
  for (const name in obj) {
    if (name.endsWith('_enc') && !(name.slice(0, -4) in obj)) {
      report.add('STIX_PROPERTY_DEPENDENCY', `/${name}`, `${name} MUST NOT be present without ${name.slice(0, -4)} (§3.1)`);
    }
  }
};

const CUSTOM_EXTENSION = /^[a-z0-9-]{3,250}$/;

/** §3.2 extensions, §7.3 extension definitions, §3.10 predefined and §11.3 custom SCO extensions. */
export const extensions: Rule = ({ obj, type, def, report }) => {
  const exts = obj.extensions;
  if (exts === undefined || exts === null) return;
  if (!isRecord(exts)) return report.add('STIX_PROPERTY_TYPE', '/extensions', 'extensions MUST be a dictionary (§3.2)', exts);
  const names = Object.keys(exts);
  if (names.length === 0) return report.add('STIX_EMPTY_DICTIONARY', '/extensions', 'extensions MUST NOT be empty (§2.3)');
  for (const name of names) {
    const path = child('/extensions', name);
    const ext = exts[name];
    if (!isRecord(ext) || Object.keys(ext).length === 0) {
      report.add('STIX_EXTENSION_INVALID', path, 'an extension MUST be a non-empty object (§3.2)', ext);
      continue;
    }
    const predefined = def.extensions?.[name];
    if (name.startsWith('extension-definition--')) {
      if (parseIdentifier(name)?.type !== 'extension-definition') {
        report.add('STIX_EXTENSION_INVALID', path, 'an extension-definition key MUST be "extension-definition--<RFC 4122 UUID>" (§3.2, §7.3)', name);
      }
      const t = ext.extension_type;
      if (t === undefined) {
        report.add('STIX_EXTENSION_INVALID', child(path, 'extension_type'), 'extension_type MUST be present when the extension facility of §7.3 is used (§3.2)');
      } else if (typeof t !== 'string' || !ENUMS['extension-type-enum'].has(t)) {
        report.add('STIX_ENUM_VALUE', child(path, 'extension_type'), 'extension_type MUST come from extension-type-enum (§3.2, §10.5)', t);
      }
      for (const prop in ext) if (prop !== 'extension_type') checkCustomProperty(prop, ext[prop], child(path, prop), report, false);
    } else if (predefined) {
      checkObjectDef(predefined, ext, path, report);
    } else if (def.kind === 'sco' && CUSTOM_EXTENSION.test(name) && name.endsWith('-ext')) {
      // §11.3 (deprecated, still valid): custom SCO extensions.
      if (!name.startsWith('x-')) report.add('STIX_EXTENSION_NAME', path, 'a custom extension name SHOULD start with "x-" (§11.3)', name);
      for (const prop in ext) checkCustomProperty(prop, ext[prop], child(path, prop), report, false);
    } else {
      // §3.2 / §7.3: the key names an extension definition or a predefined extension; §11.3 custom names are for SCOs.
      report.add('STIX_EXTENSION_INVALID', path, def.kind === 'sco'
        ? `an extension key MUST be an extension-definition id, a predefined extension of a ${type}, or a custom name of a–z, 0–9 and "-" ending in "-ext" (§3.2, §7.3, §11.3)`
        : `an extension key MUST be an extension-definition id${def.extensions ? ' or a predefined extension' : ''}; custom "-ext" extensions are for SCOs only (§3.2, §7.3, §11.3)`, name);
    }
  }
};

/** §7.2.3: each selector resolves inside the object; exactly one of marking_ref and lang. */
export const granularMarkings: Rule = ({ obj, report }) => {
  const list = obj.granular_markings;
  if (!Array.isArray(list)) return;
  list.forEach((gm, i) => {
    if (!isRecord(gm)) return;
    const path = child('/granular_markings', i);
    if (('marking_ref' in gm) === ('lang' in gm)) {
      report.add('STIX_GRANULAR_MARKING', child(path, 'marking_ref' in gm ? 'lang' : 'marking_ref'), 'exactly one of marking_ref and lang MUST be present (§7.2.3)');
    }
    if (!Array.isArray(gm.selectors)) return;
    gm.selectors.forEach((s, j) => {
      if (typeof s === 'string' && !resolveSelector(obj, s)) {
        report.add('STIX_GRANULAR_SELECTOR', child(child(path, 'selectors'), j), 'a selector MUST select content present in this object (§7.2.3)', s);
      }
    });
  });
};

/** Walks "a.[0].b" through the object; true when every component exists. */
export function resolveSelector(obj: Record<string, unknown>, selector: string): boolean {
  let at: unknown = obj;
  for (const part of selector.split('.')) {
    const index = /^\[(\d+)\]$/.exec(part);
    if (index) {
      if (!Array.isArray(at) || Number(index[1]) >= at.length) return false;
      at = at[Number(index[1])];
    } else {
      if (!isRecord(at) || part === '' || !Object.prototype.hasOwnProperty.call(at, part)) return false;
      at = at[part];
    }
  }
  return true;
}

/** §3.2 object_marking_refs / granular_markings: a marking definition does not mark itself. */
export const markingSelfReference: Rule = ({ obj, type, report }) => {
  if (type !== 'marking-definition' || typeof obj.id !== 'string') return;
  if (Array.isArray(obj.object_marking_refs) && obj.object_marking_refs.includes(obj.id)) {
    report.add('STIX_MARKING_SELF_REFERENCE', '/object_marking_refs', 'a marking definition MUST NOT mark itself (§3.2)', obj.id);
  }
  if (Array.isArray(obj.granular_markings) && obj.granular_markings.some((g) => isRecord(g) && g.marking_ref === obj.id)) {
    report.add('STIX_MARKING_SELF_REFERENCE', '/granular_markings', 'a marking definition MUST NOT mark itself (§3.2)', obj.id);
  }
};

/**
 * §7.2.1: definition_type/definition or extensions; the statement shape. A marking is a TLP marking only when it
 * says so — definition_type "tlp", the TLP 2.0 extension, or a published TLP id — and then it MUST be the
 * published object; a name such as "TLP:AMBER" on a statement or other extension marking makes it no TLP marking.
 */
export const markingDefinition: Rule = ({ obj, type, report }) => {
  if (type !== 'marking-definition') return;
  const id = str(obj.id) ?? '';
  if (!('extensions' in obj)) {
    for (const name of ['definition_type', 'definition']) {
      if (!(name in obj)) report.add('STIX_REQUIRED_PROPERTY', `/${name}`, `${name} MUST be present when extensions is absent (§7.2.1)`);
    }
  }
  const definition = isRecord(obj.definition) ? obj.definition : undefined;
  if (obj.definition_type === 'statement' && definition && (typeof definition.statement !== 'string' || Object.keys(definition).length !== 1)) {
    report.add('STIX_MARKING_DEFINITION', '/definition', 'a statement marking definition MUST be { "statement": <string> } (§7.2.1)', definition);
  }
  const created = key(obj.created);
  const tlp1 = obj.definition_type === 'tlp' ? str(definition?.tlp) : undefined;
  if (obj.definition_type === 'tlp' || TLP1_LEVEL_BY_ID.has(id)) {
    const expected = tlp1 ? TLP1_IDS[tlp1] : undefined;
    if (!expected || expected !== id || created !== key(TLP1_CREATED) || Object.keys(definition ?? {}).length !== 1) {
      report.add('STIX_MARKING_DEFINITION', '/id', `a TLP 1.0 marking MUST be one of the four published marking-definition objects${expected ? ` (tlp "${tlp1}" is ${expected}, created ${TLP1_CREATED})` : ''} (§7.2.1)`, id);
    }
  } else if ('definition_type' in obj || 'definition' in obj) {
    report.add('STIX_DEPRECATED', '/definition_type', 'definition_type/definition are deprecated: new marking definitions SHOULD use the extension facility (§7.2.1, §7.3)');
  }
  const ext = isRecord(obj.extensions) ? obj.extensions[TLP2_EXTENSION_ID] : undefined;
  if (ext !== undefined || TLP2_LEVEL_BY_ID.has(id)) {
    const level = isRecord(ext) ? str(ext.tlp_2_0) : undefined;
    const expected = level ? TLP2_IDS[level] : undefined;
    if (!expected || expected !== id || created !== key(TLP2_CREATED)) {
      report.add('STIX_MARKING_DEFINITION', '/id', `a TLP 2.0 marking MUST be one of the published marking-definition objects of the TLP 2.0 extension${expected ? ` (tlp_2_0 "${level}" is ${expected}, created ${TLP2_CREATED})` : ''} (§7.2.1)`, id);
    }
  }
};

const KILL_CHAIN_WORD = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** §2.11: kill chain and phase names should be lowercase, hyphen-separated. */
export const killChainFormat: Rule = ({ obj, report }) => {
  if (!Array.isArray(obj.kill_chain_phases)) return;
  obj.kill_chain_phases.forEach((kcp, i) => {
    if (!isRecord(kcp)) return;
    for (const name of ['kill_chain_name', 'phase_name']) {
      const v = kcp[name];
      if (typeof v === 'string' && !KILL_CHAIN_WORD.test(v)) {
        report.add('STIX_KILL_CHAIN_NAME_FORMAT', child(child(child('', 'kill_chain_phases'), i), name), `${name} SHOULD be lowercase words joined by "-" (§2.11)`, v);
      }
    }
  });
};

const CAPEC_ID = /^CAPEC-\d+$/;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/**
 * §2.5.2 (one of description/url/external_id); §4.1 CAPEC and §4.19 CVE ids: on an attack-pattern / vulnerability,
 * a CAPEC / CVE id MUST be given with source_name exactly "capec" / "cve" and external_id in its exact form.
 */
export const externalReferences: Rule = ({ obj, type, report }) => {
  if (!Array.isArray(obj.external_references)) return;
  const scheme = type === 'attack-pattern' ? { source: 'capec', id: CAPEC_ID, form: '"CAPEC-<id>"', section: '§4.1' }
    : type === 'vulnerability' ? { source: 'cve', id: CVE_ID, form: 'the exact CVE identifier "CVE-YYYY-NNNN…"', section: '§4.19' }
      : undefined;
  obj.external_references.forEach((ref, i) => {
    if (!isRecord(ref)) return;
    const path = child('/external_references', i);
    const id = ref.external_id;
    if (!('description' in ref) && !('url' in ref) && !('external_id' in ref)) {
      report.add('STIX_EXTERNAL_REFERENCE', child(path, 'source_name'), 'besides source_name, one of description, url or external_id MUST be present (§2.5.2)', ref.source_name);
    }
    if (!scheme || typeof ref.source_name !== 'string') return;
    const source = ref.source_name;
    if (source === scheme.source) {
      if (typeof id === 'string' && !scheme.id.test(id)) {
        report.add('STIX_EXTERNAL_ID_FORMAT', child(path, 'external_id'), `a ${scheme.source} external_id MUST be ${scheme.form} (${scheme.section})`, id);
      }
    } else if (source.trim().toLowerCase() === scheme.source || (typeof id === 'string' && scheme.id.test(id.trim().toUpperCase()))) {
      report.add('STIX_EXTERNAL_ID_FORMAT', child(path, 'source_name'), `a ${scheme.source.toUpperCase()} id MUST be given with source_name exactly "${scheme.source}" (${scheme.section})`, source);
    }
  });
};

const conflict = (c: Check, a: string, b: string, why: string): void => {
  if (a in c.obj && b in c.obj) c.report.add('STIX_PROPERTY_CONFLICT', `/${b}`, why);
};
const needs = (c: Check, a: string, b: string, why: string): void => {
  if (a in c.obj && !(b in c.obj)) c.report.add('STIX_PROPERTY_DEPENDENCY', `/${a}`, why);
};

const MAC48 = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const RELATIONSHIP_TYPE = /^[a-z0-9-]+$/;

/** §6.17: the abbreviated hive names and the full names they stand for. */
const HIVES: Readonly<Record<string, string>> = {
  HKLM: 'HKEY_LOCAL_MACHINE', HKCU: 'HKEY_CURRENT_USER', HKCR: 'HKEY_CLASSES_ROOT', HKU: 'HKEY_USERS',
  HKCC: 'HKEY_CURRENT_CONFIG', HKPD: 'HKEY_PERFORMANCE_DATA', HKDD: 'HKEY_DYN_DATA',
};

/**
 * §6.5: an email-addr value is an RFC 5322 addr-spec and MUST NOT include the display name. A display name shows
 * as an angle-bracketed address ("Jane <jane@example.com>") or as white space outside a quoted local part.
 */
function hasDisplayName(value: string): boolean {
  if (value.includes('<') || value.includes('>')) return true;
  const unquoted = value.startsWith('"') ? value.slice(value.indexOf('"', 1) + 1) : value;
  return /\s/.test(unquoted);
}

/** Rules particular to one type. */
const BY_TYPE: Readonly<Record<string, Rule>> = {
  // §4.7, §9: a "stix" pattern goes through the pattern engine; other pattern types are opaque strings.
  indicator: ({ obj, report }) => {
    if (obj.pattern_type === 'stix' && typeof obj.pattern === 'string') {
      for (const f of checkPattern(obj.pattern, '/pattern')) report.findings.push(f);
    }
  },
  location: (c) => {
    needs(c, 'latitude', 'longitude', 'latitude MUST NOT be present without longitude (§4.10)');
    needs(c, 'longitude', 'latitude', 'longitude MUST NOT be present without latitude (§4.10)');
    needs(c, 'precision', 'latitude', 'precision MUST NOT be present without latitude and longitude (§4.10)');
    if (!('region' in c.obj) && !('country' in c.obj) && !('latitude' in c.obj && 'longitude' in c.obj)) {
      c.report.add('STIX_PROPERTY_DEPENDENCY', '/region', 'a location MUST have region, country, or latitude and longitude (§4.10)');
    }
  },
  malware: ({ obj, report }) => {
    if (obj.is_family === true && !('name' in obj)) report.add('STIX_REQUIRED_PROPERTY', '/name', 'a malware family (is_family true) MUST have a name (§4.11)');
  },
  'malware-analysis': ({ obj, report }) => {
    if (!('result' in obj) && !('analysis_sco_refs' in obj)) report.add('STIX_PROPERTY_DEPENDENCY', '/result', 'one of result or analysis_sco_refs MUST be present (§4.12)');
  },
  'observed-data': (c) => {
    const { obj, report } = c;
    conflict(c, 'objects', 'object_refs', 'objects and object_refs MUST NOT both be present (§4.14)');
    if (!('objects' in obj) && !('object_refs' in obj)) report.add('STIX_PROPERTY_DEPENDENCY', '/object_refs', 'one of object_refs or objects MUST be present (§4.14)');
    if ('objects' in obj) report.add('STIX_DEPRECATED', '/objects', 'the observable container is deprecated; use object_refs (§2.13, §4.14)');
    // §4.14: at least one SCO; a custom object type may be an SCO (§11.2, §7.3 new-sco), so it counts.
    if (Array.isArray(obj.object_refs) && !obj.object_refs.some((r) => isScoOrCustom(parseIdentifier(r)?.type ?? 'bundle'))) {
      report.add('STIX_PROPERTY_DEPENDENCY', '/object_refs', 'object_refs MUST contain at least one SCO reference (§4.14)');
    }
  },
  relationship: ({ obj, report }) => {
    if (typeof obj.relationship_type === 'string' && !RELATIONSHIP_TYPE.test(obj.relationship_type)) {
      report.add('STIX_VALUE_FORMAT', '/relationship_type', 'relationship_type MUST be ASCII a–z, 0–9 and "-" (§5.1.2)', obj.relationship_type);
    }
  },
  artifact: (c) => {
    conflict(c, 'payload_bin', 'url', 'url MUST NOT be present with payload_bin (§6.1)');
    needs(c, 'url', 'hashes', 'hashes MUST be present when url is (§6.1)');
    needs(c, 'decryption_key', 'encryption_algorithm', 'decryption_key MUST NOT be present without encryption_algorithm (§6.1)');
    if (typeof c.obj.url === 'string' && !isUrl(c.obj.url)) c.report.add('STIX_VALUE_FORMAT', '/url', 'url MUST be a valid URL (RFC 3986) (§6.1)', c.obj.url);
  },
  'email-addr': ({ obj, report }) => {
    if (typeof obj.value === 'string' && hasDisplayName(obj.value)) {
      report.add('STIX_VALUE_FORMAT', '/value', 'value is an addr-spec and MUST NOT include the display name; put it in display_name (§6.5)', obj.value);
    }
  },
  'email-message': ({ obj, report }) => {
    if (obj.is_multipart === true && 'body' in obj) report.add('STIX_PROPERTY_CONFLICT', '/body', 'body MUST NOT be used when is_multipart is true (§6.6)');
    if (obj.is_multipart === false && 'body_multipart' in obj) report.add('STIX_PROPERTY_CONFLICT', '/body_multipart', 'body_multipart MUST NOT be used when is_multipart is false (§6.6)');
  },
  'network-traffic': ({ obj, report }) => {
    if (obj.is_active === true && 'end' in obj) report.add('STIX_PROPERTY_CONFLICT', '/end', 'end MUST NOT be present when is_active is true (§6.12)');
  },
  'ipv4-addr': addressFormat(4),
  'ipv6-addr': addressFormat(6),
  'mac-addr': ({ obj, report }) => {
    if (typeof obj.value === 'string' && !MAC48.test(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'MUST be a colon-delimited lowercase MAC-48 address with leading zeros (§6.10)', obj.value);
  },
  'domain-name': ({ obj, report }) => {
    if (typeof obj.value === 'string' && !isDomainName(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'MUST be an RFC 1034 domain name with RFC 5890 labels (§6.3)', obj.value);
  },
  url: ({ obj, report }) => {
    if (typeof obj.value === 'string' && !isUrl(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'MUST be an RFC 3986 URL (§6.15)', obj.value);
  },
  'windows-registry-key': ({ obj, report }) => {
    if (typeof obj.key !== 'string') return;
    const hive = obj.key.split('\\', 1)[0]!.toUpperCase();
    const full = HIVES[hive];
    if (full) report.add('STIX_VALUE_FORMAT', '/key', `the hive MUST be fully expanded: ${full}, not ${hive} (§6.17)`, obj.key);
  },
  'language-content': ({ obj, report }) => {
    if (!isRecord(obj.contents)) return;
    for (const tag in obj.contents) {
      if (!isLanguageTag(tag)) report.add('STIX_LANG_INVALID', child('/contents', tag), 'contents keys MUST be RFC 5646 language tags (§7.1)', tag);
    }
  },
  'extension-definition': ({ obj, report }) => {
    const types = Array.isArray(obj.extension_types) ? obj.extension_types : [];
    if ('extension_properties' in obj && !types.includes('toplevel-property-extension')) {
      report.add('STIX_PROPERTY_DEPENDENCY', '/extension_properties', 'extension_properties MUST only be used when extension_types includes "toplevel-property-extension" (§7.3.1)');
    }
    if (Array.isArray(obj.extension_properties)) {
      obj.extension_properties.forEach((name, i) => {
        if (typeof name === 'string' && !PROPERTY_NAME.test(name)) {
          report.add('STIX_PROPERTY_NAME_INVALID', child('/extension_properties', i), 'extension property names MUST start with a letter and hold only a–z, 0–9 and "_", 3–250 characters (§3.1, §7.3.2)', name);
        }
      });
    }
  },
};

function addressFormat(version: 4 | 6): Rule {
  return ({ obj, report }) => {
    if (typeof obj.value !== 'string') return;
    const [address, prefix, extra] = obj.value.split('/');
    const max = version === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
    if (isIP(address ?? '') !== version || !prefixOk || extra !== undefined) {
      report.add('STIX_VALUE_FORMAT', '/value', `MUST be an IPv${version} address or CIDR block (§6.${version === 4 ? 8 : 9})`, obj.value);
    }
  };
}

export const typeRules: Rule = (c) => BY_TYPE[c.type]?.(c);

/**
 * §2.9: an SCO's id SHOULD be the UUIDv5 of its ID contributing properties; when none is present (a process has
 * none at all, §6.13) it MUST be a UUIDv4.
 */
export const scoDeterministicId: Rule = ({ obj, type, def, report }) => {
  if (def.kind !== 'sco' || !SCO_TYPES.has(type)) return;
  const id = parseIdentifier(obj.id);
  if (!id || id.type !== type) return;
  const expected = deterministicScoUuid(obj);
  if (expected === undefined) {
    if (id.uuidVersion !== 4) {
      const why = def.idContributing?.length ? 'none of its ID contributing properties is present' : `a ${type} has no ID contributing properties`;
      report.add('STIX_SCO_ID_NOT_UUIDV4', '/id', `${why}, so its id MUST use a UUIDv4; this is a UUIDv${id.uuidVersion} (§2.9${type === 'process' ? ', §6.13' : ''})`, obj.id);
    }
  } else if (id.uuid.toLowerCase() !== expected) {
    report.add('STIX_SCO_ID_NOT_DETERMINISTIC', '/id', `SHOULD be ${type}--${expected}, the UUIDv5 of its ID contributing properties (${(def.idContributing ?? []).join(', ')}) (§2.9, §3.4)`, obj.id);
  }
};

/** Every rule, in the order it runs. */
export const RULES: readonly Rule[] = [
  timestampPrecision, modifiedAfterCreated, timestampOrder, encodingDependency, extensions, granularMarkings,
  markingSelfReference, markingDefinition, killChainFormat, externalReferences, typeRules, scoDeterministicId,
];
