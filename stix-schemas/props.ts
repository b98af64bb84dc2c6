// Property types as data (STIX 2.1 §2): one descriptor per property, read by the validator and the normaliser alike.
import type { EnumName, OpenVocabName } from './vocab.js';

/** Which object types a reference may point at: a fixed set, a predicate, or any identifier. */
export type Target = ReadonlySet<string> | ((type: string) => boolean) | 'any';

export type Prop =
  | { k: 'string' }
  | { k: 'boolean' }
  | { k: 'integer'; min?: number; max?: number }
  | { k: 'float'; min?: number; max?: number }
  | { k: 'timestamp' }
  | { k: 'ref'; to: Target; /** How findings name the allowed types when `to` is a predicate. */ allowed?: string }
  | { k: 'list'; of: Prop }
  | { k: 'ov'; vocab: OpenVocabName }
  | { k: 'enum'; vocab: EnumName }
  | { k: 'hashes' }
  | { k: 'dict'; values?: Prop }
  | { k: 'object'; def: ObjectDef }
  | { k: 'hex' }
  | { k: 'binary' }
  | { k: 'lang' }
  | { k: 'country' }
  | { k: 'mime' }
  | { k: 'cpe' }
  | { k: 'charset' }
  | { k: 'integerOrString' }
  | { k: 'any' };

/** An embedded type (external-reference, kill-chain-phase, an extension …). */
export interface ObjectDef {
  props: Readonly<Record<string, Prop>>;
  required?: readonly string[];
  /** At least one of these must be present (e.g. §2.5.2, the "at least one property" extensions). */
  oneOf?: readonly string[];
  /** Properties named after another object's (§7.1 contents): names are checked, no "x_" prefix is expected. */
  mirrors?: true;
}

export const string: Prop = { k: 'string' };
export const boolean: Prop = { k: 'boolean' };
export const timestamp: Prop = { k: 'timestamp' };
export const integer = (min?: number, max?: number): Prop => ({ k: 'integer', min, max });
export const nonNegative: Prop = { k: 'integer', min: 0 };
export const float = (min?: number, max?: number): Prop => ({ k: 'float', min, max });
export const list = (of: Prop): Prop => ({ k: 'list', of });
export const ov = (vocab: OpenVocabName): Prop => ({ k: 'ov', vocab });
export const enumOf = (vocab: EnumName): Prop => ({ k: 'enum', vocab });
export const hashes: Prop = { k: 'hashes' };
export const dict = (values?: Prop): Prop => ({ k: 'dict', values });
export const object = (def: ObjectDef): Prop => ({ k: 'object', def });
export const hex: Prop = { k: 'hex' };
export const binary: Prop = { k: 'binary' };
export const lang: Prop = { k: 'lang' };
export const country: Prop = { k: 'country' };
export const mime: Prop = { k: 'mime' };
export const cpe: Prop = { k: 'cpe' };
export const charset: Prop = { k: 'charset' };
export const integerOrString: Prop = { k: 'integerOrString' };
export const any: Prop = { k: 'any' };

export function ref(...types: string[]): Prop {
  return { k: 'ref', to: types.length ? new Set(types) : 'any' };
}
export const refTo = (to: Target, allowed?: string): Prop => ({ k: 'ref', to, allowed });
export const refs = (...types: string[]): Prop => list(ref(...types));

/** §11.1: the type a custom property has, read from its name's suffix. */
export function customPropertyType(name: string): Prop {
  if (name.endsWith('_refs')) return list(ref());
  if (name.endsWith('_ref')) return ref();
  if (name.endsWith('_bin')) return binary;
  if (name.endsWith('_hex')) return hex;
  return any;
}
