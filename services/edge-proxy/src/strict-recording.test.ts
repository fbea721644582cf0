import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, type Bus } from '@airlock/bus';
import { SessionEvent, sessionEventsStream, type CallRequested } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { createSessionEventSink, type SessionEventSink } from './events.js';
import { recordBeforeForwarding } from './strict-recording.js';

const requested: CallRequested = {
  principal: { subject: 'alice', issuer: 'https://idp.example', groups: [], sessionId: 's1', name: '' },
  call: { service: 's3', operation: 'PutObject', action: 's3:PutObject', resources: ['arn:aws:s3:::b/k'], region: 'us-east-1', roleArn: 'arn:aws:iam::1:role/r', parameters: {} },
  requestId: 'req-1',
  approvalId: '',
};

describe('strict recording before forwarding', () => {
  let dir: string;
  let bus: Bus;
  let sink: SessionEventSink;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-strict-'));
    bus = await createEmbeddedBus({ dataDir: dir });
    sink = createSessionEventSink(bus, 'edge-1', createLogger({ service: 'edge', level: 'silent' }));
  });
  afterEach(async () => {
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves only once the request event is on the bus', async () => {
    await recordBeforeForwarding(sink, 's1', requested, 2_000);
    const [message] = await bus.fetch({ stream: sessionEventsStream.name, durable: 'check' }, { max: 10, expiresMs: 100 });
    expect(message?.subject).toBe(sessionEventsStream.subjectFor('s1'));
    expect(SessionEvent.decode(message!.data)).toMatchObject({ sessionId: 's1', edgeId: 'edge-1', body: { $case: 'requested', value: requested } });
  });

  it('refuses the call with a retryable DependencyUnavailable when the bus fails', async () => {
    await bus.close();
    await expect(recordBeforeForwarding(sink, 's1', requested, 2_000)).rejects.toMatchObject({
      code: 'DependencyUnavailable',
      message: expect.stringContaining('the call was not forwarded'),
    });
  });

  it('refuses the call when the bus does not acknowledge within the timeout', async () => {
    const silent: SessionEventSink = { record: () => new Promise<void>(() => undefined) };
    await expect(recordBeforeForwarding(silent, 's1', requested, 50)).rejects.toMatchObject({
      code: 'DependencyUnavailable',
      cause: expect.objectContaining({ message: 'the bus did not acknowledge in time' }),
    });
  });
});
