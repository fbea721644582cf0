import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpus } from '../corpus/corpus.js';
import { profileFor } from '../profiles.js';
import { createAnswerMasker, type AnswerContext, type MaskingProfile } from './answer-masker.js';
import { pseudonym } from './operators.js';
import { MalformedAnswerError } from './structured.js';

const json = (value: unknown) => JSON.stringify(value);

const key = Buffer.from('test-key');

function maskWith(profile: MaskingProfile, context: AnswerContext, input: Buffer, cuts: number[] = []) {
  const masker = createAnswerMasker(profile, context, key);
  const parts: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    parts.push(masker.push(input.subarray(from, cut)));
    from = cut;
  }
  parts.push(masker.end());
  return { text: Buffer.concat(parts).toString('utf8'), masked: masker.masked() };
}

const mask = (profile: string, context: AnswerContext, body: string) => maskWith(profileFor(profile), context, Buffer.from(body));

/** Well-formed enough for this engine's output: tags balance and nest, no bare `<` or `&` in text. */
function checkXml(text: string): void {
  const stack: string[] = [];
  const body = text.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  for (const token of body.matchAll(/<(\/?)([^\s/>]+)[^>]*?(\/?)>|([^<]+)|(<)/g)) {
    if (token[5]) throw new Error('bare <');
    if (token[4] !== undefined) {
      if (/&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(token[4])) throw new Error(`bare & in ${token[4]}`);
      continue;
    }
    if (token[1]) {
      if (stack.pop() !== token[2]) throw new Error(`unbalanced </${token[2]}>`);
    } else if (!token[3]) stack.push(token[2]!);
  }
  if (stack.length > 0) throw new Error(`unclosed ${stack.join(',')}`);
}

function checkParses(contentType: string, text: string): void {
  if (contentType.includes('json')) JSON.parse(text);
  else if (contentType.includes('xml')) checkXml(text);
}

describe('field rules', () => {
  it('mask Secrets Manager, SSM, Lambda and ECS values by path, keeping the answer valid', () => {
    const secret = mask('default', { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/x-amz-json-1.1' }, '{"Name":"db","SecretString":"{\\"password\\":\\"hunter2\\"}","SecretBinary":"aGVsbG8="}');
    expect(JSON.parse(secret.text)).toEqual({
      Name: 'db',
      SecretString: '[MASKED:secret-string]',
      SecretBinary: Buffer.from('[MASKED:secret-binary]').toString('base64'),
    });
    expect(secret.masked).toEqual([
      { kind: 'secret-binary', rule: 'field:SecretBinary', location: 'SecretBinary', count: 1 },
      { kind: 'secret-string', rule: 'field:SecretString', location: 'SecretString', count: 1 },
    ]);
    const lambda = mask('default', { service: 'lambda', operation: 'GetFunctionConfiguration', contentType: 'application/json' }, '{"FunctionName":"f","Environment":{"Variables":{"A":"one","B":"two"}},"Timeout":3}');
    expect(JSON.parse(lambda.text)).toEqual({ FunctionName: 'f', Environment: { Variables: { A: '[MASKED:env-value]', B: '[MASKED:env-value]' } }, Timeout: 3 });
    expect(lambda.masked).toEqual([
      { kind: 'env-value', rule: 'field:**.Environment.Variables{}', location: 'Environment.Variables.A', count: 1 },
      { kind: 'env-value', rule: 'field:**.Environment.Variables{}', location: 'Environment.Variables.B', count: 1 },
    ]);
    const ssm = mask('default', { service: 'ssm', operation: 'GetParameters', contentType: 'application/x-amz-json-1.1' }, '{"Parameters":[{"Name":"a","Type":"String","Value":"plain"},{"Name":"b","Value":"x"}],"InvalidParameters":[]}');
    expect(JSON.parse(ssm.text).Parameters.map((p: { Value: string }) => p.Value)).toEqual(['[MASKED:parameter-value]', '[MASKED:parameter-value]']);
  });

  it("apply field rules in the protocol's format when the content type names neither JSON nor XML", () => {
    const body = '{"Name":"db","SecretString":"{\\"password\\":\\"hunter2\\"}"}';
    for (const contentType of ['text/html; charset=utf-8', '']) {
      expect(JSON.parse(mask('default', { service: 'secretsmanager', operation: 'GetSecretValue', contentType }, body).text)).toEqual({ Name: 'db', SecretString: '[MASKED:secret-string]' });
    }
    const xml = '<GetPasswordDataResponse><passwordData>c2VjcmV0</passwordData></GetPasswordDataResponse>';
    expect(mask('default', { service: 'ec2', operation: 'GetPasswordData', contentType: '' }, xml).text).toContain('<passwordData>[MASKED:password]</passwordData>');
  });

  it('mask XML answers by element path below the result element', () => {
    const xml = '<GetPasswordDataResponse><requestId>r</requestId><passwordData>c2VjcmV0&amp;</passwordData></GetPasswordDataResponse>';
    const { text, masked } = mask('default', { service: 'ec2', operation: 'GetPasswordData', contentType: 'text/xml' }, xml);
    expect(text).toBe('<GetPasswordDataResponse><requestId>r</requestId><passwordData>[MASKED:password]</passwordData></GetPasswordDataResponse>');
    expect(masked).toEqual([{ kind: 'password', rule: 'field:passwordData', location: 'passwordData', count: 1 }]);
    const rds = '<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance><PendingModifiedValues><MasterUserPassword><![CDATA[p<w]]></MasterUserPassword></PendingModifiedValues></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>';
    const out = mask('default', { service: 'rds', operation: 'DescribeDBInstances', contentType: 'text/xml' }, rds).text;
    expect(out).toContain('<MasterUserPassword>[MASKED:password]</MasterUserPassword>');
    checkXml(out);
  });

  it('apply keep-last, pseudonym and drop operators', () => {
    const profile: MaskingProfile = {
      name: 'test',
      detectors: [],
      fieldRules: true,
      operators: { 'secret-string': { op: 'pseudonym' }, 'secret-binary': { op: 'drop' }, 'parameter-value': { op: 'keep-last', n: 4 } },
    };
    const secrets = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/json' };
    const a = maskWith(profile, secrets, Buffer.from('{"SecretBinary":"aGk=", "SecretString":"s3cr3t","Name":"n"}'));
    expect(JSON.parse(a.text)).toEqual({ SecretString: pseudonym('secret-string', 's3cr3t', key), Name: 'n' });
    expect(a.text).toMatch(/^\{ "SecretString":"\[MASKED:secret-string:[0-9a-f]{8}\]","Name":"n"\}$/);
    const b = maskWith(profile, secrets, Buffer.from('{"Name":"n","SecretBinary":{"x":[1,"}"]},"ARN":"a"}'));
    expect(JSON.parse(b.text)).toEqual({ Name: 'n', ARN: 'a' });
    const c = maskWith(profile, secrets, Buffer.from('{"SecretBinary":"x"}'));
    expect(JSON.parse(c.text)).toEqual({});
    const ssm = maskWith(profile, { service: 'ssm', operation: 'GetParameter', contentType: 'application/json' }, Buffer.from('{"Parameter":{"Value":"abcdefgh12345678"}}'));
    expect(JSON.parse(ssm.text)).toEqual({ Parameter: { Value: '[MASKED:parameter-value]5678' } });
    const xml = maskWith(profile, { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'text/xml' }, Buffer.from('<R><SecretBinary>aGk=</SecretBinary><Name>n</Name></R>'));
    expect(xml.text).toBe('<R><Name>n</Name></R>');
  });

  it('refuse an answer that is not the JSON its content type says, since field rules cannot be applied to it', () => {
    const context = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/json' };
    for (const body of ['<html>not json "SecretString": x</html>', '{"Name":"n" "SecretString":"hunter2"}', '{"Name":"n"} {"SecretString":"hunter2"}']) {
      expect(() => mask('default', context, body)).toThrow(MalformedAnswerError);
    }
  });

  it('name where each mask was, for field rules and detectors alike, and never the value', () => {
    const context = { service: 'lambda', operation: 'ListFunctions', contentType: 'application/json' };
    const body = json({
      Functions: [
        { FunctionName: 'a', Description: 'uses AKIAIOSFODNN7EXAMPLE', Environment: { Variables: { TOKEN: 'x' } } },
        { FunctionName: 'b', Description: 'AKIAIOSFODNN7EXAMPLE again', Environment: { Variables: { TOKEN: 'y' } } },
      ],
    });
    const whole = mask('default', context, body);
    expect(whole.masked).toEqual([
      { kind: 'env-value', rule: 'field:**.Environment.Variables{}', location: 'Functions[].Environment.Variables.TOKEN', count: 2 },
      { kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: 'Functions[].Description', count: 2 },
    ]);
    expect(JSON.stringify(whole.masked)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    // Member names can be data: a name that is itself a secret is masked in the location too.
    const keyed = mask('pii', { service: 'dynamodb', operation: 'GetItem', contentType: 'application/x-amz-json-1.0' }, json({ Item: { 'jane@example.com': { S: 'jane@example.com' } } }));
    expect(JSON.stringify(keyed.masked)).not.toContain('jane@example.com');
    // The key and the value are both addresses; the address pattern takes in `Item.` as part of the first one's name.
    expect(keyed.masked.map((entry) => entry.location)).toEqual(['[MASKED:email]', '[MASKED:email].S']);
  });

  it('locate detector matches in answers that no field rule applies to, JSON and XML alike', () => {
    const scan = json({ Count: 2, Items: [{ pk: { S: 'a' }, note: { S: 'key AKIAIOSFODNN7EXAMPLE' } }, { pk: { S: 'b' } }] });
    const dynamodb = mask('default', { service: 'dynamodb', operation: 'Scan', contentType: 'application/x-amz-json-1.0' }, scan);
    expect(dynamodb.masked).toEqual([{ kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: 'Items[].note.S', count: 1 }]);
    const instances = '<DescribeInstancesResponse><reservationSet><item><instancesSet><item><keyName>AKIAIOSFODNN7EXAMPLE</keyName></item></instancesSet></item></reservationSet></DescribeInstancesResponse>';
    const ec2 = mask('default', { service: 'ec2', operation: 'DescribeInstances', contentType: 'text/xml' }, instances);
    expect(ec2.masked).toEqual([{ kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: 'reservationSet[].instancesSet[].keyName', count: 1 }]);
  });

  it('pass a body that is not the JSON its content type says unchanged when no field rule applies, its matches unlocated', () => {
    // An S3 object may say JSON and hold anything (here JSON lines, then text): only field rules need it to be JSON.
    const lines = '{"a":1}\n{"b":"AKIAIOSFODNN7EXAMPLE"}\nnot json at all';
    const object = { service: 's3', operation: 'GetObject', contentType: 'application/json' };
    const whole = mask('default', object, lines);
    expect(whole.text).toBe('{"a":1}\n{"b":"[MASKED:aws-access-key-id]"}\nnot json at all');
    expect(whole.masked).toEqual([{ kind: 'aws-access-key-id', rule: 'detector:aws-access-key-id', location: '', count: 1 }]);
    const split = maskWith(profileFor('default'), object, Buffer.from(lines), [3, 9, 20]);
    expect(split.text).toBe(whole.text);
    // A function's result is its own data: Lambda's rules for configurations do not apply to it, the detectors do.
    const result = '"done"\n{"Environment":{"Variables":{"MODE":"fast"}},"key":"AKIAIOSFODNN7EXAMPLE"}';
    const invoke = mask('default', { service: 'lambda', operation: 'Invoke', contentType: 'application/json' }, result);
    expect(invoke.text).toBe(result.replace('AKIAIOSFODNN7EXAMPLE', '[MASKED:aws-access-key-id]'));
  });
});

describe('detectors', () => {
  const text = { service: 's3', operation: 'GetObject', contentType: 'text/plain' };
  it.each([
    ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['github-token', 'ghp_' + 'A'.repeat(10) + 'b'.repeat(26)],
    ['gitlab-token', 'glpat-' + 'abcDEF123_-xyzXYZ789'],
    ['slack-token', 'xoxp-123456789012-abcdefABCDEF'],
    ['stripe-key', 'sk_test_' + '4eC39HqLyjWDarjtT1zdp7dc'],
  ])('find %s tokens', (kind, token) => {
    expect(mask('default', text, `found ${token} end`).text).toBe(`found [MASKED:${kind}] end`);
  });

  it('mask only the password of a connection string', () => {
    expect(mask('default', text, 'url=mongodb+srv://app:s3cret!@cluster0.example.net/db').text).toBe('url=mongodb+srv://app:[MASKED:connection-password]@cluster0.example.net/db');
  });

  it('find random-looking values next to secret-like keys, but not next ones, pagination tokens or words', () => {
    expect(mask('default', text, '"client_secret": "Qx7vLr2mZ9pT4wK8"').text).toBe('"client_secret": "[MASKED:secret-near-keyword]"');
    for (const lookalike of ['"NextToken": "QUFBQUFBQUFBQUFBQUFB9xk2"', '"TokenType": "Bearer"', 'password=aaaaaaaaaa', '"secretName": "prod/db/main-cluster"']) {
      expect(mask('default', text, lookalike).text).toBe(lookalike);
    }
  });

  it('mask personal data only in the pii profile, card numbers only when Luhn holds', () => {
    const body = 'mail jane@example.com card 4242 4242 4242 4242 bad 4242 4242 4242 4241 tel (415) 555-0100';
    expect(mask('default', text, body).text).toBe(body);
    const pii = mask('pii', text, body).text;
    expect(pii).toMatch(/^mail \[MASKED:email:[0-9a-f]{8}\] card \[MASKED:card-number\]4242 bad 4242 4242 4242 4241 tel \[MASKED:phone-number\]$/);
  });
});

describe('labelled corpus', () => {
  function score(profileName: string) {
    let planted = 0;
    let caught = 0;
    let lookalikes = 0;
    let falsePositives = 0;
    const misses: string[] = [];
    for (const sample of corpus) {
      const { text } = mask(profileName, sample, sample.body);
      checkParses(sample.contentType, text);
      const targets = profileName === 'pii' ? [...sample.secrets, ...sample.personal] : sample.secrets;
      for (const secret of targets) {
        planted++;
        if (text.includes(secret)) misses.push(`${sample.name}: ${secret.slice(0, 12)}…`);
        else caught++;
      }
      for (const lookalike of sample.lookalikes) {
        lookalikes++;
        if (!text.includes(lookalike)) {
          falsePositives++;
          misses.push(`false positive in ${sample.name}: ${lookalike}`);
        }
      }
    }
    return { planted, caught, recall: caught / planted, lookalikes, falsePositives, falsePositiveRate: falsePositives / lookalikes, misses };
  }

  it.each(['default', 'pii'])('catches every planted secret and leaves look-alikes alone (%s profile)', (profileName) => {
    const result = score(profileName);
    console.log(`corpus ${profileName}: recall ${result.caught}/${result.planted}, false positives ${result.falsePositives}/${result.lookalikes}`);
    expect(result.misses).toEqual([]);
    expect(result.recall).toBe(1);
    expect(result.falsePositiveRate).toBe(0);
  });

  it('never lets personal data of the corpus through the pii profile, but keeps it in default', () => {
    const personal = corpus.flatMap((sample) => sample.personal.map((value) => ({ sample, value })));
    expect(personal.length).toBeGreaterThan(3);
    for (const { sample, value } of personal) expect(mask('default', sample, sample.body).text).toContain(value);
  });
});

describe('properties', () => {
  const cutsFor = (length: number) => fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 30 }).map((cuts) => cuts.sort((a, b) => a - b));

  it('output is the same however a corpus answer is split', () => {
    for (const profileName of ['default', 'pii']) {
      const profile = profileFor(profileName);
      for (const sample of corpus) {
        const input = Buffer.from(sample.body);
        const whole = maskWith(profile, sample, input);
        fc.assert(
          fc.property(cutsFor(input.length), (cuts) => {
            const split = maskWith(profile, sample, input, cuts);
            expect(split.text).toBe(whole.text);
            expect(split.masked).toEqual(whole.masked);
          }),
          { numRuns: 60 },
        );
      }
    }
  }, 30_000);

  const plantable = fc.constantFrom(
    'AKIAIOSFODNN7EXAMPLE',
    'ghp_' + 'Zx9'.repeat(12),
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    'xoxb-123456789012-zyxwvutsrqpo',
    'sk_live_' + 'q7W2e9R4t6Y1u3I8o5P0',
    'postgres://u:Pw9xQ2zL@db.example.com/x',
  );
  const secretPart = (value: string) => value.split(':').at(-1)!.split('@')[0]!;

  it('random JSON answers with planted secrets stay valid JSON, lose every secret, and split the same way', () => {
    const context = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/x-amz-json-1.1' };
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        plantable,
        fc.tuple(fc.string(), plantable, fc.string()).map(([a, s, b]) => `${a} ${s} ${b}`),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('SecretString', 'SecretBinary', 'Name')), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 2 }), fc.nat(), (document, spacing, seed) => {
        const body = Buffer.from(JSON.stringify({ Payload: document, SecretString: 'top-secret-value' }, null, spacing));
        const whole = maskWith(profileFor('default'), context, body);
        const parsed = JSON.parse(whole.text) as { SecretString: string };
        expect(parsed.SecretString).toBe('[MASKED:secret-string]');
        expect(whole.text).not.toContain('top-secret-value');
        for (const planted of ['AKIAIOSFODNN7EXAMPLE', 'Zx9Zx9Zx9Zx9', 'c2lnbmF0dXJl', 'zyxwvutsrqpo', 'q7W2e9R4t6Y1u3I8o5P0', secretPart('postgres://u:Pw9xQ2zL@db')]) {
          expect(whole.text).not.toContain(planted);
        }
        const cuts = [seed % (body.length + 1), (seed * 7) % (body.length + 1), (seed * 13) % (body.length + 1)].sort((a, b) => a - b);
        expect(maskWith(profileFor('default'), context, body, cuts).text).toBe(whole.text);
      }),
      { numRuns: 300 },
    );
  });

  it('a profile that drops members gives the same valid JSON however the answer is split, keys cut anywhere', () => {
    const context = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/x-amz-json-1.1' };
    const dropping: MaskingProfile = { ...profileFor('default'), name: 'drops', operators: { 'secret-string': { op: 'drop' } } };
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('SecretString', 'Name', 'a-member-name-long-enough-to-be-cut')), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 2 }), fc.nat(), (document, spacing, seed) => {
        const body = Buffer.from(JSON.stringify({ Name: 'n', SecretString: 'top-secret-value', Payload: document, ARN: 'arn' }, null, spacing));
        const whole = maskWith(dropping, context, body);
        const parsed = JSON.parse(whole.text) as Record<string, unknown>;
        expect(Object.keys(parsed)).toEqual(['Name', 'Payload', 'ARN']);
        expect(parsed.Payload).toEqual(document);
        const cuts = Array.from({ length: 6 }, (_, k) => (seed * (k * 2 + 1)) % (body.length + 1)).sort((a, b) => a - b);
        expect(maskWith(dropping, context, body, cuts).text).toBe(whole.text);
      }),
      { numRuns: 300 },
    );
  });

  it('random XML answers with planted secrets stay well-formed and lose every secret', () => {
    const context = { service: 'sts', operation: 'AssumeRole', contentType: 'text/xml' };
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '&amp;', '&lt;', '\n', 'é', ':', '/') , maxLength: 20 });
    fc.assert(
      fc.property(text, plantable, text, fc.nat(), (a, planted, b, seed) => {
        const body = Buffer.from(
          `<AssumeRoleResponse><AssumeRoleResult><Note>${a} ${planted.replaceAll('&', '&amp;')} ${b}</Note><Credentials><SecretAccessKey>${a}k${b}</SecretAccessKey>` +
            `<SessionToken><![CDATA[${a}tok]]></SessionToken></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
        );
        const whole = maskWith(profileFor('default'), context, body);
        checkXml(whole.text);
        expect(whole.text).toContain('<SecretAccessKey>[MASKED:aws-secret-key]</SecretAccessKey>');
        expect(whole.text).toContain('<SessionToken>[MASKED:aws-session-token]</SessionToken>');
        expect(whole.text).not.toContain(secretPart(planted));
        const cut = seed % (body.length + 1);
        expect(maskWith(profileFor('default'), context, body, [cut, Math.min(body.length, cut + 5)]).text).toBe(whole.text);
      }),
      { numRuns: 300 },
    );
  });

  it('holds constant memory: a 20 MB masked value is swallowed without being kept', () => {
    const context = { service: 'secretsmanager', operation: 'GetSecretValue', contentType: 'application/json' };
    const masker = createAnswerMasker(profileFor('default'), context, key);
    let out = masker.push(Buffer.from('{"SecretString":"')).toString();
    const chunk = Buffer.alloc(1 << 20, 'a');
    for (let i = 0; i < 20; i++) out += masker.push(chunk).toString();
    out += Buffer.concat([masker.push(Buffer.from('"}')), masker.end()]).toString();
    expect(out).toBe('{"SecretString":"[MASKED:secret-string]"}');
  });
});
