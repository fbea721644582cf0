import { type FieldRule, type RuleMatcher } from './field-rules.js';
import { applyOperator, type Operator } from './operators.js';

/** How a profile treats field rules: which operator applies to a rule's kind. */
export interface FieldPolicy {
  operatorFor(kind: string): Operator;
  readonly key: Buffer;
}

/**
 * A streaming transform over text held as latin1 (one character per byte). Output depends only on the whole input,
 * never on how it was split: every decision is taken on complete tokens, and tokens are held only up to a bound.
 */
export interface TextTransform {
  push(chunk: string): string;
  end(): string;
  /** Counts by "kind@location". */
  readonly counts: Map<string, number>;
}

/** Values longer than this are redacted whatever the operator (keep-last and pseudonym need the whole value). */
export const valueCap = 16_384;
/** Keys and tags longer than this end structured masking for the rest of the answer (it is then not what it claims). */
const tokenCap = 4096;

const countKeys = new WeakMap<FieldRule, string>();
export function countKey(rule: FieldRule): string {
  const known = countKeys.get(rule);
  if (known) return known;
  const location = rule.path.replace(/^\*\*\./, '**.').replaceAll('.[]', '[]').replaceAll('.{}', '{}');
  const key = `${rule.kind}@${location}`;
  countKeys.set(rule, key);
  return key;
}

/** latin1 byte-string ↔ JS string. */
const fromBytes = (text: string): string => Buffer.from(text, 'latin1').toString('utf8');
const toBytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

function replacementText(rule: FieldRule, policy: FieldPolicy, value: string | undefined): string {
  const operator = policy.operatorFor(rule.kind);
  const text = value === undefined ? applyOperator({ op: 'redact' }, rule.kind, '', policy.key) : applyOperator(operator, rule.kind, value, policy.key);
  return rule.base64 ? Buffer.from(text, 'utf8').toString('base64') : text;
}

interface JsonFrame {
  array: boolean;
  /** Current member name (objects) while its value is read. */
  key: string;
  /** Whether a member or element of this container was passed on (for commas after dropped members). */
  emittedAny: boolean;
  /** The rule for the current member's value (objects) or for every element (arrays); undefined until known. */
  valueRule?: FieldRule | null;
}

/**
 * JSON: a tokenizer that tracks the member path. A string value at (or under) a path a rule covers is replaced as a
 * whole; a member whose rule says "drop" disappears with its comma. Anything that is not JSON after all is passed on
 * unchanged from the point where it stopped being JSON.
 */
export function createJsonFieldMasker(rules: RuleMatcher, policy: FieldPolicy): TextTransform {
  const counts = new Map<string, number>();
  const stack: JsonFrame[] = [];
  let mode: 'value' | 'after' | 'key-or-end' | 'key' | 'colon' | 'string' | 'literal' | 'broken' = 'value';
  let escaped = false;
  /** Inside a masked string value: its rule, and its raw text so far (undefined once over the cap). */
  let maskedRule: FieldRule | undefined;
  let maskedRaw: string | undefined = '';
  /** The rule covering the current container subtree, and the stack depth where it started. */
  let activeRule: FieldRule | undefined;
  let activeDepth = 0;
  /** Dropping: the stack depth to return to; -1 when not dropping. */
  let dropDepth = -1;
  let dropInString = false;
  /** Held before a key is decided: the separator (comma and white space) and the key's raw text. */
  let pendingComma = false;
  let pendingSpace = '';
  let keyRaw = '';

  function path(extra?: string): string[] {
    const names = stack.map((frame) => (frame.array ? '[]' : frame.key));
    if (extra !== undefined) names.push(extra);
    return names;
  }

  function count(rule: FieldRule): void {
    const key = countKey(rule);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  /** A value starts at the current path: which rule, if any, covers it. */
  function ruleForValue(): FieldRule | undefined {
    if (activeRule) return activeRule;
    const frame = stack.at(-1);
    if (!frame) return rules.match([]);
    frame.valueRule ??= rules.match(path()) ?? null;
    return frame.valueRule ?? undefined;
  }

  function run(text: string, final: boolean): string {
    const out: string[] = [];
    let i = 0;
    let from = 0; // start of text not yet written to out (pass-through runs)
    const flush = (to: number) => {
      if (to > from) out.push(text.slice(from, to));
      from = to;
    };
    const n = text.length;
    while (i < n) {
      if (mode === 'broken') {
        i = n;
        break;
      }
      if (dropDepth >= 0) {
        // Skip the dropped value: strings (with their escapes) and nesting down to where it started.
        const c = text[i]!;
        if (dropInString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') dropInString = false;
          i++;
          from = i;
          if (!dropInString && stack.length === dropDepth) endDrop();
          continue;
        }
        if (c === '"') dropInString = true;
        else if (c === '{' || c === '[') stack.push({ array: c === '[', key: '', emittedAny: false });
        else if (c === '}' || c === ']') {
          if (stack.length === dropDepth) {
            // A scalar value ended by its container's close: not ours to skip.
            endDrop();
            continue;
          }
          stack.pop();
          if (stack.length === dropDepth) {
            i++;
            from = i;
            endDrop();
            continue;
          }
        } else if (c === ',' && stack.length === dropDepth) {
          endDrop();
          continue;
        }
        i++;
        from = i;
        continue;
      }
      switch (mode) {
        case 'string': {
          if (maskedRule) {
            // Swallow the value, keeping up to the cap for operators that need it.
            let j = i;
            for (; j < n; j++) {
              const c = text[j]!;
              if (escaped) escaped = false;
              else if (c === '\\') escaped = true;
              else if (c === '"') break;
            }
            if (maskedRaw !== undefined) {
              maskedRaw += text.slice(i, j);
              if (maskedRaw.length > valueCap) maskedRaw = undefined;
            }
            i = j;
            from = j;
            if (j < n) {
              out.push(jsonEncode(replacementText(maskedRule, policy, maskedRaw === undefined ? undefined : fromBytes(decodeJsonString(maskedRaw)))));
              count(maskedRule);
              maskedRule = undefined;
              maskedRaw = '';
              i++; // the closing quote passes through
              mode = 'after';
              afterValue();
            }
            continue;
          }
          // Pass-through string: jump to the next quote or backslash.
          let j = i;
          for (; j < n; j++) {
            const c = text.charCodeAt(j);
            if (escaped) escaped = false;
            else if (c === 92) escaped = true;
            else if (c === 34) break;
          }
          i = j;
          if (j < n) {
            i++;
            mode = 'after';
            afterValue();
          }
          continue;
        }
        case 'key': {
          let j = i;
          for (; j < n; j++) {
            const c = text[j]!;
            if (escaped) escaped = false;
            else if (c === '\\') escaped = true;
            else if (c === '"') break;
          }
          keyRaw += text.slice(i, j);
          i = j;
          from = j;
          if (keyRaw.length > tokenCap) {
            out.push(pendingText(), '"', keyRaw);
            mode = 'broken';
            from = i;
            continue;
          }
          if (j < n) {
            i++;
            from = i;
            decideKey(out);
          }
          continue;
        }
        default:
          break;
      }
      const c = text[i]!;
      if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
        if (mode === 'key-or-end') {
          flush(i);
          if (pendingSpace.length < 64) pendingSpace += c;
          from = i + 1;
        }
        i++;
        continue;
      }
      switch (mode) {
        case 'value':
          if (c === '"') {
            const rule = ruleForValue();
            mode = 'string';
            escaped = false;
            if (rule) {
              flush(i + 1);
              maskedRule = rule;
              maskedRaw = '';
            }
            i++;
          } else if (c === '{' || c === '[') {
            const rule = ruleForValue();
            if (rule && !activeRule) {
              activeRule = rule;
              activeDepth = stack.length;
            }
            stack.push({ array: c === '[', key: '', emittedAny: false });
            mode = c === '{' ? 'key-or-end' : 'value';
            i++;
          } else if (c === ']' && stack.at(-1)?.array) {
            i++;
            closeContainer();
          } else if (c === '-' || c === 't' || c === 'f' || c === 'n' || (c >= '0' && c <= '9')) {
            mode = 'literal';
            i++;
            while (i < n && isLiteralChar(text.charCodeAt(i))) i++;
          } else {
            mode = 'broken';
          }
          break;
        case 'literal':
          if (isLiteralChar(c.charCodeAt(0))) i++;
          else {
            mode = 'after';
            afterValue();
          }
          break;
        case 'after': {
          const frame = stack.at(-1);
          if (!frame) {
            mode = 'broken'; // text after the top-level value: pass it on untouched
          } else if (c === ',') {
            if (frame.array) {
              mode = 'value';
              i++;
            } else {
              flush(i);
              pendingComma = true;
              pendingSpace = '';
              i++;
              from = i;
              mode = 'key-or-end';
            }
          } else if ((c === '}' && !frame.array) || (c === ']' && frame.array)) {
            i++;
            closeContainer();
          } else mode = 'broken';
          break;
        }
        case 'key-or-end':
          if (c === '"') {
            flush(i);
            keyRaw = '';
            escaped = false;
            mode = 'key';
            i++;
            from = i;
          } else if (c === '}') {
            // Held separator before a close: white space is kept, a dangling comma (invalid JSON anyway) too.
            out.push(pendingText(true));
            i++;
            closeContainer();
          } else {
            out.push(pendingText(true));
            mode = 'broken';
          }
          break;
        case 'colon':
          if (c === ':') {
            mode = 'value';
            i++;
          } else mode = 'broken';
          break;
        default:
          mode = 'broken';
      }
    }
    flush(n);
    if (final && maskedRule) {
      // Truncated inside a masked value: the rest is withheld.
      out.push(jsonEncode(replacementText(maskedRule, policy, undefined)));
      count(maskedRule);
      maskedRule = undefined;
    }
    if (final && mode === 'key') out.push(pendingText(), '"', keyRaw);
    if (final && mode === 'key-or-end') out.push(pendingText(true));
    return out.join('');

    function endDrop(): void {
      dropDepth = -1;
      mode = 'after';
    }
  }

  function pendingText(keepDanglingComma = false): string {
    const frame = stack.at(-1);
    const comma = pendingComma && (frame?.emittedAny || keepDanglingComma) ? ',' : '';
    const text = comma + pendingSpace;
    pendingComma = false;
    pendingSpace = '';
    return text;
  }

  function decideKey(out: string[]): void {
    const frame = stack.at(-1)!;
    const decoded = decodeJsonString(keyRaw);
    const key = /[\x80-\xff]/.test(decoded) ? fromBytes(decoded) : decoded;
    frame.key = key;
    const rule = activeRule ? undefined : rules.match(path());
    frame.valueRule = rule ?? null;
    if (rule && policy.operatorFor(rule.kind).op === 'drop') {
      pendingComma = false;
      pendingSpace = '';
      count(rule);
      dropDepth = stack.length;
      dropInString = false;
      escaped = false;
      mode = 'colon';
      // Skip through the colon and the value: the drop loop ends at the value's end.
      return;
    }
    out.push(pendingText(), '"', keyRaw, '"');
    frame.emittedAny = true;
    mode = 'colon';
  }

  function afterValue(): void {
    const frame = stack.at(-1);
    if (frame) frame.emittedAny = true;
    if (activeRule && stack.length === activeDepth) activeRule = undefined;
  }

  function closeContainer(): void {
    stack.pop();
    mode = 'after';
    afterValue();
  }

  return {
    counts,
    push: (chunk) => run(chunk, false),
    end: () => run('', true),
  };
}

/** Characters of numbers and of true, false, null. */
function isLiteralChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 45 || code === 43 || code === 46;
}

/** Raw JSON string content (latin1 bytes) → its value as latin1 bytes; invalid escapes are kept as written. */
function decodeJsonString(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return toBytes(JSON.parse(`"${fromBytes(raw)}"`) as string);
  } catch {
    return raw;
  }
}

/** A replacement (JS string) → JSON string content as latin1 bytes. */
function jsonEncode(text: string): string {
  return toBytes(JSON.stringify(text).slice(1, -1));
}

export { fromBytes, toBytes };
