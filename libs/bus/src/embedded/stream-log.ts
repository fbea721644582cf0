import { mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '@airlock/errors';
import { writeFileAtomic } from '@airlock/local-files';
import { AppendLog } from './append-log.js';
import { scanLines } from './jsonl.js';

export interface StreamConfig {
  name: string;
  subjects: string[];
  duplicateWindowMs: number;
}

export interface StoredMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

/** One line of messages.jsonl. */
interface MessageRecord {
  seq: number;
  ts: number;
  subject: string;
  data: string;
  headers?: Record<string, string>;
  msgId?: string;
}

/** Only the index stays in memory; bodies are read back from the log when delivered. */
interface Entry {
  subject: string;
  offset: number;
  length: number;
}

interface Remembered {
  ts: number;
  seq: Promise<number>;
}

export type StoredListener = (seq: number, message: StoredMessage) => void;

/**
 * A stream as an append-only JSON-lines file; a message's sequence is its line number. Sequences are reserved
 * when publish is called and become visible (to consumers and watchers, in order) once their line is written.
 */
export class StreamLog {
  private readonly entries: Entry[];
  private readonly recent: Map<string, Remembered>;
  private nextOffset: number;
  private reservedSeq: number;

  private constructor(
    readonly dir: string,
    public config: StreamConfig,
    private readonly log: AppendLog,
    private readonly reader: FileHandle,
    loaded: { entries: Entry[]; recent: Map<string, Remembered>; size: number },
    private readonly onStored: StoredListener,
  ) {
    this.entries = loaded.entries;
    this.recent = loaded.recent;
    this.nextOffset = loaded.size;
    this.reservedSeq = loaded.entries.length;
  }

  static async create(dir: string, config: StreamConfig, onStored: StoredListener): Promise<StreamLog> {
    await mkdir(join(dir, 'consumers'), { recursive: true });
    await writeFileAtomic(join(dir, 'stream.json'), JSON.stringify(config));
    return StreamLog.open(dir, config, onStored);
  }

  static async load(dir: string, onStored: StoredListener): Promise<StreamLog> {
    const config = JSON.parse(await readFile(join(dir, 'stream.json'), 'utf8')) as StreamConfig;
    await mkdir(join(dir, 'consumers'), { recursive: true });
    return StreamLog.open(dir, config, onStored);
  }

  private static async open(dir: string, config: StreamConfig, onStored: StoredListener): Promise<StreamLog> {
    const path = join(dir, 'messages.jsonl');
    const entries: Entry[] = [];
    const recent = new Map<string, Remembered>();
    const horizon = Date.now() - config.duplicateWindowMs;
    const { end, size } = await scanLines(path, (line, offset) => {
      let record: MessageRecord;
      try {
        record = JSON.parse(line.toString('utf8')) as MessageRecord;
      } catch (cause) {
        throw new AirlockError('Internal', `Stream log ${path} is corrupt at byte ${offset}.`, { cause });
      }
      if (record.seq !== entries.length + 1) {
        throw new AirlockError('Internal', `Stream log ${path} skips from sequence ${entries.length} to ${record.seq}.`);
      }
      entries.push({ subject: record.subject, offset, length: line.length });
      if (record.msgId !== undefined && record.ts > horizon) recent.set(record.msgId, { ts: record.ts, seq: Promise.resolve(record.seq) });
    });
    if (end < size) await truncate(path, end);
    const log = await AppendLog.open(path);
    const reader = await open(path, 'r');
    return new StreamLog(dir, config, log, reader, { entries, recent, size: end }, onStored);
  }

  get name(): string {
    return this.config.name;
  }

  get lastSeq(): number {
    return this.entries.length;
  }

  subjectOf(seq: number): string | undefined {
    return this.entries[seq - 1]?.subject;
  }

  async updateConfig(config: StreamConfig): Promise<void> {
    await writeFileAtomic(join(this.dir, 'stream.json'), JSON.stringify(config));
    this.config = config;
  }

  async append(
    subject: string,
    data: Uint8Array,
    headers: Record<string, string>,
    msgId: string | undefined,
  ): Promise<{ seq: number; duplicate: boolean }> {
    const now = Date.now();
    this.forgetBefore(now - this.config.duplicateWindowMs);
    if (msgId !== undefined) {
      const seen = this.recent.get(msgId);
      if (seen) return { seq: await seen.seq, duplicate: true };
    }
    const seq = ++this.reservedSeq;
    const record: MessageRecord = { seq, ts: now, subject, data: Buffer.from(data).toString('base64') };
    if (Object.keys(headers).length > 0) record.headers = headers;
    if (msgId !== undefined) record.msgId = msgId;
    const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
    const offset = this.nextOffset;
    this.nextOffset += line.length;
    const stored = this.log.append(line).then(
      () => {
        this.entries.push({ subject, offset, length: line.length - 1 });
        this.onStored(seq, { subject, data, headers });
        return seq;
      },
      (cause: unknown) => {
        if (msgId !== undefined) this.recent.delete(msgId);
        throw new AirlockError('DependencyUnavailable', `The embedded bus could not write to ${this.log.path}.`, { cause });
      },
    );
    if (msgId !== undefined) this.recent.set(msgId, { ts: now, seq: stored });
    return { seq: await stored, duplicate: false };
  }

  async read(seq: number): Promise<StoredMessage> {
    const entry = this.entries[seq - 1];
    if (!entry) throw new AirlockError('Internal', `Stream ${this.name} has no message ${seq}.`);
    const buffer = Buffer.alloc(entry.length);
    await this.reader.read(buffer, 0, entry.length, entry.offset);
    const record = JSON.parse(buffer.toString('utf8')) as MessageRecord;
    return { subject: record.subject, data: new Uint8Array(Buffer.from(record.data, 'base64')), headers: record.headers ?? {} };
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.reader.close();
  }

  /** The map is in publish order, so expired ids are at its front. */
  private forgetBefore(horizon: number): void {
    for (const [id, remembered] of this.recent) {
      if (remembered.ts > horizon) break;
      this.recent.delete(id);
    }
  }
}
