/**
 * Runs the built dashboard in real headless Chromium (Debian's, through
 * playwright-core) on the harness page, served from a tiny loopback HTTP
 * server. Shared by the browser tests and the benchmark. Node-side only: the
 * callbacks passed to `page.evaluate` run in the page, so they reach page
 * globals through `globalThis` casts (this file is type-checked without DOM
 * types by the root tsconfig).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { dashboardHtml } from '../../runtime/protocol/webview.ts';
import type { ExtensionToWebviewMessage } from '../../runtime/protocol/webview.ts';

export const WEBVIEW_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTPUT_DIR = path.join(WEBVIEW_DIR, 'test-output');
export const CHROMIUM = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';
/** The flags that work on these machines as root (../shared/REAL-VSCODE.md); Playwright adds --headless. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.ttf': 'font/ttf', '.map': 'application/json' };
export const PAGE_NONCE = 'dGVzdC1ub25jZS0xMjM0NTY3OA==';

/** Serves webview/dist and webview/test, and `/dashboard.html`: the real dashboardHtml() page with the VS Code stub added as VS Code adds its own. */
function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://${req.headers.host}`;
    if (url.pathname === '/dashboard.html') {
      const html = dashboardHtml({ cspSource: origin, nonce: PAGE_NONCE, scriptUri: `${origin}/dist/dashboard.js`, styleUri: `${origin}/dist/dashboard.css`, codiconsUri: `${origin}/dist/codicons/codicon.css` })
        .replace('</head>', `<link rel="stylesheet" href="${origin}/test/themes.css">\n</head>`)
        .replace('<script ', `<script nonce="${PAGE_NONCE}" src="${origin}/test/vscode-stub.js"></script>\n<script `);
      res.writeHead(200, { 'content-type': TYPES['.html'] }).end(html);
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const file = path.join(WEBVIEW_DIR, rel);
    if (!/^(dist|test)[/\\]/.test(rel) || !file.startsWith(WEBVIEW_DIR + path.sep) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

export interface Harness {
  origin: string;
  context: BrowserContext;
  page: Page;
  /** Problems the page reported: CSP violations, uncaught errors, console errors, failed requests. */
  problems: string[];
  /** Opens the harness page (or `/dashboard.html`) in a theme and waits for the dashboard to say ready. */
  open(o?: { theme?: 'light' | 'dark' | 'high-contrast'; page?: 'harness' | 'dashboard'; keepState?: boolean }): Promise<void>;
  /** Posts messages to the page as the extension would, and waits for the frame that applies them. */
  feed(...messages: ExtensionToWebviewMessage[]): Promise<void>;
  /** What the dashboard posted to the extension, oldest first. */
  posted(): Promise<Array<Record<string, unknown>>>;
  clearPosted(): Promise<void>;
  close(): Promise<void>;
}

export function assertBuilt(): void {
  if (!existsSync(path.join(WEBVIEW_DIR, 'dist/dashboard.js'))) throw new Error('webview/dist/dashboard.js is missing: run `npm run build -w webview` (node webview/build.mjs) first');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set FAULTLINE_CHROMIUM)`);
}

/** Page globals as seen from these callbacks (they run in the page: no closures, only casts). */
export type W = {
  __posted: unknown[];
  requestAnimationFrame(cb: () => void): number;
  postMessage(m: unknown, target: string): void;
  sessionStorage: { clear(): void };
  document: { addEventListener(type: string, cb: (e: { violatedDirective: string; blockedURI: string }) => void): void };
};

export async function startHarness(viewport = { width: 1280, height: 860 }): Promise<Harness> {
  assertBuilt();
  const { server, origin } = await serve();
  const profile = mkdtempSync(path.join(tmpdir(), 'faultline-webview-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource.*404/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    // Chromium asks for /favicon.ico on its own; the webview never does.
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // CSP violations surface as events in the page; record them before any script runs.
  await page.addInitScript(() => {
    (globalThis as unknown as W).document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });

  const nextFrame = () => page.evaluate(() => new Promise<void>((r) => (globalThis as unknown as W).requestAnimationFrame(() => (globalThis as unknown as W).requestAnimationFrame(() => r()))));

  return {
    origin,
    context,
    page,
    problems,
    async open(o = {}) {
      const file = o.page === 'dashboard' ? '/dashboard.html' : '/test/harness.html';
      if (!o.keepState) {
        await page.goto(`${origin}/test/harness.html?theme=dark`);
        await page.evaluate(() => (globalThis as unknown as W).sessionStorage.clear());
      }
      await page.goto(`${origin}${file}?theme=${o.theme ?? 'dark'}`);
      await page.waitForFunction(() => (globalThis as unknown as W).__posted?.some((m) => (m as { type?: string }).type === 'ready'));
    },
    async feed(...messages) {
      await page.evaluate((ms) => {
        for (const m of ms) (globalThis as unknown as W).postMessage(m, '*');
      }, messages as unknown[]);
      // A posted message is delivered as a task; two frames later the batch is on screen.
      await nextFrame();
    },
    posted: () => page.evaluate(() => (globalThis as unknown as W).__posted as Array<Record<string, unknown>>),
    clearPosted: () => page.evaluate(() => void (globalThis as unknown as W).__posted.splice(0)),
    async close() {
      await context.close().catch(() => undefined);
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections?.();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
