// The shape of every pipeline finding: a stable code, a severity, where, and why.
export type Severity = 'error' | 'warning';

export interface Finding {
  code: string;
  severity: Severity;
  /** JSON pointer into the object ("" = the object itself). */
  path: string;
  message: string;
}

export function error(code: string, path: string, message: string): Finding {
  return { code, severity: 'error', path, message };
}

export function warning(code: string, path: string, message: string): Finding {
  return { code, severity: 'warning', path, message };
}
