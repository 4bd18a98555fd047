// The analytics pages' time range: a preset ending now, or a custom one, and how a per-minute
// series is drawn for it (minutes up to six hours, hours beyond: a week of minutes would be
// ten thousand bars).

export const PRESETS: Record<string, number> = { '1h': 3600e3, '6h': 6 * 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
export const MAX_RANGE_MS = 31 * 86400e3; // the query API's bound

export interface Range {
  from: number;
  to: number;
}

export function presetRange(preset: string, now = Date.now()): Range {
  // Up to the end of the current minute, so that the last calls count.
  const to = Math.ceil((now + 1) / 60e3) * 60e3;
  return { from: to - (PRESETS[preset] ?? PRESETS['1h']), to };
}

// datetime-local values (local time) to a range, or why they are not one.
export function customRange(from: string, to: string): Range | string {
  const f = Date.parse(from);
  const t = Date.parse(to);
  if (Number.isNaN(f) || Number.isNaN(t)) return 'Give both a start and an end.';
  if (f >= t) return 'The start must be before the end.';
  if (t - f > MAX_RANGE_MS) return 'A range is at most 31 days long.';
  return { from: f, to: t };
}

export interface SeriesRow {
  time: string;
  requests: number;
  errors: number;
}

// Rows of {minute: ISO time, requests, errors} added up per minute or per hour.
export function bucketed(rows: Record<string, unknown>[], range: Range): SeriesRow[] {
  const hourly = range.to - range.from > 6 * 3600e3;
  const buckets = new Map<string, SeriesRow>();
  for (const row of rows) {
    const iso = String(row.minute ?? row.time ?? '');
    const key = hourly ? iso.slice(0, 13) : iso.slice(0, 16);
    const label = hourly ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16);
    const b = buckets.get(key) ?? { time: label || iso, requests: 0, errors: 0 };
    b.requests += Number(row.requests ?? 0);
    b.errors += Number(row.errors ?? 0);
    buckets.set(key, b);
  }
  return [...buckets.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
}
