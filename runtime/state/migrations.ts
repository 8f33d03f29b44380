/**
 * The state file's schema, as forward migrations. `PRAGMA user_version` holds
 * how many have run; opening a file runs the missing ones, each in its own
 * transaction together with the version bump, so a crash mid-migration leaves
 * the file at the previous version, never in between. Never edit a shipped
 * migration: append a new one.
 */
import type { Database } from 'better-sqlite3';
import { checksumOf } from './payload.ts';
import { StateSchemaTooNewError } from './errors.ts';

type Migration = (db: Database) => void;

/** `MIGRATIONS[i]` takes a file from version i to i + 1. */
export const MIGRATIONS: readonly Migration[] = [
  // v1: checkpoints only (Faultline 0.0.x).
  (db) => {
    db.exec(`
      CREATE TABLE checkpoints (
        agent TEXT NOT NULL,
        seq INTEGER NOT NULL,
        version INTEGER NOT NULL,
        runtime_version TEXT NOT NULL,
        time TEXT NOT NULL,
        size INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (agent, seq)
      );
    `);
  },
  // v2: checksums and kinds on checkpoints; the durable inbox, the call
  // journal and the runtime's own key/value state.
  (db) => {
    db.function('faultline_sha256', { deterministic: true }, (p: unknown) => checksumOf(p as string | Uint8Array));
    db.exec(`
      ALTER TABLE checkpoints ADD COLUMN kind TEXT NOT NULL DEFAULT 'full';
      ALTER TABLE checkpoints ADD COLUMN checksum TEXT;
      UPDATE checkpoints SET checksum = faultline_sha256(payload);

      CREATE TABLE inbox (
        pos INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        from_agent TEXT,
        at INTEGER NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX inbox_agent_pos ON inbox (agent, pos);

      CREATE TABLE journal (
        agent TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        call_index INTEGER NOT NULL,
        result TEXT NOT NULL,
        PRIMARY KEY (agent, msg_id, call_index)
      );

      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        time TEXT NOT NULL
      );
    `);
  },
  // v3: a checkpoint's state may live in the blob bucket; the row keeps its key.
  (db) => {
    db.exec('ALTER TABLE checkpoints ADD COLUMN blob TEXT');
  },
  // v4: a stored message keeps its sender's trace context (W3C traceparent), so a redelivery after a restart stays in its trace.
  (db) => {
    db.exec('ALTER TABLE inbox ADD COLUMN traceparent TEXT');
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The file's schema version. */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Refuses a file from a newer Faultline; call before changing anything about the file. */
export function assertSupported(db: Database, file: string): void {
  const v = schemaVersion(db);
  if (v > SCHEMA_VERSION) throw new StateSchemaTooNewError(file, v, SCHEMA_VERSION);
}

/**
 * Brings the file up to `SCHEMA_VERSION`; refuses a file from a newer
 * Faultline rather than guess at its schema.
 * @returns the version the file had before.
 */
export function migrate(db: Database, file: string): number {
  assertSupported(db, file);
  const from = schemaVersion(db);
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      // Another process may have migrated between our read and this lock.
      if (schemaVersion(db) !== v) return;
      MIGRATIONS[v](db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  assertSupported(db, file);
  return from;
}
