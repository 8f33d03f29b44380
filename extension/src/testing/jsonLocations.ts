/**
 * A JSON parser that keeps where each value sits in the text: the Test
 * Explorer puts a drill's steps and probes at their own lines. Strict JSON
 * (drill files are read with JSON.parse by the runtime); a syntax error
 * throws with the offset. No dependency: jsonc-parser is not one of the
 * extension's, and the lock file is not ours to change here.
 */

export interface Position {
  line: number;
  character: number;
}

export interface Span {
  start: Position;
  end: Position;
}

export type JsonNode =
  | { kind: 'object'; span: Span; entries: { key: string; keySpan: Span; value: JsonNode }[] }
  | { kind: 'array'; span: Span; items: JsonNode[] }
  | { kind: 'string' | 'number' | 'boolean' | 'null'; span: Span; value: unknown };

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: Position) {
    super(`${message} at line ${position.line + 1}, column ${position.character + 1}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Parses `text`; every node carries its span (0-based lines and characters, as VS Code's). */
export function parseJsonWithLocations(text: string): JsonNode {
  // Line starts, for offset → position.
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const pos = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - lineStarts[lo] };
  };
  let i = 0;
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, pos(i));
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JsonNode => {
    ws();
    const start = i;
    const span = () => ({ start: pos(start), end: pos(i) });
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: { key: string; keySpan: Span; value: JsonNode }[] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { kind: 'object', span: span(), entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a property name');
        const ks = i;
        const key = str();
        const keySpan = { start: pos(ks), end: pos(i) };
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        entries.push({ key, keySpan, value: value() });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { kind: 'object', span: span(), entries };
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { kind: 'array', span: span(), items };
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { kind: 'array', span: span(), items };
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') {
      const v = str();
      return { kind: 'string', span: span(), value: v };
    }
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) fail(i >= text.length ? 'unexpected end of the text' : `unexpected character ${JSON.stringify(c)}`);
    i += m![0].length;
    const lit = m![0];
    if (lit === 'true' || lit === 'false') return { kind: 'boolean', span: span(), value: lit === 'true' };
    if (lit === 'null') return { kind: 'null', span: span(), value: null };
    return { kind: 'number', span: span(), value: Number(lit) };
  };
  const root = value();
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return root;
}

/** The entry `key` of an object node. */
export function prop(node: JsonNode | undefined, key: string): { keySpan: Span; value: JsonNode } | undefined {
  if (node?.kind !== 'object') return undefined;
  for (let k = node.entries.length - 1; k >= 0; k--) if (node.entries[k].key === key) return node.entries[k];
  return undefined;
}
