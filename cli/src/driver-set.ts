import type { AirlockConfig } from '@airlock/config';
import type { BlobStore } from '@airlock/blob';
import type { Bus } from '@airlock/bus';
import type { StateStore } from '@airlock/state';
import { openBlob, openBus, openState } from './drivers.js';

/** Opens each driver on first use, once per process, and closes whatever was opened. */
export class DriverSet {
  #bus?: Promise<Bus>;
  #state?: Promise<StateStore>;
  #blob?: Promise<BlobStore>;

  constructor(
    private readonly config: AirlockConfig,
    private readonly processName: string,
  ) {}

  bus(): Promise<Bus> {
    return (this.#bus ??= openBus(this.config, this.processName));
  }

  state(): Promise<StateStore> {
    return (this.#state ??= openState(this.config));
  }

  blob(): Promise<BlobStore> {
    return (this.#blob ??= openBlob(this.config));
  }

  async close(): Promise<void> {
    const opened = [this.#bus, this.#state, this.#blob].filter((driver) => driver !== undefined);
    await Promise.allSettled(opened.map(async (driver) => (await driver).close()));
  }
}
