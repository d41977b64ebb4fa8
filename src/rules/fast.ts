/**
 * The fast path for rule conditions: the common shapes of a condition (text functions with a
 * quoted lexicon id, screening/location comparisons with literals, `&&`, `||`, `!`, `in` a list
 * of literals, `count(...) >= n`, subject ages) are compiled once into plain closures over the
 * facts, with the lexicon ids resolved to indexes. They call the same function implementations
 * as the CEL environment and keep CEL's left-to-right short-circuit order, so they record the
 * same evidence and give the same result; a condition with any other shape stays with CEL.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import { FACT_FUNCTIONS as F } from './cel-env.ts';
import type { CallTypeFacts, Facts, SubjectsFacts, TextFacts } from './facts.ts';

type Fn = (f: Facts) => unknown;

const VARIABLES = new Set(['narrative', 'callType', 'subjects', 'screening', 'location', 'caller', 'source', 'priority', 'repeatCalls']);
/** Variables whose fields a condition may read, and their fields (all of them always set). */
const FIELDS: Record<string, ReadonlySet<string>> = {
  screening: new Set(['weapons', 'violence', 'threatsToOthers', 'injuries', 'crimeInProgress', 'medicalEmergency', 'substanceInvolved']),
  location: new Set(['placeType']),
  caller: new Set(['relationship']),
  callType: new Set(['code', 'description']),
  repeatCalls: new Set(['byAddress', 'byCaller']),
};

const isScalarLiteral = (n: ASTNode) =>
  n.op === 'value' && (typeof n.args === 'string' || typeof n.args === 'bigint' || typeof n.args === 'boolean');

function compileNode(n: ASTNode, lexIndex: ReadonlyMap<string, number>): Fn | null {
  switch (n.op) {
    case 'value': {
      if (!isScalarLiteral(n)) return null;
      const v = n.args;
      return () => v;
    }
    case 'id': {
      const name = n.args as string;
      if (!VARIABLES.has(name)) return null;
      return (f) => (f as unknown as Record<string, unknown>)[name];
    }
    case '.': {
      const [obj, field] = n.args as [ASTNode, string];
      if (obj.op !== 'id' || !FIELDS[obj.args as string]?.has(field)) return null;
      const name = obj.args as string;
      return (f) => ((f as unknown as Record<string, Record<string, unknown>>)[name]!)[field];
    }
    case '&&':
    case '||': {
      const [a, b] = n.args as [ASTNode, ASTNode];
      const fa = compileNode(a, lexIndex);
      const fb = compileNode(b, lexIndex);
      if (!fa || !fb) return null;
      return n.op === '&&' ? (f) => fa(f) === true && fb(f) === true : (f) => fa(f) === true || fb(f) === true;
    }
    case '!_': {
      const fa = compileNode(n.args as ASTNode, lexIndex);
      return fa ? (f) => fa(f) !== true : null;
    }
    case '==':
    case '!=': {
      const [a, b] = n.args as [ASTNode, ASTNode];
      if (!isScalarLiteral(a) && !isScalarLiteral(b)) return null;
      const fa = compileNode(a, lexIndex);
      const fb = compileNode(b, lexIndex);
      if (!fa || !fb) return null;
      return n.op === '==' ? (f) => fa(f) === fb(f) : (f) => fa(f) !== fb(f);
    }
    case '>=':
    case '>':
    case '<=':
    case '<': {
      const [a, b] = n.args as [ASTNode, ASTNode];
      // Only `count(...) OP n`: both sides are integers (bigint), so JS compares them as CEL does.
      if (!(a.op === 'call' && (a.args as unknown as [string])[0] === 'count' && b.op === 'value' && typeof b.args === 'bigint')) return null;
      const fa = compileNode(a, lexIndex) as ((f: Facts) => bigint) | null;
      if (!fa) return null;
      const k = b.args;
      if (n.op === '>=') return (f) => fa(f) >= k;
      if (n.op === '>') return (f) => fa(f) > k;
      if (n.op === '<=') return (f) => fa(f) <= k;
      return (f) => fa(f) < k;
    }
    case 'in': {
      const [a, b] = n.args as [ASTNode, ASTNode];
      if (b.op !== 'list') return null;
      const items = b.args as ASTNode[];
      if (!items.every((i) => i.op === 'value' && typeof i.args === 'string')) return null;
      const set = new Set(items.map((i) => i.args as string));
      const fa = compileNode(a, lexIndex);
      if (!fa) return null;
      return (f) => {
        const v = fa(f);
        return typeof v === 'string' && set.has(v);
      };
    }
    case 'call': {
      const [fn, args] = n.args as [string, ASTNode[]];
      if (args.length !== 2) return null;
      const [target, arg] = args as [ASTNode, ASTNode];
      if (target.op !== 'id' || arg.op !== 'value' || typeof arg.args !== 'string') return null;
      const lex = lexIndex.get(arg.args);
      if (lex === undefined) return null;
      const on = target.args as string;
      if (on === 'callType') {
        if (fn !== 'mentions') return null;
        return (f) => F.mentionsCallType(f.callType as CallTypeFacts, lex);
      }
      if (on !== 'narrative') return null;
      const text = (f: Facts) => f.narrative as TextFacts;
      switch (fn) {
        case 'mentions':
          return (f) => F.mentionsText(text(f), lex);
        case 'mentionsAnyone':
          return (f) => F.mentionsAnyone(text(f), lex);
        case 'denies':
          return (f) => F.denies(text(f), lex);
        case 'uncertain':
          return (f) => F.uncertain(text(f), lex);
        case 'count':
          return (f) => F.count(text(f), lex);
        default:
          return null;
      }
    }
    case 'rcall': {
      const [method, target, args] = n.args as [string, ASTNode, ASTNode[]];
      if (target.op !== 'id' || target.args !== 'subjects') return null;
      if (method === 'ageKnown' && args.length === 0) return (f) => (f.subjects as SubjectsFacts).ages.length > 0;
      if (args.length !== 1 || args[0]!.op !== 'value' || typeof args[0]!.args !== 'bigint') return null;
      const k = Number(args[0]!.args);
      if (method === 'anyAgeAtLeast') return (f) => F.anyAgeAtLeast(f.subjects as SubjectsFacts, k);
      if (method === 'anyAgeUnder') return (f) => F.anyAgeUnder(f.subjects as SubjectsFacts, k);
      return null;
    }
    default:
      return null;
  }
}

/** The condition as a closure returning true exactly when CEL would return `true`, or null. */
export function compileFast(ast: ASTNode, lexIndex: ReadonlyMap<string, number>): ((f: Facts) => boolean) | null {
  const fn = compileNode(ast, lexIndex);
  return fn ? (f) => fn(f) === true : null;
}
