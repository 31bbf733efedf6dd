// Text files of older datasets (MVSA) are in mixed encodings: most are UTF-8, some Windows-1252/Latin-1.
// Strict UTF-8 first; on failure, Windows-1252 (a superset of printable Latin-1), so no post is lost to encoding.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const cp1252 = new TextDecoder('windows-1252');

export type TextEncoding = 'utf-8' | 'windows-1252';

/** Decodes bytes as strict UTF-8, else Windows-1252; says which one was used. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: cp1252.decode(bytes), encoding: 'windows-1252' };
  }
}
