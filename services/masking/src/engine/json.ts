import type { FieldRule, RuleMatcher } from './field-rules.js';
import { PathTree, type PathNode } from './json-paths.js';
import { applyOperator } from './operators.js';
import { fieldRuleName, MalformedAnswerError, noBytes, valueCap, type ByteTransform, type FieldPolicy } from './structured.js';
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

/** One open object or list. Frames are reused by depth, so that nesting allocates nothing per record. */
interface Frame {
  array: boolean;
  /** This container's own path. */
  node: PathNode;
  /** The current member (objects) or any element (lists). */
  member: PathNode;
  /** Whether a member or element of this container was passed on (for commas after dropped members). */
  emittedAny: boolean;
}

/**
 * JSON: a byte tokenizer that tracks the member path against the precompiled rules. A string value at (or under) a
 * member a rule covers is replaced as a whole; a member whose rule says "drop" disappears with its comma. Everything
 * else passes through untouched, as slices of the chunk's latin1 text (no decoding, no copy per token). Member paths
 * are interned per operation (json-paths.ts): the rule step into a member is worked out once per distinct path. Anything
 * that is not JSON is refused (MalformedAnswerError): field rules cannot be applied to it, so it must not pass.
 *
 * `marks`: where each key starts in the output, with its path, so that detector matches found later in the output
 * can be given a location (`locate`). Marks before `forget(offset)` are dropped: memory stays bounded by the window
 * the detectors hold back.
 */
export function createJsonFieldMasker(rules: RuleMatcher, policy: FieldPolicy, tally: Tally): ByteTransform {
  /** Drop operators need commas and keys held until the member is decided; without them both pass straight through. */
  const mayDrop = policy.drops;
  const tree = PathTree.for(rules);
  const frames: Frame[] = [];
  let depth = 0;
  let top: Frame | undefined;
  let mode = Mode.Value;
  let escaped = false;
  /** Inside a masked string value: its rule, its path, and its raw bytes so far (undefined: over the cap, or not needed). */
  let maskedRule: FieldRule | undefined;
  let maskedNode: PathNode = tree.root;
  let maskedRaw: Buffer[] | undefined;
  let maskedSize = 0;
  /** The rule covering the current container subtree, where it matched, and the depth where it started. */
  let activeRule: FieldRule | undefined;
  let activeNode: PathNode = tree.root;
  let activeDepth = 0;
  /** Dropping: the depth to return to (-1 when not dropping), and the containers opened inside the dropped value. */
  let dropDepth = -1;
  let dropNest = 0;
  let dropInString = false;
  /** Held before a key is decided (drop profiles only): the separator (comma and white space). */
  let pendingComma = false;
  let pendingSpace = '';
  /** A key that started in an earlier chunk, as bytes so far; where the current key's quote is in this chunk. */
  let keyParts: Buffer[] | undefined;
  let keySize = 0;
  let keyQuote = -1;
  let keyOut = 0;
  /** Output characters (bytes) before the current chunk; input bytes before it (for error positions). */
  let outBase = 0;
  let inBase = 0;
  const markOffsets: number[] = [];
  const markNodes: PathNode[] = [];
  let markHead = 0;

  // The chunk being read: its bytes, the same as latin1 text, where the input not yet passed on starts, and the output.
  let buf: Buffer = noBytes;
  let text = '';
  let n = 0;
  let from = 0;
  /** The chunk's output so far: pieces joined once at the end (a chain of `+=` is slow to flatten for the detectors). */
  let pieces: string[] = [];
  let outLength = 0;

  function emit(piece: string): void {
    pieces.push(piece);
    outLength += piece.length;
  }

  function flush(to: number): void {
    if (to > from) emit(text.slice(from, to));
    from = to;
  }

  function malformed(at: number): never {
    throw new MalformedAnswerError(`The answer is not valid JSON (byte ${inBase + at}); field rules cannot be applied to it.`);
  }

  /** Index of the string's closing quote from `at`, or n; keeps `escaped` across chunks. */
  function closingQuote(at: number): number {
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
  }

  function push(frame: Frame | undefined, array: boolean, node: PathNode): void {
    if (frame === undefined) {
      frame = { array, node, member: node, emittedAny: false };
      frames.push(frame);
    } else {
      frame.array = array;
      frame.node = node;
      frame.member = node;
      frame.emittedAny = false;
    }
    if (array) frame.member = tree.element(node);
    depth++;
    top = frame;
  }

  function closeContainer(): void {
    depth--;
    top = depth > 0 ? frames[depth - 1] : undefined;
    mode = Mode.After;
    afterValue();
  }

  function afterValue(): void {
    if (top !== undefined) top.emittedAny = true;
    if (activeRule !== undefined && depth === activeDepth) activeRule = undefined;
  }

  /** The key `bytes[start, end)` (decoded) is complete; `next` is where the input goes on after its closing quote. */
  function decideKey(bytes: Buffer, start: number, end: number, next: number): void {
    const frame = top!;
    const node = tree.member(frame.node, bytes, start, end);
    frame.member = node;
    mode = Mode.Colon;
    if (!mayDrop) {
      keyParts = undefined;
      addMark(keyOut, node);
      return;
    }
    const rule = activeRule === undefined ? node.rule : undefined;
    if (rule !== undefined && policy.operatorFor(rule.kind).op === 'drop') {
      keyParts = undefined;
      pendingComma = false;
      pendingSpace = '';
      tally.add(rule.kind, fieldRuleName(rule), node);
      dropDepth = depth;
      dropNest = 0;
      dropInString = false;
      escaped = false;
      from = next;
      return;
    }
    const separator = pendingText(false);
    emit(separator);
    frame.emittedAny = true;
    addMark(keyOut + separator.length, node);
    // The key goes out as written: from its quote when it started in this chunk, else as held.
    if (keyQuote >= 0) from = keyQuote;
    else {
      emit(`"${heldKeyText()}${text.slice(0, next - 1)}"`);
      from = next;
    }
    keyParts = undefined;
  }

  function heldKeyText(): string {
    return keyParts === undefined ? '' : keyParts.map((part) => part.toString('latin1')).join('');
  }

  function pendingText(keepDanglingComma: boolean): string {
    const separator = (pendingComma && (top?.emittedAny || keepDanglingComma) ? ',' : '') + pendingSpace;
    pendingComma = false;
    pendingSpace = '';
    return separator;
  }

  function addMark(offset: number, node: PathNode): void {
    markOffsets.push(offset);
    markNodes.push(node);
  }

  /** Skips one byte of a dropped value (strings with their escapes, nesting down to where it started); the next index. */
  function skipDropped(i: number): number {
    const c = buf[i]!;
    if (dropInString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) dropInString = false;
      from = i + 1;
      if (!dropInString && dropNest === 0) endDrop();
      return i + 1;
    }
    if (c === 0x22) dropInString = true;
    else if (c === 0x7b || c === 0x5b) dropNest++;
    else if (c === 0x7d || c === 0x5d) {
      // A scalar value ended by its container's close: not ours to skip.
      if (dropNest === 0) {
        endDrop();
        return i;
      }
      dropNest--;
      if (dropNest === 0) {
        from = i + 1;
        endDrop();
        return i + 1;
      }
    } else if (c === 0x2c && dropNest === 0) {
      endDrop();
      return i;
    }
    from = i + 1;
    return i + 1;
  }

  function endDrop(): void {
    dropDepth = -1;
    mode = Mode.After;
  }

  function run(chunk: Buffer, final: boolean): string {
    buf = chunk;
    n = chunk.length;
    text = n > 0 ? chunk.toString('latin1') : '';
    from = 0;
    pieces = [];
    outLength = 0;
    let i = 0;
    while (i < n) {
      if (dropDepth >= 0) {
        i = skipDropped(i);
        continue;
      }
      switch (mode) {
        case Mode.String: {
          const j = closingQuote(i);
          if (maskedRule !== undefined) {
            // Swallow the value, keeping up to the cap for operators that need it.
            if (maskedRaw !== undefined && j > i) {
              maskedSize += j - i;
              if (maskedSize > valueCap) maskedRaw = undefined;
              else maskedRaw.push(Buffer.copyBytesFrom(buf, i, j - i));
            }
            from = j;
            i = j;
            if (j < n) {
              emit(replacementText(maskedRule, policy, maskedRaw));
              tally.add(maskedRule.kind, fieldRuleName(maskedRule), maskedNode);
              maskedRule = undefined;
              maskedRaw = undefined;
              i++; // the closing quote passes through
              mode = Mode.After;
              afterValue();
            }
          } else {
            i = j;
            if (j < n) {
              i++;
              mode = Mode.After;
              afterValue();
            }
          }
          break;
        }
        case Mode.Key: {
          const j = closingQuote(i);
          const keyStart = keyQuote >= 0 ? keyQuote + 1 : 0;
          if (j === n) {
            if (n > keyStart) {
              (keyParts ??= []).push(Buffer.copyBytesFrom(buf, keyStart, n - keyStart));
              keySize += n - keyStart;
            }
            if (keySize > keyCap) malformed(n);
            // The key continues in the next chunk: what of it is in this one is held (drop profiles) or already passed.
            if (mayDrop) from = n;
            keyQuote = -1;
            i = n;
            break;
          }
          i = j + 1;
          if (keyParts !== undefined || sawBackslash) {
            // Split across chunks or escaped: decode to the key's latin1 bytes.
            const raw = keyParts ? Buffer.concat([...keyParts, buf.subarray(keyStart, j)]) : buf.subarray(keyStart, j);
            if (raw.length > keyCap) malformed(j);
            const decoded = decodeJsonString(raw);
            decideKey(decoded, 0, decoded.length, i);
          } else decideKey(buf, keyStart, j, i);
          // Compact JSON: the colon follows at once, and often a plain value and the next key.
          if (dropDepth < 0 && i < n && buf[i] === 0x3a) {
            i++;
            mode = Mode.Value;
            if (!mayDrop) i = plainValueAndNextKey(i);
          }
          break;
        }
        case Mode.Literal: {
          while (i < n && isLiteralByte(buf[i]!)) i++;
          if (i < n) {
            mode = Mode.After;
            afterValue();
          }
          break;
        }
        default: {
          const c = buf[i]!;
          if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
            if (mode === Mode.KeyOrEnd && mayDrop) {
              flush(i);
              let j = i + 1;
              while (j < n && (buf[j] === 0x20 || buf[j] === 0x0a || buf[j] === 0x0d || buf[j] === 0x09)) j++;
              if (pendingSpace.length < spaceCap) pendingSpace = (pendingSpace + text.slice(i, j)).slice(0, spaceCap);
              from = j;
              i = j;
            } else i++;
            break;
          }
          i = structural(c, i);
        }
      }
    }
    flush(n);
    if (final) finish();
    keyQuote = -1;
    outBase += outLength;
    inBase += n;
    const result = pieces.length === 1 ? pieces[0]! : pieces.join('');
    pieces = [];
    text = '';
    return result;
  }

  /** A byte outside strings and literals in modes Value, After, KeyOrEnd and Colon; the next index. */
  function structural(c: number, i: number): number {
    switch (mode) {
      case Mode.Value: {
        const rule = activeRule ?? (top === undefined ? tree.root.rule : top.member.rule);
        if (c === 0x22) {
          if (rule === undefined) {
            // A plain string: skip it at once when it closes in this chunk.
            const j = findQuote(buf, i + 1, n);
            if (j < n) {
              mode = Mode.After;
              afterValue();
              return j + 1;
            }
            escaped = j > n;
            mode = Mode.String;
            return n;
          }
          flush(i + 1);
          maskedRule = rule;
          maskedNode = activeRule !== undefined ? activeNode : top === undefined ? tree.root : top.member;
          maskedRaw = policy.operatorFor(rule.kind).op === 'redact' ? undefined : [];
          maskedSize = 0;
          escaped = false;
          mode = Mode.String;
          return i + 1;
        }
        if (c === 0x7b || c === 0x5b) {
          const node = top === undefined ? tree.root : top.member;
          if (rule !== undefined && activeRule === undefined) {
            activeRule = rule;
            activeNode = node;
            activeDepth = depth;
          }
          const array = c === 0x5b;
          push(frames[depth], array, node);
          mode = array ? Mode.Value : Mode.KeyOrEnd;
          return i + 1;
        }
        if (c === 0x5d && top?.array) {
          closeContainer();
          return i + 1;
        }
        if (c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e || (c >= 0x30 && c <= 0x39)) {
          let j = i + 1;
          while (j < n && isLiteralByte(buf[j]!)) j++;
          if (j < n) {
            mode = Mode.After;
            afterValue();
          } else mode = Mode.Literal;
          return j;
        }
        return malformed(i);
      }
      case Mode.After: {
        const frame = top;
        if (frame === undefined) return malformed(i); // text after the top-level value
        if (c === 0x2c) {
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
          return i + 1;
        }
        if ((c === 0x7d && !frame.array) || (c === 0x5d && frame.array)) {
          closeContainer();
          return i + 1;
        }
        return malformed(i);
      }
      case Mode.KeyOrEnd:
        if (c === 0x22) {
          if (mayDrop) flush(i);
          startKey(i);
          if (mayDrop) from = i + 1;
          return i + 1;
        }
        if (c === 0x7d) {
          // A held separator before a close: white space is kept, a dangling comma (invalid JSON anyway) too.
          if (mayDrop) emit(pendingText(true));
          closeContainer();
          return i + 1;
        }
        return malformed(i);
      default:
        // Mode.Colon
        if (c === 0x3a) {
          mode = Mode.Value;
          return i + 1;
        }
        return malformed(i);
    }
  }

  /** A key's opening quote at `i`. */
  function startKey(i: number): void {
    // Where the key starts in the output (after a held separator, which is added when it goes out).
    keyOut = outBase + outLength + (i - from);
    keyQuote = i;
    keyParts = undefined;
    keySize = 0;
    escaped = false;
    mode = Mode.Key;
  }

  /**
   * Right after a key's colon (profiles without drops): a value no rule covers — a string, a literal, or the opening
   * of an object whose first key follows — then the closes and the `,"` that opens the next key, as compact JSON
   * writes them, without a turn of the main loop per token. Returns where it stopped, with `mode` saying what comes
   * next; anything else is left to the main loop.
   */
  function plainValueAndNextKey(i: number): number {
    if (i >= n || activeRule !== undefined || top!.member.rule !== undefined) return i;
    const c = buf[i]!;
    let j: number;
    if (c === 0x22) {
      j = findQuote(buf, i + 1, n);
      if (j >= n) return i;
      j++;
    } else if (c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e || (c >= 0x30 && c <= 0x39)) {
      j = i + 1;
      while (j < n && isLiteralByte(buf[j]!)) j++;
      if (j >= n) return i;
    } else if (c === 0x7b && i + 1 < n && buf[i + 1] === 0x22) {
      push(frames[depth], false, top!.member);
      startKey(i + 1);
      return i + 2;
    } else return i;
    mode = Mode.After;
    afterValue();
    for (let frame = top; j < n && frame !== undefined; frame = top) {
      const close = buf[j];
      if (!(close === 0x7d && !frame.array) && !(close === 0x5d && frame.array)) break;
      closeContainer();
      j++;
    }
    if (j + 1 < n && buf[j] === 0x2c && buf[j + 1] === 0x22 && top !== undefined && !top.array) {
      startKey(j + 1);
      return j + 2;
    }
    return j;
  }

  function finish(): void {
    if (maskedRule !== undefined) {
      // Truncated inside a masked value: the rest is withheld.
      emit(replacementText(maskedRule, policy, undefined));
      tally.add(maskedRule.kind, fieldRuleName(maskedRule), maskedNode);
      maskedRule = undefined;
    }
    if (mode === Mode.Key && mayDrop) emit(`${pendingText(false)}"${heldKeyText()}`);
    if (mode === Mode.KeyOrEnd && mayDrop) emit(pendingText(true));
  }

  return {
    push: (chunk) => run(chunk, false),
    end: () => run(noBytes, true),
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
      return found < 0 ? tree.root : markNodes[found]!;
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

const redactions = new WeakMap<FieldRule, string>();

/**
 * The JSON string content (latin1 text of its UTF-8) that replaces a masked value: the operator's text (base64 for
 * blob members), escaped. `raw` holds the value as written; undefined when it was over the cap or the operator does
 * not need it.
 */
function replacementText(rule: FieldRule, policy: FieldPolicy, raw: Buffer[] | undefined): string {
  const operator = raw === undefined ? ({ op: 'redact' } as const) : policy.operatorFor(rule.kind);
  const fixed = operator.op === 'redact' || operator.op === 'drop';
  if (fixed) {
    const known = redactions.get(rule);
    if (known !== undefined) return known;
  }
  const value = raw === undefined ? '' : decodeJsonString(Buffer.concat(raw)).toString('utf8');
  const replacement = applyOperator(operator, rule.kind, value, policy.key);
  const escaped = JSON.stringify(rule.base64 ? Buffer.from(replacement, 'utf8').toString('base64') : replacement).slice(1, -1);
  const latin1 = Buffer.from(escaped, 'utf8').toString('latin1');
  if (fixed) redactions.set(rule, latin1);
  return latin1;
}

/** Whether the last findQuote passed a backslash (the string has escapes). */
let sawBackslash = false;

/**
 * The first unescaped quote in `buf[at, n)`: its index; n when there is none; n + 1 when there is none and the last
 * byte is an escaping backslash. A plain loop: strings in AWS answers are short, and a native indexOf per string costs
 * more in call overhead than it saves.
 */
function findQuote(buf: Buffer, at: number, n: number): number {
  let j = at;
  sawBackslash = false;
  while (j < n) {
    const c = buf[j]!;
    if (c === 0x22) return j;
    if (c === 0x5c) {
      sawBackslash = true;
      if (j + 1 >= n) return n + 1;
      j += 2;
    } else j++;
  }
  return n;
}

/** Bytes of numbers and of true, false, null. */
function isLiteralByte(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 45 || code === 43 || code === 46;
}

/** Raw JSON string content → its value as latin1 bytes of its UTF-8; invalid escapes are kept as written. */
function decodeJsonString(raw: Buffer): Buffer {
  if (!raw.includes(0x5c)) return raw;
  try {
    return Buffer.from(JSON.parse(`"${raw.toString('utf8')}"`) as string, 'utf8');
  } catch {
    return raw;
  }
}
