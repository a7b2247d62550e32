// Reading and writing one Thrift binary-protocol message whose body is a single-field struct
// (a service call's `args {1: req}` or its `result {0: success}`), with the thrift library that
// @databricks/sql itself uses. Everything else passes through the gateway as raw bytes.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// thrift ships no type declarations; the few members used here are typed below.
const thrift = require('thrift') as {
  TBufferedTransport: TransportCtor & { receiver(cb: (t: Transport) => void): (data: Buffer) => void };
  TBinaryProtocol: new (t: Transport) => Protocol;
  Thrift: { Type: { STOP: number; STRUCT: number } };
};

interface Transport {
  flush(): void;
}
type TransportCtor = new (buffer: Buffer | undefined, onFlush: (buf: Buffer) => void) => Transport;
interface Protocol {
  readMessageBegin(): { fname: string; mtype: number; rseqid: number };
  readMessageEnd(): void;
  readStructBegin(): void;
  readStructEnd(): void;
  readFieldBegin(): { fname: string; ftype: number; fid: number };
  readFieldEnd(): void;
  skip(type: number): void;
  writeMessageBegin(name: string, type: number, seqid: number): void;
  writeMessageEnd(): void;
  writeStructBegin(name: string): void;
  writeStructEnd(): void;
  writeFieldBegin(name: string, type: number, id: number): void;
  writeFieldEnd(): void;
  writeFieldStop(): void;
  flush(): void;
}
export interface ThriftStruct {
  read(p: Protocol): void;
  write(p: Protocol): void;
}

export interface MessageHeader {
  name: string;
  type: number;
  seqid: number;
}

/** The header of a message, without decoding its body. */
export function peekHeader(buf: Buffer): MessageHeader {
  const proto = reader(buf);
  const h = proto.readMessageBegin();
  return { name: h.fname, type: h.mtype, seqid: h.rseqid };
}

/**
 * Decodes the message's single struct field `fieldId` into `into`. Returns false (and leaves `into`
 * untouched) when the body does not carry that field, e.g. a result that holds an exception.
 */
export function readSingleField(buf: Buffer, fieldId: number, into: ThriftStruct): boolean {
  const proto = reader(buf);
  proto.readMessageBegin();
  proto.readStructBegin();
  let found = false;
  for (;;) {
    const f = proto.readFieldBegin();
    if (f.ftype === thrift.Thrift.Type.STOP) break;
    if (f.fid === fieldId && f.ftype === thrift.Thrift.Type.STRUCT) {
      into.read(proto);
      found = true;
    } else {
      proto.skip(f.ftype);
    }
    proto.readFieldEnd();
  }
  proto.readStructEnd();
  proto.readMessageEnd();
  return found;
}

/** Encodes a message whose body is a struct with the single field `fieldId` = `value`. */
export function writeSingleField(header: MessageHeader, fieldId: number, value: ThriftStruct): Buffer {
  let out: Buffer | undefined;
  const proto = new thrift.TBinaryProtocol(new thrift.TBufferedTransport(undefined, (b) => (out = b)));
  proto.writeMessageBegin(header.name, header.type, header.seqid);
  proto.writeStructBegin('body');
  proto.writeFieldBegin('value', thrift.Thrift.Type.STRUCT, fieldId);
  value.write(proto);
  proto.writeFieldEnd();
  proto.writeFieldStop();
  proto.writeStructEnd();
  proto.writeMessageEnd();
  proto.flush();
  if (!out) throw new Error('thrift transport did not flush');
  return out;
}

function reader(buf: Buffer): Protocol {
  let proto: Protocol | undefined;
  thrift.TBufferedTransport.receiver((t) => (proto = new thrift.TBinaryProtocol(t)))(buf);
  return proto as Protocol;
}
