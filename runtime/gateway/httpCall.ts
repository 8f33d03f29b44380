/**
 * The request a `kind: "http"` dependency makes for one call: method, path
 * under the dependency's url, query and extra headers (`ctx.call(dep,
 * body, { http: {...} })`). Checked once, before the call reaches the
 * dependency's policy: a bad one is the caller's error and never counts
 * against the breaker.
 */
import type { HttpMethod } from '../sdk.ts';
import type { ResolvedDependency } from './policyConfig.ts';
import { InvalidCallError } from './errors.ts';

const METHODS: readonly HttpMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The checked form: what the transport sends and what the degrade cache keys on. */
export interface HttpCall {
  method: HttpMethod;
  /** The full URL, query included. */
  url: string;
  headers: Record<string, string>;
}

const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Checks a call's `http` options against its dependency; throws InvalidCallError naming the problem. */
export function httpCall(dep: ResolvedDependency, o: unknown, request: unknown): HttpCall {
  const bad = (problem: string): never => {
    throw new InvalidCallError(dep.id, problem);
  };
  if (dep.kind !== 'http') bad(`"http" options are for kind "http" dependencies; this one is kind "${dep.kind}"`);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('"http" must be an object');
  const { method = 'POST', path = '', query, headers, ...rest } = o as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) bad(`unknown "http" option "${unknown[0]}" (known: method, path, query, headers)`);
  const m = typeof method === 'string' ? method.toUpperCase() : method;
  if (!METHODS.includes(m as HttpMethod)) bad(`"http.method" must be one of ${METHODS.join(', ')}`);
  if ((m === 'GET' || m === 'HEAD') && request !== undefined && request !== null) bad(`a ${m} call sends no body: pass null as the request and put parameters in "http.query"`);
  if (typeof path !== 'string') bad('"http.path" must be a string');
  const base = new URL(dep.url!);
  let url: URL;
  try {
    url = new URL(base.href.replace(/\/+$/, '') + '/' + (path as string).replace(/^\/+/, ''));
  } catch {
    return bad(`"http.path" ${JSON.stringify(path)} does not make a URL`);
  }
  // Joined under the url, a path cannot reach another host (the breaker, the key and the faults are this dependency's).
  if (url.origin !== base.origin) bad(`"http.path" ${JSON.stringify(path)} leaves ${base.origin}`);
  if (query !== undefined) {
    if (typeof query !== 'object' || query === null || Array.isArray(query)) bad('"http.query" must be an object');
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      const values = Array.isArray(v) ? v : [v];
      if (!values.every(isScalar)) bad(`"http.query.${k}" must be a string, number or boolean, or an array of them`);
      for (const x of values) url.searchParams.append(k, String(x));
    }
  }
  const h: Record<string, string> = {};
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) bad('"http.headers" must be an object');
    for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof v !== 'string') bad(`"http.headers.${k}" must be a string`);
      h[k.toLowerCase()] = v as string;
    }
  }
  return { method: m as HttpMethod, url: url.href, headers: h };
}
