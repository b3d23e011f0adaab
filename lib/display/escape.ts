/**
 * Escaping user text for the formats tslm writes: HTML and Markdown. One
 * escaper per format, used everywhere (reports, tables, notebook displays).
 */

const HTML: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and attribute values (quoted with either quote). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML[c]);
}

/**
 * Escapes text so Markdown renders it literally, inline (in a list item, a
 * heading, a table cell or after other text). Every character that can open
 * markup gets a backslash, which CommonMark defines for any ASCII
 * punctuation (spec 0.31, section 2.4): emphasis `*` `_`, code `` ` ``, link
 * and image brackets `[` `]` (without them `(`, `)` and `!` stay text), raw
 * HTML and entities `<` `>` `&`, table pipes `|`, strikethrough `~`, math
 * `$`, issue references `#` and the backslash itself. Line breaks become
 * spaces. With `lineStart`, a leading `+`, `-`, `=` or `1.` that would open
 * a block is escaped too.
 * @example escapeMarkdown("[x](javascript:alert(1))") // "\\[x\\](javascript:alert(1))"
 */
export function escapeMarkdown(text: string, options: { lineStart?: boolean } = {}): string {
  const inline = text.replace(/\r\n?|\n/g, " ").replace(/[\\`*_[\]<>&|~$#]/g, "\\$&");
  return options.lineStart ? inline.replace(/^(\s*)([+\-=])/, "$1\\$2").replace(/^(\s*\d+)\./, "$1\\.") : inline;
}
