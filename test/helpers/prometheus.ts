/** Parsing Prometheus exposition text with parse-prometheus-text-format, for tests. */
import parse, { type ParsedFamily } from 'parse-prometheus-text-format';

/**
 * Parses the exposition text. parse-prometheus-text-format merges the series
 * of a labelled histogram into one (it only handles unlabelled ones), so the
 * HELP/TYPE lines of histograms are dropped first: their `_bucket`, `_sum`
 * and `_count` series then parse as plain labelled samples.
 */
export function parseExposition(text: string): ParsedFamily[] {
  const histograms = new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((x) => x[1]));
  const flat = text
    .split('\n')
    .filter((l) => !(l.startsWith('# ') && histograms.has(l.split(' ')[2])))
    .join('\n');
  // Series of one histogram interleave (bucket, sum, count per label set), so
  // the parser opens a new family at each name change: merge them by name.
  const fams: ParsedFamily[] = [];
  for (const f of parse(flat)) {
    const seen = fams.find((x) => x.name === f.name);
    if (seen) seen.metrics.push(...f.metrics);
    else fams.push(f);
  }
  // Keep the declared type visible to the tests.
  for (const h of histograms) fams.push({ name: h, help: '', type: 'HISTOGRAM', metrics: [] });
  return fams;
}

/** The samples of one counter or gauge family: labels and numeric value. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const fam = parseExposition(text).find((f) => f.name === name);
  return (fam?.metrics ?? []).map((m) => ({ labels: (m as { labels?: Record<string, string> }).labels ?? {}, value: Number((m as { value: string }).value) }));
}
