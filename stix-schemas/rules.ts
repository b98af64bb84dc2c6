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
import { SCO_TYPES } from './types.js';
import { type Check, type Rule, checkCustomProperty, checkObjectDef } from './validate.js';
import { ENUMS } from './vocab.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const key = (v: unknown): string | undefined => (typeof v === 'string' ? timestampKey(v) : undefined);

/** §3.2: created and modified carry at least millisecond precision. */
export const timestampPrecision: Rule = ({ obj, report }) => {
  for (const name of ['created', 'modified']) {
    const t = parseStixTimestamp(obj[name]);
    if (t && t.fraction.length < 3) report.add('STIX_TIMESTAMP_PRECISION', `/${name}`, `${name} needs at least millisecond precision (§3.2)`);
  }
};

/** §3.6.1: modified is not earlier than created. */
export const modifiedAfterCreated: Rule = ({ obj, report }) => {
  const created = key(obj.created);
  const modified = key(obj.modified);
  if (created && modified && modified < created) report.add('STIX_MODIFIED_BEFORE_CREATED', '/modified', 'modified must not be earlier than created (§3.6.1)');
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
      report.add('STIX_TIMESTAMP_ORDER', `/${later}`, `${later} must be ${strict ? 'later than' : 'at or after'} ${earlier}`);
    }
  }
};

/** §3.1: an *_enc property is not present without the property it describes. */
export const encodingDependency: Rule = ({ obj, report }) => {
  for (const name in obj) {
    if (name.endsWith('_enc') && !(name.slice(0, -4) in obj)) {
      report.add('STIX_PROPERTY_DEPENDENCY', `/${name}`, `${name} must not be present without ${name.slice(0, -4)} (§3.1)`);
    }
  }
};

const CUSTOM_EXTENSION = /^[a-z0-9-]{3,250}$/;

/** §3.2 extensions, §7.3 extension definitions, §3.10 predefined and §11.3 custom SCO extensions. */
export const extensions: Rule = ({ obj, def, report }) => {
  const exts = obj.extensions;
  if (exts === undefined || exts === null) return;
  if (!isRecord(exts)) return report.add('STIX_PROPERTY_TYPE', '/extensions', 'extensions must be a dictionary');
  const names = Object.keys(exts);
  if (names.length === 0) return report.add('STIX_EMPTY_DICTIONARY', '/extensions', 'extensions must not be empty (§2.3)');
  for (const name of names) {
    const path = child('/extensions', name);
    const ext = exts[name];
    if (!isRecord(ext) || Object.keys(ext).length === 0) {
      report.add('STIX_EXTENSION_INVALID', path, 'an extension must be a non-empty object (§3.2)');
      continue;
    }
    const predefined = def.extensions?.[name];
    if (name.startsWith('extension-definition--')) {
      if (parseIdentifier(name)?.type !== 'extension-definition') report.add('STIX_EXTENSION_INVALID', path, 'not an extension-definition identifier');
      const t = ext.extension_type;
      if (t === undefined) report.add('STIX_EXTENSION_INVALID', child(path, 'extension_type'), 'extension_type is required with an extension definition (§3.2)');
      else if (typeof t !== 'string' || !ENUMS['extension-type-enum'].has(t)) report.add('STIX_ENUM_VALUE', child(path, 'extension_type'), 'extension_type must come from extension-type-enum');
      for (const prop in ext) if (prop !== 'extension_type') checkCustomProperty(prop, ext[prop], child(path, prop), report, false);
    } else if (predefined) {
      checkObjectDef(predefined, ext, path, report);
    } else {
      if (def.kind === 'sco') {
        // §11.3 custom SCO extensions.
        if (!CUSTOM_EXTENSION.test(name) || !name.endsWith('-ext')) {
          report.add('STIX_EXTENSION_INVALID', path, 'a custom extension name is 3–250 of a–z, 0–9 and "-", ending in "-ext" (§11.3)');
        } else if (!name.startsWith('x-')) {
          report.add('STIX_EXTENSION_NAME', path, 'a custom extension name should start with "x-" (§11.3)');
        }
      } else {
        report.add('STIX_EXTENSION_NAME', path, 'extension keys should be extension-definition ids (§3.2)');
      }
      for (const prop in ext) {
        if (!PROPERTY_NAME.test(prop)) report.add('STIX_PROPERTY_NAME_INVALID', child(path, prop), 'property names are 3–250 characters of a–z, 0–9 and "_"');
      }
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
    if (('marking_ref' in gm) === ('lang' in gm)) report.add('STIX_GRANULAR_MARKING', path, 'exactly one of marking_ref and lang must be present (§7.2.3)');
    if (!Array.isArray(gm.selectors)) return;
    gm.selectors.forEach((s, j) => {
      if (typeof s === 'string' && !resolveSelector(obj, s)) {
        report.add('STIX_GRANULAR_SELECTOR', child(child(path, 'selectors'), j), `selector "${s}" does not select content of this object`);
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
    report.add('STIX_MARKING_SELF_REFERENCE', '/object_marking_refs', 'a marking definition must not mark itself');
  }
  if (Array.isArray(obj.granular_markings) && obj.granular_markings.some((g) => isRecord(g) && g.marking_ref === obj.id)) {
    report.add('STIX_MARKING_SELF_REFERENCE', '/granular_markings', 'a marking definition must not mark itself');
  }
};

/** §7.2.1: definition_type/definition or extensions; statement and TLP shapes; only the published TLP objects. */
export const markingDefinition: Rule = ({ obj, type, report }) => {
  if (type !== 'marking-definition') return;
  const id = str(obj.id) ?? '';
  if (!('extensions' in obj)) {
    for (const name of ['definition_type', 'definition']) {
      if (!(name in obj)) report.add('STIX_REQUIRED_PROPERTY', `/${name}`, `${name} is required when extensions is absent (§7.2.1)`);
    }
  }
  const definition = isRecord(obj.definition) ? obj.definition : undefined;
  if (obj.definition_type === 'statement' && definition && (typeof definition.statement !== 'string' || Object.keys(definition).length !== 1)) {
    report.add('STIX_MARKING_DEFINITION', '/definition', 'a statement marking is { "statement": string }');
  }
  const tlp1 = obj.definition_type === 'tlp' ? str(definition?.tlp) : undefined;
  if (obj.definition_type === 'tlp' || TLP1_LEVEL_BY_ID.has(id)) {
    const expected = tlp1 ? TLP1_IDS[tlp1] : undefined;
    if (!expected || expected !== id || obj.created !== TLP1_CREATED || Object.keys(definition ?? {}).length !== 1) {
      report.add('STIX_MARKING_DEFINITION', '', 'TLP 1.0 markings must be the four published marking-definition objects (§7.2.1)');
    }
  } else if ('definition_type' in obj || 'definition' in obj) {
    report.add('STIX_DEPRECATED', '/definition_type', 'definition_type/definition are deprecated; use an extension (§7.2.1)');
  }
  const ext = isRecord(obj.extensions) ? obj.extensions[TLP2_EXTENSION_ID] : undefined;
  if (ext !== undefined || TLP2_LEVEL_BY_ID.has(id)) {
    const level = isRecord(ext) ? str(ext.tlp_2_0) : undefined;
    if (!level || TLP2_IDS[level] !== id || obj.created !== TLP2_CREATED) {
      report.add('STIX_MARKING_DEFINITION', '', 'TLP 2.0 markings must be the published marking-definition objects (TLP 2.0 extension)');
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
        report.add('STIX_KILL_CHAIN_NAME_FORMAT', child(child(child('', 'kill_chain_phases'), i), name), `${name} should be lowercase words joined by "-"`);
      }
    }
  });
};

/** §2.5.2 (one of description/url/external_id), §4.1 CAPEC and §4.19 CVE external ids. */
export const externalReferences: Rule = ({ obj, type, report }) => {
  if (!Array.isArray(obj.external_references)) return;
  obj.external_references.forEach((ref, i) => {
    if (!isRecord(ref)) return;
    const path = child('/external_references', i);
    const id = ref.external_id;
    if (!('description' in ref) && !('url' in ref) && !('external_id' in ref)) {
      report.add('STIX_EXTERNAL_REFERENCE', path, 'besides source_name, one of description, url or external_id must be present (§2.5.2)');
    }
    if (type === 'attack-pattern' && ref.source_name === 'capec' && typeof id === 'string' && !/^CAPEC-\d+$/.test(id)) {
      report.add('STIX_EXTERNAL_ID_FORMAT', child(path, 'external_id'), 'a capec external_id is "CAPEC-<id>" (§4.1)');
    }
    if (type === 'vulnerability' && ref.source_name === 'cve' && typeof id === 'string' && !/^CVE-\d{4}-\d{4,}$/.test(id)) {
      report.add('STIX_EXTERNAL_ID_FORMAT', child(path, 'external_id'), 'a cve external_id is the exact CVE identifier (§4.19)');
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

/** Rules particular to one type. */
const BY_TYPE: Readonly<Record<string, Rule>> = {
  // §4.7, §9: a "stix" pattern goes through the pattern engine; other pattern types are opaque strings.
  indicator: ({ obj, report }) => {
    if (obj.pattern_type === 'stix' && typeof obj.pattern === 'string') {
      for (const f of checkPattern(obj.pattern, '/pattern')) report.findings.push(f);
    }
  },
  location: (c) => {
    needs(c, 'latitude', 'longitude', 'latitude needs longitude (§4.10)');
    needs(c, 'longitude', 'latitude', 'longitude needs latitude (§4.10)');
    needs(c, 'precision', 'latitude', 'precision needs latitude and longitude (§4.10)');
    if (!('region' in c.obj) && !('country' in c.obj) && !('latitude' in c.obj && 'longitude' in c.obj)) {
      c.report.add('STIX_PROPERTY_DEPENDENCY', '', 'a location needs region, country, or latitude and longitude (§4.10)');
    }
  },
  malware: ({ obj, report }) => {
    if (obj.is_family === true && !('name' in obj)) report.add('STIX_REQUIRED_PROPERTY', '/name', 'a malware family must have a name (§4.11)');
  },
  'malware-analysis': ({ obj, report }) => {
    if (!('result' in obj) && !('analysis_sco_refs' in obj)) report.add('STIX_PROPERTY_DEPENDENCY', '', 'one of result or analysis_sco_refs must be present (§4.12)');
  },
  'observed-data': (c) => {
    const { obj, report } = c;
    conflict(c, 'objects', 'object_refs', 'objects and object_refs must not both be present (§4.14)');
    if (!('objects' in obj) && !('object_refs' in obj)) report.add('STIX_PROPERTY_DEPENDENCY', '', 'one of object_refs or objects must be present (§4.14)');
    if ('objects' in obj) report.add('STIX_DEPRECATED', '/objects', 'the observable container is deprecated; use object_refs (§2.13)');
    if (Array.isArray(obj.object_refs) && !obj.object_refs.some((r) => SCO_TYPES.has(parseIdentifier(r)?.type ?? ''))) {
      report.add('STIX_PROPERTY_DEPENDENCY', '/object_refs', 'object_refs must reference at least one SCO (§4.14)');
    }
  },
  relationship: ({ obj, report }) => {
    if (typeof obj.relationship_type === 'string' && !RELATIONSHIP_TYPE.test(obj.relationship_type)) {
      report.add('STIX_VALUE_FORMAT', '/relationship_type', 'relationship_type is ASCII a–z, 0–9 and "-" (§5.1.2)');
    }
  },
  artifact: (c) => {
    conflict(c, 'payload_bin', 'url', 'url must not be present with payload_bin (§6.1)');
    needs(c, 'url', 'hashes', 'hashes are required with url (§6.1)');
    needs(c, 'decryption_key', 'encryption_algorithm', 'decryption_key needs encryption_algorithm (§6.1)');
  },
  'email-message': ({ obj, report }) => {
    if (obj.is_multipart === true && 'body' in obj) report.add('STIX_PROPERTY_CONFLICT', '/body', 'body must not be used when is_multipart is true (§6.6)');
    if (obj.is_multipart === false && 'body_multipart' in obj) report.add('STIX_PROPERTY_CONFLICT', '/body_multipart', 'body_multipart must not be used when is_multipart is false (§6.6)');
  },
  'network-traffic': ({ obj, report }) => {
    if (obj.is_active === true && 'end' in obj) report.add('STIX_PROPERTY_CONFLICT', '/end', 'end must not be present when is_active is true (§6.12)');
  },
  'ipv4-addr': addressFormat(4),
  'ipv6-addr': addressFormat(6),
  'mac-addr': ({ obj, report }) => {
    if (typeof obj.value === 'string' && !MAC48.test(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'a colon-delimited lowercase MAC-48 address with leading zeros (§6.10)');
  },
  'domain-name': ({ obj, report }) => {
    if (typeof obj.value === 'string' && !isDomainName(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'not an RFC 1034 domain name with RFC 5890 labels (§6.3)');
  },
  url: ({ obj, report }) => {
    if (typeof obj.value === 'string' && !isUrl(obj.value)) report.add('STIX_VALUE_FORMAT', '/value', 'not an RFC 3986 URL (§6.15)');
  },
  'language-content': ({ obj, report }) => {
    if (!isRecord(obj.contents)) return;
    for (const tag in obj.contents) {
      if (!isLanguageTag(tag)) report.add('STIX_LANG_INVALID', child('/contents', tag), `"${tag}" is not an RFC 5646 language tag (§7.1)`);
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
      report.add('STIX_VALUE_FORMAT', '/value', `not an IPv${version} address or CIDR block (§6.${version === 4 ? 8 : 9})`);
    }
  };
}

export const typeRules: Rule = (c) => BY_TYPE[c.type]?.(c);

/** §2.9: an SCO's id should be the UUIDv5 of its ID contributing properties. */
export const scoDeterministicId: Rule = ({ obj, def, report }) => {
  if (def.kind !== 'sco' || typeof obj.id !== 'string') return;
  const id = parseIdentifier(obj.id);
  if (!id) return;
  const expected = deterministicScoUuid(obj);
  if (expected ? id.uuid.toLowerCase() !== expected : id.uuidVersion === 5 && SCO_TYPES.has(id.type)) {
    report.add('STIX_SCO_ID_NOT_DETERMINISTIC', '/id', expected
      ? `expected ${obj.type as string}--${expected} from the ID contributing properties (§2.9)`
      : 'with no ID contributing property present the id should be a UUIDv4 (§2.9)');
  }
};

/** Every rule, in the order it runs. */
export const RULES: readonly Rule[] = [
  timestampPrecision, modifiedAfterCreated, timestampOrder, encodingDependency, extensions, granularMarkings,
  markingSelfReference, markingDefinition, killChainFormat, externalReferences, typeRules, scoDeterministicId,
];
