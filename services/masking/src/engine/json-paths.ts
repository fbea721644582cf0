import type { FieldRule, MatchState, RuleMatcher } from './field-rules.js';
import type { Place } from './tally.js';

/** Distinct member paths remembered per operation, and distinct member names per object path. */
const nodeCap = 4096;
const childCap = 64;

/**
 * A member path: a key (the bytes `[start, end)` of `bytes`) or a list element (`bytes` undefined), below
 * `parent` (the root, whose path is empty, has none). Nodes are interned (see PathTree): records of one shape (the
 * functions of ListFunctions, the items of a Scan) walk the same nodes, so the rule step into a member, the path's
 * text and its tally key are worked out once per distinct path rather than once per key. Past the caps (answers
 * keyed by data, such as maps of user names), nodes are made per key and told apart by a hash of their path.
 */
export class PathNode implements Place {
  /** The rule covering the value at this path, and the rule positions alive below it. */
  readonly rule: FieldRule | undefined;
  readonly state: MatchState;
  children: PathNode[] | undefined = undefined;
  /** Where among `children` the next key is looked for first: records of one shape list their keys in one order. */
  cursor = 0;
  element: PathNode | undefined = undefined;
  #text: string | undefined = undefined;
  #hashA = 0;
  #hashB = 0;
  #hashed = false;

  constructor(
    readonly parent: PathNode | undefined,
    readonly bytes: Buffer | undefined,
    readonly start: number,
    readonly end: number,
    step: { state: MatchState; rule?: FieldRule | undefined },
    /** Positive for interned nodes (unique within their tree), 0 for the root and for nodes made past the caps. */
    readonly id: number,
  ) {
    this.rule = step.rule;
    this.state = step.state;
  }

  /** Equal paths, equal keys: the interned id, or two independent FNV-1a hashes packed into 53 bits. */
  get key(): number {
    if (this.id > 0) return -this.id;
    if (this.parent === undefined) return 0;
    this.#hash();
    return this.#hashA * 0x200000 + (this.#hashB & 0x1fffff);
  }

  /** `Functions[].Environment.Variables.API_KEY`: names as written (UTF-8), list elements as `[]`. */
  text(): string {
    if (this.#text !== undefined) return this.#text;
    const parent = this.parent === undefined ? '' : this.parent.text();
    let text = '';
    if (this.parent === undefined) text = '';
    else if (this.bytes === undefined) text = `${parent}[]`;
    else text = (parent === '' ? '' : `${parent}.`) + this.bytes.toString('utf8', this.start, this.end);
    this.#text = text;
    return text;
  }

  #hash(): void {
    if (this.#hashed) return;
    let a = 0x811c9dc5;
    let b = 0x01000193;
    if (this.parent !== undefined && this.parent.parent !== undefined) {
      this.parent.#hash();
      a = this.parent.#hashA;
      b = this.parent.#hashB;
    }
    const mix = (byte: number) => {
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x5bd1e995);
    };
    if (this.bytes) {
      mix(0x2e);
      for (let i = this.start; i < this.end; i++) mix(this.bytes[i]!);
    } else mix(0x5b);
    this.#hashA = a >>> 0;
    this.#hashB = b >>> 0;
    this.#hashed = true;
  }
}

const trees = new WeakMap<RuleMatcher, PathTree>();

/**
 * The member paths seen in answers of one operation (one compiled rule set), with the rule matching of each worked out
 * once: answers of one operation have one shape, so a tree is shared by all of them. It holds member names, never
 * values, and at most `nodeCap` of them; a full tree is replaced for later answers.
 */
export class PathTree {
  readonly root: PathNode;
  readonly #rules: RuleMatcher;
  #count = 0;

  private constructor(rules: RuleMatcher) {
    this.#rules = rules;
    this.root = new PathNode(undefined, undefined, 0, 0, rules.root, 0);
  }

  static for(rules: RuleMatcher): PathTree {
    let tree = trees.get(rules);
    if (tree === undefined || tree.#count >= nodeCap) {
      tree = new PathTree(rules);
      trees.set(rules, tree);
    }
    return tree;
  }

  /** The member named by `bytes[start, end)` below `parent`. */
  member(parent: PathNode, bytes: Buffer, start: number, end: number): PathNode {
    const length = end - start;
    const children = parent.children;
    if (children !== undefined) {
      const count = children.length;
      let at = parent.cursor;
      for (let tried = 0; tried < count; tried++) {
        if (at >= count) at = 0;
        const child = children[at]!;
        if (child.end === length && sameBytes(child.bytes!, bytes, start, length)) {
          parent.cursor = at + 1;
          return child;
        }
        at++;
      }
    }
    const step = this.#rules.step(parent.state, bytes, start, end);
    if (!this.#interns(parent) || (children !== undefined && children.length >= childCap)) {
      return new PathNode(parent, bytes, start, end, step, 0);
    }
    const node = new PathNode(parent, Buffer.copyBytesFrom(bytes, start, length), 0, length, step, ++this.#count);
    if (children === undefined) parent.children = [node];
    else children.push(node);
    parent.cursor = parent.children!.length;
    return node;
  }

  /** Whether children of `parent` are interned: below an interned node (or the root), while there is room. */
  #interns(parent: PathNode): boolean {
    return this.#count < nodeCap && (parent.id > 0 || parent === this.root);
  }

  /** Any element of the list at `parent`. */
  element(parent: PathNode): PathNode {
    let node = parent.element;
    if (node === undefined) {
      const step = this.#rules.step(parent.state, undefined, 0, 0);
      if (!this.#interns(parent)) return new PathNode(parent, undefined, 0, 0, step, 0);
      node = new PathNode(parent, undefined, 0, 0, step, ++this.#count);
      parent.element = node;
    }
    return node;
  }
}

function sameBytes(own: Uint8Array, bytes: Uint8Array, start: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (own[i] !== bytes[start + i]) return false;
  return true;
}
