/**
 * What the Test Explorer shows of a drill file: whether it is a drill at all,
 * its name, and where its method steps and steady-state probes are (lines
 * and characters), so a step's result and a failed probe's message land at
 * their own lines. Pure: reads text, knows nothing of VS Code.
 */
import path from 'node:path';
import { parseJsonWithLocations, prop, type JsonNode, type Span } from './jsonLocations.ts';

export interface StepOutline {
  index: number;
  /** The step's `name`, else what it does (as the runtime's runner labels it). */
  label: string;
  type: string;
  span: Span;
}

export interface ProbeOutline {
  index: number;
  label: string;
  span: Span;
}

export interface DrillOutline {
  /** The drill's `name`, else the file name without `.json` (what the runtime does). */
  name: string;
  description?: string;
  /** Where the item sits: the `name` property, else the object's opening brace. */
  span: Span;
  /** Where `system` is (a failed system check points there). */
  systemSpan?: Span;
  steps: StepOutline[];
  probes: ProbeOutline[];
  rollbacks: StepOutline[];
  /** The object itself, for `drill.run`. */
  drill: Record<string, unknown>;
  /** A step of type `kill-runtime`: the drill must run from the CLI. */
  killsRuntime: boolean;
}

export type OutlineResult =
  | { kind: 'drill'; outline: DrillOutline }
  /** Not JSON, or JSON that is no drill; `reason` says which. */
  | { kind: 'not-a-drill'; reason: string; span?: Span };

const str = (n: JsonNode | undefined): string | undefined => (n?.kind === 'string' ? (n.value as string) : undefined);

/** The runtime's own words for a step without a name (runtime/drills/DrillRunner.ts stepLabel). */
export function stepLabel(s: Record<string, any>): string {
  switch (s.type) {
    case 'inject':
      return `inject ${s.fault} ${s.target}${s.params && typeof s.params === 'object' && Object.keys(s.params).length ? ` ${JSON.stringify(s.params)}` : ''}`;
    case 'clear':
      return s.fault ? `clear ${s.fault}` : 'clear the faults of this drill';
    case 'wait':
      return `wait ${s.ms} ms`;
    case 'load':
      return `load: ${s.kind ?? 'ask'} ${s.to} at ${s.rate}/s for ${s.durationMs} ms`;
    case 'chaos':
      return `chaos: kill ${s.targets ?? '*'} every ~${s.killIntervalMs} ms for ${s.durationMs} ms`;
    case 'probe':
      return `probe: ${probeLabel(s.probe ?? {})}`;
    case 'kill-runtime':
      return 'kill the runtime and wait for it to come back';
    default:
      return String(s.type ?? 'step');
  }
}

/** A probe's label: its `name`, else what it checks. */
export function probeLabel(p: Record<string, any>): string {
  if (typeof p.name === 'string' && p.name) return p.name;
  switch (p.type) {
    case 'agents':
      return `agents ${p.agents ?? '*'} ${p.state ?? 'running'}`;
    case 'metric':
      return `metric ${p.metric}`;
    case 'readyz':
      return `readyz ${p.status ?? 200}`;
    case 'ask':
      return `ask ${p.agent}${p.path ? ` → ${p.path}` : ''}`;
    case 'dependency':
      return `dependency ${p.dependency} ${Array.isArray(p.breaker) ? p.breaker.join('|') : p.breaker}`;
    case 'nodes':
      return 'cluster nodes';
    case 'messages':
      return 'no message lost';
    default:
      return String(p.type ?? 'probe');
  }
}

/**
 * The light check that a JSON object is a drill: a `steadyState` with a
 * `probes` array and a `method` array. The runtime's schema says the rest
 * (see drillValidator.ts, loaded lazily); this one decides which JSON files
 * of the workspace become tests at all.
 */
export function looksLikeDrill(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const d = v as Record<string, any>;
  return typeof d.steadyState === 'object' && d.steadyState !== null && Array.isArray(d.steadyState.probes) && Array.isArray(d.method);
}

const steps = (n: JsonNode | undefined): StepOutline[] =>
  n?.kind === 'array'
    ? n.items.map((item, index) => {
        const s = (item.kind === 'object' ? toValue(item) : {}) as Record<string, any>;
        return { index, label: typeof s.name === 'string' && s.name ? s.name : stepLabel(s), type: String(s.type ?? ''), span: item.span };
      })
    : [];

/** A node back to its plain value. */
function toValue(n: JsonNode): unknown {
  if (n.kind === 'object') return Object.fromEntries(n.entries.map((e) => [e.key, toValue(e.value)]));
  if (n.kind === 'array') return n.items.map(toValue);
  return n.value;
}

/** Reads a drill file's text; `file` gives the default name. */
export function outlineDrill(text: string, file: string): OutlineResult {
  let root: JsonNode;
  try {
    root = parseJsonWithLocations(text);
  } catch (e) {
    return { kind: 'not-a-drill', reason: `not valid JSON: ${(e as Error).message}`, ...(e && (e as any).position ? { span: { start: (e as any).position, end: (e as any).position } } : {}) };
  }
  const value = toValue(root);
  if (!looksLikeDrill(value)) return { kind: 'not-a-drill', reason: 'not a drill: a drill has "steadyState": { "probes": [...] } and "method": [...]' };
  const nameProp = prop(root, 'name');
  const name = str(nameProp?.value) || path.basename(file).replace(/\.(drill\.)?json$/i, '');
  const probesNode = prop(prop(root, 'steadyState')?.value, 'probes')?.value;
  const probes: ProbeOutline[] =
    probesNode?.kind === 'array' ? probesNode.items.map((item, index) => ({ index, label: probeLabel((toValue(item) ?? {}) as Record<string, any>), span: item.span })) : [];
  const method = steps(prop(root, 'method')?.value);
  const description = str(prop(root, 'description')?.value);
  return {
    kind: 'drill',
    outline: {
      name,
      ...(description ? { description } : {}),
      span: nameProp ? { start: nameProp.keySpan.start, end: nameProp.value.span.end } : { start: root.span.start, end: root.span.start },
      ...(prop(root, 'system') ? { systemSpan: { start: prop(root, 'system')!.keySpan.start, end: prop(root, 'system')!.value.span.end } } : {}),
      steps: method,
      probes,
      rollbacks: steps(prop(root, 'rollbacks')?.value),
      drill: value,
      killsRuntime: method.some((s) => s.type === 'kill-runtime'),
    },
  };
}
