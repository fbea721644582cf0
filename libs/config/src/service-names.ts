// Apart from the schema, and exported on its own path (@airlock/config/service-names), so that `airlock --help` can
// name the services without loading zod.
const serviceNames = ['policy', 'approval', 'credential-vending', 'masking', 'recorder'] as const;

export type ServiceName = (typeof serviceNames)[number];
export const serviceNamesInOrder: readonly ServiceName[] = serviceNames;
