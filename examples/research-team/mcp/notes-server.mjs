// A small MCP server over stdio: it keeps notes on the topics the team has
// written about, in memory (it starts empty after a restart) and without any
// network. The runtime starts it, restarts it when it exits, and the indexer
// calls its tools through the "notes" dependency's policy. Try
// `faultline tools notes` and `faultline inject kill-server notes`.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const notes = new Map();
const server = new McpServer({ name: 'research-notes', version: '1.0.0' });
const reply = (text, structured) => ({ content: [{ type: 'text', text }], structuredContent: structured });

server.registerTool(
  'add_note',
  { title: 'Add a note', description: 'Records that a topic was written up, with the draft\'s word count', inputSchema: { topic: z.string().min(1), words: z.number().int().min(0) } },
  async ({ topic, words }) => {
    notes.set(topic, { topic, words, at: new Date().toISOString() });
    return reply(`noted "${topic}" (${words} words); ${notes.size} topics`, { topics: notes.size });
  },
);

server.registerTool(
  'find_notes',
  { title: 'Find notes', description: 'The notes whose topic contains the query', inputSchema: { query: z.string() }, annotations: { readOnlyHint: true } },
  async ({ query }) => {
    const found = [...notes.values()].filter((n) => n.topic.toLowerCase().includes(query.toLowerCase()));
    return reply(found.length ? found.map((n) => `${n.topic}: ${n.words} words`).join('\n') : `no notes on "${query}"`, { notes: found });
  },
);

await server.connect(new StdioServerTransport());
// stdout carries the protocol; the runtime logs stderr lines under the dependency's name.
console.error(`research-notes MCP server ready (pid ${process.pid})`);
