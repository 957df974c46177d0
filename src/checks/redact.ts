/**
 * What every output shows of a check's target (log lines, state.json, `/status`, `usher status`,
 * error messages): never a secret it holds. The check itself runs on the real target. Free of
 * imports: `usher status` has a bundle of its own.
 */

/** Stands for what is left out. */
export const HIDDEN = '***';

/** A command check's command (`PGPASSWORD=… psql`) is never shown; a URL's secrets are hidden; HOST:PORT is shown as it is. */
export function shownTarget(check: { readonly type: string; readonly target: string }): string {
  if (check.type === 'cmd') return '(command)';
  if (check.type === 'http') return redactUrl(check.target);
  return check.target;
}

/**
 * A URL with its user name, password, query values and fragment hidden, and the scheme, host,
 * port, path and query keys kept: `http://admin:pw@127.0.0.1:8080/health?key=pw&verbose` is
 * shown as `http://***:***@127.0.0.1:8080/health?key=***&***` (a parameter without `=` is a
 * value: tokens are passed that way too). Works on the text itself, so a URL too broken to parse
 * is hidden as well: then everything up to its last `@` counts as user name and password.
 */
export function redactUrl(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  const rest = text.slice(scheme.length);
  const at = userInfoEnd(rest, scheme !== '' && isWellFormed(text));
  const userInfo = at === -1 ? '' : `${redactUserInfo(rest.slice(0, at))}@`;
  const [beforeFragment, fragment] = cut(rest.slice(at + 1), '#');
  const [hostAndPath, query] = cut(beforeFragment, '?');
  return `${scheme}${userInfo}${hostAndPath}${query === undefined ? '' : `?${redactQuery(query)}`}${fragment === undefined ? '' : `#${hide(fragment)}`}`;
}

/** A parsed and re-serialized URL has the `/`, `?`, `#` and `@` of its user info escaped. */
function isWellFormed(text: string): boolean {
  try {
    return new URL(text).href === text;
  } catch {
    return false;
  }
}

/**
 * Where the user info ends (its `@`), or -1. In a well-formed URL it is the last `@` before the
 * first `/`, `?` or `#`; in broken text a password may hold any of them (that may be why it is
 * broken), so the last `@` of all counts.
 */
function userInfoEnd(rest: string, wellFormed: boolean): number {
  if (!wellFormed) return rest.lastIndexOf('@');
  const authority = rest.slice(0, rest.search(/[/?#]|$/));
  return authority.lastIndexOf('@');
}

function redactUserInfo(userInfo: string): string {
  const colon = userInfo.indexOf(':');
  return colon === -1 ? hide(userInfo) : `${hide(userInfo.slice(0, colon))}:${hide(userInfo.slice(colon + 1))}`;
}

function redactQuery(query: string): string {
  return query.split('&').map((parameter) => {
    const equals = parameter.indexOf('=');
    return equals === -1 ? hide(parameter) : `${parameter.slice(0, equals + 1)}${hide(parameter.slice(equals + 1))}`;
  }).join('&');
}

/** Empty stays empty: there is nothing to hide, and `key=` says so. */
function hide(part: string): string {
  return part === '' ? '' : HIDDEN;
}

/** The text before the first `mark`, and after it (undefined when there is no mark). */
function cut(text: string, mark: string): [string, string | undefined] {
  const at = text.indexOf(mark);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
