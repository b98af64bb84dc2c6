// RFC 6901 JSON pointers for finding paths.
export function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}/${key}`;
  return key.includes('~') || key.includes('/') ? `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}` : `${path}/${key}`;
}
