// `meridian validate`: the validator package's own command (stix-schemas/cli.ts, `stix2-validate`).
export { runValidate, type ValidateIo } from 'stix2-validator-ts';
