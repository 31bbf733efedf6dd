// Worker thread body of an ImagePool: runs image jobs one after another (so a worker holds at most one
// decoded image) and sends back pixel buffers without copying them.
import { parentPort } from 'node:worker_threads';
import { runImageJob, type ImageJob } from './image-job.js';

const port = parentPort;
if (!port) throw new Error('image-worker must run in a worker thread');

let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: { id: number; job: ImageJob }) => {
  chain = chain.then(async () => {
    const res = await runImageJob(msg.job);
    const transfer = res.ok && res.pixels ? [res.pixels.data.buffer as ArrayBuffer] : [];
    port.postMessage({ id: msg.id, res }, transfer);
  });
});
