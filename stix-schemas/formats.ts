// Value formats the specification borrows from other standards, each answered once and cached.
import tags from 'language-tags';
import mimeDb from 'mime-db';
import { domainToASCII } from 'node:url';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-([1-5])[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const TYPE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,249}$/;

/** §2.9: the parts of `type--UUID` (RFC 4122 variant, versions 1–5), or undefined. */
export function parseIdentifier(value: unknown): { type: string; uuid: string; uuidVersion: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const at = value.indexOf('--');
  if (at < 0) return undefined;
  const type = value.slice(0, at);
  const uuid = value.slice(at + 2);
  const m = UUID.exec(uuid);
  if (!m || !TYPE_NAME.test(type)) return undefined;
  return { type, uuid, uuidVersion: Number(m[1]) };
}

/** §3.1 / §11.2: a type name (3–250 of a–z, 0–9, single hyphens). */
export const isTypeName = (value: unknown): value is string => typeof value === 'string' && TYPE_NAME.test(value);

/**
 * §3.1 / §7.3.2 / §11.1: a property name over its whole length (the OASIS schemas anchor only the first 3
 * characters): it MUST begin with a letter, then a–z, 0–9 and "_", 3–250 characters in all.
 */
export const PROPERTY_NAME = /^[a-z][a-z0-9_]{2,249}$/;

/** §3.8: names reserved on every STIX object (and course-of-action's RESERVED action, §4.3). */
export const RESERVED_PROPERTIES: ReadonlySet<string> = new Set(['action', 'severity', 'username', 'phone_number']);

/** §2.3: dictionary keys: ASCII letters, digits, hyphen, underscore; at most 250. */
export const DICTIONARY_KEY = /^[A-Za-z0-9_-]{1,250}$/;
/** §2.7: hash keys are dictionary keys of at least 3 characters. */
export const HASH_KEY = /^[A-Za-z0-9_-]{3,250}$/;

/** §2.8: an even number of lowercase hex digits. */
export const isHex = (s: string): boolean => s.length % 2 === 0 && /^[0-9a-f]*$/.test(s);
/** §2.1: RFC 4648 base64 (padding required, no whitespace). */
export const isBase64 = (s: string): boolean => s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);

const langCache = new Map<string, boolean>();
/** §3.2 lang: a real RFC 5646 tag (registry-checked by language-tags), e.g. en, en-US, zh-Hant, es-419. */
export function isLanguageTag(value: string): boolean {
  let ok = langCache.get(value);
  if (ok === undefined) {
    ok = value.length > 0 && value.length <= 100 && tags.check(value);
    if (langCache.size < 10_000) langCache.set(value, ok);
  }
  return ok;
}

let countries: ReadonlySet<string> | undefined;
/** §4.10 country: ISO 3166-1 alpha-2, from the region subtags of the IANA registry minus private-use and withdrawn codes. */
export function isCountryCode(value: string): boolean {
  if (!/^[A-Za-z]{2}$/.test(value)) return false;
  if (!countries) {
    const set = new Set<string>();
    for (const a of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
      for (const b of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') {
        const subtag = tags.region(a + b);
        if (subtag && !subtag.deprecated() && !subtag.descriptions().includes('Private use')) set.add(a + b);
      }
    }
    countries = set;
  }
  return countries.has(value.toUpperCase());
}

/** §6.1 / §6.7 mime_type: a media type registered with IANA (mime-db's "iana" source). */
export function isIanaMediaType(value: string): boolean {
  const entry = (mimeDb as Record<string, { source?: string } | undefined>)[value.toLowerCase()];
  return entry?.source === 'iana';
}

// CPE 2.3 formatted string binding (NISTIR 7695 §6.2): "cpe:2.3:" then 11 components.
const CPE_COMPONENT = String.raw`(?:\*|-|(?:\\[\\*?!"#$%&'()+,/:;<=>@[\]^\`{|}~]|[A-Za-z0-9._-]|\?|\*)+)`;
const CPE_PART = '[aho*-]';
const CPE_23 = new RegExp(`^cpe:2\\.3:${CPE_PART}(?::${CPE_COMPONENT}){10}$`);
/** §6.14 software.cpe: a CPE 2.3 formatted string. */
export const isCpe23 = (value: string): boolean => value.length <= 1000 && CPE_23.test(value);

// IANA character set registry: preferred MIME names and names (case-insensitive per RFC 2978).
const CHARSETS = new Set(
  `US-ASCII ISO-8859-1 ISO-8859-2 ISO-8859-3 ISO-8859-4 ISO-8859-5 ISO-8859-6 ISO-8859-7 ISO-8859-8 ISO-8859-9
  ISO-8859-10 ISO-8859-13 ISO-8859-14 ISO-8859-15 ISO-8859-16 ISO-8859-6-E ISO-8859-6-I ISO-8859-8-E ISO-8859-8-I
  ISO-2022-JP ISO-2022-JP-2 ISO-2022-KR ISO-2022-CN ISO-2022-CN-EXT EUC-JP EUC-KR Shift_JIS GB2312 GBK GB18030 Big5
  Big5-HKSCS KOI8-R KOI8-U UTF-8 UTF-16 UTF-16BE UTF-16LE UTF-32 UTF-32BE UTF-32LE UTF-7 CESU-8 SCSU BOCU-1
  windows-1250 windows-1251 windows-1252 windows-1253 windows-1254 windows-1255 windows-1256 windows-1257 windows-1258
  windows-874 windows-31J IBM437 IBM850 IBM852 IBM855 IBM857 IBM860 IBM861 IBM862 IBM863 IBM864 IBM865 IBM866 IBM869
  IBM037 IBM273 IBM277 IBM278 IBM280 IBM284 IBM285 IBM290 IBM297 IBM420 IBM424 IBM500 IBM870 IBM871 IBM1026 IBM00858
  IBM01140 IBM01141 IBM01142 IBM01143 IBM01144 IBM01145 IBM01146 IBM01147 IBM01148 IBM01149 IBM1047 TIS-620 VISCII
  macintosh HZ-GB-2312 ISO-10646-UCS-2 ISO-10646-UCS-4 UNICODE-1-1 UNICODE-1-1-UTF-7 TSCII CP51932 CP50220 Adobe-Standard-Encoding
  Adobe-Symbol-Encoding hp-roman8 JIS_Encoding Extended_UNIX_Code_Packed_Format_for_Japanese KSC5636 GOST_19768-74
  ISO_8859-1:1987 ISO_8859-2:1987 ISO_8859-5:1988 ISO_8859-7:1987 latin1 latin2 cp1252 cp437 csASCII ASCII`
    .split(/\s+/)
    .map((s) => s.toLowerCase()),
);
/** A label the WHATWG Encoding Standard knows (its labels are IANA names and aliases). */
function isEncodingLabel(value: string): boolean {
  try {
    new TextDecoder(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * §6.3 path_enc / §6.7 name_enc: a name from the IANA character set registry — the list above, or
 * any label Node's TextDecoder (ICU, WHATWG Encoding Standard) knows, so that valid aliases such as
 * "iso-ir-100" or "csisolatin1" are not refused.
 */
export const isIanaCharset = (value: string): boolean => value.length <= 64 && (CHARSETS.has(value.toLowerCase()) || isEncodingLabel(value));

// §2.7 hash value formats of hash-algorithm-ov; canonical spellings of the usual variants.
const HEX = (n: number): RegExp => new RegExp(`^[0-9a-fA-F]{${n}}$`);
export const HASH_FORMATS: Readonly<Record<string, RegExp>> = {
  MD5: HEX(32),
  'SHA-1': HEX(40),
  'SHA-256': HEX(64),
  'SHA-512': HEX(128),
  'SHA3-256': HEX(64),
  'SHA3-512': HEX(128),
  SSDEEP: /^\d{1,10}:[A-Za-z0-9/+]{1,128}:[A-Za-z0-9/+]{1,128}(?:,"[^"]*")?$/,
  TLSH: /^(?:T1)?[0-9a-fA-F]{70}$/,
};

/** The canonical hash-algorithm-ov spelling of a key ("sha256", "SHA_256" → "SHA-256"), or undefined. */
export function canonicalHashName(key: string): string | undefined {
  if (key in HASH_FORMATS) return key;
  const folded = key.toUpperCase().replace(/[-_]/g, '');
  switch (folded) {
    case 'MD5': return 'MD5';
    case 'SHA1': return 'SHA-1';
    case 'SHA256': return 'SHA-256';
    case 'SHA512': return 'SHA-512';
    case 'SHA3256': return 'SHA3-256';
    case 'SHA3512': return 'SHA3-512';
    case 'SSDEEP': return 'SSDEEP';
    case 'TLSH': return 'TLSH';
    default: return undefined;
  }
}

/**
 * §6.3 domain-name value: RFC 1034 names whose labels are RFC 5890 (IDNA) labels. Checked on the
 * ASCII (punycode) form: 1–63 characters a label, 253 in all, letters, digits and inner hyphens
 * (underscores are let through: they are common in real DNS, e.g. _dmarc).
 */
export function isDomainName(value: string): boolean {
  if (value.length === 0 || value.length > 253 * 4) return false;
  const ascii = domainToASCII(value.endsWith('.') ? value.slice(0, -1) : value);
  if (!ascii || ascii.length > 253) return false;
  return ascii.split('.').every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}

/** §6.15 url value: an RFC 3986 URI with a scheme, no white space. */
export function isUrl(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/.test(value) && URL.canParse(value);
}
