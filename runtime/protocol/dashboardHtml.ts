/**
 * The dashboard page and its Content-Security-Policy. Pure and free of zod:
 * the extension's activation path imports it, the message schemas it loads
 * lazily.
 */

export interface DashboardHtmlOptions {
  /** `webview.cspSource`: where the webview may load the extension's files from (one or more source expressions). */
  cspSource: string;
  /** A fresh random nonce per page load (e.g. 16 random bytes, base64). */
  nonce: string;
  /** `webview.asWebviewUri(…/webview/dist/dashboard.js)` as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(…/webview/dist/dashboard.css)` as a string. */
  styleUri: string;
  /** `webview.asWebviewUri(…/webview/dist/codicons/codicon.css)` as a string. */
  codiconsUri: string;
  /** The document title; default "Faultline Dashboard". */
  title?: string;
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,128}$/;
/**
 * One source expression of `webview.cspSource`: desktop VS Code gives one host
 * (`https://file+.vscode-resource.vscode-cdn.net`), code-server gives two
 * (`'self' https://*.vscode-cdn.net`). Only `'self'`, schemes and hosts pass:
 * no other keyword (`'unsafe-inline'`), no bare `*`, nothing that ends the
 * directive.
 */
const SOURCE = /^(?:'self'|[a-z][a-z0-9+.-]*:|(?:[a-z][a-z0-9+.-]*:\/\/)?(?:\*\.)?[a-z0-9-][a-z0-9+-]*(?:\.[a-z0-9+-]+)*(?::(?:\d{1,5}|\*))?(?:\/[^\s;,'"]*)?)$/i;

/** Whether `cspSource` is a space-separated list of safe source expressions. */
export function isSafeCspSource(cspSource: string): boolean {
  if (typeof cspSource !== 'string' || cspSource.length === 0 || cspSource.length > 1000) return false;
  const parts = cspSource.trim().split(/ +/);
  return !/[;,\r\n\t]/.test(cspSource) && parts.length > 0 && parts.every((p) => SOURCE.test(p));
}
const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The Content-Security-Policy of the dashboard page: nothing but the extension's own script (by nonce), styles, fonts and images. */
export function dashboardCsp(cspSource: string, nonce: string): string {
  cspSource = cspSource.trim().replace(/ +/g, ' ');
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src ${cspSource}; font-src ${cspSource}; img-src ${cspSource} data:`;
}

/**
 * The dashboard page. Throws a TypeError when the nonce is not a long enough
 * base64 word or `cspSource` could break out of the policy (both come from the
 * extension, so that is a bug there, not user input).
 */
export function dashboardHtml(o: DashboardHtmlOptions): string {
  if (!NONCE.test(o.nonce)) throw new TypeError('dashboardHtml: nonce must be 16 to 128 base64 characters (use 16 random bytes, base64-encoded)');
  if (!isSafeCspSource(o.cspSource)) throw new TypeError(`dashboardHtml: cspSource must be webview.cspSource (hosts, schemes or 'self', space-separated), got ${JSON.stringify(o.cspSource)}`);
  for (const k of ['scriptUri', 'styleUri', 'codiconsUri'] as const) {
    if (typeof o[k] !== 'string' || o[k].length === 0) throw new TypeError(`dashboardHtml: ${k} must be a webview URI string`);
  }
  const title = escapeAttr(o.title ?? 'Faultline Dashboard');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(dashboardCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.codiconsUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>${title}</title>
</head>
<body>
<main id="app" aria-busy="true" aria-label="${title}"><p class="boot">Loading the Faultline Dashboard…</p></main>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
