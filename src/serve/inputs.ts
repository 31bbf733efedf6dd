// The posts of a /predict request, read from memory: JSON ({text, image} or {posts: [{id?, text, image}]},
// images as base64 or data URLs) or multipart/form-data (the k-th `text` field goes with the k-th `image`
// file, optional `id` fields likewise), parsed by busboy. Every error names the field at fault.
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from './errors.js';

/** A post as it arrived: its image still encoded. `field` names where the image came from, for errors. */
export interface RawPost {
  id: string;
  text: string;
  image: Buffer;
  field: string;
}

export interface InputLimits {
  maxBodyBytes: number;
  maxPosts: number;
  /** Longest time to receive the whole body (a slow client is answered 408). */
  bodyTimeoutMs: number;
}

/** Reads a body up to the limit: 413 beyond it (declared or actual), 408 when it arrives too slowly. */
export function readBody(req: IncomingMessage, l: InputLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > l.maxBodyBytes)
      return reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${l.maxBodyBytes}`));
    const parts: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(
      () => reject(new HttpError(408, `the request body did not arrive within ${l.bodyTimeoutMs} ms`)),
      l.bodyTimeoutMs,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > l.maxBodyBytes) {
        req.removeAllListeners('data');
        req.resume();
        fail(new HttpError(413, `request body exceeds the limit of ${l.maxBodyBytes} bytes`));
      } else parts.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts));
    });
    req.on('error', () => fail(new HttpError(400, 'the request body was cut off')));
    req.on('aborted', () => fail(new HttpError(400, 'the request body was cut off')));
  });
}

interface PostIn {
  id?: unknown;
  text?: unknown;
  image?: unknown;
}

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Whether `b64`, which decoded to `decoded` bytes, is plain base64: Buffer.from skips characters that are not
 * base64 (and whitespace), so each one makes fewer bytes than the length promises; '-' and '_' (base64url)
 * it takes, so they are looked for; the last character must carry no bits beyond the last byte.
 */
function plainBase64(b64: string, decoded: number): boolean {
  let end = b64.length;
  while (end > 0 && b64.charCodeAt(end - 1) === 61 /* = */) end--;
  const rest = end % 4;
  if (rest === 1 || decoded !== Math.floor((end * 3) / 4)) return false;
  if (b64.includes('-') || b64.includes('_')) return false;
  return rest === 0 || (BASE64_ALPHABET.indexOf(b64[end - 1]!) & (rest === 2 ? 15 : 3)) === 0;
}

function decodeBase64(s: string, where: string): Buffer {
  const b64 = s.replace(/^data:[^;,]*;base64,/, '');
  const bytes = Buffer.from(b64, 'base64');
  // The common case is told from the decoded length; anything else (whitespace, stray characters) by a round
  // trip, which copies the image three times (half the 12 ms of parsing a body with a 2 MB image).
  if (
    !plainBase64(b64, bytes.length) &&
    bytes.toString('base64').replace(/=+$/, '') !== b64.replace(/\s+/g, '').replace(/=+$/, '')
  )
    throw new HttpError(400, `${where}: not base64`);
  if (bytes.length === 0) throw new HttpError(400, `${where}: empty image`);
  return bytes;
}

function checkText(text: unknown, where: string): string {
  if (typeof text !== 'string') throw new HttpError(400, `${where}: expected a string`);
  if (text.trim() === '') throw new HttpError(400, `${where}: the text is empty`);
  return text;
}

/** The posts of a JSON body. */
export function parseJsonPosts(body: Buffer, maxPosts: number): RawPost[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `body is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new HttpError(400, 'body must be a JSON object: {"text", "image"} or {"posts": [...]}');
  const obj = json as { posts?: unknown } & PostIn;
  if (obj.posts !== undefined && !Array.isArray(obj.posts)) throw new HttpError(400, '"posts" must be an array');
  const list: unknown[] = Array.isArray(obj.posts) ? obj.posts : [obj];
  if (list.length === 0) throw new HttpError(400, 'no posts in the request');
  if (list.length > maxPosts) throw new HttpError(413, `${list.length} posts in one request; the limit is ${maxPosts}`);
  return list.map((item, i) => {
    const where = obj.posts ? `posts[${i}]` : 'body';
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new HttpError(400, `${where}: expected an object with "text" and "image"`);
    const p = item as PostIn;
    const text = checkText(p.text, `${where}.text`);
    if (typeof p.image !== 'string' || p.image === '')
      throw new HttpError(400, `${where}.image: expected the image file as a base64 string`);
    if (p.id !== undefined && typeof p.id !== 'string' && typeof p.id !== 'number')
      throw new HttpError(400, `${where}.id: expected a string or a number`);
    const id = p.id === undefined ? String(i) : String(p.id);
    return { id, text, image: decodeBase64(p.image, `${where}.image`), field: `${where}.image` };
  });
}

/** The posts of a multipart/form-data request, streamed through busboy with the same limits. */
export function parseMultipartPosts(req: IncomingMessage, l: InputLimits): Promise<RawPost[]> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > l.maxBodyBytes)
      return reject(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${l.maxBodyBytes}`));
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: {
          fileSize: l.maxBodyBytes,
          files: l.maxPosts,
          fields: 2 * l.maxPosts,
          fieldSize: 1 << 20,
          parts: 3 * l.maxPosts,
        },
      });
    } catch (e) {
      return reject(new HttpError(400, `multipart/form-data: ${(e as Error).message}`));
    }
    const texts: string[] = [];
    const ids: string[] = [];
    const images: Buffer[] = [];
    let size = 0;
    let failed = false;
    const timer = setTimeout(
      () => fail(new HttpError(408, `the request body did not arrive within ${l.bodyTimeoutMs} ms`)),
      l.bodyTimeoutMs,
    );
    const fail = (e: HttpError) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      req.unpipe(bb);
      req.resume();
      reject(e);
    };
    const count = (n: number) => {
      size += n;
      if (size > l.maxBodyBytes) fail(new HttpError(413, `request body exceeds the limit of ${l.maxBodyBytes} bytes`));
    };
    bb.on('field', (name, value, info) => {
      count(value.length);
      if (info.valueTruncated) return fail(new HttpError(413, `field '${name}': value over 1 MiB`));
      if (name === 'text') texts.push(value);
      else if (name === 'id') ids.push(value);
      else fail(new HttpError(400, `unknown field '${name}' (fields: text, id; files: image)`));
    });
    bb.on('file', (name, stream) => {
      if (name !== 'image') {
        stream.resume();
        return fail(new HttpError(400, `unknown file field '${name}' (files are sent as 'image')`));
      }
      const k = images.length;
      const parts: Buffer[] = [];
      images.push(Buffer.alloc(0));
      stream.on('data', (c: Buffer) => {
        count(c.length);
        parts.push(c);
      });
      // A cut-off form fails the file stream too; busboy's own 'error' answers it.
      stream.on('error', () => undefined);
      stream.on('limit', () => fail(new HttpError(413, `file 'image' #${k + 1} exceeds ${l.maxBodyBytes} bytes`)));
      stream.on('close', () => {
        images[k] = Buffer.concat(parts);
      });
    });
    bb.on('filesLimit', () => fail(new HttpError(413, `more than ${l.maxPosts} images in one request`)));
    bb.on('fieldsLimit', () => fail(new HttpError(413, `more than ${2 * l.maxPosts} fields in one request`)));
    bb.on('partsLimit', () => fail(new HttpError(413, `more than ${3 * l.maxPosts} parts in one request`)));
    bb.on('error', (e: Error) => fail(new HttpError(400, `multipart/form-data: ${e.message}`)));
    req.on('aborted', () => fail(new HttpError(400, 'the request body was cut off')));
    bb.on('close', () => {
      if (failed) return;
      clearTimeout(timer);
      try {
        if (texts.length === 0 && images.length === 0)
          throw new HttpError(400, "no posts in the request (send 'text' fields and 'image' files)");
        if (texts.length !== images.length)
          throw new HttpError(
            400,
            `${texts.length} 'text' field(s) but ${images.length} 'image' file(s): send one of each per post`,
          );
        if (ids.length !== 0 && ids.length !== texts.length)
          throw new HttpError(
            400,
            `${ids.length} 'id' field(s) for ${texts.length} posts: give every post an id, or none`,
          );
        resolve(
          texts.map((t, i) => {
            const field = texts.length === 1 ? 'image' : `image #${i + 1}`;
            const text = checkText(t, texts.length === 1 ? 'text' : `text #${i + 1}`);
            if (images[i]!.length === 0) throw new HttpError(400, `${field}: empty file`);
            return { id: ids[i] ?? String(i), text, image: images[i]!, field };
          }),
        );
      } catch (e) {
        reject(e);
      }
    });
    req.pipe(bb);
  });
}
