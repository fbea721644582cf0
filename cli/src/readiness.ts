import type { AirlockConfig, ServiceName } from '@airlock/config';
import type { StateStore } from '@airlock/state';
import type { ReadinessCheck } from '@airlock/transport';
import type { DriverSet } from './driver-set.js';

/** A key nobody writes: reading it is one round trip to the state store. */
const readinessProbeKey = 'readiness-probe';

/** The state store answers a read. */
export function stateReadiness(state: () => Promise<StateStore>): ReadinessCheck {
  return {
    name: 'state',
    async check() {
      await (await state()).get(readinessProbeKey);
    },
  };
}

/**
 * What each back-end service needs besides itself to answer calls: the approval service keeps approvals in the state
 * store, credential vending shares its cache through it when it is Redis. Policy and masking need nothing; the
 * recorder's bus and blob store only delay recordings, which its consumer retries, so they do not take it out of
 * service.
 */
export function serviceReadiness(name: ServiceName, config: AirlockConfig, drivers: DriverSet): ReadinessCheck[] {
  const usesState = name === 'approval' || (name === 'credential-vending' && config.drivers.state.kind === 'redis');
  return usesState ? [stateReadiness(() => drivers.state())] : [];
}
