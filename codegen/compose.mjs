// Composes a supergraph from subgraph SDLs, offline.
// stdin: JSON [{ "name": "...", "url": "...", "sdl": "..." }]; stdout: the supergraph SDL.
// Composition errors go to stderr with exit code 1.
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const subgraphs = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const result = composeServices(
  subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
for (const hint of result.hints ?? []) console.error(`composition hint: ${hint.definition.code}: ${hint.message}`);
process.stdout.write(result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`);
