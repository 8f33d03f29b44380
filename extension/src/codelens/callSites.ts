/**
 * Finds the `ctx.call(dep, …)` and `ctx.model(chain)` sites of an agent
 * module by parsing it (@babel/parser, TypeScript-aware), not by regex:
 * comments, strings and look-alikes do not count. Built as its own bundle
 * (dist/callSites.js) and loaded only when a CodeLens is first asked for.
 */
import { parse } from '@babel/parser';

export interface CallSite {
  kind: 'call' | 'model';
  /** 0-based line and column of the call's start. */
  line: number;
  column: number;
  /** 0-based line where the call expression ends (the decoration goes there). */
  endLine: number;
  /** The first argument when it is a string literal: the dependency id or the model chain. */
  name?: string;
  /** An explicit `{ point: '…' }` in the call's options (`ctx.call(dep, req, o)`, `ctx.model(c).chat(req, o)`). */
  point?: string;
}

type Node = { type: string; loc?: { start: { line: number; column: number }; end: { line: number; column: number } }; [k: string]: unknown };

const isNode = (x: unknown): x is Node => typeof x === 'object' && x !== null && typeof (x as Node).type === 'string';

/** `ctx.call`, `context.model`, `this.ctx.call`: the receiver is the handler's context object. */
function siteKind(callee: Node): 'call' | 'model' | undefined {
  const isMember = callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression';
  if (!isMember || callee.computed) return undefined;
  const prop = callee.property as Node;
  if (prop.type !== 'Identifier' || (prop.name !== 'call' && prop.name !== 'model')) return undefined;
  const obj = callee.object as Node;
  const named = (n: Node) => n.type === 'Identifier' && /^(ctx|context)$/.test(n.name as string);
  const ok = named(obj) || (obj.type === 'MemberExpression' && (obj.object as Node).type === 'ThisExpression' && named(obj.property as Node));
  return ok ? (prop.name as 'call' | 'model') : undefined;
}

/** `point` of an options object literal, when it is a plain string. */
function pointOption(n: unknown): string | undefined {
  if (!isNode(n) || n.type !== 'ObjectExpression') return undefined;
  for (const p of n.properties as Node[]) {
    if (p.type !== 'ObjectProperty' || p.computed) continue;
    const key = p.key as Node;
    if ((key.type === 'Identifier' && key.name === 'point') || (key.type === 'StringLiteral' && key.value === 'point')) return literal(p.value);
  }
  return undefined;
}

function literal(n: unknown): string | undefined {
  if (!isNode(n)) return undefined;
  if (n.type === 'StringLiteral') return n.value as string;
  if (n.type === 'TemplateLiteral' && (n.expressions as unknown[]).length === 0) return ((n.quasis as Node[])[0]?.value as { cooked: string }).cooked;
  return undefined;
}

export function findCallSites(code: string, fileName: string): CallSite[] {
  const ts = /\.[mc]?tsx?$/.test(fileName);
  let ast: Node;
  try {
    ast = parse(code, { sourceType: 'unambiguous', errorRecovery: true, plugins: ts ? ['typescript'] : ['jsx'] }) as unknown as Node;
  } catch {
    // Code mid-edit that does not parse yet: no lenses until it does.
    return [];
  }
  const out: CallSite[] = [];
  const seen = new Set<Node>();
  const stack: unknown[] = [ast];
  while (stack.length) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    if (!isNode(n)) continue;
    if ((n.type === 'CallExpression' || n.type === 'OptionalCallExpression') && n.loc) {
      const callee = n.callee as Node;
      const args = n.arguments as unknown[];
      const kind = siteKind(callee);
      if (kind && !seen.has(n)) {
        const site: CallSite = { kind, line: n.loc.start.line - 1, column: n.loc.start.column, endLine: n.loc.end.line - 1, name: literal(args[0]) };
        const point = kind === 'call' ? pointOption(args[2]) : undefined;
        if (point) site.point = point;
        out.push(site);
      }
      // `ctx.model(chain).chat(req, { point })`: the site is the model call, the options sit on chat.
      if ((callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') && isNode(callee.object) && (callee.object.type === 'CallExpression' || callee.object.type === 'OptionalCallExpression')) {
        const inner = callee.object;
        if (siteKind(inner.callee as Node) === 'model' && inner.loc) {
          seen.add(inner);
          const site: CallSite = { kind: 'model', line: inner.loc.start.line - 1, column: inner.loc.start.column, endLine: n.loc.end.line - 1, name: literal((inner.arguments as unknown[])[0]) };
          const point = pointOption(args[1]);
          if (point) site.point = point;
          out.push(site);
        }
      }
    }
    for (const [k, v] of Object.entries(n)) {
      if (k === 'loc' || k === 'start' || k === 'end' || k === 'leadingComments' || k === 'trailingComments' || k === 'extra') continue;
      if (typeof v === 'object' && v !== null) stack.push(v);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}
