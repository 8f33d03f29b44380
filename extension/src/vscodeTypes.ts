/**
 * The `vscode` API as a type. Only extension.ts imports the module itself and
 * hands it to the classes that need it (as Playwright's extension does), so
 * everything else stays loadable — and testable — without an editor.
 */
export type VSCode = typeof import('vscode');
export type { ExtensionContext, LogOutputChannel, TreeView, Uri } from 'vscode';
