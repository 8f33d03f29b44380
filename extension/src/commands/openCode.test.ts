import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { agentModulePath, codeLocation, CodeOutsideProjectError } from './openCode.ts';

const project = path.resolve('/work/research');
const configFile = path.join(project, 'faultline.config.json');

test("an agent's module is relative to the config's folder", () => {
  assert.equal(agentModulePath(configFile, 'agents/planner.mjs'), path.join(project, 'agents/planner.mjs'));
  assert.deepEqual(codeLocation({ configFile, agent: 'planner', module: 'agents/planner.mjs' }), { file: path.join(project, 'agents/planner.mjs') });
  assert.throws(() => codeLocation({ configFile, agent: 'ghost' }), /No module is known for agent "ghost"/);
});

test('a call site opens at its line: relative to the config, absolute, or a file: URL', () => {
  assert.deepEqual(codeLocation({ configFile, agent: 'planner', site: { file: 'agents/planner.mjs', line: 12, column: 22 } }), { file: path.join(project, 'agents/planner.mjs'), line: 12, column: 22 });
  const abs = path.join(project, 'lib', 'tools.mjs');
  assert.deepEqual(codeLocation({ configFile, agent: 'planner', site: { file: abs, line: 3 } }), { file: abs, line: 3 });
  assert.deepEqual(codeLocation({ configFile, agent: 'planner', site: { file: pathToFileURL(abs).href, line: 4, column: 1 } }), { file: abs, line: 4, column: 1 });
});

test("a call site outside the project and the module's folder is refused", () => {
  assert.throws(() => codeLocation({ configFile, agent: 'planner', site: { file: '../../etc/passwd', line: 1 } }), CodeOutsideProjectError);
  assert.throws(() => codeLocation({ configFile, agent: 'planner', site: { file: path.resolve('/etc/passwd'), line: 1 } }), /outside the Faultline project/);
  // A sibling whose name starts like the project's is not inside it.
  assert.throws(() => codeLocation({ configFile, agent: 'planner', site: { file: `${project}-evil/x.mjs`, line: 1 } }), CodeOutsideProjectError);
  // A module that lives beside the project (`../shared/agents/x.mjs`) may have its call sites opened.
  const shared = path.resolve(project, '../shared/agents/writer.mjs');
  assert.deepEqual(codeLocation({ configFile, agent: 'writer', module: '../shared/agents/writer.mjs', site: { file: shared, line: 9 } }), { file: shared, line: 9 });
});
