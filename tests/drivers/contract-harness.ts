import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** One suite, several drivers: what passes here is what services may rely on from any of them. */
export interface ContractDriver<Client> {
  name: string;
  setup(): Promise<void>;
  open(): Promise<Client>;
  teardown(): Promise<void>;
}

export interface DriverClients<Client> {
  /** Opens a client that is closed after the current test. */
  client(): Promise<Client>;
  /** Closes every client opened so far. */
  closeAll(): Promise<void>;
}

/**
 * The hooks every contract suite needs, registered in the calling `describe`: the driver is set up once, the
 * clients of each test are closed after it, and the driver is torn down at the end.
 */
export function useDriver<Client extends { close(): Promise<void> }>(driver: ContractDriver<Client>): DriverClients<Client> {
  const open: Client[] = [];
  const client = async (): Promise<Client> => {
    const opened = await driver.open();
    open.push(opened);
    return opened;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((opened) => opened.close()));
  };

  beforeAll(() => driver.setup());
  afterEach(closeAll);
  afterAll(async () => {
    await closeAll();
    await driver.teardown();
  });
  return { client, closeAll };
}

/** A driver that keeps its data in a fresh temporary folder (named with `prefix`), removed at teardown. */
export function folderDriver<Client>(name: string, prefix: string, open: (dir: string) => Promise<Client>): ContractDriver<Client> {
  let dir = '';
  return {
    name,
    async setup() {
      dir = await mkdtemp(join(tmpdir(), prefix));
    },
    open: () => open(dir),
    async teardown() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
