/**
 * The mock model's embeddings (OpenAI `/v1/embeddings`): deterministic
 * unit-length vectors drawn from a SHA-256 stream of the text, so the same
 * text always embeds the same and a shorter `dimensions` is a renormalised
 * prefix of a longer one. `encoding_format: 'base64'` sends the float32
 * values little-endian, as the official client decodes them.
 */
import { createHash } from 'node:crypto';
import { countTokens } from './replies.ts';

export const DEFAULT_DIMENSIONS = 16;
export const MAX_DIMENSIONS = 4096;

export interface EmbeddingsRequest {
  inputs: string[];
  dimensions: number;
  encoding: 'float' | 'base64';
}

/** Reads an embeddings body; returns a problem for a 400, or the request. Token arrays read as their numbers' text. */
export function parseEmbeddings(body: unknown): EmbeddingsRequest | string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const input = b.input;
  let inputs: string[];
  if (typeof input === 'string') inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')) inputs = [input.join(' ')];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string' || (Array.isArray(x) && x.every((n) => typeof n === 'number')))) {
    inputs = input.map((x) => (typeof x === 'string' ? x : (x as number[]).join(' ')));
  } else return "'input' must be a string, an array of strings or an array of token arrays";
  const dimensions = b.dimensions ?? DEFAULT_DIMENSIONS;
  if (!(Number.isInteger(dimensions) && (dimensions as number) >= 1 && (dimensions as number) <= MAX_DIMENSIONS)) return `'dimensions' must be an integer 1-${MAX_DIMENSIONS}`;
  const encoding = b.encoding_format ?? 'float';
  if (encoding !== 'float' && encoding !== 'base64') return "'encoding_format' must be 'float' or 'base64'";
  return { inputs, dimensions: dimensions as number, encoding };
}

/** A unit vector of `dimensions` float32 values for `text`. */
export function embed(text: string, dimensions: number): number[] {
  const raw: number[] = [];
  for (let block = 0; raw.length < dimensions; block++) {
    const h = createHash('sha256').update(`${block}\0${text}`).digest();
    for (let i = 0; i + 4 <= h.length && raw.length < dimensions; i += 4) raw.push(h.readUInt32LE(i) / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...raw) || 1;
  // Rounded to float32 so the float and base64 encodings carry the same numbers.
  return raw.map((v) => Math.fround(v / norm));
}

export function embeddingsBody(r: EmbeddingsRequest, model: string) {
  const data = r.inputs.map((text, index) => {
    const v = embed(text, r.dimensions);
    return { object: 'embedding', index, embedding: r.encoding === 'base64' ? toBase64(v) : v };
  });
  const tokens = r.inputs.reduce((n, t) => n + countTokens(t), 0);
  return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function toBase64(v: number[]): string {
  const buf = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  return buf.toString('base64');
}
