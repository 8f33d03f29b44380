/** Number and time formats shared by the panels; "—" wherever a value is unknown. */
export const NONE = '—';

export function pct(r: number | null | undefined, digits = 1): string {
  return r === null || r === undefined || !Number.isFinite(r) ? NONE : `${(r * 100).toFixed(digits)}%`;
}

export function mib(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return NONE;
  const m = bytes / 1048576;
  return m >= 1024 ? `${(m / 1024).toFixed(2)} GiB` : `${m.toFixed(m >= 100 ? 0 : 1)} MiB`;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 10 ? 0 : 1)} ms`;
}

/** A duration for people: 45s, 3m 12s, 2h 05m. */
export function duration(msTotal: number): string {
  if (!Number.isFinite(msTotal) || msTotal < 0) return NONE;
  const s = Math.floor(msTotal / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hr = Math.floor(m / 60);
  return hr < 48 ? `${hr}h ${String(m % 60).padStart(2, '0')}m` : `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

export function clock(iso: string | null | undefined): string {
  if (!iso) return NONE;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return NONE;
  return d.toLocaleTimeString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export function money(v: number | null | undefined, currency = 'USD'): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NONE;
  const digits = v < 1 ? 4 : 2;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(v);
  } catch {
    return `${v.toFixed(digits)} ${currency}`;
  }
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? NONE : n.toLocaleString();
}

/** An age for a heartbeat: 420 ms, 7.4 s, then as a duration (3m 12s). */
export function age(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v) || v < 0) return NONE;
  if (v < 1000) return `${Math.round(v)} ms`;
  return v < 60_000 ? `${(v / 1000).toFixed(1)} s` : duration(v);
}
