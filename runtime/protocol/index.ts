/** The typed protocol between the runtime and its clients (CLI, extension, webview). */
export * from './status.ts';
export * from './events.ts';
export * from './rpc.ts';
export * from './runtimeFile.ts';
export * from './faults.ts';
