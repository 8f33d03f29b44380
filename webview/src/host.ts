/**
 * The webview's one door to the extension: `acquireVsCodeApi()` (called once,
 * as VS Code allows), typed posting, the persisted view state, and incoming
 * messages. Outside VS Code (the test harness) the page defines its own
 * `acquireVsCodeApi` stub before this script runs; with none at all the
 * dashboard still runs and posts into the void, which is handy when opening
 * the bundle by hand.
 */
import type { ExtensionToWebviewMessage, WebviewToExtensionMessage } from '../../runtime/protocol/webview.ts';
import { WEBVIEW_PROTOCOL_VERSION } from '../../runtime/protocol/webviewVersion.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare global {
  // Injected by VS Code into webviews (and by the test harness).
  function acquireVsCodeApi(): VsCodeApi;
}

/** What survives the panel being hidden (VS Code discards the page; getState returns this). */
export interface ViewState {
  v: 1;
  selected: string | null;
  unhealthyOnly: boolean;
  paused: boolean;
  collapsed: string[];
}

export const DEFAULT_VIEW_STATE: ViewState = { v: 1, selected: null, unhealthyOnly: false, paused: false, collapsed: [] };

const MESSAGE_TYPES = new Set<string>(['snapshot', 'event', 'batch', 'checkpoints', 'logs', 'commandResult', 'machine', 'traces', 'connection'] satisfies ExtensionToWebviewMessage['type'][]);

export class Host {
  private readonly api: VsCodeApi;

  constructor() {
    let state: unknown;
    this.api =
      typeof acquireVsCodeApi === 'function'
        ? acquireVsCodeApi()
        : { postMessage: () => undefined, getState: () => state, setState: (s) => void (state = s) };
  }

  post(m: WebviewToExtensionMessage): void {
    this.api.postMessage(m);
  }

  ready(): void {
    this.post({ type: 'ready', protocol: WEBVIEW_PROTOCOL_VERSION });
  }

  loadState(): ViewState {
    const s = this.api.getState() as Partial<ViewState> | undefined;
    if (!s || s.v !== 1) return { ...DEFAULT_VIEW_STATE };
    return {
      v: 1,
      selected: typeof s.selected === 'string' ? s.selected : null,
      unhealthyOnly: s.unhealthyOnly === true,
      paused: s.paused === true,
      collapsed: Array.isArray(s.collapsed) ? s.collapsed.filter((x) => typeof x === 'string') : [],
    };
  }

  saveState(s: ViewState): void {
    this.api.setState(s);
  }

  /** Messages from the extension; anything without a known `type` is ignored. */
  onMessage(listener: (m: ExtensionToWebviewMessage) => void): void {
    window.addEventListener('message', (e: MessageEvent) => {
      const d = e.data as { type?: unknown } | null;
      if (d && typeof d === 'object' && typeof d.type === 'string' && MESSAGE_TYPES.has(d.type)) listener(d as ExtensionToWebviewMessage);
    });
  }
}
