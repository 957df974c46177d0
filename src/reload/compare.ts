import type { Content } from './scan.js';

const NAMES_SHOWN = 5;

/** Why `after` differs from `before` for a log line, or undefined when the content is the same. */
export function describeChange(before: Content, after: Content): string | undefined {
  if (before.kind !== after.kind) return 'content changed';
  if (after.kind !== 'dir') return sameHashes(before, after) ? undefined : 'content changed';
  const changed: string[] = [];
  const added: string[] = [];
  for (const [name, hash] of after.hashes) {
    const old = before.hashes.get(name);
    if (old === undefined) added.push(name);
    else if (old !== hash) changed.push(name);
  }
  const removed = [...before.hashes.keys()].filter((name) => !after.hashes.has(name));
  const parts = [list('content changed', changed), list('added', added), list('removed', removed)].filter((part) => part !== '');
  return parts.length === 0 ? undefined : parts.join('; ');
}

function sameHashes(before: Content, after: Content): boolean {
  if (before.hashes.size !== after.hashes.size) return false;
  for (const [name, hash] of after.hashes) if (before.hashes.get(name) !== hash) return false;
  return true;
}

function list(label: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return `${label}: ${shown}${names.length > NAMES_SHOWN ? `, and ${names.length - NAMES_SHOWN} more` : ''}`;
}
