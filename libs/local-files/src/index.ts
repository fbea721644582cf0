export { writeFileAtomic } from './atomic-file.js';
export { lockDir } from './dir-lock.js';
export {
  createFolderRegistry,
  type FolderLease,
  type FolderRegistry,
  type FolderRegistryOptions,
  type FolderResource,
} from './folder-registry.js';
