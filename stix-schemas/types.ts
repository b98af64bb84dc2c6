// The STIX 2.1 object types (§4 SDOs, §5 SROs, §6 SCOs, §7 meta objects) as property tables.
import {
  type ObjectDef, type Prop, any, binary, boolean, charset, country, cpe, dict, enumOf, float, hashes, hex, integer,
  integerOrString, lang, list, mime, nonNegative, object, ov, ref, refTo, refs, string, timestamp,
} from './props.js';

export type Kind = 'sdo' | 'sro' | 'sco' | 'language-content' | 'marking-definition' | 'extension-definition';

export interface TypeDef {
  kind: Kind;
  /** Type-specific properties, in the specification's order (also the normalised order). */
  props: Readonly<Record<string, Prop>>;
  required: readonly string[];
  /** At least one of these must be present. */
  oneOf?: readonly string[];
  /** Predefined extensions (§3.10) by name. */
  extensions?: Readonly<Record<string, ObjectDef>>;
  /** §3.4 ID contributing properties of an SCO. */
  idContributing?: readonly string[];
}

export const SDO_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator', 'infrastructure',
  'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data', 'opinion', 'report',
  'threat-actor', 'tool', 'vulnerability',
]);
export const SRO_TYPES: ReadonlySet<string> = new Set(['relationship', 'sighting']);
export const SCO_TYPES: ReadonlySet<string> = new Set([
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file', 'ipv4-addr',
  'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url', 'user-account',
  'windows-registry-key', 'x509-certificate',
]);
export const META_TYPES: ReadonlySet<string> = new Set(['language-content', 'marking-definition', 'extension-definition']);
/** Types a reference may not point at when it must name "an SDO or SCO" (§5.1.2). */
const NOT_CORE: ReadonlySet<string> = new Set([...SRO_TYPES, ...META_TYPES, 'bundle']);

/** An SDO, or a custom type (which may be one; §11.2). */
export const isSdoOrCustom = (t: string): boolean => SDO_TYPES.has(t) || !(SRO_TYPES.has(t) || SCO_TYPES.has(t) || NOT_CORE.has(t));
/** §5.1.2: relationship endpoints: SDOs, SCOs or custom objects — never SROs, bundles or meta objects. */
export const isCoreOrCustom = (t: string): boolean => !NOT_CORE.has(t);
export const isScoOrCustom = (t: string): boolean => SCO_TYPES.has(t) || isSdoOrCustom(t) && !SDO_TYPES.has(t);
/** §4.14 observed-data object_refs: SCOs and their SROs; custom types are allowed when well formed (SDOs are tolerated). */
export const isObservedRef = (t: string): boolean => isCoreOrCustom(t) || SRO_TYPES.has(t);
const CORE_OR_CUSTOM = 'an SDO, an SCO or a custom object type';

const killChainPhase: ObjectDef = { props: { kill_chain_name: string, phase_name: string }, required: ['kill_chain_name', 'phase_name'] };
export const killChainPhases = list(object(killChainPhase));
export const externalReference: ObjectDef = {
  props: { source_name: string, description: string, url: string, hashes, external_id: string },
  required: ['source_name'],
};
export const granularMarking: ObjectDef = {
  props: { lang, marking_ref: ref('marking-definition'), selectors: list(string) },
  required: ['selectors'],
};

const seen = { first_seen: timestamp, last_seen: timestamp };
const stringList = list(string);

function sdo(props: Record<string, Prop>, required: string[] = ['name']): TypeDef {
  return { kind: 'sdo', props, required };
}
function sco(props: Record<string, Prop>, required: string[], idContributing: string[], extra: Partial<TypeDef> = {}): TypeDef {
  return { kind: 'sco', props, required, idContributing, ...extra };
}

// §6.7.2–6.7.6 file extensions.
const fileExtensions: Record<string, ObjectDef> = {
  'archive-ext': { props: { contains_refs: refs('file', 'directory'), comment: string }, required: ['contains_refs'] },
  'ntfs-ext': {
    props: { sid: string, alternate_data_streams: list(object({ props: { name: string, hashes, size: nonNegative }, required: ['name'] })) },
    oneOf: ['sid', 'alternate_data_streams'],
  },
  'pdf-ext': {
    props: { version: string, is_optimized: boolean, document_info_dict: dict(string), pdfid0: string, pdfid1: string },
    oneOf: ['version', 'is_optimized', 'document_info_dict', 'pdfid0', 'pdfid1'],
  },
  'raster-image-ext': {
    props: { image_height: integer(), image_width: integer(), bits_per_pixel: integer(), exif_tags: dict(integerOrString) },
    oneOf: ['image_height', 'image_width', 'bits_per_pixel', 'exif_tags'],
  },
  'windows-pebinary-ext': {
    props: {
      pe_type: ov('windows-pebinary-type-ov'), imphash: string, machine_hex: hex, number_of_sections: nonNegative,
      time_date_stamp: timestamp, pointer_to_symbol_table_hex: hex, number_of_symbols: nonNegative,
      size_of_optional_header: nonNegative, characteristics_hex: hex, file_header_hashes: hashes,
      optional_header: object({
        props: {
          magic_hex: hex, major_linker_version: integer(), minor_linker_version: integer(), size_of_code: nonNegative,
          size_of_initialized_data: nonNegative, size_of_uninitialized_data: nonNegative, address_of_entry_point: integer(),
          base_of_code: integer(), base_of_data: integer(), image_base: integer(), section_alignment: integer(),
          file_alignment: integer(), major_os_version: integer(), minor_os_version: integer(),
          major_image_version: integer(), minor_image_version: integer(), major_subsystem_version: integer(),
          minor_subsystem_version: integer(), win32_version_value_hex: hex, size_of_image: nonNegative,
          size_of_headers: nonNegative, checksum_hex: hex, subsystem_hex: hex, dll_characteristics_hex: hex,
          size_of_stack_reserve: nonNegative, size_of_stack_commit: nonNegative, size_of_heap_reserve: nonNegative,
          size_of_heap_commit: nonNegative, loader_flags_hex: hex, number_of_rva_and_sizes: integer(), hashes,
        },
      }),
      sections: list(object({ props: { name: string, size: nonNegative, entropy: float(), hashes }, required: ['name'] })),
    },
    required: ['pe_type'],
  },
};

// §6.12.2–6.12.5 network-traffic extensions.
const networkTrafficExtensions: Record<string, ObjectDef> = {
  'http-request-ext': {
    props: {
      request_method: string, request_value: string, request_version: string, request_header: dict(stringList),
      message_body_length: nonNegative, message_body_data_ref: ref('artifact'),
    },
    required: ['request_method', 'request_value'],
  },
  'icmp-ext': { props: { icmp_type_hex: hex, icmp_code_hex: hex }, required: ['icmp_type_hex', 'icmp_code_hex'] },
  'socket-ext': {
    props: {
      address_family: enumOf('network-socket-address-family-enum'), is_blocking: boolean, is_listening: boolean,
      options: dict(integer()), socket_type: enumOf('network-socket-type-enum'), socket_descriptor: nonNegative,
      socket_handle: integer(),
    },
    required: ['address_family'],
  },
  'tcp-ext': { props: { src_flags_hex: hex, dst_flags_hex: hex }, oneOf: ['src_flags_hex', 'dst_flags_hex'] },
};

const processExtensions: Record<string, ObjectDef> = {
  'windows-process-ext': {
    props: {
      aslr_enabled: boolean, dep_enabled: boolean, priority: string, owner_sid: string, window_title: string,
      startup_info: dict(), integrity_level: enumOf('windows-integrity-level-enum'),
    },
    oneOf: ['aslr_enabled', 'dep_enabled', 'priority', 'owner_sid', 'window_title', 'startup_info', 'integrity_level'],
  },
  'windows-service-ext': {
    props: {
      service_name: string, descriptions: stringList, display_name: string, group_name: string,
      start_type: enumOf('windows-service-start-type-enum'), service_dll_refs: refs('file'),
      service_type: enumOf('windows-service-type-enum'), service_status: enumOf('windows-service-status-enum'),
    },
    oneOf: ['service_name', 'descriptions', 'display_name', 'group_name', 'start_type', 'service_dll_refs', 'service_type', 'service_status'],
  },
};

const emailMimePart: ObjectDef = {
  props: { body: string, body_raw_ref: ref('artifact', 'file'), content_type: string, content_disposition: string },
  oneOf: ['body', 'body_raw_ref'],
};

const x509Extensions: ObjectDef = {
  props: Object.fromEntries([
    'basic_constraints', 'name_constraints', 'policy_constraints', 'key_usage', 'extended_key_usage',
    'subject_key_identifier', 'authority_key_identifier', 'subject_alternative_name', 'issuer_alternative_name',
    'subject_directory_attributes', 'crl_distribution_points', 'inhibit_any_policy',
  ].map((n) => [n, string]).concat([
    ['private_key_usage_period_not_before', timestamp], ['private_key_usage_period_not_after', timestamp],
    ['certificate_policies', string], ['policy_mappings', string],
  ])) as Record<string, Prop>,
};
x509Extensions.oneOf = Object.keys(x509Extensions.props);

export const TYPES: Readonly<Record<string, TypeDef>> = {
  // §4 SDOs
  'attack-pattern': sdo({ name: string, description: string, aliases: stringList, kill_chain_phases: killChainPhases }),
  campaign: sdo({ name: string, description: string, aliases: stringList, ...seen, objective: string }),
  // §4.3: action is RESERVED (§3.8), so it is no property of the table.
  'course-of-action': sdo({ name: string, description: string }),
  grouping: sdo({ name: string, description: string, context: ov('grouping-context-ov'), object_refs: refs() }, ['context', 'object_refs']),
  identity: sdo({
    name: string, description: string, roles: stringList, identity_class: ov('identity-class-ov'),
    sectors: list(ov('industry-sector-ov')), contact_information: string,
  }),
  incident: sdo({ name: string, description: string }),
  indicator: sdo({
    name: string, description: string, indicator_types: list(ov('indicator-type-ov')), pattern: string,
    pattern_type: ov('pattern-type-ov'), pattern_version: string, valid_from: timestamp, valid_until: timestamp,
    kill_chain_phases: killChainPhases,
  }, ['pattern', 'pattern_type', 'valid_from']),
  infrastructure: sdo({
    name: string, description: string, infrastructure_types: list(ov('infrastructure-type-ov')), aliases: stringList,
    kill_chain_phases: killChainPhases, ...seen,
  }),
  'intrusion-set': sdo({
    name: string, description: string, aliases: stringList, ...seen, goals: stringList,
    resource_level: ov('attack-resource-level-ov'), primary_motivation: ov('attack-motivation-ov'),
    secondary_motivations: list(ov('attack-motivation-ov')),
  }),
  location: sdo({
    name: string, description: string, latitude: float(-90, 90), longitude: float(-180, 180), precision: float(0),
    region: ov('region-ov'), country, administrative_area: string, city: string, street_address: string, postal_code: string,
  }, []),
  malware: sdo({
    name: string, description: string, malware_types: list(ov('malware-type-ov')), is_family: boolean, aliases: stringList,
    kill_chain_phases: killChainPhases, ...seen, operating_system_refs: refs('software'),
    architecture_execution_envs: list(ov('processor-architecture-ov')),
    implementation_languages: list(ov('implementation-language-ov')), capabilities: list(ov('malware-capabilities-ov')),
    sample_refs: refs('file', 'artifact'),
  }, []),
  'malware-analysis': sdo({
    product: string, version: string, host_vm_ref: ref('software'), operating_system_ref: ref('software'),
    installed_software_refs: refs('software'), configuration_version: string, modules: stringList,
    analysis_engine_version: string, analysis_definition_version: string, submitted: timestamp,
    analysis_started: timestamp, analysis_ended: timestamp, result_name: string, result: ov('malware-result-ov'),
    analysis_sco_refs: list(refTo(isScoOrCustom, 'an SCO or a custom object type')), sample_ref: ref('file', 'artifact', 'network-traffic'),
  }, ['product']),
  note: sdo({ abstract: string, content: string, authors: stringList, object_refs: refs() }, ['content', 'object_refs']),
  'observed-data': sdo({
    first_observed: timestamp, last_observed: timestamp, number_observed: integer(1, 999_999_999),
    objects: dict(), object_refs: list(refTo(isObservedRef, 'an SCO, an SRO or a custom object type')),
  }, ['first_observed', 'last_observed', 'number_observed']),
  opinion: sdo({ explanation: string, authors: stringList, opinion: enumOf('opinion-enum'), object_refs: refs() }, ['opinion', 'object_refs']),
  report: sdo({
    name: string, description: string, report_types: list(ov('report-type-ov')), published: timestamp, object_refs: refs(),
  }, ['name', 'published', 'object_refs']),
  'threat-actor': sdo({
    name: string, description: string, threat_actor_types: list(ov('threat-actor-type-ov')), aliases: stringList, ...seen,
    roles: list(ov('threat-actor-role-ov')), goals: stringList, sophistication: ov('threat-actor-sophistication-ov'),
    resource_level: ov('attack-resource-level-ov'), primary_motivation: ov('attack-motivation-ov'),
    secondary_motivations: list(ov('attack-motivation-ov')), personal_motivations: list(ov('attack-motivation-ov')),
  }),
  tool: sdo({
    name: string, description: string, tool_types: list(ov('tool-type-ov')), aliases: stringList,
    kill_chain_phases: killChainPhases, tool_version: string,
  }),
  vulnerability: sdo({ name: string, description: string }),

  // §5 SROs
  relationship: {
    kind: 'sro',
    props: {
      relationship_type: string, description: string, source_ref: refTo(isCoreOrCustom, CORE_OR_CUSTOM), target_ref: refTo(isCoreOrCustom, CORE_OR_CUSTOM),
      start_time: timestamp, stop_time: timestamp,
    },
    required: ['relationship_type', 'source_ref', 'target_ref'],
  },
  sighting: {
    kind: 'sro',
    props: {
      description: string, ...seen, count: integer(0, 999_999_999), sighting_of_ref: refTo(isSdoOrCustom, 'an SDO or a custom object type'),
      observed_data_refs: refs('observed-data'), where_sighted_refs: refs('identity', 'location'), summary: boolean,
    },
    required: ['sighting_of_ref'],
  },

  // §6 SCOs
  artifact: sco({
    mime_type: mime, payload_bin: binary, url: string, hashes, encryption_algorithm: enumOf('encryption-algorithm-enum'),
    decryption_key: string,
  }, [], ['hashes', 'payload_bin'], { oneOf: ['payload_bin', 'url'] }),
  'autonomous-system': sco({ number: nonNegative, name: string, rir: string }, ['number'], ['number']),
  directory: sco({
    path: string, path_enc: charset, ctime: timestamp, mtime: timestamp, atime: timestamp,
    contains_refs: refs('file', 'directory'),
  }, ['path'], ['path']),
  'domain-name': sco({ value: string, resolves_to_refs: refs('ipv4-addr', 'ipv6-addr', 'domain-name') }, ['value'], ['value']),
  'email-addr': sco({ value: string, display_name: string, belongs_to_ref: ref('user-account') }, ['value'], ['value']),
  'email-message': sco({
    is_multipart: boolean, date: timestamp, content_type: string, from_ref: ref('email-addr'), sender_ref: ref('email-addr'),
    to_refs: refs('email-addr'), cc_refs: refs('email-addr'), bcc_refs: refs('email-addr'), message_id: string,
    subject: string, received_lines: stringList, additional_header_fields: dict(stringList), body: string,
    body_multipart: list(object(emailMimePart)), raw_email_ref: ref('artifact'),
  }, ['is_multipart'], ['from_ref', 'subject', 'body']),
  file: sco({
    hashes, size: nonNegative, name: string, name_enc: charset, magic_number_hex: hex, mime_type: mime, ctime: timestamp,
    mtime: timestamp, atime: timestamp, parent_directory_ref: ref('directory'), contains_refs: list(refTo(isScoOrCustom, 'an SCO or a custom object type')),
    content_ref: ref('artifact'),
  }, [], ['hashes', 'name', 'extensions', 'parent_directory_ref'], { oneOf: ['hashes', 'name'], extensions: fileExtensions }),
  'ipv4-addr': sco({ value: string, resolves_to_refs: refs('mac-addr'), belongs_to_refs: refs('autonomous-system') }, ['value'], ['value']),
  'ipv6-addr': sco({ value: string, resolves_to_refs: refs('mac-addr'), belongs_to_refs: refs('autonomous-system') }, ['value'], ['value']),
  'mac-addr': sco({ value: string }, ['value'], ['value']),
  mutex: sco({ name: string }, ['name'], ['name']),
  'network-traffic': sco({
    start: timestamp, end: timestamp, is_active: boolean, src_ref: ref('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name'),
    dst_ref: ref('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name'), src_port: integer(0, 65535),
    dst_port: integer(0, 65535), protocols: stringList, src_byte_count: nonNegative, dst_byte_count: nonNegative,
    src_packets: nonNegative, dst_packets: nonNegative, ipfix: dict(integerOrString), src_payload_ref: ref('artifact'),
    dst_payload_ref: ref('artifact'), encapsulates_refs: refs('network-traffic'), encapsulated_by_ref: ref('network-traffic'),
  }, ['protocols'], ['start', 'end', 'src_ref', 'dst_ref', 'src_port', 'dst_port', 'protocols', 'extensions'], {
    oneOf: ['src_ref', 'dst_ref'], extensions: networkTrafficExtensions,
  }),
  process: sco({
    is_hidden: boolean, pid: integer(), created_time: timestamp, cwd: string, command_line: string,
    environment_variables: dict(string), opened_connection_refs: refs('network-traffic'), creator_user_ref: ref('user-account'),
    image_ref: ref('file'), parent_ref: ref('process'), child_refs: refs('process'),
  }, [], [], {
    oneOf: ['is_hidden', 'pid', 'created_time', 'cwd', 'command_line', 'environment_variables', 'opened_connection_refs',
      'creator_user_ref', 'image_ref', 'parent_ref', 'child_refs', 'extensions'],
    extensions: processExtensions,
  }),
  software: sco({ name: string, cpe, swid: string, languages: list(lang), vendor: string, version: string }, ['name'],
    ['name', 'cpe', 'swid', 'vendor', 'version']),
  url: sco({ value: string }, ['value'], ['value']),
  'user-account': sco({
    user_id: string, credential: string, account_login: string, account_type: ov('account-type-ov'), display_name: string,
    is_service_account: boolean, is_privileged: boolean, can_escalate_privs: boolean, is_disabled: boolean,
    account_created: timestamp, account_expires: timestamp, credential_last_changed: timestamp,
    account_first_login: timestamp, account_last_login: timestamp,
  }, [], ['account_type', 'user_id', 'account_login'], {
    extensions: {
      'unix-account-ext': {
        props: { gid: integer(), groups: stringList, home_dir: string, shell: string },
        oneOf: ['gid', 'groups', 'home_dir', 'shell'],
      },
    },
  }),
  'windows-registry-key': sco({
    key: string,
    values: list(object({
      props: { name: string, data: string, data_type: enumOf('windows-registry-datatype-enum') },
      oneOf: ['name', 'data', 'data_type'],
    })),
    modified_time: timestamp, creator_user_ref: ref('user-account'), number_of_subkeys: nonNegative,
  }, [], ['key', 'values'], { oneOf: ['key', 'values', 'modified_time', 'creator_user_ref', 'number_of_subkeys'] }),
  'x509-certificate': sco({
    is_self_signed: boolean, hashes, version: string, serial_number: string, signature_algorithm: string, issuer: string,
    validity_not_before: timestamp, validity_not_after: timestamp, subject: string, subject_public_key_algorithm: string,
    subject_public_key_modulus: string, subject_public_key_exponent: nonNegative, x509_v3_extensions: object(x509Extensions),
  }, [], ['hashes', 'serial_number']),

  // §7 meta objects
  'language-content': {
    kind: 'language-content',
    props: { object_ref: refTo(isCoreOrCustom, CORE_OR_CUSTOM), object_modified: timestamp, contents: dict(object({ props: {}, mirrors: true })) },
    required: ['object_ref', 'contents'],
  },
  'marking-definition': {
    kind: 'marking-definition',
    props: { name: string, definition_type: ov('marking-definition-type-ov'), definition: dict(any) },
    required: [],
  },
  'extension-definition': {
    kind: 'extension-definition',
    props: {
      name: string, description: string, schema: string, version: string,
      extension_types: list(enumOf('extension-type-enum')), extension_properties: list(string),
    },
    required: ['name', 'schema', 'version', 'extension_types'],
  },
};
const x509 = TYPES['x509-certificate'];
if (x509) x509.oneOf = Object.keys(x509.props);

/** §3.2 common properties, in their normalised order, and which kinds allow (opt) or require (req) them. */
type Use = 'req' | 'opt';
const COMMON_USE: Record<string, Partial<Record<Kind, Use>>> = {
  type: { sdo: 'req', sro: 'req', sco: 'req', 'language-content': 'req', 'marking-definition': 'req', 'extension-definition': 'req' },
  spec_version: { sdo: 'req', sro: 'req', sco: 'opt', 'language-content': 'req', 'marking-definition': 'req', 'extension-definition': 'req' },
  id: { sdo: 'req', sro: 'req', sco: 'req', 'language-content': 'req', 'marking-definition': 'req', 'extension-definition': 'req' },
  // §3.6: an SCO may be versioned, so the four versioning properties are optional on it.
  created_by_ref: { sdo: 'opt', sro: 'opt', sco: 'opt', 'language-content': 'opt', 'marking-definition': 'opt', 'extension-definition': 'req' },
  created: { sdo: 'req', sro: 'req', sco: 'opt', 'language-content': 'req', 'marking-definition': 'req', 'extension-definition': 'req' },
  modified: { sdo: 'req', sro: 'req', sco: 'opt', 'language-content': 'req', 'extension-definition': 'req' },
  revoked: { sdo: 'opt', sro: 'opt', sco: 'opt', 'language-content': 'opt', 'extension-definition': 'opt' },
  labels: { sdo: 'opt', sro: 'opt', 'language-content': 'opt', 'extension-definition': 'opt' },
  confidence: { sdo: 'opt', sro: 'opt', 'language-content': 'opt' },
  lang: { sdo: 'opt', sro: 'opt' },
  external_references: { sdo: 'opt', sro: 'opt', 'language-content': 'opt', 'marking-definition': 'opt', 'extension-definition': 'opt' },
  object_marking_refs: { sdo: 'opt', sro: 'opt', sco: 'opt', 'language-content': 'opt', 'marking-definition': 'opt', 'extension-definition': 'opt' },
  granular_markings: { sdo: 'opt', sro: 'opt', sco: 'opt', 'language-content': 'opt', 'marking-definition': 'opt', 'extension-definition': 'opt' },
  defanged: { sco: 'opt' },
  extensions: { sdo: 'opt', sro: 'opt', sco: 'opt', 'language-content': 'opt', 'marking-definition': 'opt' },
};

export const COMMON_PROPS: Readonly<Record<string, Prop>> = {
  type: string, spec_version: string, id: string, created_by_ref: ref('identity'), created: timestamp, modified: timestamp,
  revoked: boolean, labels: stringList, confidence: integer(0, 100), lang, external_references: list(object(externalReference)),
  object_marking_refs: refs('marking-definition'), granular_markings: list(object(granularMarking)), defanged: boolean,
  extensions: dict(),
};
export const COMMON_ORDER: readonly string[] = Object.keys(COMMON_USE);

export function commonUse(kind: Kind, name: string): Use | undefined {
  return COMMON_USE[name]?.[kind];
}

/** The definition of a custom (unknown) type, treated as an SDO when it carries versioning timestamps, else an SCO (§11.2). */
export function customDef(obj: Readonly<Record<string, unknown>>): TypeDef {
  return { kind: 'created' in obj || 'modified' in obj ? 'sdo' : 'sco', props: {}, required: [] };
}
