// The catalogue of STIX pattern finding codes (STIX 2.1 §9). docs/stix-pattern-findings.md lists the
// same codes; a unit test keeps the two in agreement, so add a code here and there together.
import type { CodeInfo } from '../codes.js';

export const PATTERN_CODES = {
  STIX_PATTERN_NOT_A_STRING: { severity: 'error', section: '9.4', summary: 'The pattern is not a string.' },
  STIX_PATTERN_EMPTY: { severity: 'error', section: '9.4', summary: 'The pattern is empty or only whitespace.' },
  STIX_PATTERN_SYNTAX: { severity: 'error', section: '9.3–9.7', summary: 'The pattern does not follow the grammar (unexpected or missing token).' },
  STIX_PATTERN_KEYWORD_CASE: { severity: 'error', section: '9.5, 9.6', summary: 'A keyword is not written in upper case (e.g. `within` instead of `WITHIN`).' },
  STIX_PATTERN_TOO_DEEP: { severity: 'error', section: '9.5.3', summary: 'Parentheses and brackets nest deeper than the documented limit (MAX_PATTERN_NESTING, 100).' },
  STIX_PATTERN_STRING_UNTERMINATED: { severity: 'error', section: '9.2', summary: 'A string constant has no closing apostrophe.' },
  STIX_PATTERN_STRING_ESCAPE: { severity: 'error', section: '9.2', summary: 'A backslash in a string is followed by something other than `\\\'` or `\\\\`.' },
  STIX_PATTERN_NUMBER_INVALID: { severity: 'error', section: '9.2, 2.7, 2.8', summary: 'A numeric constant is malformed (plus sign, leading zeros, exponent) or out of range (integers: ±(2^53−1)).' },
  STIX_PATTERN_HEX_INVALID: { severity: 'error', section: '9.2', summary: "A `h'…'` constant is not an even number of hex digits 0–9, a–f." },
  STIX_PATTERN_BINARY_INVALID: { severity: 'error', section: '9.2', summary: "A `b'…'` constant is not valid base64 (RFC 4648)." },
  STIX_PATTERN_TIMESTAMP_INVALID: { severity: 'error', section: '9.2, 2.16', summary: "A `t'…'` constant is not a valid RFC 3339 UTC timestamp." },
  STIX_PATTERN_SET_MIXED_TYPES: { severity: 'error', section: '9.6.1', summary: 'The constants of a set are not of one data type.' },
  STIX_PATTERN_OPERAND_INVALID: { severity: 'error', section: '9.6.1', summary: 'The constant does not suit the operator (IN needs a set, LIKE/MATCHES/ISSUBSET/ISSUPERSET a string, ordering no boolean, only IN a set).' },
  STIX_PATTERN_REGEX_INVALID: { severity: 'error', section: '9.6.1', summary: 'The MATCHES constant is not a valid regular expression (unbalanced parentheses or brackets, nothing to repeat …). PCRE-only syntax JavaScript lacks is not judged.' },
  STIX_PATTERN_IP_INVALID: { severity: 'error', section: '9.6.1', summary: 'The ISSUBSET/ISSUPERSET constant is not an IPv4/IPv6 address or CIDR block of the right family.' },
  STIX_PATTERN_SUBSET_PATH: { severity: 'error', section: '9.6.1', summary: 'ISSUBSET/ISSUPERSET is applied to a path that is not the value of an ipv4-addr or ipv6-addr.' },
  STIX_PATTERN_QUALIFIER_VALUE: { severity: 'error', section: '9.5.1', summary: 'WITHIN is not a positive number or REPEATS not a positive integer.' },
  STIX_PATTERN_QUALIFIER_DUPLICATE: { severity: 'error', section: '9.5.1', summary: 'An observation expression has more than one qualifier of the same type.' },
  STIX_PATTERN_START_STOP_ORDER: { severity: 'error', section: '9.5.1', summary: 'A START timestamp is not earlier than its STOP timestamp.' },
  STIX_PATTERN_OBJECT_TYPE_INVALID: { severity: 'error', section: '9.7, 3.1', summary: 'The object type of a path is not a well-formed STIX type name.' },
  STIX_PATTERN_PATH_INVALID: { severity: 'error', section: '9.7', summary: 'An object path is malformed: unquoted name with `-` or `.`, index on a non-list, property of a scalar, bad index.' },
  STIX_PATTERN_PROPERTY_NAME_INVALID: { severity: 'error', section: '3.1, 9.7', summary: 'A property name in a path (of an SCO, a custom object or an extension) is not a–z, 0–9 and "_" starting with a letter, 3–250 characters; e.g. an upper-case name.' },
  STIX_PATTERN_AND_TYPE_MISMATCH: { severity: 'error', section: '9.5', summary: 'The operands of AND inside one observation expression cannot all match the same object type.' },
  STIX_PATTERN_HASH_VALUE_INVALID: { severity: 'error', section: '9.6.1, 10.6', summary: 'A hash compared with = / != / IN does not have the format of its algorithm (MD5, SHA-1, SHA-256, SHA-512, SHA3-256, SHA3-512).' },
  STIX_PATTERN_UNKNOWN_OBJECT_TYPE: { severity: 'warning', section: '9.7, 11', summary: 'The object type is not one of the 18 STIX 2.1 SCOs (custom objects are legal).' },
  STIX_PATTERN_NOT_SCO_TYPE: { severity: 'warning', section: '9.1, 9.7', summary: 'The object type is an SDO, SRO or meta object, which observations do not contain.' },
  STIX_PATTERN_UNKNOWN_PROPERTY: { severity: 'warning', section: '9.7, 6', summary: 'The property is not defined for the object type (custom properties are legal).' },
  STIX_PATTERN_UNKNOWN_EXTENSION: { severity: 'warning', section: '9.7, 6, 7.3', summary: 'The extension is neither predefined for the type nor an extension-definition id.' },
  STIX_PATTERN_HASH_ALGORITHM_UNKNOWN: { severity: 'warning', section: '10.6', summary: 'The hashes key is not in hash-algorithm-ov (an open vocabulary; note the exact spelling, e.g. SHA-256).' },
  STIX_PATTERN_LIST_WITHOUT_INDEX: { severity: 'warning', section: '9.7.2', summary: 'A list property is used without a `[n]` or `[*]` index.' },
  STIX_PATTERN_VALUE_TYPE_MISMATCH: { severity: 'warning', section: '9.2, 9.6.1', summary: "The constant's type cannot be compared with the property's type, so the comparison is always false." },
  STIX_PATTERN_SET_EMPTY: { severity: 'warning', section: '9.6.1', summary: 'IN is given an empty set, which never matches.' },
  STIX_PATTERN_NONSTANDARD_SYNTAX: { severity: 'warning', section: '9.6.1', summary: 'Syntax other tools accept but §9 does not define: `==`, `<>`, comments.' },
} as const satisfies Record<string, CodeInfo>;

export type PatternCode = keyof typeof PATTERN_CODES;
