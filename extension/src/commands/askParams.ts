/** Quick picks and input boxes for a fault's parameters. */
import type { VSCode } from '../vscodeTypes.ts';
import { checkParam, paramsFrom, type FaultKind } from '../model/faultCatalog.ts';

/** Asks for each parameter in turn; undefined when the user cancels. */
export async function askParams(vs: VSCode, kind: FaultKind, skip: string[] = []): Promise<Record<string, unknown> | undefined> {
  const answers: Record<string, unknown> = {};
  for (const p of kind.params) {
    if (skip.includes(p.name)) continue;
    if (p.choices) {
      const pick = await vs.window.showQuickPick(p.choices.map((c) => ({ label: c.label, description: c.detail, value: c.value })), { placeHolder: p.prompt, title: `${kind.label}: ${p.name}` });
      if (!pick) return undefined;
      answers[p.name] = pick.value;
      continue;
    }
    const v = await vs.window.showInputBox({ prompt: p.prompt, title: `${kind.label}: ${p.name}`, value: p.default, placeHolder: p.placeholder, validateInput: (s) => checkParam(p, s.trim()) });
    if (v === undefined) return undefined;
    answers[p.name] = v.trim();
  }
  return paramsFrom(kind, answers);
}
