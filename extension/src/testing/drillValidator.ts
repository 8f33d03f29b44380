/**
 * The runtime's own drill check (runtime/drills/drillFile.ts: the zod schema
 * and the cross-step checks) as a bundle of its own (dist/drillValidator.js),
 * loaded the first time a drill file is discovered: it carries zod, which
 * the activation path does without. Each problem names its JSON path.
 */
import { DrillFileError, parseDrill } from '../../../runtime/drills/drillFile.ts';

/** The drill's problems; empty when the runtime would run it. */
export function drillProblems(json: unknown): string[] {
  try {
    parseDrill(json);
    return [];
  } catch (e) {
    if (e instanceof DrillFileError) return e.problems;
    return [(e as Error).message];
  }
}
