import { describe, expect, it } from 'vitest';
import { cleanLine, firstLine, lastLine, LINE_LIMIT } from '../../src/checks/check-line.js';

describe('the line a check leaves for people', () => {
  it('is the last line with something on it; a carriage return ends a line (progress bars)', () => {
    expect(lastLine('connecting\ndb replica lag 42s\n\n  \n')).toBe('db replica lag 42s');
    expect(lastLine('copying 10%\rcopying 100%\r\n')).toBe('copying 100%');
    expect(lastLine('')).toBe('');
    expect(lastLine('\n \t\n')).toBe('');
  });

  it('of a body, the first line with something on it', () => {
    expect(firstLine('\r\n   \n  upstream down  \nsecond')).toBe('upstream down');
    expect(firstLine('')).toBe('');
  });

  it('drops terminal escapes whole, control characters and bidi overrides, and keeps one space between words', () => {
    expect(cleanLine('\u001b[1;31mERROR\u001b[0m:\tdisk\u0007 full')).toBe('ERROR: disk full');
    expect(cleanLine('\u001b]0;title\u0007ok \u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\')).toBe('ok link');
    expect(cleanLine('a\u0085b\u009bc \u202eevil\u202c \u2066x\u2069')).toBe('a b c evil x');
    expect(cleanLine('  lone \u001b escape  ')).toBe('lone escape');
  });

  it('hides the secrets of a URL in it, as targets are shown', () => {
    expect(cleanLine('cannot reach postgres://app:hunter2@10.0.0.7:5432/db?password=hunter2&sslmode=require now'))
      .toBe('cannot reach postgres://***:***@10.0.0.7:5432/db?password=***&sslmode=*** now');
    expect(cleanLine('GET http://127.0.0.1:8080/health?token=abc failed')).toBe('GET http://127.0.0.1:8080/health?token=*** failed');
    expect(cleanLine('no URL here: a:b@c')).toBe('no URL here: a:b@c');
  });

  it(`is ${LINE_LIMIT} characters at most, cut between characters, never inside one`, () => {
    const long = '\ud83d\ude80'.repeat(300);
    const cut = cleanLine(long);
    expect(Array.from(cut)).toHaveLength(LINE_LIMIT);
    expect(cut.endsWith('\ud83d\ude80...')).toBe(true);
    expect(cleanLine('x'.repeat(LINE_LIMIT))).toBe('x'.repeat(LINE_LIMIT));
  });
});
