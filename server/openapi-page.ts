// The API reference as one HTML page, rendered from the OpenAPI description (server/openapi.ts)
// once when the app is created: plain HTML and one inline style sheet, no script and nothing fetched from
// elsewhere, so it works offline and under a CSP that allows only that style sheet (by its hash).
import { createHash } from 'node:crypto';

type Json = Record<string, unknown>;
interface Parameter { name: string; in: string; required?: boolean; description?: string; schema?: Json }
interface Operation { summary?: string; tags?: string[]; parameters?: Parameter[]; requestBody?: { content?: Json }; responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json }>; headers?: Record<string, { description?: string }> }>; security?: Array<Record<string, unknown>> }
interface OpenApiLike { info: { title: string; version: string; description?: string }; paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Json>; securitySchemes?: Record<string, { description?: string }> }; security?: Array<Record<string, unknown>> }

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin:1.6rem 0 .4rem}
code,pre{font:13px/1.4 ui-monospace,monospace}pre{background:#f6f8fa;padding:.6rem;overflow:auto}
.m{display:inline-block;min-width:4.2rem;text-align:center;border-radius:3px;padding:0 .3rem;margin-right:.5rem;color:#fff;font-weight:600;text-transform:uppercase;font-size:12px}
.get{background:#0a6b3d}.post{background:#0550ae}.put,.patch{background:#8a4600}.delete{background:#a40e26}
table{border-collapse:collapse;margin:.3rem 0 .8rem}td,th{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
nav ul{columns:2}nav li{break-inside:avoid}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}pre{background:#161b22}td,th{border-color:#30363d}h2{border-color:#30363d}a{color:#58a6ff}}
`;

/** The page's Content-Security-Policy: its own style sheet and nothing else. */
export const OPENAPI_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The anchor of one operation, e.g. "get-/{apiRoot}/collections/" → "get--apiRoot-collections". */
export function operationAnchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '')}`;
}

function schemaLink(schema: Json | undefined): string {
  if (!schema) return '';
  const ref = typeof schema.$ref === 'string' ? schema.$ref : undefined;
  if (ref?.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    return `<a href="#schema-${esc(name)}"><code>${esc(name)}</code></a>`;
  }
  return `<code>${esc(JSON.stringify(schema))}</code>`;
}

function operation(path: string, method: string, op: Operation, defaultSecurity: string): string {
  const out = [`<h3 id="${esc(operationAnchor(method, path))}"><span class="m ${method}">${method}</span><code>${esc(path)}</code></h3>`];
  if (op.summary) out.push(`<p>${esc(op.summary)}</p>`);
  const security = op.security ? op.security.map((s) => Object.keys(s).join(' + ') || 'none').join(' or ') : defaultSecurity;
  out.push(`<p>Authentication: ${esc(security)}</p>`);
  if (op.parameters?.length) {
    out.push('<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>');
    for (const p of op.parameters) out.push(`<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${esc(p.description ?? '')}</td></tr>`);
    out.push('</table>');
  }
  if (op.requestBody?.content) {
    const media = Object.entries(op.requestBody.content as Record<string, { schema?: Json }>);
    out.push(`<p>Request body: ${media.map(([type, m]) => `<code>${esc(type)}</code> ${schemaLink(m.schema)}`).join(', ')}</p>`);
  }
  out.push('<table><tr><th>status</th><th>description</th><th>content</th></tr>');
  for (const [status, r] of Object.entries(op.responses ?? {})) {
    const content = Object.entries(r.content ?? {}).map(([type, m]) => `<code>${esc(type)}</code> ${schemaLink(m.schema)}`).join('<br>');
    const headers = Object.keys(r.headers ?? {}).map((h) => `<br>header <code>${esc(h)}</code>`).join('');
    out.push(`<tr><td>${esc(status)}</td><td>${esc(r.description ?? '')}${headers}</td><td>${content}</td></tr>`);
  }
  out.push('</table>');
  return out.join('\n');
}

/** The whole page: operations grouped by their first tag, then the schemas. */
export function renderOpenApiPage(description: object): string {
  const doc = description as OpenApiLike;
  const ops = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })));
  const groups = new Map<string, typeof ops>();
  for (const o of ops) {
    const tag = o.op.tags?.[0] ?? 'other';
    groups.set(tag, [...(groups.get(tag) ?? []), o]);
  }
  const defaultSecurity = (doc.security ?? []).map((s) => Object.keys(s).join(' + ')).join(' or ') || 'none';
  const schemes = Object.entries(doc.components?.securitySchemes ?? {}).map(([name, s]) => `<li><code>${esc(name)}</code>: ${esc(s.description ?? '')}</li>`).join('\n');
  const schemas = Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => `<h3 id="schema-${esc(name)}"><code>${esc(name)}</code></h3>\n<pre>${esc(JSON.stringify(s, null, 2))}</pre>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)}: API reference</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${esc(doc.info.title)}: API reference</h1>
<p>${esc(doc.info.description ?? '')}</p>
<p>Rendered from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1, version ${esc(doc.info.version)}).</p>
<h2 id="authentication">Authentication</h2>
<ul>
${schemes}
</ul>
<nav>
<h2 id="contents">Operations</h2>
${[...groups].map(([tag, list]) => `<h3>${esc(tag)}</h3>\n<ul>\n${list.map((o) => `<li><a href="#${esc(operationAnchor(o.method, o.path))}">${esc(o.method.toUpperCase())} ${esc(o.path)}</a></li>`).join('\n')}\n</ul>`).join('\n')}
</nav>
${[...groups].map(([tag, list]) => `<h2 id="tag-${esc(tag)}">${esc(tag)}</h2>\n${list.map((o) => operation(o.path, o.method, o.op, defaultSecurity)).join('\n')}`).join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas}
</body>
</html>
`;
}
