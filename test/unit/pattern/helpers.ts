// Shared helpers for the pattern tests: the codes a pattern produces, split by severity.
import { checkPattern } from '../../../stix-schemas/pattern/index.js';

export const codes = (pattern: string): string[] => checkPattern(pattern).map((f) => f.code);
export const errors = (pattern: string): string[] => checkPattern(pattern).filter((f) => f.severity === 'error').map((f) => f.code);
export const warnings = (pattern: string): string[] => checkPattern(pattern).filter((f) => f.severity === 'warning').map((f) => f.code);
