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

/** Where the focus was when a panel opened, to put it back when the panel closes (keyboard users keep their place). */
export function useReturnFocus(): { remember: () => void; restore: () => void } {
  const opener = useRef<HTMLElement | null>(null);
  return {
    remember: () => {
      opener.current = document.activeElement as HTMLElement | null;
    },
    // after the redraw that removes the panel; the opener may have been redrawn away too
    restore: () => setTimeout(() => (opener.current?.isConnected ? opener.current.focus() : undefined)),
  };
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
  /** `list`: comma-separated, sent as an array; `json`: a JSON value typed in a text area. */
  kind?: 'text' | 'password' | 'select' | 'checkbox' | 'checkboxes' | 'list' | 'json';
  options?: readonly string[];
  required?: boolean;
  hint?: string;
}

export type FormValues = Record<string, unknown>;

/** A value as a field shows it: lists comma-separated, JSON indented. */
function shown(f: Field, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (f.kind === 'json') return JSON.stringify(v, null, 2);
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * A form from field descriptions, filled with `initial` when editing; `list` fields arrive as
 * arrays, `json` fields parsed (an empty one as undefined). The form is emptied after a create.
 */
export function FieldsForm({ fields, submit, label, idPrefix, initial }: { fields: Field[]; submit: (values: FormValues) => Promise<void>; label: string; idPrefix: string; initial?: FormValues }) {
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
        const v = (form.elements.namedItem(f.name) as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value.trim();
        if (f.kind === 'json') {
          try {
            values[f.name] = v ? (JSON.parse(v) as unknown) : undefined;
          } catch (err) {
            setError(new Error(`${f.label}: not JSON (${(err as Error).message}).`));
            return;
          }
        } else values[f.name] = f.kind === 'list' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v;
      }
    }
    setBusy(true);
    setError(undefined);
    try {
      await submit(values);
      if (!initial) form.reset();
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
              <input type="checkbox" id={id} name={f.name} defaultChecked={initial?.[f.name] === true} />
              <label for={id}>{f.label}</label>
            </div>
          );
        if (f.kind === 'checkboxes')
          return (
            <fieldset class="field" key={f.name}>
              <legend>{f.label}</legend>
              {(f.options ?? []).map((o) => (
                <span class="check" key={o}>
                  <input type="checkbox" id={`${id}-${o}`} name={f.name} value={o} defaultChecked={Array.isArray(initial?.[f.name]) && (initial[f.name] as string[]).includes(o)} />
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
                  <option key={o} value={o} selected={shown(f, initial?.[f.name]) === o}>
                    {o}
                  </option>
                ))}
              </select>
            ) : f.kind === 'password' ? (
              <input id={id} name={f.name} type="password" required={f.required} autoComplete="new-password" />
            ) : f.kind === 'json' ? (
              <textarea id={id} name={f.name} rows={6} required={f.required} spellcheck={false} defaultValue={shown(f, initial?.[f.name])} />
            ) : (
              <input id={id} name={f.name} type="text" required={f.required} autoComplete="off" defaultValue={shown(f, initial?.[f.name])} />
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

/** A horizontal bar chart in SVG; its label carries the same numbers for screen readers. */
export function BarChart({ title, rows, unit, format }: { title: string; rows: Array<{ label: string; value: number }>; unit?: string; format?: (value: number) => string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const h = 26;
  const text = (v: number) => (format ? format(v) : String(v));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <svg role="img" aria-label={`${title}: ${rows.map((r) => `${r.label} ${text(r.value)}${unit ? ` ${unit}` : ''}`).join(', ')}`} viewBox={`0 0 420 ${rows.length * h}`} width="420" height={rows.length * h}>
          {rows.map((r, i) => (
            <g key={r.label} transform={`translate(0 ${i * h})`}>
              <text x="0" y="17" class="chart-label">
                {r.label}
              </text>
              <rect x="150" y="4" height="18" width={Math.max(2, (r.value / max) * 210)} class="chart-bar" />
              <text x={156 + (r.value / max) * 210} y="17" class="chart-value">
                {text(r.value)}
              </text>
            </g>
          ))}
        </svg>
      )}
    </figure>
  );
}

/** Columns (one per x label, e.g. a day) stacked by series (e.g. a vendor), with a legend; the label carries every number. */
export function StackedColumns({ title, columns, series, unit }: { title: string; columns: Array<{ label: string; values: Record<string, number> }>; series: string[]; unit: string }) {
  const total = (c: (typeof columns)[number]) => series.reduce((n, s) => n + (c.values[s] ?? 0), 0);
  const max = Math.max(1, ...columns.map(total));
  const w = 54;
  const plot = 150;
  const top = 18; // room for the total above the tallest column
  const said = columns.map((c) => `${c.label}: ${series.filter((s) => c.values[s]).map((s) => `${s} ${c.values[s]}`).join(', ') || `no ${unit}`}`).join('; ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {columns.length === 0 || series.length === 0 ? (
        <p class="muted">Nothing yet.</p>
      ) : (
        <>
          <svg role="img" aria-label={`${title} (${unit}): ${said}`} viewBox={`0 0 ${columns.length * w + 10} ${top + plot + 30}`} width={columns.length * w + 10} height={top + plot + 30}>
            {columns.map((c, i) => {
              let y = top + plot;
              return (
                <g key={c.label} transform={`translate(${i * w + 6} 0)`}>
                  {series.map((s, k) => {
                    const v = c.values[s] ?? 0;
                    if (!v) return null;
                    const h = (v / max) * plot;
                    y -= h;
                    return <rect key={s} x="4" y={y} width={w - 14} height={Math.max(1, h)} class={`chart-series-${k % 6}`} />;
                  })}
                  <text x={(w - 6) / 2} y={y - 4} class="chart-value" text-anchor="middle">
                    {total(c) || ''}
                  </text>
                  <text x={(w - 6) / 2} y={top + plot + 18} class="chart-label" text-anchor="middle">
                    {c.label}
                  </text>
                </g>
              );
            })}
          </svg>
          <ul class="legend" aria-hidden="true">
            {series.map((s, k) => (
              <li key={s}>
                <span class={`swatch chart-series-${k % 6}`} />
                {s}
              </li>
            ))}
          </ul>
        </>
      )}
    </figure>
  );
}
