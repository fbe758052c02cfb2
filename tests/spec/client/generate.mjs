// tests/spec/client/generate.mjs: one TypeScript declaration file per API document, with
// openapi-typescript (pinned in tests/spec/package.json), as a frontend team would make it.
//
//   node generate.mjs OUT_DIR DOC.json...      (OUT_DIR/<name>.d.ts for each DOC <name>.json)
//
// The one option is the transform that openapi-typescript's documentation gives for file
// bodies: a `format: binary` string is a Blob (what fetch sends as a raw body), not a
// string. Everything else is the generator's default.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));

const [outDir, ...docs] = process.argv.slice(2);
if (!outDir || docs.length === 0) {
  console.error('usage: node generate.mjs OUT_DIR DOC.json...');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
for (const doc of docs) {
  const ast = await openapiTS(pathToFileURL(path.resolve(doc)), {
    transform(schema) {
      if (schema.format === 'binary') return BLOB;
      return undefined;
    },
  });
  const out = path.join(outDir, `${path.basename(doc, '.json')}.d.ts`);
  fs.writeFileSync(out, astToString(ast));
  console.log(`generated ${out}`);
}
