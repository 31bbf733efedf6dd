// Text files of older datasets (MVSA) are in mixed encodings: most are UTF-8, some Windows-1252/Latin-1.
// Strict UTF-8 first; on failure, Windows-1252 (a superset of printable Latin-1), so no post is lost to encoding.
// Windows-1252 is decoded here: Node 20's TextDecoder('windows-1252') decodes 0x80-0x9F as Latin-1 controls.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

// Windows-1252 code points for bytes 0x80-0x9F (0 = unassigned there; kept as the Latin-1 control).
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

export type TextEncoding = 'utf-8' | 'windows-1252';

/** Decodes Windows-1252 bytes. */
export function decodeCp1252(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] || b : b);
  return out;
}

/** Decodes bytes as strict UTF-8, else Windows-1252; says which one was used. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8' };
  } catch {
    return { text: decodeCp1252(bytes), encoding: 'windows-1252' };
  }
}
