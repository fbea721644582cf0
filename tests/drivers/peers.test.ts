import { describe, expect, it } from 'vitest';
import { startNats, startRedis } from '../support/peers.js';

describe('test peers', () => {
  it('report a server that cannot start, with what it printed', async () => {
    const redis = await startRedis();
    try {
      const error = await startNats({ port: redis.port }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/nats-server on port \d+ failed to start/);
      expect((error as Error).message).toMatch(/address already in use|bind/i);
    } finally {
      await redis.stop();
    }
  });
});
