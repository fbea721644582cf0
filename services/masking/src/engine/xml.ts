import type { FieldRule, RuleMatcher } from './field-rules.js';
import { countKey, fromBytes, toBytes, valueCap, type FieldPolicy, type TextTransform } from './structured.js';
import { applyOperator } from './operators.js';

const tagCap = 65_536;

/**
 * XML (query, ec2 and rest-xml answers): a tokenizer that tracks the element path below the root (and below
 * `<Operation>Result` for query answers), with `member` and `item` elements as list elements (`[]`). Text in an
 * element a rule covers is replaced; an element whose rule says "drop" disappears.
 */
export function createXmlFieldMasker(rules: RuleMatcher, policy: FieldPolicy, operation: string): TextTransform {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  let mode: 'text' | 'markup' | 'comment' | 'cdata' | 'broken' = 'text';
  let markup = '';
  /** Progress through the terminator of a comment or CDATA section. */
  let terminator = 0;
  let quote = '';
  let activeRule: FieldRule | undefined;
  let activeDepth = 0;
  let dropDepth = -1;
  /** Text of a covered element so far (undefined once over the cap); '' when none is pending. */
  let held: string | undefined = '';
  let heldAny = false;
  const resultName = `${operation}Result`.toLowerCase();

  function rulePath(): string[] {
    const names = stack.slice(1);
    if (names[0]?.toLowerCase() === resultName) names.shift();
    return names.map((name) => (name === 'member' || name === 'item' ? '[]' : name));
  }

  function replaceHeld(out: string[]): void {
    if (!heldAny) return;
    const rule = activeRule!;
    if (held !== undefined && held.trim() === '') out.push(held);
    else {
      const value = held === undefined ? undefined : fromBytes(decodeEntities(held));
      const operator = value === undefined ? { op: 'redact' as const } : policy.operatorFor(rule.kind);
      let text = applyOperator(operator, rule.kind, value ?? '', policy.key);
      if (rule.base64) text = Buffer.from(text, 'utf8').toString('base64');
      out.push(toBytes(escapeXml(text)));
      const key = countKey(rule);
      counts.set(key, (counts.get(key) ?? 0) + 1);
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
    const out: string[] = [];
    const emit = (part: string) => {
      if (dropDepth < 0) out.push(part);
    };
    let i = 0;
    const n = text.length;
    while (i < n) {
      switch (mode) {
        case 'broken':
          out.push(text.slice(i));
          i = n;
          break;
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
            out.push(markup);
            mode = 'broken';
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
    return out.join('');
  }

  function tag(markup: string, out: string[]): void {
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
    const rule = activeRule ? undefined : rules.match(rulePath());
    if (rule && policy.operatorFor(rule.kind).op === 'drop') {
      counts.set(countKey(rule), (counts.get(countKey(rule)) ?? 0) + 1);
      stack.pop();
      if (!selfClosing) {
        dropDepth = stack.length;
        stack.push(local);
      }
      return;
    }
    if (rule && !activeRule && stack.length > 1) {
      activeRule = rule;
      activeDepth = stack.length;
    }
    out.push(markup);
    if (selfClosing) {
      stack.pop();
      if (activeRule && stack.length < activeDepth) activeRule = undefined;
    }
  }

  return { counts, push: (chunk) => run(chunk, false), end: () => run('', true) };
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
