import 'reflect-metadata';
import fc from 'fast-check';
import { NatsRecordSerializer } from '@nestjs/microservices/serializers/nats-record.serializer';
import { NatsResponseJSONDeserializer } from '@nestjs/microservices/deserializers/nats-response-json.deserializer';
import { BinaryReplyDeserializer, BinaryReplySerializer } from './binary-replies';

describe('binary replies over Nest NATS request-reply', () => {
  const serializer = new BinaryReplySerializer();
  const deserializer = new BinaryReplyDeserializer();

  it('carries a byte response unchanged, with its packet id and disposal, whatever the bytes are', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uuid(), fc.uint8Array({ maxLength: 2_000 }), fc.boolean(), async (id, bytes, isDisposed) => {
        const wire = serializer.serialize({ id, response: bytes, isDisposed });
        const packet = await deserializer.deserialize(wire.data);
        expect(packet.id).toBe(id);
        expect(packet.isDisposed).toBe(isDisposed);
        expect(packet.err).toBeUndefined();
        expect(Buffer.isBuffer(packet.response)).toBe(true);
        expect(Buffer.compare(packet.response as Buffer, Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves JSON replies and errors exactly as Nest writes and reads them', async () => {
    const nestOut = new NatsRecordSerializer();
    const nestIn = new NatsResponseJSONDeserializer();
    await fc.assert(
      fc.asyncProperty(fc.uuid(), fc.jsonValue(), fc.boolean(), async (id, response, isDisposed) => {
        const packet = { id, response, isDisposed };
        const wire = serializer.serialize(packet);
        expect(Buffer.from(wire.data).toString()).toBe(Buffer.from(nestOut.serialize(packet).data as Uint8Array).toString());
        expect(await deserializer.deserialize(wire.data)).toEqual(await nestIn.deserialize(wire.data));
      }),
      { numRuns: 300 },
    );
    const failed = serializer.serialize({ id: 'x', err: { error: { code: 'UNAVAILABLE', message: 'down' } }, response: new Uint8Array([1, 2]), isDisposed: true });
    expect(await deserializer.deserialize(failed.data)).toMatchObject({ id: 'x', err: { error: { code: 'UNAVAILABLE', message: 'down' } }, isDisposed: true });
  });
});
