// The encoder's thread (see encoder.ts): requests in order, one reply per encode job, the encoded buffers
// transferred back without a copy.
import { parentPort, workerData } from 'node:worker_threads';
import { EventEncoder, type EncoderSettings } from './event-encoder.ts';
import { loadRecordDecoder, serializeError, type WorkerReply, type WorkerRequest } from './encoder.ts';

const port = parentPort!;
const settings = workerData as EncoderSettings;
// messages posted meanwhile wait in the port's queue: its listener is added once the decoder is loaded
const core = new EventEncoder(settings, await loadRecordDecoder(settings.decoder));

port.on('message', (req: WorkerRequest) => {
  switch (req.type) {
    case 'define':
      return core.define(req.def);
    case 'reset':
      return core.reset();
    case 'encode': {
      let reply: WorkerReply;
      try {
        reply = { id: req.id, batch: core.encode(req.job) };
      } catch (err) {
        return port.postMessage({ id: req.id, error: serializeError(err) } satisfies WorkerReply);
      }
      return port.postMessage(reply, [reply.batch.bytes, reply.batch.index.buffer as ArrayBuffer]);
    }
  }
});
