import type { FieldRule, MatchState, RuleMatcher } from './field-rules.js';
import { applyOperator } from './operators.js';
import { fieldRuleName, MalformedAnswerError, valueCap, type ByteTransform, type FieldPolicy } from './structured.js';
import type { Tally } from './tally.js';

/** Keys longer than this are not what a JSON answer of AWS holds: the answer is refused as malformed. */
const keyCap = 4096;
/** White space held after a comma (while the next member may still be dropped) is cut to this length. */
const spaceCap = 64;

const enum Mode {
  Value,
  After,
  KeyOrEnd,
  Key,
  Colon,
  String,
  Literal,
}

/**
 * A member path, shared by the values under it: a key (the bytes `[start, end)` of `bytes`, which may be a slice of an
 * input chunk) or a list element. Its text is made only when something under it is masked, and then kept.
 */
export interface PathNode {
  readonly parent: PathNode | undefined;
  /** undefined: a list element. */
  readonly bytes: Buffer | undefined;
  readonly start: number;
  readonly end: number;
  // Filled in when first needed; created as undefined so that every node has one shape.
  text: string | undefined;
  /** Two 32-bit FNV-1a states over the path (see pathKey). */
  hashA: number | undefined;
  hashB: number | undefined;
}

/**
 * A number that stands for the path: equal paths, equal keys (two independent FNV-1a hashes packed into 53 bits, so
 * that different paths of one answer practically never share one). The tally counts by it, so that counting a mask
 * costs no path text; the text is made once per distinct location.
 */
export function pathKey(node: PathNode | undefined): number {
  if (!node) return 0;
  if (node.hashA === undefined || node.hashB === undefined) {
    pathKey(node.parent);
    let a = node.parent?.hashA ?? 0x811c9dc5;
    let b = node.parent?.hashB ?? 0x01000193;
    const mix = (byte: number) => {
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x5bd1e995);
    };
    if (node.bytes) {
      mix(0x2e);
      for (let i = node.start; i < node.end; i++) mix(node.bytes[i]!);
    } else mix(0x5b);
    node.hashA = a >>> 0;
    node.hashB = b >>> 0;
  }
  return node.hashA * 0x200000 + (node.hashB & 0x1fffff);
}

/** `Functions[].Environment.Variables.API_KEY`: names as written (UTF-8), list elements as `[]`. */
export function pathText(node: PathNode | undefined): string {
  if (!node) return '';
  if (node.text !== undefined) return node.text;
  const parent = pathText(node.parent);
  const text = node.bytes ? (parent === '' ? '' : `${parent}.`) + node.bytes.toString('utf8', node.start, node.end) : `${parent}[]`;
  node.text = text;
  return text;
}

interface Frame {
  readonly array: boolean;
  /** Rule positions alive for this container's members (or elements). */
  readonly state: MatchState;
  /** This container's own path. */
  readonly node: PathNode | undefined;
  /** The current member (objects) or any element (arrays): its path, its rule, and the state below it. */
  valueNode: PathNode | undefined;
  valueRule: FieldRule | undefined;
  valueState: MatchState;
  /** Whether a member or element of this container was passed on (for commas after dropped members). */
  emittedAny: boolean;
}

const quote = Buffer.from('"');

/**
 * JSON: a byte tokenizer that tracks the member path against the precompiled rules. A string value at (or under) a
 * member a rule covers is replaced as a whole; a member whose rule says "drop" disappears with its comma. Everything
 * else passes through as slices of the input (no copy, no decoding). Keys are compared as bytes, and a path is
 * turned into text only where something was masked. Anything that is not JSON is refused (MalformedAnswerError):
 * field rules cannot be applied to it, so it must not pass.
 *
 * `marks`: where each key starts in the output, with its path, so that detector matches found later in the output
 * can be given a location (`locate`). Marks before `forget(offset)` are dropped: memory stays bounded by the window
 * the detectors hold back.
 */
export function createJsonFieldMasker(rules: RuleMatcher, policy: FieldPolicy, tally: Tally): ByteTransform {
  /** Drop operators need commas and keys held until the member is decided; without them both pass straight through. */
  const mayDrop = policy.drops;
  const stack: Frame[] = [];
  let mode = Mode.Value;
  let escaped = false;
  /** Inside a masked string value: its rule, its path, and its raw bytes so far (undefined: over the cap, or not needed). */
  let maskedRule: FieldRule | undefined;
  let maskedNode: PathNode | undefined;
  let maskedRaw: Buffer[] | undefined;
  let maskedSize = 0;
  /** The rule covering the current container subtree, where it matched, and the stack depth where it started. */
  let activeRule: FieldRule | undefined;
  let activeNode: PathNode | undefined;
  let activeDepth = 0;
  /** Dropping: the stack depth to return to; -1 when not dropping. */
  let dropDepth = -1;
  let dropInString = false;
  /** Held before a key is decided (drop profiles only): the separator (comma and white space). */
  let pendingComma = false;
  let pendingSpace = '';
  /** A key that started in an earlier chunk, as bytes so far; where the current key's quote is in this chunk. */
  let keyParts: Buffer[] | undefined;
  let keySize = 0;
  let keyQuote = -1;
  let keyOut = 0;
  /** Output bytes before the current chunk. */
  let outBase = 0;
  /** Inputs consumed before the current chunk (for error positions). */
  let inBase = 0;
  const markOffsets: number[] = [];
  const markNodes: (PathNode | undefined)[] = [];
  let markHead = 0;

  function ruleForValue(): FieldRule | undefined {
    if (activeRule) return activeRule;
    const frame = stack.at(-1);
    return frame ? frame.valueRule : rules.root.rule;
  }

  function valueNode(): PathNode | undefined {
    return stack.at(-1)?.valueNode;
  }

  function run(buf: Buffer, final: boolean): Buffer {
    const parts: Buffer[] = [];
    let outLength = 0;
    let from = 0; // start of input not yet passed on
    const flush = (to: number) => {
      if (to > from) {
        parts.push(buf.subarray(from, to));
        outLength += to - from;
      }
      from = to;
    };
    const emit = (bytes: Buffer) => {
      if (bytes.length === 0) return;
      parts.push(bytes);
      outLength += bytes.length;
    };
    const malformed = (at: number): never => {
      throw new MalformedAnswerError(`The answer is not valid JSON (byte ${inBase + at}); field rules cannot be applied to it.`);
    };
    const n = buf.length;
    let i = 0;

    /** Index of the string's closing quote from `at`, or n; keeps `escaped` across chunks. */
    const closingQuote = (at: number): number => {
      let j = at;
      if (escaped) {
        if (j >= n) return n;
        escaped = false;
        j++;
      }
      const found = findQuote(buf, j, n);
      if (found <= n) return found;
      escaped = true;
      return n;
    };

    const closeContainer = () => {
      stack.pop();
      mode = Mode.After;
      afterValue();
    };

    const decideKey = (bytes: Buffer, start: number, end: number) => {
      const frame = stack.at(-1)!;
      const node: PathNode = { parent: frame.node, bytes, start, end, text: undefined, hashA: undefined, hashB: undefined };
      frame.valueNode = node;
      if (activeRule) {
        frame.valueRule = undefined;
        frame.valueState = frame.state;
      } else {
        const step = rules.step(frame.state, bytes, start, end);
        frame.valueRule = step.rule;
        frame.valueState = step.state;
      }
      const rule = frame.valueRule;
      if (rule && policy.operatorFor(rule.kind).op === 'drop') {
        pendingComma = false;
        pendingSpace = '';
        tally.add(rule.kind, fieldRuleName(rule), pathKey(node), () => pathText(node));
        dropDepth = stack.length;
        dropInString = false;
        escaped = false;
        mode = Mode.Colon;
        from = i;
        return;
      }
      if (mayDrop) {
        const separator = pendingText(false);
        if (separator.length > 0) emit(Buffer.from(separator, 'latin1'));
        frame.emittedAny = true;
        addMark(keyOut + separator.length, node);
        // The key goes out as written: from its quote when it started in this chunk, else as held.
        if (keyQuote >= 0) from = keyQuote;
        else emit(Buffer.concat([quote, ...(keyParts ?? []), buf.subarray(0, i - 1), quote]));
      } else addMark(keyOut, node);
      keyParts = undefined;
      keySize = 0;
      mode = Mode.Colon;
    };

    while (i < n) {
      if (dropDepth >= 0) {
        // Skip the dropped value: strings (with their escapes) and nesting down to where it started.
        const c = buf[i]!;
        if (dropInString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) dropInString = false;
          i++;
          from = i;
          if (!dropInString && stack.length === dropDepth) endDrop();
          continue;
        }
        if (c === 0x22) dropInString = true;
        else if (c === 0x7b || c === 0x5b) {
          stack.push({ array: c === 0x5b, state: [], node: undefined, valueNode: undefined, valueRule: undefined, valueState: [], emittedAny: false });
        } else if (c === 0x7d || c === 0x5d) {
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
        } else if (c === 0x2c && stack.length === dropDepth) {
          endDrop();
          continue;
        }
        i++;
        from = i;
        continue;
      }
      if (mode === Mode.String) {
        const j = closingQuote(i);
        if (maskedRule) {
          // Swallow the value, keeping up to the cap for operators that need it.
          if (maskedRaw !== undefined && j > i) {
            maskedSize += j - i;
            if (maskedSize > valueCap) maskedRaw = undefined;
            else maskedRaw.push(Buffer.from(buf.subarray(i, j)));
          }
          from = j;
          i = j;
          if (j < n) {
            emit(replacementBytes(maskedRule, policy, maskedRaw));
            countMasked(maskedRule);
            maskedRule = undefined;
            maskedRaw = undefined;
            i++; // the closing quote passes through
            mode = Mode.After;
            afterValue();
          }
          continue;
        }
        i = j;
        if (j < n) {
          i++;
          mode = Mode.After;
          afterValue();
        }
        continue;
      }
      if (mode === Mode.Key) {
        const j = closingQuote(i);
        if (j === n) {
          if (n > i) {
            (keyParts ??= []).push(Buffer.from(buf.subarray(keyQuote >= 0 ? keyQuote + 1 : 0, n)));
            keySize += n - (keyQuote >= 0 ? keyQuote + 1 : 0);
          }
          if (keySize > keyCap) malformed(n);
          // The key continues in the next chunk: what of it is in this one is held (drop profiles) or already passed.
          if (mayDrop) from = n;
          keyQuote = -1;
          i = n;
          continue;
        }
        i = j + 1;
        const keyStart = keyQuote >= 0 ? keyQuote + 1 : 0;
        if (keyParts || hasBackslash(buf, keyStart, j)) {
          // Split across chunks or escaped: decode to the key's latin1 bytes.
          const raw = keyParts ? Buffer.concat([...keyParts, buf.subarray(keyStart, j)]) : buf.subarray(keyStart, j);
          if (raw.length > keyCap) malformed(j);
          const decoded = decodeJsonString(raw);
          decideKey(decoded, 0, decoded.length);
        } else decideKey(buf, keyStart, j);
        continue;
      }
      if (mode === Mode.Literal) {
        while (i < n && isLiteralByte(buf[i]!)) i++;
        if (i < n) {
          mode = Mode.After;
          afterValue();
        }
        continue;
      }
      const c = buf[i]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        if (mode === Mode.KeyOrEnd && mayDrop) {
          flush(i);
          let j = i + 1;
          while (j < n && (buf[j] === 0x20 || buf[j] === 0x0a || buf[j] === 0x0d || buf[j] === 0x09)) j++;
          if (pendingSpace.length < spaceCap) pendingSpace = (pendingSpace + buf.toString('latin1', i, j)).slice(0, spaceCap);
          from = j;
          i = j;
        } else i++;
        continue;
      }
      switch (mode) {
        case Mode.Value:
          if (c === 0x22) {
            const rule = ruleForValue();
            mode = Mode.String;
            escaped = false;
            if (rule) {
              flush(i + 1);
              maskedRule = rule;
              maskedNode = activeRule ? activeNode : valueNode();
              maskedRaw = policy.operatorFor(rule.kind).op === 'redact' ? undefined : [];
              maskedSize = 0;
            }
            i++;
          } else if (c === 0x7b || c === 0x5b) {
            const rule = ruleForValue();
            const parent = stack.at(-1);
            const node = parent ? parent.valueNode : undefined;
            if (rule && !activeRule) {
              activeRule = rule;
              activeNode = node;
              activeDepth = stack.length;
            }
            const state = parent ? parent.valueState : rules.root.state;
            const array = c === 0x5b;
            const frame: Frame = { array, state, node, valueNode: undefined, valueRule: undefined, valueState: state, emittedAny: false };
            if (array) {
              frame.valueNode = { parent: node, bytes: undefined, start: 0, end: 0, text: undefined, hashA: undefined, hashB: undefined };
              if (!activeRule) {
                const step = rules.step(state, undefined, 0, 0);
                frame.valueRule = step.rule;
                frame.valueState = step.state;
              }
            }
            stack.push(frame);
            mode = array ? Mode.Value : Mode.KeyOrEnd;
            i++;
          } else if (c === 0x5d && stack.at(-1)?.array) {
            i++;
            closeContainer();
          } else if (c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e || (c >= 0x30 && c <= 0x39)) {
            mode = Mode.Literal;
            i++;
            while (i < n && isLiteralByte(buf[i]!)) i++;
          } else malformed(i);
          break;
        case Mode.After: {
          const frame = stack.at(-1);
          if (!frame) malformed(i); // text after the top-level value
          else if (c === 0x2c) {
            if (frame.array) mode = Mode.Value;
            else {
              if (mayDrop) {
                flush(i);
                pendingComma = true;
                pendingSpace = '';
                from = i + 1;
              }
              mode = Mode.KeyOrEnd;
            }
            i++;
          } else if ((c === 0x7d && !frame.array) || (c === 0x5d && frame.array)) {
            i++;
            closeContainer();
          } else malformed(i);
          break;
        }
        case Mode.KeyOrEnd:
          if (c === 0x22) {
            if (mayDrop) flush(i);
            // Where the key starts in the output (after a held separator, which is added when it goes out).
            keyOut = outBase + outLength + (i - from);
            keyQuote = i;
            keyParts = undefined;
            keySize = 0;
            escaped = false;
            mode = Mode.Key;
            i++;
            if (mayDrop) from = i;
          } else if (c === 0x7d) {
            // A held separator before a close: white space is kept, a dangling comma (invalid JSON anyway) too.
            if (mayDrop) emit(Buffer.from(pendingText(true), 'latin1'));
            i++;
            closeContainer();
          } else malformed(i);
          break;
        case Mode.Colon:
          if (c === 0x3a) {
            mode = Mode.Value;
            i++;
          } else malformed(i);
          break;
      }
    }
    flush(n);
    if (final && maskedRule) {
      // Truncated inside a masked value: the rest is withheld.
      emit(replacementBytes(maskedRule, policy, undefined));
      countMasked(maskedRule);
      maskedRule = undefined;
    }
    if (final && mode === Mode.Key && mayDrop) emit(Buffer.concat([Buffer.from(pendingText(false), 'latin1'), quote, ...(keyParts ?? [])]));
    if (final && mode === Mode.KeyOrEnd && mayDrop) emit(Buffer.from(pendingText(true), 'latin1'));
    keyQuote = -1;
    outBase += outLength;
    inBase += n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, outLength);

    function endDrop(): void {
      dropDepth = -1;
      mode = Mode.After;
    }
  }

  function pendingText(keepDanglingComma: boolean): string {
    const frame = stack.at(-1);
    const text = (pendingComma && (frame?.emittedAny || keepDanglingComma) ? ',' : '') + pendingSpace;
    pendingComma = false;
    pendingSpace = '';
    return text;
  }

  function afterValue(): void {
    const frame = stack.at(-1);
    if (frame) frame.emittedAny = true;
    if (activeRule && stack.length === activeDepth) activeRule = undefined;
  }

  function countMasked(rule: FieldRule): void {
    const node = maskedNode;
    tally.add(rule.kind, fieldRuleName(rule), pathKey(node), () => pathText(node));
  }

  function addMark(offset: number, node: PathNode): void {
    markOffsets.push(offset);
    markNodes.push(node);
  }

  return {
    push: (chunk) => run(chunk, false),
    end: () => run(Buffer.alloc(0), true),
    locate(offset) {
      // The last key that starts at or before the offset (binary search over the live marks).
      let low = markHead;
      let high = markOffsets.length - 1;
      let found = -1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        if (markOffsets[middle]! <= offset) {
          found = middle;
          low = middle + 1;
        } else high = middle - 1;
      }
      const node = found < 0 ? undefined : markNodes[found];
      return { key: pathKey(node), text: () => pathText(node) };
    },
    forget(offset) {
      // Keep the last mark before `offset`: it still names where a later match sits.
      while (markHead + 1 < markOffsets.length && markOffsets[markHead + 1]! <= offset) markHead++;
      if (markHead > 1024 && markHead * 2 > markOffsets.length) {
        markOffsets.splice(0, markHead);
        markNodes.splice(0, markHead);
        markHead = 0;
      }
    },
  };
}

const redactions = new WeakMap<FieldRule, Buffer>();

/**
 * The JSON string content that replaces a masked value: the operator's text (base64 for blob members), escaped.
 * `raw` holds the value as written; undefined when it was over the cap or the operator does not need it.
 */
function replacementBytes(rule: FieldRule, policy: FieldPolicy, raw: Buffer[] | undefined): Buffer {
  const operator = raw === undefined ? ({ op: 'redact' } as const) : policy.operatorFor(rule.kind);
  if (operator.op === 'redact' || operator.op === 'drop') {
    const known = redactions.get(rule);
    if (known) return known;
  }
  const value = raw === undefined ? '' : decodeJsonString(Buffer.concat(raw)).toString('utf8');
  const text = applyOperator(operator, rule.kind, value, policy.key);
  const bytes = Buffer.from(JSON.stringify(rule.base64 ? Buffer.from(text, 'utf8').toString('base64') : text).slice(1, -1), 'utf8');
  if (operator.op === 'redact' || operator.op === 'drop') redactions.set(rule, bytes);
  return bytes;
}

/**
 * The first unescaped quote in `buf[at, n)`: its index; n when there is none; n + 1 when there is none and the last
 * byte is an escaping backslash. A plain loop: strings in AWS answers are short, and a native indexOf per string costs
 * more in call overhead than it saves.
 */
function findQuote(buf: Buffer, at: number, n: number): number {
  let j = at;
  while (j < n) {
    const c = buf[j]!;
    if (c === 0x22) return j;
    if (c === 0x5c) {
      if (j + 1 >= n) return n + 1;
      j += 2;
    } else j++;
  }
  return n;
}

function hasBackslash(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === 0x5c) return true;
  return false;
}

/** Bytes of numbers and of true, false, null. */
function isLiteralByte(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 45 || code === 43 || code === 46;
}

/** Raw JSON string content → its value as latin1 bytes of its UTF-8; invalid escapes are kept as written. */
export function decodeJsonString(raw: Buffer): Buffer {
  if (!raw.includes(0x5c)) return raw;
  try {
    return Buffer.from(JSON.parse(`"${raw.toString('utf8')}"`) as string, 'utf8');
  } catch {
    return raw;
  }
}
