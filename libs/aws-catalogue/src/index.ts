export { catalogue, catalogueIndex, catalogueService, servicesBySigningName } from './load.js';
export type {
  Catalogue,
  CatalogueMember,
  CatalogueOperation,
  CatalogueService,
  MemberKind,
  MemberLocation,
  Partition,
  Protocol,
} from './types.js';
