// Writes the generated reference docs (npm run docs). Compiled to dist/scripts/generate-docs.js, so the
// repository root is two levels up from this file at run time.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configDocs } from '../src/config/config-docs.js';
import { errorsDocs } from '../src/errors/errors-docs.js';
import { withHooksTable } from '../src/engine/hooks-docs.js';

const root = new URL('../../', import.meta.url);

function write(relativePath: string, content: string): void {
  const path = fileURLToPath(new URL(relativePath, root));
  writeFileSync(path, content);
  console.log(`wrote ${relativePath}`);
}

write('docs/config.md', configDocs());
write('docs/errors.md', errorsDocs());
write('docs/plugins.md', withHooksTable(readFileSync(fileURLToPath(new URL('docs/plugins.md', root)), 'utf8')));
