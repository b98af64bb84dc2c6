// §7.2.1 TLP markings: the four TLP 1.0 objects the specification publishes (the only ones allowed), and the
// TLP 2.0 objects OASIS publishes through extension-definition--60a3c5c5… (cti-stix-common-objects).
import type { StixObject } from './types-common.js';

export const TLP1_CREATED = '2017-01-20T00:00:00.000Z';
export const TLP1_IDS: Readonly<Record<string, string>> = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
export const TLP2_CREATED = '2022-10-01T00:00:00.000Z';
export const TLP2_IDS: Readonly<Record<string, string>> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

const byId = (ids: Readonly<Record<string, string>>): ReadonlyMap<string, string> =>
  new Map(Object.entries(ids).map(([level, id]) => [id, level]));
export const TLP1_LEVEL_BY_ID = byId(TLP1_IDS);
export const TLP2_LEVEL_BY_ID = byId(TLP2_IDS);

/** The published TLP 1.0 marking-definition for a level. */
export function tlp1Marking(level: string): StixObject | undefined {
  const id = TLP1_IDS[level];
  return id === undefined ? undefined : {
    type: 'marking-definition', spec_version: '2.1', id, created: TLP1_CREATED,
    definition_type: 'tlp', name: `TLP:${level.toUpperCase()}`, definition: { tlp: level },
  };
}

/** The published TLP 2.0 marking-definition for a level. */
export function tlp2Marking(level: string): StixObject | undefined {
  const id = TLP2_IDS[level];
  return id === undefined ? undefined : {
    type: 'marking-definition', spec_version: '2.1', id, created: TLP2_CREATED, name: `TLP:${level.toUpperCase()}`,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: level } },
  };
}

/** TLP levels from least to most restrictive (TLP 2.0 names; TLP 1.0 white is clear). */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpName = (typeof TLP_LEVELS)[number];

function levelOfMarking(ref: unknown): TlpName | undefined {
  if (typeof ref !== 'string') return undefined;
  const level = TLP2_LEVEL_BY_ID.get(ref) ?? TLP1_LEVEL_BY_ID.get(ref);
  return level === 'white' ? 'clear' : (level as TlpName | undefined);
}

/**
 * The most restrictive TLP level marking an object, through object_marking_refs or any granular
 * marking (a part marked RED makes the object RED to share), or undefined when it has none.
 */
export function tlpLevelOf(obj: StixObject): TlpName | undefined {
  let rank = -1;
  const consider = (ref: unknown) => {
    const level = levelOfMarking(ref);
    if (level !== undefined) rank = Math.max(rank, TLP_LEVELS.indexOf(level));
  };
  if (Array.isArray(obj.object_marking_refs)) obj.object_marking_refs.forEach(consider);
  if (Array.isArray(obj.granular_markings)) {
    for (const g of obj.granular_markings) if (typeof g === 'object' && g !== null) consider((g as { marking_ref?: unknown }).marking_ref);
  }
  return rank < 0 ? undefined : TLP_LEVELS[rank];
}
