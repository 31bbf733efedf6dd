// A minimal Hugging Face Hub on 127.0.0.1 for tests: the API listing, /resolve/ with the Hub's headers, and
// a separate "CDN" server (another origin) that serves LFS blobs with Range support. Knobs break downloads.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  authorization: string | undefined;
  range: string | undefined;
}

export const gitBlobSha1 = (data: Buffer): string =>
  createHash('sha1').update(`blob ${data.byteLength}\0`).update(data).digest('hex');
export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

export class FakeHub {
  readonly commit = createHash('sha1').update('fake commit').digest('hex');
  readonly files = new Map<string, { data: Buffer; lfs: boolean }>();
  readonly requests: LoggedRequest[] = [];
  /** The next CDN GET sends this many bytes and then drops the connection. */
  cutNextGetAfter: number | null = null;
  /** Served bodies get one byte flipped. */
  corrupt = false;
  /** HEAD announces a size 7 bytes larger than an LFS file. */
  wrongSize = false;
  /** When set, the repo answers only requests carrying this bearer token. */
  requireToken: string | null = null;
  private hub: Server | null = null;
  private cdn: Server | null = null;
  endpoint = '';
  private cdnOrigin = '';

  constructor(
    readonly repoId: string,
    folder: string,
    names: string[],
  ) {
    for (const n of names) this.files.set(n, { data: readFileSync(join(folder, n)), lfs: n.endsWith('.safetensors') });
  }

  add(name: string, data: Buffer, lfs = false): void {
    this.files.set(name, { data, lfs });
  }

  async start(): Promise<void> {
    this.hub = createServer((req, res) => this.onHub(req, res));
    this.cdn = createServer((req, res) => this.onCdn(req, res));
    this.endpoint = `http://127.0.0.1:${await listen(this.hub)}`;
    // Another port is another origin, as a real CDN is: the token must not follow the redirect there.
    this.cdnOrigin = `http://127.0.0.1:${await listen(this.cdn)}`;
  }

  async stop(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      if (s === null) continue;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    this.hub = this.cdn = null;
  }

  private log(server: 'hub' | 'cdn', req: IncomingMessage): void {
    this.requests.push({
      server,
      method: req.method ?? '',
      path: req.url ?? '',
      authorization: req.headers.authorization,
      range: req.headers.range,
    });
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    this.log('hub', req);
    const url = decodeURIComponent(req.url ?? '');
    const api = `/api/models/${this.repoId}/revision/`;
    const resolve = `/${this.repoId}/resolve/`;
    if (this.requireToken !== null && req.headers.authorization !== `Bearer ${this.requireToken}`) {
      res.writeHead(401, { 'x-error-code': 'RepoNotFound' }).end();
      return;
    }
    if (url.startsWith(api)) {
      const rev = url.slice(api.length);
      if (rev !== 'main' && rev !== this.commit) {
        res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end();
        return;
      }
      const body = JSON.stringify({
        id: this.repoId,
        sha: this.commit,
        siblings: [...this.files.keys()].map((rfilename) => ({ rfilename })),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    if (url.startsWith(resolve)) {
      const [rev, ...rest] = url.slice(resolve.length).split('/');
      const file = this.files.get(rest.join('/'));
      if (rev !== 'main' && rev !== this.commit) {
        res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end();
        return;
      }
      if (file === undefined) {
        res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
        return;
      }
      // Only LFS sizes are skewed: a wrong Content-Length on a direct body would just stall the socket.
      const size = file.data.byteLength + (this.wrongSize && file.lfs ? 7 : 0);
      if (file.lfs) {
        const oid = sha256(file.data);
        res
          .writeHead(302, {
            location: `${this.cdnOrigin}/blobs/${oid}`,
            'x-repo-commit': this.commit,
            'x-linked-etag': `"${oid}"`,
            'x-linked-size': String(size),
            etag: '"pointer-etag"',
          })
          .end();
        return;
      }
      res.writeHead(200, {
        'x-repo-commit': this.commit,
        etag: `"${gitBlobSha1(file.data)}"`,
        'content-length': String(size),
      });
      const body = Buffer.from(file.data);
      if (this.corrupt) body[body.byteLength >> 1] ^= 0xff;
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(404).end();
  }

  private onCdn(req: IncomingMessage, res: ServerResponse): void {
    this.log('cdn', req);
    const oid = (req.url ?? '').replace('/blobs/', '');
    const file = [...this.files.values()].find((f) => f.lfs && sha256(f.data) === oid);
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    const data = Buffer.from(file.data);
    if (this.corrupt) data[data.byteLength >> 1] ^= 0xff;
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    if (start >= data.byteLength && m) {
      res.writeHead(416).end();
      return;
    }
    const body = data.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-length': String(body.byteLength),
      ...(m ? { 'content-range': `bytes ${start}-${data.byteLength - 1}/${data.byteLength}` } : {}),
    });
    const cut = this.cutNextGetAfter;
    if (cut !== null && cut < body.byteLength) {
      this.cutNextGetAfter = null;
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
