/** The typed protocol between the runtime and its clients (CLI, extension, webview). */
export * from './status.ts';
export * from './events.ts';
export * from './rpc.ts';
export * from './runtimeFile.ts';
export * from './faults.ts';
/** The zod schemas the types above are inferred from, the method table, and `protocolJsonSchema()`. */
export * as schemas from './schema/index.ts';
