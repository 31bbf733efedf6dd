// What a file that is not an image is instead, from its first bytes: scraped releases hold error and login
// pages, JSON error bodies and plain text saved under the image's name. No dependency on the decoder.

/** A description such as 'an HTML page (a saved error or login page?)' when the bytes are text of a known kind, else null. */
export function describeNonImage(head: Uint8Array): string | null {
  let text = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, 512)).toString('latin1');
  text = text.replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (/^<(!doctype\s+html|html|head|body|script|meta|title|!--)/i.test(text)) {
    return 'an HTML page (a saved error or login page?), not an image';
  }
  if (/^<\?xml/i.test(text))
    return /<svg/i.test(text) ? 'an SVG drawing, not a bitmap image' : 'an XML document, not an image';
  if (/^<svg/i.test(text)) return 'an SVG drawing, not a bitmap image';
  if (/^[{[]\s*"/.test(text)) return 'a JSON document (an API error body?), not an image';
  // printable ASCII only: some other text file
  if (text.length > 0 && /^[\t\n\r\x20-\x7e]+$/.test(text.slice(0, 64))) return 'a text file, not an image';
  return null;
}
