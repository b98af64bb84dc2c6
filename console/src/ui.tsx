// Small shared pieces: page headings that take focus on navigation (screen readers announce the
// new page), loading with errors shown, TLP badges, and forms described by their fields.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { Tlp } from './types.js';

export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function TlpBadge({ tlp }: { tlp: Tlp | string }) {
  return <span class={`tlp tlp-${tlp.replace('+', '-')}`}>TLP:{tlp.toUpperCase()}</span>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {text}
    </p>
  );
}

/** Loads once per change of `key`; `reload` loads again. */
export function useLoad<T>(load: () => Promise<T>, key: string): { data?: T; error?: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: unknown) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export interface Field {
  name: string;
  label: string;
  kind?: 'text' | 'password' | 'select' | 'checkbox' | 'checkboxes' | 'list';
  options?: readonly string[];
  required?: boolean;
  hint?: string;
}

export type FormValues = Record<string, string | boolean | string[]>;

/** A form from field descriptions; `list` fields are comma-separated and arrive as arrays. */
export function FieldsForm({ fields, submit, label, idPrefix }: { fields: Field[]; submit: (values: FormValues) => Promise<void>; label: string; idPrefix: string }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const values: FormValues = {};
    for (const f of fields) {
      if (f.kind === 'checkbox') values[f.name] = (form.elements.namedItem(f.name) as HTMLInputElement).checked;
      else if (f.kind === 'checkboxes') values[f.name] = [...form.querySelectorAll<HTMLInputElement>(`input[name="${f.name}"]:checked`)].map((i) => i.value);
      else {
        const v = (form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement).value.trim();
        values[f.name] = f.kind === 'list' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v;
      }
    }
    setBusy(true);
    setError(undefined);
    try {
      await submit(values);
      form.reset();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="fields" onSubmit={onSubmit} aria-label={label}>
      {fields.map((f) => {
        const id = `${idPrefix}-${f.name}`;
        if (f.kind === 'checkbox')
          return (
            <div class="field check" key={f.name}>
              <input type="checkbox" id={id} name={f.name} />
              <label for={id}>{f.label}</label>
            </div>
          );
        if (f.kind === 'checkboxes')
          return (
            <fieldset class="field" key={f.name}>
              <legend>{f.label}</legend>
              {(f.options ?? []).map((o) => (
                <span class="check" key={o}>
                  <input type="checkbox" id={`${id}-${o}`} name={f.name} value={o} />
                  <label for={`${id}-${o}`}>{o}</label>
                </span>
              ))}
            </fieldset>
          );
        return (
          <div class="field" key={f.name}>
            <label for={id}>
              {f.label}
              {f.required ? ' (required)' : ''}
            </label>
            {f.kind === 'select' ? (
              <select id={id} name={f.name} required={f.required}>
                {!f.required && <option value="">—</option>}
                {(f.options ?? []).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : f.kind === 'password' ? (
              <input id={id} name={f.name} type="password" required={f.required} autoComplete="new-password" />
            ) : (
              <input id={id} name={f.name} type="text" required={f.required} autoComplete="off" />
            )}
            {f.hint && <small>{f.hint}</small>}
          </div>
        );
      })}
      <button type="submit" disabled={busy}>
        {label}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

export function when(at: string | undefined): string {
  return at ? at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

/** A horizontal bar chart in SVG, with the same numbers as a table for screen readers. */
export function BarChart({ title, rows, unit }: { title: string; rows: Array<{ label: string; value: number }>; unit: string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = 26;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <>
          <svg role="img" aria-label={`${title}: ${rows.map((r) => `${r.label} ${r.value} ${unit}`).join(', ')}`} viewBox={`0 0 420 ${rows.length * h}`} width="420" height={rows.length * h}>
            {rows.map((r, i) => (
              <g key={r.label} transform={`translate(0 ${i * h})`}>
                <text x="0" y="17" class="chart-label">
                  {r.label}
                </text>
                <rect x="150" y="4" height="18" width={Math.max(2, (r.value / max) * 220)} class="chart-bar" />
                <text x={156 + (r.value / max) * 220} y="17" class="chart-value">
                  {r.value}
                </text>
              </g>
            ))}
          </svg>
        </>
      )}
    </figure>
  );
}
