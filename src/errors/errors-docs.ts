import { ERROR_CODES } from './codes.js';

/** The full text of docs/errors.md, generated from the registry (a test fails when they drift). */
export function errorsDocs(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors/codes.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every error s3backer reports carries a stable code. On the command line it ends the message:',
    '`s3backer: block 0000002a: ... [S3B_UNKNOWN_ENCODING]`. Through the mount, the request fails with',
    'the errno listed here. Block numbers print as the C tool prints them (`%08x`). Codes never change',
    'meaning; messages may be improved.',
    '',
  ];
  for (const [code, { errno, summary }] of Object.entries(ERROR_CODES)) {
    lines.push(`## ${code}`, '', summary, '', `Errno through the mount: \`${errno}\`.`, '');
  }
  return lines.join('\n');
}
