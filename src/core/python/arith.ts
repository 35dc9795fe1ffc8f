/**
 * Python's integer operators on bigints (floor division and modulo round toward negative
 * infinity), shared by the interpreter and the compiler's constant folding. Returns null for
 * an operator that does not apply to two ints; the caller checks zero divisors and negative
 * shift counts first.
 */
export function intBinop(op: string, a: bigint, b: bigint): bigint | null {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '**':
      return a ** b;
    case '<<':
      return a << b;
    case '>>':
      return a >> b;
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '//':
    case '%': {
      let q = a / b;
      if (a % b !== 0n && a < 0n !== b < 0n) q -= 1n;
      return op === '//' ? q : a - q * b;
    }
    default:
      return null;
  }
}
