// Composes a supergraph from subgraph SDLs, offline, and checks the clients' operations against it.
// stdin: JSON { "subgraphs": [{ "name", "url", "sdl" }], "operations": [{ "file", "source" }] }.
// stdout: JSON { "supergraph": "<SDL>", "operations": [{ "file", "name", "text" }] }: each named
// operation of each file, printed alone and compact, after validation against the composed API schema (what
// clients see through the router).
// Composition and validation errors go to stderr with exit code 1.
import { composeServices } from '@apollo/composition';
import { Kind, parse, print, stripIgnoredCharacters, validate } from 'graphql';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const result = composeServices(
  input.subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
for (const hint of result.hints ?? []) console.error(`composition hint: ${hint.definition.code}: ${hint.message}`);
const supergraph = result.supergraphSdl.endsWith('\n') ? result.supergraphSdl : `${result.supergraphSdl}\n`;

const api = result.schema.toAPISchema().toGraphQLJSSchema();
const operations = [];
const seen = new Map();
let failed = false;
for (const { file, source } of input.operations) {
  let document;
  try {
    document = parse(source);
  } catch (error) {
    console.error(`${file}: ${error.message}`);
    failed = true;
    continue;
  }
  for (const error of validate(api, document)) {
    const at = error.locations?.[0];
    console.error(`${file}${at ? `:${at.line}:${at.column}` : ''}: ${error.message}`);
    failed = true;
  }
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name) {
      console.error(`${file}: every definition must be a named operation (no fragments, no anonymous ones)`);
      failed = true;
      continue;
    }
    const name = definition.name.value;
    if (seen.has(name)) {
      console.error(`${file}: operation ${name} is also in ${seen.get(name)}; names are unique across files`);
      failed = true;
    }
    seen.set(name, file);
    operations.push({ file, name, text: stripIgnoredCharacters(print(definition)) });
  }
}
if (failed) process.exit(1);
process.stdout.write(JSON.stringify({ supergraph, operations }));
