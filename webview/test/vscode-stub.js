/*
 * What VS Code gives a webview, for the harness: `acquireVsCodeApi()` (once),
 * whose postMessage records into `window.__posted` and whose state lives in
 * sessionStorage, so a reload behaves like VS Code re-creating a hidden panel;
 * and the theme class on <body> (`?theme=light|dark|high-contrast`).
 */
(() => {
  const KEY = 'faultline-harness-state';
  const posted = [];
  let acquired = false;
  window.__posted = posted;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return {
      postMessage: (m) => posted.push(JSON.parse(JSON.stringify(m))),
      getState: () => {
        const s = sessionStorage.getItem(KEY);
        return s ? JSON.parse(s) : undefined;
      },
      setState: (s) => {
        sessionStorage.setItem(KEY, JSON.stringify(s));
        return s;
      },
    };
  };
  const theme = new URLSearchParams(location.search).get('theme') || 'dark';
  document.body.classList.add(`vscode-${theme}`);
  document.body.dataset.vscodeThemeKind = `vscode-${theme}`;
})();
