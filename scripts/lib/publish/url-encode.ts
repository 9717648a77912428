/**
 * Percent-encodes a URL component strictly (RFC 3986): also `!'()*`, which encodeURIComponent leaves,
 * so a URL can sit inside a Markdown link `[...](url)` without its parentheses ending the link.
 */
export function encodeComponent(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
