/**
 * Secrets never reach a journal, a report or a terminal: an endpoint that
 * echoes the request's Authorization header in an error body ("bad key:
 * Bearer sk-...") would otherwise have the key written into every record of
 * the failure. Errors are redacted where they are made (the HTTP client,
 * which knows the key) and again where they are recorded (any bearer token).
 */

export const REDACTED = "[redacted]";

/** Credentials after an auth scheme, as in an echoed Authorization header (RFC 9110 section 11.4). */
const AUTH_TOKEN = /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9\-._~+/=:%]+/gi;

/**
 * `text` with every occurrence of each secret (as written, JSON-escaped or
 * URL-encoded) and every bearer/basic token replaced by "[redacted]".
 * Secrets shorter than 4 characters are left alone (they would blank out
 * ordinary words).
 * @example redactSecrets("bad key: Bearer sk-123", ["sk-123"]) // "bad key: Bearer [redacted]"
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)])) out = out.split(form).join(REDACTED);
  }
  return out.replace(AUTH_TOKEN, (all, scheme: string, space: string) => `${scheme}${space}${REDACTED}`);
}
