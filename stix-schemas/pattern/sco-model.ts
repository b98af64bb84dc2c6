// What object paths may address (§9.7): the 18 STIX 2.1 SCOs of §6 with their properties,
// predefined extensions and nested types, reduced to what a path or a comparison needs.

/** Leaf types as far as patterns care (§9.2). ipv4/ipv6 mark the `value` of the address SCOs. */
export type Scalar = 'string' | 'integer' | 'float' | 'boolean' | 'timestamp' | 'binary' | 'hex' | 'ipv4' | 'ipv6';

export type PropType =
  | Scalar
  /** Dictionary with free keys whose values we do not model. */
  | 'dictionary'
  /** `hashes` (§2.7): keys from hash-algorithm-ov, string values. */
  | 'hashes'
  /** Anything: custom content, dereferenced non-SCO objects. */
  | 'any'
  | { list: PropType }
  /** An `*_ref`: paths continue in the referenced objects (§9.7.4). */
  | { ref: readonly string[] }
  | { obj: Props }
  /** The `extensions` dictionary: predefined extension name → properties. */
  | { ext: Readonly<Record<string, Props>> };

export type Props = Readonly<Record<string, PropType>>;

const list = (of: PropType): PropType => ({ list: of });
const ref = (...types: string[]): PropType => ({ ref: types });
const refs = (...types: string[]): PropType => list(ref(...types));
const obj = (props: Props): PropType => ({ obj: props });
/** Scalars of one type for several property names. */
const all = (type: PropType, names: string): Record<string, PropType> =>
  Object.fromEntries(names.split(' ').map((n) => [n, type]));

export const SCO_TYPES = [
  'artifact', 'autonomous-system', 'directory', 'domain-name', 'email-addr', 'email-message', 'file',
  'ipv4-addr', 'ipv6-addr', 'mac-addr', 'mutex', 'network-traffic', 'process', 'software', 'url',
  'user-account', 'windows-registry-key', 'x509-certificate',
] as const;

/** Types that exist in STIX 2.1 but are not SCOs, so no observation holds them (§4, §5, §7, §8). */
export const NON_SCO_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern', 'campaign', 'course-of-action', 'grouping', 'identity', 'incident', 'indicator',
  'infrastructure', 'intrusion-set', 'location', 'malware', 'malware-analysis', 'note', 'observed-data',
  'opinion', 'report', 'threat-actor', 'tool', 'vulnerability', 'relationship', 'sighting',
  'marking-definition', 'language-content', 'extension-definition', 'bundle',
]);

export const HASH_ALGORITHMS: ReadonlySet<string> = new Set(['MD5', 'SHA-1', 'SHA-256', 'SHA-512', 'SHA3-256', 'SHA3-512', 'SSDEEP', 'TLSH']);

const granularMarking = obj({ lang: 'string', marking_ref: ref('marking-definition'), selectors: list('string') });

/** §3.x common properties an SCO may carry (extensions are added per type). */
const COMMON: Props = {
  type: 'string',
  id: 'string',
  spec_version: 'string',
  object_marking_refs: refs('marking-definition'),
  granular_markings: list(granularMarking),
  defanged: 'boolean',
};

function sco(props: Props, extensions: Readonly<Record<string, Props>> = {}): Props {
  return { ...COMMON, extensions: { ext: extensions }, ...props };
}

// §6.7.6 nested types
const peOptionalHeader: Props = {
  ...all('hex', 'magic_hex win32_version_value_hex checksum_hex subsystem_hex dll_characteristics_hex loader_flags_hex'),
  ...all(
    'integer',
    'major_linker_version minor_linker_version size_of_code size_of_initialized_data size_of_uninitialized_data ' +
      'address_of_entry_point base_of_code base_of_data image_base section_alignment file_alignment major_os_version ' +
      'minor_os_version major_image_version minor_image_version major_subsystem_version minor_subsystem_version ' +
      'size_of_image size_of_headers size_of_stack_reserve size_of_stack_commit size_of_heap_reserve ' +
      'size_of_heap_commit number_of_rva_and_sizes',
  ),
  hashes: 'hashes',
};

const peSection: Props = { name: 'string', size: 'integer', entropy: 'float', hashes: 'hashes' };

const FILE_EXTENSIONS: Record<string, Props> = {
  'archive-ext': { contains_refs: refs('file', 'directory'), comment: 'string' },
  'ntfs-ext': { sid: 'string', alternate_data_streams: list(obj({ name: 'string', hashes: 'hashes', size: 'integer' })) },
  'pdf-ext': { version: 'string', is_optimized: 'boolean', document_info_dict: 'dictionary', pdfid0: 'string', pdfid1: 'string' },
  'raster-image-ext': { ...all('integer', 'image_height image_width bits_per_pixel'), exif_tags: 'dictionary' },
  'windows-pebinary-ext': {
    ...all('string', 'pe_type imphash'),
    ...all('hex', 'machine_hex pointer_to_symbol_table_hex characteristics_hex'),
    ...all('integer', 'number_of_sections number_of_symbols size_of_optional_header'),
    time_date_stamp: 'timestamp',
    file_header_hashes: 'hashes',
    optional_header: obj(peOptionalHeader),
    sections: list(obj(peSection)),
  },
};

const NETWORK_TRAFFIC_EXTENSIONS: Record<string, Props> = {
  'http-request-ext': {
    ...all('string', 'request_method request_value request_version'),
    request_header: 'dictionary',
    message_body_length: 'integer',
    message_body_data_ref: ref('artifact'),
  },
  'icmp-ext': all('hex', 'icmp_type_hex icmp_code_hex'),
  'socket-ext': {
    ...all('string', 'address_family socket_type'),
    ...all('boolean', 'is_blocking is_listening'),
    ...all('integer', 'socket_descriptor socket_handle'),
    options: 'dictionary',
  },
  'tcp-ext': all('hex', 'src_flags_hex dst_flags_hex'),
};

const PROCESS_EXTENSIONS: Record<string, Props> = {
  'windows-process-ext': {
    ...all('boolean', 'aslr_enabled dep_enabled'),
    ...all('string', 'priority owner_sid window_title integrity_level'),
    startup_info: 'dictionary',
  },
  'windows-service-ext': {
    ...all('string', 'service_name display_name group_name start_type service_type service_status'),
    descriptions: list('string'),
    service_dll_refs: refs('file'),
  },
};

const ipAddress = (value: 'ipv4' | 'ipv6'): Props =>
  sco({ value, resolves_to_refs: refs('mac-addr'), belongs_to_refs: refs('autonomous-system') });

const x509V3Extensions: Props = {
  ...all(
    'string',
    'basic_constraints name_constraints policy_constraints key_usage extended_key_usage subject_key_identifier ' +
      'authority_key_identifier subject_alternative_name issuer_alternative_name subject_directory_attributes ' +
      'crl_distribution_points inhibit_any_policy certificate_policies policy_mappings',
  ),
  ...all('timestamp', 'private_key_usage_period_not_before private_key_usage_period_not_after'),
};

export const SCOS: Readonly<Record<string, Props>> = {
  artifact: sco({ ...all('string', 'mime_type url encryption_algorithm decryption_key'), payload_bin: 'binary', hashes: 'hashes' }),
  'autonomous-system': sco({ number: 'integer', name: 'string', rir: 'string' }),
  directory: sco({ ...all('string', 'path path_enc'), ...all('timestamp', 'ctime mtime atime'), contains_refs: refs('file', 'directory') }),
  'domain-name': sco({ value: 'string', resolves_to_refs: refs('ipv4-addr', 'ipv6-addr', 'domain-name') }),
  'email-addr': sco({ value: 'string', display_name: 'string', belongs_to_ref: ref('user-account') }),
  'email-message': sco({
    is_multipart: 'boolean',
    date: 'timestamp',
    ...all('string', 'content_type message_id subject body'),
    from_ref: ref('email-addr'),
    sender_ref: ref('email-addr'),
    ...all(refs('email-addr'), 'to_refs cc_refs bcc_refs'),
    received_lines: list('string'),
    additional_header_fields: 'dictionary',
    body_multipart: list(obj({ ...all('string', 'body content_type content_disposition'), body_raw_ref: ref('artifact', 'file') })),
    raw_email_ref: ref('artifact'),
  }),
  file: sco(
    {
      hashes: 'hashes',
      size: 'integer',
      ...all('string', 'name name_enc mime_type'),
      magic_number_hex: 'hex',
      ...all('timestamp', 'ctime mtime atime'),
      parent_directory_ref: ref('directory'),
      contains_refs: refs(...SCO_TYPES),
      content_ref: ref('artifact'),
    },
    FILE_EXTENSIONS,
  ),
  'ipv4-addr': ipAddress('ipv4'),
  'ipv6-addr': ipAddress('ipv6'),
  'mac-addr': sco({ value: 'string' }),
  mutex: sco({ name: 'string' }),
  'network-traffic': sco(
    {
      ...all('timestamp', 'start end'),
      is_active: 'boolean',
      ...all(ref('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name'), 'src_ref dst_ref'),
      ...all('integer', 'src_port dst_port src_byte_count dst_byte_count src_packets dst_packets'),
      protocols: list('string'),
      ipfix: 'dictionary',
      ...all(ref('artifact'), 'src_payload_ref dst_payload_ref'),
      encapsulates_refs: refs('network-traffic'),
      encapsulated_by_ref: ref('network-traffic'),
    },
    NETWORK_TRAFFIC_EXTENSIONS,
  ),
  process: sco(
    {
      is_hidden: 'boolean',
      pid: 'integer',
      created_time: 'timestamp',
      ...all('string', 'cwd command_line'),
      environment_variables: 'dictionary',
      opened_connection_refs: refs('network-traffic'),
      creator_user_ref: ref('user-account'),
      image_ref: ref('file'),
      parent_ref: ref('process'),
      child_refs: refs('process'),
    },
    PROCESS_EXTENSIONS,
  ),
  software: sco({ ...all('string', 'name cpe swid vendor version'), languages: list('string') }),
  url: sco({ value: 'string' }),
  'user-account': sco(
    {
      ...all('string', 'user_id credential account_login account_type display_name'),
      ...all('boolean', 'is_service_account is_privileged can_escalate_privs is_disabled'),
      ...all('timestamp', 'account_created account_expires credential_last_changed account_first_login account_last_login'),
    },
    { 'unix-account-ext': { gid: 'integer', groups: list('string'), home_dir: 'string', shell: 'string' } },
  ),
  'windows-registry-key': sco({
    key: 'string',
    values: list(obj(all('string', 'name data data_type'))),
    modified_time: 'timestamp',
    creator_user_ref: ref('user-account'),
    number_of_subkeys: 'integer',
  }),
  'x509-certificate': sco({
    is_self_signed: 'boolean',
    hashes: 'hashes',
    ...all(
      'string',
      'version serial_number signature_algorithm issuer subject subject_public_key_algorithm subject_public_key_modulus',
    ),
    ...all('timestamp', 'validity_not_before validity_not_after'),
    subject_public_key_exponent: 'integer',
    x509_v3_extensions: obj(x509V3Extensions),
  }),
};
