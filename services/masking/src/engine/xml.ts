import type { FieldRule, RuleMatcher } from './field-rules.js';
import { applyOperator } from './operators.js';
import { fieldRuleName, fromBytes, MalformedAnswerError, toBytes, valueCap, type ByteTransform, type FieldPolicy } from './structured.js';
import type { Tally } from './tally.js';

const tagCap = 65_536;

/**
 * XML (query, ec2 and rest-xml answers): a tokenizer that tracks the element path below the root (and below
 * `<Operation>Result` for query answers), with `member` and `item` elements as list elements (`[]`). Text in an
 * element a rule covers is replaced; an element whose rule says "drop" disappears. Markup longer than a bound is not
 * what an AWS answer holds: the answer is refused (MalformedAnswerError).
 *
 * Text is handled as latin1 (one character per byte), so output offsets are byte offsets; each start tag leaves a mark
 * (its output offset and path) so that detector matches can be given a location.
 */
export function createXmlFieldMasker(rules: RuleMatcher, policy: FieldPolicy, operation: string, tally: Tally): ByteTransform {
  const stack: string[] = [];
  let mode: 'text' | 'markup' | 'comment' | 'cdata' = 'text';
  let markup = '';
  /** Progress through the terminator of a comment or CDATA section. */
  let terminator = 0;
  let quote = '';
  let activeRule: FieldRule | undefined;
  let activeLocation = '';
  let activeDepth = 0;
  let dropDepth = -1;
  /** Text of a covered element so far (undefined once over the cap); '' when none is pending. */
  let held: string | undefined = '';
  let heldAny = false;
  const resultName = `${operation}Result`.toLowerCase();
  /** Output bytes before the current chunk. */
  let outBase = 0;
  const markOffsets: number[] = [];
  const markPaths: string[][] = [];
  let markHead = 0;

  function rulePath(): string[] {
    const names = stack.slice(1);
    if (names[0]?.toLowerCase() === resultName) names.shift();
    return names.map((name) => (name === 'member' || name === 'item' ? '[]' : name));
  }

  function replaceHeld(out: Output): void {
    if (!heldAny) return;
    const rule = activeRule!;
    if (held !== undefined && held.trim() === '') out.push(held);
    else {
      const value = held === undefined ? undefined : fromBytes(decodeEntities(held));
      const operator = value === undefined ? { op: 'redact' as const } : policy.operatorFor(rule.kind);
      let text = applyOperator(operator, rule.kind, value ?? '', policy.key);
      if (rule.base64) text = Buffer.from(text, 'utf8').toString('base64');
      out.push(toBytes(escapeXml(text)));
      tally.add(rule.kind, fieldRuleName(rule), activeLocation, () => activeLocation);
    }
    held = '';
    heldAny = false;
  }

  function hold(text: string): void {
    heldAny = true;
    if (held !== undefined) {
      held += text;
      if (held.length > valueCap) held = undefined;
    }
  }

  function run(text: string, final: boolean): string {
    const out = new Output();
    const emit = (part: string) => {
      if (dropDepth < 0) out.push(part);
    };
    let i = 0;
    const n = text.length;
    while (i < n) {
      switch (mode) {
        case 'text': {
          let j = text.indexOf('<', i);
          if (j < 0) j = n;
          if (j > i) {
            if (dropDepth >= 0) {
              /* skipped */
            } else if (activeRule) hold(text.slice(i, j));
            else out.push(text.slice(i, j));
          }
          i = j;
          if (j < n) {
            mode = 'markup';
            markup = '<';
            quote = '';
            i++;
          }
          break;
        }
        case 'markup': {
          // Classify comments and CDATA first: they can be long and are not buffered.
          if (markup.startsWith('<!') && (markup.length < 4 || (markup.startsWith('<![') && markup.length < 9))) {
            markup += text[i]!;
            i++;
            if (markup === '<!--') {
              if (activeRule) replaceHeld(out);
              emit(markup);
              mode = 'comment';
              terminator = 0;
            } else if (markup === '<![CDATA[') {
              if (!activeRule) emit(markup);
              mode = 'cdata';
              terminator = 0;
            }
            continue;
          }
          const c = text[i]!;
          i++;
          markup += c;
          if (quote) {
            if (c === quote) quote = '';
          } else if ((c === '"' || c === "'") && !markup.startsWith('<!') && !markup.startsWith('<?')) quote = c;
          else if (c === '>') {
            mode = 'text';
            tag(markup, out);
          }
          if (mode === 'markup' && markup.length > tagCap) {
            throw new MalformedAnswerError(`The answer holds markup longer than ${tagCap} bytes; field rules cannot be applied to it.`);
          }
          break;
        }
        case 'comment': {
          const start = i;
          while (i < n && terminator < 3) {
            const c = text[i]!;
            terminator = c === '-' ? Math.min(terminator + 1, 2) : c === '>' && terminator === 2 ? 3 : 0;
            i++;
          }
          emit(text.slice(start, i));
          if (terminator === 3) mode = 'text';
          break;
        }
        case 'cdata': {
          const start = i;
          while (i < n && terminator < 3) {
            const c = text[i]!;
            terminator = c === ']' ? Math.min(terminator + 1, 2) : c === '>' && terminator === 2 ? 3 : 0;
            i++;
          }
          const part = text.slice(start, i);
          if (activeRule && dropDepth < 0) {
            // CDATA content is text as written (no entities): held escaped, so that it is decoded back the same.
            // The terminator is held too and taken off at the end, so the held text never depends on the split.
            hold(escapeXml(part));
            if (terminator === 3 && held !== undefined) held = held.slice(0, -']]&gt;'.length);
          } else emit(part);
          if (terminator === 3) mode = 'text';
          break;
        }
      }
    }
    if (final) {
      if (mode === 'markup') emit(markup);
      if (activeRule) replaceHeld(out);
    }
    const result = out.parts.join('');
    outBase += result.length;
    return result;
  }

  function tag(markup: string, out: Output): void {
    if (markup.startsWith('<!') || markup.startsWith('<?')) {
      if (dropDepth < 0) {
        if (activeRule) replaceHeld(out);
        out.push(markup);
      }
      return;
    }
    if (markup.startsWith('</')) {
      if (dropDepth >= 0) {
        stack.pop();
        if (stack.length === dropDepth) dropDepth = -1;
        return;
      }
      if (activeRule) replaceHeld(out);
      stack.pop();
      if (activeRule && stack.length < activeDepth) activeRule = undefined;
      out.push(markup);
      return;
    }
    const name = /^<([^\s/>]+)/.exec(markup)?.[1] ?? '';
    const local = name.slice(name.indexOf(':') + 1);
    const selfClosing = markup.endsWith('/>');
    if (dropDepth >= 0) {
      if (!selfClosing) stack.push(local);
      return;
    }
    if (activeRule) replaceHeld(out);
    stack.push(local);
    const path = rulePath();
    const rule = activeRule ? undefined : rules.match(path);
    if (rule && policy.operatorFor(rule.kind).op === 'drop') {
      const location = locationOf(path);
      tally.add(rule.kind, fieldRuleName(rule), location, () => location);
      stack.pop();
      if (!selfClosing) {
        dropDepth = stack.length;
        stack.push(local);
      }
      return;
    }
    if (rule && !activeRule && stack.length > 1) {
      activeRule = rule;
      activeLocation = locationOf(path);
      activeDepth = stack.length;
    }
    markOffsets.push(outBase + out.length);
    markPaths.push(path);
    out.push(markup);
    if (selfClosing) {
      stack.pop();
      if (activeRule && stack.length < activeDepth) activeRule = undefined;
    }
  }

  return {
    push: (chunk) => Buffer.from(run(chunk.toString('latin1'), false), 'latin1'),
    end: () => Buffer.from(run('', true), 'latin1'),
    locate(offset) {
      let found = -1;
      for (let at = markOffsets.length - 1; at >= markHead; at--) {
        if (markOffsets[at]! <= offset) {
          found = at;
          break;
        }
      }
      const location = found < 0 ? '' : locationOf(markPaths[found]!);
      return { key: location, text: () => location };
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

/** `Credentials.SecretAccessKey`, list elements as `[]`; names as written (UTF-8). */
function locationOf(path: readonly string[]): string {
  return fromBytes(path.join('.').replaceAll('.[]', '[]'));
}

/** Output parts of one chunk and their total length. */
class Output {
  readonly parts: string[] = [];
  length = 0;
  push(...parts: string[]): void {
    for (const part of parts) {
      this.parts.push(part);
      this.length += part.length;
    }
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
