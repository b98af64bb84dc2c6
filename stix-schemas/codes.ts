// The catalogue of every finding code the pipeline emits (documented in docs/stix-findings.md; a test keeps the two equal).
import type { Severity } from './findings.js';

export interface CodeInfo {
  severity: Severity;
  /** The STIX 2.1 section that states the rule. */
  section: string;
  summary: string;
}

export const FINDING_CODES = {
  STIX_NOT_AN_OBJECT: { severity: 'error', section: '3', summary: 'A STIX object must be a JSON object.' },
  STIX_NULL_VALUE: { severity: 'error', section: '2', summary: 'null is not a STIX value anywhere in an object.' },
  STIX_TOO_DEEP: { severity: 'error', section: '2', summary: 'The object nests deeper than the pipeline accepts (64 levels).' },
  STIX_TYPE_INVALID: { severity: 'error', section: '3.1', summary: 'type is missing or not 3–250 characters of a–z, 0–9 and single hyphens.' },
  STIX_ID_INVALID: { severity: 'error', section: '2.9', summary: 'id is missing or not "<type>--<RFC 4122 UUID>" with the object\'s own type.' },
  STIX_ID_NOT_UUIDV4: { severity: 'warning', section: '2.9', summary: 'SDOs, SROs and meta objects should use a UUIDv4.' },
  STIX_SCO_ID_NOT_DETERMINISTIC: { severity: 'warning', section: '2.9, 3.4', summary: 'An SCO id should be the UUIDv5 of its ID contributing properties and is not.' },
  STIX_SCO_ID_NOT_UUIDV4: { severity: 'error', section: '2.9, 6.13', summary: 'An SCO with no ID contributing property present (always so for process) must use a UUIDv4 id.' },
  STIX_SCO_ID_FILLED: { severity: 'warning', section: '2.9, 3.2', summary: 'An SCO arrived without its required id; normalisation filled in the deterministic id (scoIds "fill"/"recompute"; with "keep" it is STIX_REQUIRED_PROPERTY).' },
  STIX_SPEC_VERSION_INVALID: { severity: 'error', section: '3.2', summary: 'spec_version must be "2.1" (or "2.0", which marks a STIX 2.0 object to upgrade).' },
  STIX_UPGRADED_FROM_20: { severity: 'warning', section: '3.2', summary: 'A STIX 2.0 object (spec_version "2.0", or none on a type that requires it in 2.1) was upgraded to 2.1.' },
  STIX_UPGRADE_UNSUPPORTED: { severity: 'error', section: '3.2', summary: 'A STIX 2.0 object holds content with no well-defined 2.1 form.' },
  STIX_REQUIRED_PROPERTY: { severity: 'error', section: '3.1', summary: 'A property marked required is absent.' },
  STIX_FORBIDDEN_PROPERTY: { severity: 'error', section: '3.2', summary: 'A property the object type does not allow (e.g. defanged on an SDO).' },
  STIX_PROPERTY_TYPE: { severity: 'error', section: '2', summary: 'A property value has the wrong JSON type for its STIX type.' },
  STIX_EMPTY_LIST: { severity: 'error', section: '2.12', summary: 'Lists must not be empty.' },
  STIX_EMPTY_DICTIONARY: { severity: 'error', section: '2.3', summary: 'Dictionaries (and embedded objects) must not be empty.' },
  STIX_VALUE_RANGE: { severity: 'error', section: '2.10', summary: 'A number is outside its allowed range (54-bit integers, confidence 0–100, ports …).' },
  STIX_NUMBER_NOT_EXACT: { severity: 'error', section: '2.6, 2.10', summary: 'A number a double cannot hold exactly (RFC 7493 I-JSON): out of range (±Infinity, or a non-zero value that underflows to 0), or digits a double would change (9007199254740993, long decimals).' },
  STIX_PROPERTY_NAME_INVALID: { severity: 'error', section: '3.1, 11.1', summary: 'A property name is not ^[a-z][a-z0-9_]{2,249}$ (a letter, then a–z, 0–9, "_"; 3–250 characters).' },
  STIX_RESERVED_PROPERTY: { severity: 'error', section: '3.8', summary: 'A reserved property name (action, severity, username, phone_number) is present.' },
  STIX_DICTIONARY_KEY_INVALID: { severity: 'error', section: '2.3, 2.7', summary: 'A dictionary or hashes key has characters or a length the spec forbids.' },
  STIX_CUSTOM_PROPERTY_PREFIX: { severity: 'warning', section: '11.1', summary: 'A custom property name should start with "x_".' },
  STIX_CUSTOM_PROPERTY_SUFFIX: { severity: 'warning', section: '3.1', summary: 'A custom *_ref(s) / *_bin / *_hex property does not hold an identifier / base64 / hex value.' },
  STIX_CUSTOM_OBJECT_PREFIX: { severity: 'warning', section: '11.2', summary: 'A custom object type should start with "x-".' },
  STIX_EXTENSION_INVALID: { severity: 'error', section: '3.2, 7.3, 11.3', summary: 'An extensions entry is malformed: a key that is neither a predefined extension nor an extension-definition id (nor, on an SCO, a "-ext" custom extension name), a missing or wrong extension_type, empty contents.' },
  STIX_EXTENSION_NAME: { severity: 'warning', section: '11.3', summary: 'A custom SCO extension name should start with "x-".' },
  STIX_TIMESTAMP_INVALID: { severity: 'error', section: '2.16', summary: 'Not an RFC 3339 UTC "Z" timestamp of a real calendar instant.' },
  STIX_TIMESTAMP_PRECISION: { severity: 'error', section: '3.2', summary: 'created and modified need at least millisecond precision.' },
  STIX_MODIFIED_BEFORE_CREATED: { severity: 'error', section: '3.6.1', summary: 'modified is earlier than created.' },
  STIX_TIMESTAMP_ORDER: { severity: 'error', section: '4, 5, 6.12', summary: 'An ordered pair of timestamps is reversed (last_seen < first_seen, stop_time <= start_time …).' },
  STIX_REF_INVALID: { severity: 'error', section: '2.9, 3.3', summary: 'A *_ref / *_refs value is not an identifier.' },
  STIX_REF_TARGET_TYPE: { severity: 'error', section: '3.3', summary: 'A reference points at an object type the property does not allow.' },
  STIX_ENUM_VALUE: { severity: 'error', section: '2.4, 10', summary: 'A value outside a closed enumeration.' },
  STIX_VOCAB_VALUE: { severity: 'warning', section: '2.14, 10', summary: 'A value outside a suggested open vocabulary.' },
  STIX_HASH_ALGORITHM: { severity: 'warning', section: '2.7, 10.7', summary: 'A hash algorithm name outside hash-algorithm-ov (or not in its canonical spelling).' },
  STIX_HASH_VALUE: { severity: 'error', section: '2.7', summary: 'A hash value does not have the format of its algorithm.' },
  STIX_HEX_INVALID: { severity: 'error', section: '2.8', summary: 'A hex value is not an even number of lowercase hex digits.' },
  STIX_BINARY_INVALID: { severity: 'error', section: '2.1', summary: 'A binary value is not RFC 4648 base64.' },
  STIX_LANG_INVALID: { severity: 'error', section: '3.2', summary: 'lang is not an RFC 5646 language tag.' },
  STIX_COUNTRY_INVALID: { severity: 'warning', section: '4.10', summary: 'country should be an ISO 3166-1 alpha-2 code.' },
  STIX_MIME_TYPE_UNKNOWN: { severity: 'warning', section: '6.1, 6.7', summary: 'mime_type is not an IANA registered media type.' },
  STIX_CPE_INVALID: { severity: 'error', section: '6.14', summary: 'cpe is not a CPE 2.3 formatted string.' },
  STIX_CHARSET_INVALID: { severity: 'error', section: '6.3, 6.7', summary: 'An *_enc value is not an IANA character set name.' },
  STIX_VALUE_FORMAT: { severity: 'error', section: '5.1.2, 6.1, 6.3, 6.5, 6.8–6.10, 6.15, 6.17', summary: 'A value breaks the format its property defines (domain name, IPv4/IPv6 address, MAC-48, URL, artifact url, email address with a display name, abbreviated registry hive, relationship_type).' },
  STIX_PROPERTY_DEPENDENCY: { severity: 'error', section: '4, 6, 7', summary: 'A property requires another one that is absent (or one of a group must be present).' },
  STIX_PROPERTY_CONFLICT: { severity: 'error', section: '4, 6, 7', summary: 'Properties that must not appear together (or a value they exclude).' },
  STIX_EXTERNAL_REFERENCE: { severity: 'error', section: '2.5.2', summary: 'An external reference needs description, url or external_id besides source_name.' },
  STIX_EXTERNAL_ID_FORMAT: { severity: 'error', section: '4.1, 4.19', summary: 'A capec / cve external reference has a malformed external_id, or a vulnerability gives a CVE id under a source_name other than exactly "cve".' },
  STIX_KILL_CHAIN_NAME_FORMAT: { severity: 'warning', section: '2.11', summary: 'kill_chain_name and phase_name should be lowercase with hyphens.' },
  STIX_GRANULAR_MARKING: { severity: 'error', section: '7.2.3', summary: 'A granular marking needs exactly one of marking_ref and lang.' },
  STIX_GRANULAR_SELECTOR: { severity: 'error', section: '7.2.3', summary: 'A selector does not resolve to content present in the object.' },
  STIX_MARKING_SELF_REFERENCE: { severity: 'error', section: '3.2', summary: 'A marking definition marks itself.' },
  STIX_MARKING_DEFINITION: { severity: 'error', section: '7.2.1', summary: 'A marking definition does not match its definition_type, or is a TLP marking other than the published ones.' },
  STIX_DEPRECATED: { severity: 'warning', section: '2.13, 7.2.1', summary: 'A deprecated construct (observable container, definition_type …).' },
  STIX_DUPLICATE_VERSION: { severity: 'warning', section: '3.6', summary: 'The same (id, modified) version appears twice in one envelope or bundle.' },
  STIX_BUNDLE_INVALID: { severity: 'error', section: '8', summary: 'A bundle that is not {type: "bundle", id, objects: [...]}.' },
  STIX_BUNDLE_SPEC_VERSION: { severity: 'warning', section: '8', summary: 'A bundle carries a spec_version other than "2.0": a STIX 2.1 bundle has none; the property is ignored.' },
} as const satisfies Record<string, CodeInfo>;

export type FindingCode = keyof typeof FINDING_CODES;
