import type { FieldRule, RuleMatcher } from './field-rules.js';
import { applyOperator, redact, type Operator } from './operators.js';
import { fieldRuleName, fromBytes, MalformedAnswerError, toBytes, valueCap, type ByteTransform, type FieldPolicy } from './structured.js';
import type { Place, Tally } from './tally.js';

const tagCap = 65_536;
/** Replacements that do not depend on the value, by rule. */
const redactions = new WeakMap<FieldRule, string>();
/** Distinct element paths remembered per operation, and distinct child names per element path. */
const nodeCap = 4096;
const childCap = 64;

/**
 * An element path: the path the rules see (below the root element, and below `<Operation>Result` for query answers,
 * with `member` and `item` as list elements) and the rule that covers it, worked out once per distinct path. Paths are
 * interned per operation (answers of one operation have one shape); past the caps they are made per element.
 */
class ElementPath implements Place {
  readonly children: ElementPath[] = [];
  /** Where among `children` the next element is looked for first: records of one shape list them in one order. */
  cursor = 0;
  readonly location: string;

  constructor(
    /** The element's local name. */
    readonly local: string,
    readonly names: readonly string[],
    readonly rule: FieldRule | undefined,
    readonly interned: boolean,
  ) {
    this.location = locationOf(names);
  }

  get key(): string {
    return this.location;
  }

  text(): string {
    return this.location;
  }
}

class ElementPaths {
  readonly root: ElementPath;
  #count = 0;

  private constructor(
    readonly rules: RuleMatcher,
    readonly resultName: string,
  ) {
    this.root = new ElementPath('', [], undefined, true);
  }

  static readonly #trees = new WeakMap<RuleMatcher, Map<string, ElementPaths>>();

  static for(rules: RuleMatcher, operation: string): ElementPaths {
    let byOperation = ElementPaths.#trees.get(rules);
    if (byOperation === undefined) ElementPaths.#trees.set(rules, (byOperation = new Map()));
    let tree = byOperation.get(operation);
    if (tree === undefined || tree.#count >= nodeCap) {
      tree = new ElementPaths(rules, `${operation}Result`.toLowerCase());
      byOperation.set(operation, tree);
    }
    return tree;
  }

  /** The element named `source[start, end)` inside `parent`, which sits at `depth` (0: it is the root element). */
  child(parent: ElementPath, source: string, start: number, end: number, depth: number): ElementPath {
    const children = parent.children;
    const count = children.length;
    let at = parent.cursor;
    for (let tried = 0; tried < count; tried++) {
      if (at >= count) at = 0;
      const known = children[at]!;
      if (known.local.length === end - start && source.startsWith(known.local, start)) {
        parent.cursor = at + 1;
        return known;
      }
      at++;
    }
    const local = source.slice(start, end);
    let names: readonly string[];
    if (depth === 0 || (depth === 1 && local.toLowerCase() === this.resultName)) names = parent.names;
    else names = [...parent.names, local === 'member' || local === 'item' ? '[]' : local];
    const interned = parent.interned && this.#count < nodeCap && count < childCap;
    const node = new ElementPath(local, names, this.rules.match(names), interned);
    if (interned) {
      children.push(node);
      parent.cursor = children.length;
      this.#count++;
    }
    return node;
  }
}

const enum Mode {
  Text,
  Markup,
  Comment,
  Cdata,
}

/**
 * XML (query, ec2 and rest-xml answers): a tokenizer that tracks the element path below the root (and below
 * `<Operation>Result` for query answers), with `member` and `item` elements as list elements (`[]`). Text in an
 * element a rule covers is replaced; an element whose rule says "drop" disappears. Markup longer than a bound is not
 * what an AWS answer holds: the answer is refused (MalformedAnswerError).
 *
 * Text is handled as latin1 (one character per byte), so output offsets are byte offsets; each start tag leaves a mark
 * (its output offset and path) so that detector matches can be given a location. A tag that lies within one chunk
 * and has no quotes (what AWS answers are made of) is found with `indexOf` and taken whole; tags with attributes,
 * comments, CDATA and tags cut by a chunk boundary go character by character.
 */
export function createXmlFieldMasker(rules: RuleMatcher, policy: FieldPolicy, operation: string, tally: Tally): ByteTransform {
  const paths = ElementPaths.for(rules, operation);
  /** The open elements, outermost first. */
  const stack: ElementPath[] = [];
  let mode = Mode.Text;
  let markup = '';
  /** Progress through the terminator of a comment or CDATA section. */
  let terminator = 0;
  let quote = '';
  let activeRule: FieldRule | undefined;
  let activePlace: Place = paths.root;
  let activeDepth = 0;
  let dropDepth = -1;
  /** Text of a covered element so far (undefined once over the cap); '' when none is pending. */
  let held: string | undefined = '';
  let heldAny = false;
  /** Output bytes before the current chunk. */
  let outBase = 0;
  const markOffsets: number[] = [];
  const markPaths: ElementPath[] = [];
  let markHead = 0;
  let out = new Output();
  // The chunk being read, and where its text not yet passed on (or skipped) starts: markup and text that pass
  // unchanged are not copied one by one but go out as one slice.
  let text = '';
  let from = 0;

  function flush(to: number): void {
    if (to > from) out.push(text.slice(from, to));
    from = to;
  }

  function replaceHeld(): void {
    if (!heldAny) return;
    const rule = activeRule!;
    if (held !== undefined && held.trim() === '') out.push(held);
    else {
      const operator = held === undefined ? redact : policy.operatorFor(rule.kind);
      out.push(operator.op === 'redact' || operator.op === 'drop' ? fixedReplacement(rule) : replacementOf(rule, operator, fromBytes(decodeEntities(held!))));
      tally.add(rule.kind, fieldRuleName(rule), activePlace);
    }
    held = '';
    heldAny = false;
  }

  /** The element text (latin1 of its UTF-8, escaped) that replaces a masked value. */
  function replacementOf(rule: FieldRule, operator: Operator, value: string): string {
    let replacement = applyOperator(operator, rule.kind, value, policy.key);
    if (rule.base64) replacement = Buffer.from(replacement, 'utf8').toString('base64');
    return toBytes(escapeXml(replacement));
  }

  /** The same for operators whose text does not depend on the value: worked out once per rule. */
  function fixedReplacement(rule: FieldRule): string {
    let known = redactions.get(rule);
    if (known === undefined) {
      known = replacementOf(rule, redact, '');
      redactions.set(rule, known);
    }
    return known;
  }

  function hold(part: string): void {
    heldAny = true;
    if (held !== undefined) {
      held += part;
      if (held.length > valueCap) held = undefined;
    }
  }

  /** Text `[start, end)` of this chunk that is not plain output: held for a rule, or skipped while dropping. */
  function divert(start: number, end: number, keep: (part: string) => void): void {
    flush(start);
    keep(text.slice(start, end));
    from = end;
  }

  function passMarkup(markup: string, inPlace: boolean): void {
    if (!inPlace) out.push(markup);
  }

  function skipMarkup(start: number, end: number, inPlace: boolean): void {
    if (inPlace) divert(start, end, skip);
  }

  function run(chunk: string, final: boolean): string {
    out = new Output();
    text = chunk;
    from = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      switch (mode) {
        case Mode.Text: {
          let j = text.indexOf('<', i);
          if (j < 0) j = n;
          if (j > i) {
            if (dropDepth >= 0) divert(i, j, skip);
            else if (activeRule) divert(i, j, hold);
          }
          i = j;
          if (j < n) {
            const close = plainTagEnd(text, j, n);
            if (close > 0) {
              tag(text, j, close + 1, true);
              i = close + 1;
            } else {
              // Character by character, held in `markup` until it is complete.
              flush(j);
              mode = Mode.Markup;
              markup = '<';
              quote = '';
              i++;
              from = i;
            }
          }
          break;
        }
        case Mode.Markup: {
          // Classify comments and CDATA first: they can be long and are not buffered.
          if (markup.startsWith('<!') && (markup.length < 4 || (markup.startsWith('<![') && markup.length < 9))) {
            markup += text[i]!;
            i++;
            from = i;
            if (markup === '<!--') {
              if (activeRule) replaceHeld();
              if (dropDepth < 0) out.push(markup);
              mode = Mode.Comment;
              terminator = 0;
            } else if (markup === '<![CDATA[') {
              if (!activeRule && dropDepth < 0) out.push(markup);
              mode = Mode.Cdata;
              terminator = 0;
            }
            continue;
          }
          const c = text[i]!;
          i++;
          from = i;
          markup += c;
          if (quote) {
            if (c === quote) quote = '';
          } else if ((c === '"' || c === "'") && !markup.startsWith('<!') && !markup.startsWith('<?')) quote = c;
          else if (c === '>') {
            mode = Mode.Text;
            tag(markup, 0, markup.length, false);
          }
          if (mode === Mode.Markup && markup.length > tagCap) {
            throw new MalformedAnswerError(`The answer holds markup longer than ${tagCap} bytes; field rules cannot be applied to it.`);
          }
          break;
        }
        case Mode.Comment: {
          const start = i;
          while (i < n && terminator < 3) {
            const c = text.charCodeAt(i);
            terminator = c === 0x2d ? Math.min(terminator + 1, 2) : c === 0x3e && terminator === 2 ? 3 : 0;
            i++;
          }
          if (dropDepth >= 0) divert(start, i, skip);
          if (terminator === 3) mode = Mode.Text;
          break;
        }
        case Mode.Cdata: {
          const start = i;
          while (i < n && terminator < 3) {
            const c = text.charCodeAt(i);
            terminator = c === 0x5d ? Math.min(terminator + 1, 2) : c === 0x3e && terminator === 2 ? 3 : 0;
            i++;
          }
          if (dropDepth >= 0) divert(start, i, skip);
          else if (activeRule) {
            // CDATA content is text as written (no entities): held escaped, so that it is decoded back the same.
            // The terminator is held too and taken off at the end, so the held text never depends on the split.
            divert(start, i, (part) => hold(escapeXml(part)));
            if (terminator === 3 && held !== undefined) held = held.slice(0, -']]&gt;'.length);
          }
          if (terminator === 3) mode = Mode.Text;
          break;
        }
      }
    }
    flush(n);
    if (final) {
      if (mode === Mode.Markup && dropDepth < 0) out.push(markup);
      if (activeRule) replaceHeld();
    }
    const result = out.text();
    outBase += result.length;
    text = '';
    return result;
  }

  /**
   * The complete markup `source[start, end)`: in place in the chunk's text (passed on with it unless dropped), or
   * held character by character (`source` is the markup; passed on as a whole).
   */
  function tag(source: string, start: number, end: number, inPlace: boolean): void {
    const second = source.charCodeAt(start + 1);
    if (second === 0x21 || second === 0x3f) {
      // <!…> and <?…?>
      if (dropDepth < 0) {
        if (activeRule) {
          if (inPlace) flush(start);
          replaceHeld();
        }
        passMarkup(source, inPlace);
      } else skipMarkup(start, end, inPlace);
      return;
    }
    if (second === 0x2f) {
      // </…>
      if (dropDepth >= 0) {
        stack.pop();
        if (stack.length === dropDepth) dropDepth = -1;
        skipMarkup(start, end, inPlace);
        return;
      }
      if (activeRule) {
        if (inPlace) flush(start);
        replaceHeld();
      }
      stack.pop();
      if (activeRule && stack.length < activeDepth) activeRule = undefined;
      passMarkup(source, inPlace);
      return;
    }
    const selfClosing = source.charCodeAt(end - 2) === 0x2f;
    const parent = stack.length > 0 ? stack[stack.length - 1]! : paths.root;
    // A tag taken whole had its name found on the way; one held character by character has it found now.
    if (!inPlace) findName(source, start, end);
    const node = paths.child(parent, source, nameStart, nameEnd, stack.length);
    if (dropDepth >= 0) {
      if (!selfClosing) stack.push(node);
      skipMarkup(start, end, inPlace);
      return;
    }
    if (activeRule) {
      if (inPlace) flush(start);
      replaceHeld();
    }
    stack.push(node);
    const rule = activeRule ? undefined : node.rule;
    if (rule && policy.operatorFor(rule.kind).op === 'drop') {
      tally.add(rule.kind, fieldRuleName(rule), node);
      stack.pop();
      if (!selfClosing) {
        dropDepth = stack.length;
        stack.push(node);
      }
      skipMarkup(start, end, inPlace);
      return;
    }
    if (rule && !activeRule && stack.length > 1) {
      activeRule = rule;
      activePlace = node;
      activeDepth = stack.length;
    }
    markOffsets.push(outBase + out.length + (inPlace ? start - from : 0));
    markPaths.push(node);
    passMarkup(source, inPlace);
    if (selfClosing) {
      stack.pop();
      if (activeRule && stack.length < activeDepth) activeRule = undefined;
    }
  }

  return {
    push: (chunk) => run(chunk.toString('latin1'), false),
    end: () => run('', true),
    locate(offset) {
      let found = -1;
      for (let at = markOffsets.length - 1; at >= markHead; at--) {
        if (markOffsets[at]! <= offset) {
          found = at;
          break;
        }
      }
      return found < 0 ? paths.root : markPaths[found]!;
    },
    forget(offset) {
      while (markHead + 1 < markOffsets.length && markOffsets[markHead + 1]! <= offset) markHead++;
      if (markHead > 1024 && markHead * 2 > markOffsets.length) {
        markOffsets.splice(0, markHead);
        markPaths.splice(0, markHead);
        markHead = 0;
      }
    },
  };
}

/** Where the element name of the last tag looked at starts (after any namespace prefix) and ends (see findName). */
let nameStart = 0;
let nameEnd = 0;

/**
 * Where a tag starting at `at` (a `<`) ends, when it is a start or end tag that lies within the text and has no
 * quotes: the index of its `>`, with its name found on the way (nameStart, nameEnd); otherwise 0 (the caller goes
 * character by character).
 */
function plainTagEnd(text: string, at: number, n: number): number {
  const second = at + 1 < n ? text.charCodeAt(at + 1) : 0;
  if (second === 0 || second === 0x21 || second === 0x3f) return 0;
  const end = Math.min(n, at + tagCap);
  let i = findName(text, at, end);
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3e) return i;
    if (c === 0x22 || c === 0x27) return 0;
  }
  return 0;
}

/**
 * The element name of the tag at `start` (`<ns:Name attr…>`: `Name`, without the namespace prefix), left in nameStart
 * and nameEnd so that no string is made for names already known; returns where the name ends.
 */
function findName(source: string, start: number, limit: number): number {
  let end = start + 1;
  let colon = 0;
  for (; end < limit; end++) {
    const c = source.charCodeAt(end);
    if (c === 0x2f || c === 0x3e || c === 0x22 || c === 0x27 || isSpace(c)) break;
    if (c === 0x3a && colon === 0) colon = end;
  }
  nameStart = colon > 0 ? colon + 1 : start + 1;
  nameEnd = end;
  return end;
}

/** White space as `\s` has it within latin1. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

function skip(): void {}

/** `Credentials.SecretAccessKey`, list elements as `[]`; names as written (UTF-8). */
function locationOf(path: readonly string[]): string {
  return fromBytes(path.join('.').replaceAll('.[]', '[]'));
}

/** Output parts of one chunk and their total length. */
class Output {
  readonly #parts: string[] = [];
  length = 0;

  push(part: string): void {
    this.#parts.push(part);
    this.length += part.length;
  }

  text(): string {
    return this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
  }
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});/g, (whole, entity: string) => {
    switch (entity) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = entity[1] === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
        return code <= 0x10ffff ? toBytes(String.fromCodePoint(code)) : whole;
      }
    }
  });
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
