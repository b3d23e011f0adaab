/** Text-like displays: Markdown, HTML, SVG and PNG images. */
import { displayable, type Displayable } from "./bundle.js";

export { escapeHtml, escapeMarkdown } from "./escape.js";

/** Markdown, rendered by the notebook; the raw text elsewhere. */
export function markdown(text: string): Displayable {
  return displayable({ "text/markdown": text, "text/plain": text });
}

/** An HTML fragment; `text` is what terminals show (default: the HTML with tags stripped). */
export function html(fragment: string, text?: string): Displayable {
  const plain = text ?? fragment.replace(/<[^>]*>/g, "").replace(/\n{3,}/g, "\n\n").trim();
  return displayable({ "text/html": fragment, "text/plain": plain });
}

/** An SVG image. */
export function svg(markup: string, text = "[SVG image]"): Displayable {
  return displayable({ "image/svg+xml": markup, "text/plain": text });
}

/** A PNG image from its bytes. */
export function png(bytes: Uint8Array, text = "[PNG image]"): Displayable {
  return displayable({ "image/png": Buffer.from(bytes).toString("base64"), "text/plain": text });
}
