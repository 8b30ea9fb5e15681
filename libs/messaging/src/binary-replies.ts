import { ConsumerSerializer, IncomingResponse, OutgoingResponse, ProducerDeserializer } from '@nestjs/microservices';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer';
import { NatsResponseJSONDeserializer } from '@nestjs/microservices/deserializers/nats-response-json.deserializer';

/**
 * Nest's NATS transport JSON-encodes every reply. A handler that already holds its answer as
 * bytes (a feed page of pre-serialised records) would pay for a JSON string escape on the way
 * out and a parse on the way in. These two let such a handler return a `Uint8Array`: the reply
 * goes out as a marker byte, the envelope length (4 bytes, big-endian), the envelope as JSON
 * (`{id, isDisposed}`) and the bytes untouched. Every other reply stays plain JSON, and a JSON
 * reply never starts with the marker, so both kinds share one connection and one pattern space.
 */
const BINARY_REPLY_MARK = 0x00;

/** Module side (server): frames `Uint8Array` responses, JSON for everything else. */
export class BinaryReplySerializer implements ConsumerSerializer {
  private readonly json = new NatsRecordSerializer();

  serialize(packet: OutgoingResponse): { data: Uint8Array; headers?: unknown } {
    const body = packet.response;
    if (!(body instanceof Uint8Array) || packet.err !== undefined) return this.json.serialize(packet) as { data: Uint8Array };
    const envelope = new TextEncoder().encode(JSON.stringify({ id: packet.id, isDisposed: packet.isDisposed ?? true }));
    const data = new Uint8Array(5 + envelope.length + body.length);
    data[0] = BINARY_REPLY_MARK;
    new DataView(data.buffer, data.byteOffset + 1, 4).setUint32(0, envelope.length);
    data.set(envelope, 5);
    data.set(body, 5 + envelope.length);
    return { data };
  }
}

/** Caller side (client): a framed reply's response is a `Buffer` view of its bytes. */
export class BinaryReplyDeserializer implements ProducerDeserializer {
  private readonly json = new NatsResponseJSONDeserializer();

  deserialize(value: Uint8Array, options?: Record<string, unknown>): IncomingResponse | Promise<IncomingResponse> {
    if (!(value instanceof Uint8Array) || value.length < 5 || value[0] !== BINARY_REPLY_MARK) return this.json.deserialize(value, options);
    const envelopeLength = new DataView(value.buffer, value.byteOffset + 1, 4).getUint32(0);
    const envelope = JSON.parse(new TextDecoder().decode(value.subarray(5, 5 + envelopeLength))) as { id: string; isDisposed?: boolean };
    const body = value.subarray(5 + envelopeLength);
    return { id: envelope.id, isDisposed: envelope.isDisposed ?? true, err: undefined, response: Buffer.from(body.buffer, body.byteOffset, body.length) };
  }
}
