import { open } from 'node:fs/promises';

const CHUNK = 1 << 20;

/**
 * Calls `onLine` for every newline-terminated line with its byte offset. Returns where the last complete line ends
 * and the file size: bytes after `end` are a record torn by a crash, which the caller cuts off.
 */
export async function scanLines(path: string, onLine: (line: Buffer, offset: number) => void): Promise<{ end: number; size: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { end: 0, size: 0 };
    throw error;
  }
  try {
    let carry = Buffer.alloc(0);
    let carryOffset = 0;
    let position = 0;
    const chunk = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, CHUNK, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        onLine(data.subarray(start, nl), carryOffset + start);
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      carryOffset += start;
    }
    return { end: carryOffset, size: position };
  } finally {
    await fh.close();
  }
}
