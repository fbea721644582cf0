import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decision, type DecideRequest } from '@airlock/contracts';
import { createLogger } from '@airlock/logging';
import { bindInProcess } from '@airlock/transport';
import { PolicyEngine } from './engine.js';
import { resolvePolicyFiles, validatePolicies } from './load.js';
import { createPolicyService } from './service.js';

const roots: string[] = [];
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-reload-'));
  roots.push(dir);
});
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});
const engines: PolicyEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
});

/** A logger whose JSON lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'policy-test', level: 'info', destination }) };
}

function ask(action = 's3:GetObject'): DecideRequest {
  const [service = '', operation = ''] = action.split(':');
  return {
    principal: { subject: 'alice', issuer: 'https://idp.example', groups: [], sessionId: 's', name: 'Alice' },
    call: { service, operation, action, resources: ['arn:aws:s3:::reports/q1.csv'], region: 'eu-west-1', roleArn: '', parameters: {} },
    context: {},
  };
}

const allow = (id: string) => `@id("${id}") permit (principal, action, resource);\n`;
const deny = (id: string) => `@id("${id}") @reason("closed") forbid (principal, action, resource);\n`;

/** Waits for a condition without asserting how long it takes; the test's own timeout bounds it. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function engineOver(files: string[], logger = capturingLogger().logger) {
  const engine = await PolicyEngine.create({ files, baseDir: dir, logger });
  engines.push(engine);
  return engine;
}

// The first policy set a test worker loads waits for Cedar's validator to warm up: about a second, more on a busy machine.
describe('loading files and directories', { timeout: 30_000 }, () => {
  it('reads every *.cedar directly in a directory, sorted by name, and skips other files and subdirectories', async () => {
    await mkdir(join(dir, 'pack', 'nested'), { recursive: true });
    await writeFile(join(dir, 'pack', 'b.cedar'), allow('b'));
    await writeFile(join(dir, 'pack', 'a.cedar'), allow('a'));
    await writeFile(join(dir, 'pack', '10.cedar'), allow('ten'));
    await writeFile(join(dir, 'pack', 'notes.txt'), 'not cedar');
    await writeFile(join(dir, 'pack', 'nested', 'deep.cedar'), 'not read at all (');
    const files = await resolvePolicyFiles({ files: ['pack'], baseDir: dir });
    expect(files.map((file) => file.label)).toEqual([join('pack', '10.cedar'), join('pack', 'a.cedar'), join('pack', 'b.cedar')]);
    const engine = await engineOver(['pack']);
    expect([...engine.snapshot.meta.keys()].sort()).toEqual(['a', 'b', 'ten']);
    expect(engine.snapshot.files).toEqual(files.map((file) => file.label));
  });

  it('mixes files and directories in the configured order and reads a file named twice once', async () => {
    await mkdir(join(dir, 'pack'));
    await writeFile(join(dir, 'pack', 'a.cedar'), allow('a'));
    await writeFile(join(dir, 'extra.cedar'), deny('extra'));
    const engine = await engineOver(['extra.cedar', 'pack', join('pack', 'a.cedar')]);
    expect(engine.snapshot.files).toEqual(['extra.cedar', join('pack', 'a.cedar')]);
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_DENY);
  });

  it('refuses a directory with no *.cedar file, and names the file and position of a bad one', async () => {
    await mkdir(join(dir, 'empty'));
    await expect(engineOver(['empty'])).rejects.toThrow(/No \*\.cedar file in empty/);
    await mkdir(join(dir, 'pack'));
    await writeFile(join(dir, 'pack', 'bad.cedar'), `${allow('ok')}permit (principal, action\n`);
    await expect(engineOver(['pack'])).rejects.toThrow(/^Policy file pack\/bad\.cedar is invalid: line 2, column 26: /);
  });

  it('validatePolicies reports every bad file, not only the first', async () => {
    await writeFile(join(dir, 'one.cedar'), 'permit (principal, action\n');
    await writeFile(join(dir, 'two.cedar'), '@approval("ops") forbid (principal, action, resource);');
    await writeFile(join(dir, 'three.cedar'), allow('x') + allow('x'));
    const report = await validatePolicies({ files: ['.'], baseDir: dir });
    expect(report.files).toEqual(['one.cedar', 'three.cedar', 'two.cedar']);
    expect(report.problems).toEqual([
      expect.stringMatching(/^Policy file one\.cedar is invalid: line 1, column 26: failed to parse policies/),
      'Policy id "x" in three.cedar is already used in three.cedar (x); @id values must be unique.',
      expect.stringMatching(/^Policy file two\.cedar is invalid: .*@approval applies to permit policies only/),
    ]);
    expect(await validatePolicies({ files: ['three.cedar'], baseDir: dir })).toMatchObject({ problems: [expect.stringContaining('already used')] });
    await writeFile(join(dir, 'three.cedar'), allow('x'));
    expect(await validatePolicies({ files: ['three.cedar'], baseDir: dir })).toEqual({ files: ['three.cedar'], policies: 1, problems: [] });
  });
});

describe('reload', () => {
  it('swaps in the new set on an explicit reload, with a new generation and version', async () => {
    await writeFile(join(dir, 'p.cedar'), allow('open'));
    const engine = await engineOver(['p.cedar']);
    const before = engine.snapshot;
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_ALLOW);
    await writeFile(join(dir, 'p.cedar'), allow('open') + deny('closed'));
    const result = await engine.reload();
    expect(result).toMatchObject({ ok: true, generation: 2, policies: 2 });
    expect(engine.snapshot.version).not.toBe(before.version);
    expect(engine.decide(ask())).toMatchObject({ decision: Decision.DECISION_DENY, reason: 'closed', policyIds: ['closed'] });
    // The same policies give the same version.
    await writeFile(join(dir, 'p.cedar'), allow('open'));
    expect(await engine.reload()).toMatchObject({ ok: true, generation: 3, version: before.version });
  });

  it('rejects a bad file with Cedar’s error and keeps serving the previous set, and logs it', async () => {
    const { lines, logger } = capturingLogger();
    await mkdir(join(dir, 'pack'));
    await writeFile(join(dir, 'pack', 'a.cedar'), allow('open'));
    const engine = await engineOver(['pack'], logger);
    const version = engine.snapshot.version;
    await writeFile(join(dir, 'pack', 'b.cedar'), `${deny('closed')}\nforbid (principal, action\n`);
    const result = await engine.reload();
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(/^Policy file pack\/b\.cedar is invalid: line 3, column 26: failed to parse policies/),
      generation: 1,
      version,
    });
    expect(engine.snapshot.version).toBe(version);
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_ALLOW);
    expect(lines.find((line) => line['msg'] === 'policy reload rejected; the previous policies keep serving')).toMatchObject({
      level: 50,
      error: result.ok ? '' : result.error,
      version,
    });
    // Fixing the file is picked up by the next reload.
    await writeFile(join(dir, 'pack', 'b.cedar'), deny('closed'));
    expect(await engine.reload()).toMatchObject({ ok: true, generation: 2 });
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_DENY);
  });

  it('rejects a reload whose files vanished, a duplicate id or a bad annotation the same way', async () => {
    await writeFile(join(dir, 'a.cedar'), allow('a'));
    await writeFile(join(dir, 'b.cedar'), allow('b'));
    const engine = await engineOver(['a.cedar', 'b.cedar']);
    await writeFile(join(dir, 'b.cedar'), allow('a'));
    expect(await engine.reload()).toMatchObject({ ok: false, error: expect.stringContaining('already used in a.cedar') });
    await writeFile(join(dir, 'b.cedar'), '@quorum("2") permit (principal, action, resource);');
    expect(await engine.reload()).toMatchObject({ ok: false, error: expect.stringContaining('only makes sense together with @approval') });
    await rm(join(dir, 'b.cedar'));
    expect(await engine.reload()).toMatchObject({ ok: false, error: expect.stringContaining('Policy file b.cedar cannot be read') });
    expect(engine.decide(ask())).toMatchObject({ decision: Decision.DECISION_ALLOW, policyIds: ['a', 'b'] });
  });

  it('never fails or mixes sets for decisions made while reloads run', async () => {
    await writeFile(join(dir, 'p.cedar'), allow('v0'));
    const engine = await engineOver(['p.cedar']);
    const seen = new Set<string>();
    let decisions = 0;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const response = engine.decide(ask());
        // Each decision comes wholly from one set: exactly one permit, from one generation of the file.
        expect(response.decision).toBe(Decision.DECISION_ALLOW);
        expect(response.policyIds).toHaveLength(1);
        seen.add(response.policyIds[0]!);
        decisions++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const results = [];
    for (let round = 1; round <= 20; round++) {
      await writeFile(join(dir, 'p.cedar'), round % 5 === 0 ? 'permit (principal, action\n' : allow(`v${round}`));
      // Two overlapping reloads each round: they run one after the other.
      results.push(engine.reload(), engine.reload());
      await results.at(-1);
    }
    stop = true;
    await load;
    const settled = await Promise.all(results);
    expect(settled.filter((result) => !result.ok)).toHaveLength(8);
    expect(engine.snapshot.generation).toBe(1 + 32);
    expect(engine.decide(ask()).policyIds).toEqual(['v19']);
    expect(decisions).toBeGreaterThan(20);
    expect(seen.size).toBeGreaterThan(1);
  });

  it('a decision already started finishes on the set it started with', async () => {
    await writeFile(join(dir, 'p.cedar'), allow('old'));
    const engine = await engineOver(['p.cedar']);
    await writeFile(join(dir, 'p.cedar'), deny('new'));
    const reloading = engine.reload();
    // decide() is synchronous: the snapshot it reads cannot change under it; the reload lands after.
    expect(engine.decide(ask()).policyIds).toEqual(['old']);
    await reloading;
    expect(engine.decide(ask()).policyIds).toEqual(['new']);
  });
});

describe('watching', () => {
  it('reloads when a watched directory gains, changes or loses a file', async () => {
    await mkdir(join(dir, 'pack'));
    await writeFile(join(dir, 'pack', 'a.cedar'), allow('a'));
    const engine = await engineOver(['pack']);
    await engine.watch({ debounceMs: 20 });
    await writeFile(join(dir, 'pack', 'b.cedar'), deny('b'));
    await until(() => engine.snapshot.meta.has('b'));
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_DENY);
    await rm(join(dir, 'pack', 'b.cedar'));
    await until(() => !engine.snapshot.meta.has('b'));
    expect(engine.decide(ask()).decision).toBe(Decision.DECISION_ALLOW);
  });

  it('reloads a watched file that an editor replaces by renaming a new file over it, and ignores its neighbours', async () => {
    const { lines, logger } = capturingLogger();
    await writeFile(join(dir, 'main.cedar'), allow('first'));
    await writeFile(join(dir, 'other.cedar'), 'not loaded (');
    const engine = await engineOver(['main.cedar'], logger);
    await engine.watch({ debounceMs: 20 });
    await writeFile(join(dir, 'other.cedar'), 'still not loaded (');
    await writeFile(join(dir, 'main.cedar.tmp'), allow('second'));
    await rename(join(dir, 'main.cedar.tmp'), join(dir, 'main.cedar'));
    await until(() => engine.snapshot.meta.has('second'));
    expect(lines.some((line) => line['msg'] === 'policy reload rejected; the previous policies keep serving')).toBe(false);
    // A bad save is rejected by the watcher's reload too, and the good set keeps serving.
    await writeFile(join(dir, 'main.cedar'), 'permit (principal,');
    await until(() => lines.some((line) => line['msg'] === 'policy reload rejected; the previous policies keep serving'));
    expect(engine.decide(ask()).policyIds).toEqual(['second']);
  });
});

describe('the policy service', () => {
  it('reloads on SIGHUP and on reload() once started, and stops listening when closed', async () => {
    await writeFile(join(dir, 'p.cedar'), allow('one'));
    const { logger } = capturingLogger();
    const service = await createPolicyService({ files: ['p.cedar'], baseDir: dir, logger, watch: false });
    const client = bindInProcess(service.definition, service.implementation);
    const listeners = process.listenerCount('SIGHUP');
    await service.start?.();
    expect(process.listenerCount('SIGHUP')).toBe(listeners + 1);
    await writeFile(join(dir, 'p.cedar'), allow('two'));
    process.emit('SIGHUP', 'SIGHUP');
    await until(() => service.engine.snapshot.meta.has('two'));
    expect((await client.decide(ask())).policyIds).toEqual(['two']);
    await writeFile(join(dir, 'p.cedar'), allow('three'));
    expect(await service.reload()).toMatchObject({ ok: true, generation: 3 });
    expect((await client.decide(ask())).policyIds).toEqual(['three']);
    await service.close();
    expect(process.listenerCount('SIGHUP')).toBe(listeners);
  });

  it('watches its files by default once started', async () => {
    await writeFile(join(dir, 'p.cedar'), allow('one'));
    const service = await createPolicyService({ files: [dir], logger: capturingLogger().logger, reloadSignal: false });
    await service.start?.();
    await writeFile(join(dir, 'q.cedar'), deny('two'));
    await until(() => service.engine.snapshot.meta.has('two'));
    await service.close();
  });
});
