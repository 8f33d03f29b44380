/**
 * The extension runs `validateWebviewMessage` on everything the webview posts
 * and serves `dashboardHtml`: both are the security boundary, so they are
 * tested on their own, without a browser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardHtml, validateWebviewMessage, WEBVIEW_PROTOCOL_VERSION, DASHBOARD_ACTIONS } from '../../runtime/protocol/webview.ts';

const ok = (x: unknown) => {
  const r = validateWebviewMessage(x);
  assert.equal(r.ok, true, r.ok ? '' : r.error);
  return (r as { ok: true; message: unknown }).message;
};
const refused = (x: unknown, why: RegExp) => {
  const r = validateWebviewMessage(x);
  assert.equal(r.ok, false, 'a malformed message was accepted');
  assert.match((r as { error: string }).error, why);
};

test('accepts the messages the dashboard sends and returns fresh copies', () => {
  assert.deepEqual(ok({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION }), { type: 'ready', protocol: 1 });
  assert.deepEqual(ok({ type: 'requestSnapshot' }), { type: 'requestSnapshot' });
  assert.deepEqual(ok({ type: 'setLive', live: false }), { type: 'setLive', live: false });
  for (const action of ['restart', 'stop', 'kill', 'hang', 'checkpoints', 'machine'] as const) {
    assert.deepEqual(ok({ type: 'command', id: 'c1', action, target: 'planner' }), { type: 'command', id: 'c1', action, target: 'planner' });
  }
  const params = { fault: 'slow', params: { ms: 250, nested: { list: [1, 'a', null, true] } } };
  const msg = ok({ type: 'command', id: 'c2', action: 'inject', target: 'writer', params }) as { params: unknown };
  assert.deepEqual(msg.params, params);
  assert.notEqual(msg.params, params, 'a copy, so a later change of the original cannot slip past the check');
  assert.deepEqual(ok({ type: 'command', id: 'c3', action: 'clearFaults', target: '*' }), { type: 'command', id: 'c3', action: 'clearFaults', target: '*' });
  assert.deepEqual(ok({ type: 'command', id: 'c4', action: 'clearFaults', target: 'planner', params: { id: 'f-1' } }), { type: 'command', id: 'c4', action: 'clearFaults', target: 'planner', params: { id: 'f-1' } });
  assert.deepEqual(ok({ type: 'command', id: 'c5', action: 'logs', target: 'planner', params: { limit: 200 } }), { type: 'command', id: 'c5', action: 'logs', target: 'planner', params: { limit: 200 } });
  assert.deepEqual(ok({ type: 'command', id: 'c6', action: 'traces', target: 'planner', params: { limit: 20 } }), { type: 'command', id: 'c6', action: 'traces', target: 'planner', params: { limit: 20 } });
  assert.deepEqual(ok({ type: 'command', id: 'c7', action: 'traces', target: 'planner' }), { type: 'command', id: 'c7', action: 'traces', target: 'planner' });
  const code = { file: 'agents/planner.mjs', line: 12, column: 3 };
  assert.deepEqual(ok({ type: 'command', id: 'c8', action: 'openCode', target: 'planner', params: code }), { type: 'command', id: 'c8', action: 'openCode', target: 'planner', params: code });
  assert.deepEqual(ok({ type: 'command', id: 'c9', action: 'openCode', target: 'planner' }), { type: 'command', id: 'c9', action: 'openCode', target: 'planner' });
  assert.equal(DASHBOARD_ACTIONS.length, 11);
});

test('refuses malformed messages with a reason, never throwing', () => {
  refused(null, /plain object/);
  refused('ready', /plain object/);
  refused([{ type: 'ready' }], /plain object/);
  refused({}, /string "type"/);
  refused({ type: 'shutdown' }, /unknown message type "shutdown"/);
  refused({ type: 'ready' }, /protocol/);
  refused({ type: 'ready', protocol: 1, extra: 1 }, /unknown field "extra"/);
  refused({ type: 'setLive', live: 'yes' }, /boolean/);
  refused({ type: 'command', id: 'c', action: 'rm -rf', target: 'planner' }, /action must be one of/);
  refused({ type: 'command', id: 'c', action: 'kill' }, /target must be a non-empty string/);
  refused({ type: 'command', id: 'c', action: 'kill', target: '' }, /target must be a non-empty string/);
  refused({ type: 'command', id: 'c', action: 'kill', target: 'x'.repeat(300) }, /longer than 256/);
  refused({ type: 'command', id: 'c', action: 'kill', target: 'a\nb' }, /control characters/);
  refused({ type: 'command', id: 'c', action: 'kill', target: '*' }, /not "\*"/);
  refused({ type: 'command', id: 7, action: 'kill', target: 'a' }, /command.id/);
  refused({ type: 'command', id: 'c', action: 'kill', target: 'a', params: { signal: 9 } }, /unknown field "signal"/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a' }, /needs params/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'Kill; drop' } }, /fault name/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: [1] } }, /must be an object/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: { ms: Infinity } } }, /finite/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: { big: 'x'.repeat(20_000) } } }, /larger than/);
  refused({ type: 'command', id: 'c', action: 'logs', target: 'a', params: { limit: 0 } }, /between 1 and 5000/);
  refused({ type: 'command', id: 'c', action: 'traces', target: 'a', params: { limit: 501 } }, /traces params\.limit must be an integer between 1 and 500/);
  refused({ type: 'command', id: 'c', action: 'traces', target: '*' }, /needs one target/);
  refused({ type: 'command', id: 'c', action: 'traces', target: 'a', params: { traceId: 'x' } }, /unknown field "traceId"/);
  refused({ type: 'command', id: 'c', action: 'openCode', target: 'a', params: { file: 'a.mjs' } }, /openCode params\.line must be an integer/);
  refused({ type: 'command', id: 'c', action: 'openCode', target: 'a', params: { file: 'a.mjs', line: 0 } }, /between 1 and/);
  refused({ type: 'command', id: 'c', action: 'openCode', target: 'a', params: { file: 'a\n.mjs', line: 1 } }, /control characters/);
  refused({ type: 'command', id: 'c', action: 'openCode', target: 'a', params: { file: 'x'.repeat(5000), line: 1 } }, /longer than 4096/);
  refused({ type: 'command', id: 'c', action: 'openCode', target: 'a', params: { file: 'a.mjs', line: 1, column: 1.5 } }, /column must be an integer/);
  let deep: unknown = 1;
  for (let i = 0; i < 10; i++) deep = { d: deep };
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: deep } }, /deeper/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: JSON.parse('{"__proto__":{"polluted":1}}') } }, /forbidden key "__proto__"/);
  refused({ type: 'command', id: 'c', action: 'inject', target: 'a', params: { fault: 'slow', params: { when: new Date() } } }, /not JSON/);
  refused(new (class Msg { type = 'ready'; protocol = 1 })(), /plain object/);
  // A hostile object whose getter throws is refused, not propagated.
  const hostile = { type: 'command', id: 'c', action: 'kill' } as Record<string, unknown>;
  Object.defineProperty(hostile, 'target', { enumerable: true, get: () => { throw new Error('boom'); } });
  refused(hostile, /boom/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

const opts = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce: 'bm9uY2Utbm9uY2Utbm9uY2U=', scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/webview/dist/dashboard.js', styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/webview/dist/dashboard.css', codiconsUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/webview/dist/codicons/codicon.css' };

test('dashboardHtml sets a strict CSP and puts the nonce on every script', () => {
  const html = dashboardHtml(opts);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(csp, 'a CSP meta tag');
  assert.equal(csp, `default-src 'none'; script-src 'nonce-${opts.nonce}'; style-src ${opts.cspSource}; font-src ${opts.cspSource}; img-src ${opts.cspSource} data:`);
  assert.doesNotMatch(csp!, /unsafe-inline|unsafe-eval|\*/);
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)];
  assert.ok(scripts.length >= 1);
  for (const [, attrs] of scripts) assert.match(attrs, new RegExp(`nonce="${opts.nonce}"`), 'every script carries the nonce');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>[^<]+<\/script>/, 'no inline script bodies');
  assert.doesNotMatch(html, /<style\b|\sstyle="/, 'no inline styles (style-src allows only the extension)');
  assert.doesNotMatch(html, /\son[a-z]+="/, 'no inline event handlers');
  assert.ok(html.includes(`src="${opts.scriptUri}"`));
  assert.ok(html.includes(`href="${opts.styleUri}"`));
  assert.ok(html.includes(`href="${opts.codiconsUri}"`));
});

test("dashboardHtml takes every webview.cspSource VS Code gives: desktop's one host, code-server's 'self' plus a wildcard host", () => {
  for (const cspSource of ["'self' https://*.vscode-cdn.net", 'https://file+.vscode-resource.vscode-cdn.net', 'vscode-webview://4f1c2a', 'http://127.0.0.1:8080']) {
    const html = dashboardHtml({ ...opts, cspSource });
    const csp = /content="([^"]+)"/.exec(html)![1].replace(/&#39;|&apos;/g, "'");
    assert.ok(csp.includes(`style-src ${cspSource};`), csp);
    assert.ok(csp.endsWith(`img-src ${cspSource} data:`), csp);
  }
});

test('dashboardHtml loads nothing remote: every URL is the extension source', () => {
  const html = dashboardHtml(opts);
  const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(urls.length, 3);
  for (const u of urls) assert.ok(u.startsWith(opts.cspSource + '/'), `${u} is under the extension's source`);
  const stripped = html.replaceAll(opts.cspSource, '');
  assert.doesNotMatch(stripped, /https?:\/\//, 'no other origin anywhere in the page');
});

test('dashboardHtml refuses a weak nonce or a cspSource that would break the policy, and escapes the rest', () => {
  assert.throws(() => dashboardHtml({ ...opts, nonce: 'abc' }), /nonce/);
  assert.throws(() => dashboardHtml({ ...opts, nonce: `${'a'.repeat(20)}' 'unsafe-inline` }), /nonce/);
  for (const bad of ["x; script-src 'unsafe-inline'", "'unsafe-inline'", "'self' 'unsafe-eval'", '*', 'https://*', 'a,b', 'a\nb', '', "'nonce-abc'", 'https://x.net/"onload'])
    assert.throws(() => dashboardHtml({ ...opts, cspSource: bad }), /cspSource/, bad);
  assert.throws(() => dashboardHtml({ ...opts, scriptUri: '' }), /scriptUri/);
  const html = dashboardHtml({ ...opts, scriptUri: opts.cspSource + '/a"><img src=x onerror=alert(1)>', title: '<b>x</b>' });
  assert.doesNotMatch(html, /<img/);
  assert.doesNotMatch(html, /<b>x<\/b>/);
});
