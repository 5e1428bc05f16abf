/**
 * Just enough of the protobuf wire format to walk and splice ONNX files without decoding them:
 * fields are visited as byte ranges over the original buffer, so a weight blob of hundreds of MB is
 * skipped by its length and never copied while a graph is inspected.
 */
import { concatBytes } from '../bytes.ts';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

/** One field of a message, as positions in the buffer it was read from. */
export interface FieldSpan {
  field: number;
  wireType: number;
  /** Where the field's tag starts. */
  tagStart: number;
  /** Where the value starts (after the length prefix for length-delimited fields). */
  valueStart: number;
  /** One past the value's last byte. */
  end: number;
  /** The value of a varint field (exact up to 2^53). */
  varint: number;
}

/** Reads a varint at `pos`; returns its value (exact up to 2^53) and the position after it. */
export function readVarint(bytes: Uint8Array, pos: number, limit = bytes.length): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= limit) throw new ProtobufError(`truncated varint at byte ${pos}`);
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return { value, next: pos };
    scale *= 128;
  }
  throw new ProtobufError(`varint longer than 10 bytes at byte ${pos}`);
}

/** The fields of the message stored in bytes[start, end), in order. */
export function* fields(bytes: Uint8Array, start = 0, end = bytes.length): Generator<FieldSpan> {
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const tag = readVarint(bytes, pos, end);
    pos = tag.next;
    const field = Math.floor(tag.value / 8);
    const wireType = tag.value % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${tagStart}`);
    let valueStart = pos;
    let varint = 0;
    switch (wireType) {
      case WIRE_VARINT: {
        const v = readVarint(bytes, pos, end);
        varint = v.value;
        pos = v.next;
        break;
      }
      case WIRE_FIXED64:
        pos += 8;
        break;
      case WIRE_FIXED32:
        pos += 4;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const len = readVarint(bytes, pos, end);
        valueStart = len.next;
        pos = len.next + len.value;
        break;
      }
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} (field ${field}) at byte ${tagStart}`);
    }
    if (pos > end) throw new ProtobufError(`field ${field} at byte ${tagStart} runs past the end of its message`);
    yield { field, wireType, tagStart, valueStart, end: pos, varint };
  }
}

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

export function spanString(bytes: Uint8Array, span: FieldSpan): string {
  return utf8Decoder.decode(bytes.subarray(span.valueStart, span.end));
}

/** The values of a repeated varint field, packed or not, collected over the message's spans. */
export function repeatedVarints(bytes: Uint8Array, spans: readonly FieldSpan[]): number[] {
  const out: number[] = [];
  for (const span of spans) {
    if (span.wireType === WIRE_VARINT) {
      out.push(span.varint);
      continue;
    }
    let pos = span.valueStart;
    while (pos < span.end) {
      const v = readVarint(bytes, pos, span.end);
      out.push(v.value);
      pos = v.next;
    }
  }
  return out;
}

/** Builds protobuf messages; `finish()` returns the bytes written so far. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  get length(): number {
    return this.size + this.scratch.length;
  }

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.chunks.push(Uint8Array.from(this.scratch));
    this.size += this.scratch.length;
    this.scratch = [];
  }

  varintValue(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new ProtobufError(`cannot encode ${value} as a varint`);
    let v = value;
    while (v >= 128) {
      this.scratch.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.scratch.push(v);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varintValue(field * 8 + wireType);
  }

  varint(field: number, value: number): this {
    return this.tag(field, WIRE_VARINT).varintValue(value);
  }

  /** A length-delimited field holding `data` (kept by reference until finish()). */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED).varintValue(data.length);
    this.raw(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, utf8Encoder.encode(text));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  /** Bytes copied verbatim (e.g. a field span of another message). */
  raw(data: Uint8Array): this {
    this.flushScratch();
    this.chunks.push(data);
    this.size += data.length;
    return this;
  }

  finish(): Uint8Array {
    this.flushScratch();
    return concatBytes(this.chunks, this.size);
  }
}

export function encodeVarint(value: number): Uint8Array {
  return new ProtoWriter().varintValue(value).finish();
}
