#!/usr/bin/env python3
"""Measure, on the running CPython, facts that PyHeap Lab must reproduce.

Runs unchanged under CPython 3.7 .. 3.13, standard library only, and prints
one JSON document (pretty-printed, sorted keys) on standard output:

  python  -- sys.version & co.
  sys     -- sys.int_info, sys.flags, whether sys._debugmallocstats exists
  refcounts -- sys.getrefcount of a few static objects (history-dependent)
  getsizeof -- sys.getsizeof of the value of a fixed list of expressions /
               tiny scripts, each evaluated in a fresh namespace
  series  -- scripts where one variable changes step by step; getsizeof (and
             len) of the variable after every step
  blocks  -- the memory blocks (sizes as requested from PyMem/PyObject
             allocators) that a statement leaves alive, as seen by tracemalloc

Usage (see test/fixtures/measured/README.md):

  python3 -I scripts/measure-sizes.py > test/fixtures/measured/measured-3.X.json

Every case is written in a small subset of Python (int float complex str bytes
bytearray tuple list dict set frozenset range object() None True False,
operators, comparisons, comprehensions, a few builtins and the methods that the
series exercise) so that the simulator can run the very same source text.
"""

import builtins
import gc
import json
import sys
import tracemalloc

SCHEMA = 1


def fresh_ns():
    return {'__builtins__': builtins, '__name__': '__measure__'}


def safe_len(obj):
    try:
        return len(obj)
    except Exception:
        return None


# ---------------------------------------------------------------------------
# 1. getsizeof cases
# ---------------------------------------------------------------------------

def getsizeof_cases():
    """Return dicts: group, n (parameter or None), and expr or (script, var)."""
    cases = []

    def expr(group, n, src):
        cases.append({'group': group, 'n': n, 'expr': src})

    def script(group, n, src, var='r'):
        cases.append({'group': group, 'n': n, 'script': src, 'var': var})

    # basics
    for src in ['None', 'True', 'False', 'object()', '0', '1', '-1', '256',
                '257', '0.0', '1.5', '0j', '()', '[]', '{}', 'set()',
                'frozenset()', "''", "b''", 'bytearray()', 'range(0)',
                'range(10)', 'range(2**64)', 'range(-5, 5, 2)']:
        expr('basic', None, src)

    for n in range(21):
        expr('list_repeat', n, '[0] * %d' % n)
    for n in range(21):
        expr('list_range', n, 'list(range(%d))' % n)
    for n in range(21):
        expr('tuple_range', n, 'tuple(range(%d))' % n)
    for n in range(21):
        expr('listcomp', n, '[i for i in range(%d)]' % n)
    for n in range(41):
        expr('dictcomp_int', n, '{i: i for i in range(%d)}' % n)
    for n in range(41):
        expr('dictcomp_str', n, '{str(i): i for i in range(%d)}' % n)
    for n in range(41):
        expr('set_range', n, 'set(range(%d))' % n)
    for n in range(41):
        expr('setcomp', n, '{i for i in range(%d)}' % n)
    for n in range(41):
        expr('dict_fromkeys_range', n, 'dict.fromkeys(range(%d))' % n)
    for n in range(41):
        expr('frozenset_range', n, 'frozenset(range(%d))' % n)

    # strings of each kind.  The literal forms are constant-folded by the
    # compiler; the script forms build the string at run time.
    for name, ch in [('ascii', 'a'), ('latin1', '\u00e9'), ('ucs2', '\u20ac'),
                     ('ucs4', '\U0001F600')]:
        for n in range(11):
            expr('str_' + name, n, '%r * %d' % (ch, n))
        for n in range(11):
            script('str_' + name + '_runtime', n,
                   'c = %r\nn = %d\nr = c * n' % (ch, n))
    for n in range(11):
        expr('str_mixed_ascii_ucs2', n, "'a' * %d + '\u20ac'" % n)
    for n in range(11):
        expr('str_mixed_latin1_ucs4', n, "'\u00e9' * %d + '\U0001F600'" % n)
    for n in range(41):
        expr('str_int', n, 'str(10 ** %d)' % n)

    for n in range(41):
        expr('bytearray_n', n, 'bytearray(%d)' % n)
    for n in range(41):
        expr('bytes_range', n, 'bytes(range(%d))' % n)

    for k in range(7):
        expr('int_neg_pow', k, '-(2 ** (30 * %d))' % k)
    for k in range(7):
        expr('int_pow_minus_1', k, '2 ** (30 * %d) - 1' % k)
    for k in range(7):
        expr('int_pow', k, '2 ** (30 * %d)' % k)

    for n in [0, 1, 2, 3, 10, 1000]:
        expr('float_n', n, 'float(%d)' % n)
    for n in [0, 1, 2, 3, 10, 1000]:
        expr('complex_1_n', n, 'complex(1, %d)' % n)
    for n in [0, 1, 2, 3, 10, 1000]:
        expr('range_n', n, 'range(%d)' % n)

    expr('dict_display_mixed', None, "{1: 1, 'a': 2}")
    expr('dict_display_mixed', None, "{'a': 1, 1: 2}")
    expr('dict_display_mixed', None, "{'a': 1, 'b': 2}")
    expr('dict_display_mixed', None, "{1: 1, 2: 2}")

    # displays
    for m in range(13):
        expr('list_display_const', m,
             '[' + ', '.join(str(j + 1) for j in range(m)) + ']')
    for m in range(13):
        script('list_display_var', m,
               'x = 1000\nr = [' + ', '.join(['x'] * m) + ']')
    for m in range(13):
        if m == 0:
            expr('set_display_const', 0, 'set()')  # '{}' is a dict
        else:
            expr('set_display_const', m,
                 '{' + ', '.join(str(j + 1) for j in range(m)) + '}')
    for m in range(1, 13):
        script('set_display_var', m,
               ''.join('a%d = %d\n' % (j, 1000 + j) for j in range(m)) +
               'r = {' + ', '.join('a%d' % j for j in range(m)) + '}')
    for m in range(13):
        expr('dict_display_const_int', m,
             '{' + ', '.join('%d: %d' % (j, j) for j in range(m)) + '}')
    for m in range(13):
        expr('dict_display_const_str', m,
             '{' + ', '.join("'k%d': %d" % (j, j) for j in range(m)) + '}')
    for m in range(13):
        script('dict_display_var', m,
               ''.join('a%d = %d\n' % (j, 1000 + j) for j in range(m)) +
               'r = {' + ', '.join('a%d: a%d' % (j, j) for j in range(m)) +
               '}')
    def tuple_display(items):
        if len(items) == 1:
            return '(%s,)' % items[0]
        return '(' + ', '.join(items) + ')'

    for m in range(13):
        expr('tuple_display_const', m,
             tuple_display([str(j + 1) for j in range(m)]))
    for m in range(13):      # m == 2 is (x, x)
        script('tuple_display_var', m,
               'x = 1000\nr = ' + tuple_display(['x'] * m))
    return cases


def run_getsizeof():
    out = []
    for case in getsizeof_cases():
        if 'expr' in case:
            value = eval(compile(case['expr'], '<case>', 'eval'), fresh_ns())
        else:
            ns = fresh_ns()
            exec(compile(case['script'], '<case>', 'exec'), ns)
            value = ns[case['var']]
        case = dict(case)
        case['size'] = sys.getsizeof(value)
        case['type'] = type(value).__name__
        n = safe_len(value)
        if n is not None:
            case['len'] = n
        del value
        out.append(case)
    return out


# ---------------------------------------------------------------------------
# 2. series
# ---------------------------------------------------------------------------

def series_specs():
    """Each spec: name, var, setup, phases [(step source, [start, stop])].

    kind 'steps': one namespace; setup runs once, then every phase's step runs
    once per i in range(start, stop) with `i` bound; the variable is measured
    after the setup and after every step.

    kind 'fresh': for every k in range(start, stop) a fresh namespace with `k`
    bound runs setup then step; the variable is measured after the step.
    """
    S = []

    def steps(name, var, setup, *phases):
        S.append({'kind': 'steps', 'name': name, 'var': var, 'setup': setup,
                  'phases': [{'step': p[0], 'i': list(p[1])} for p in phases]})

    def fresh(name, var, setup, step, k_range):
        S.append({'kind': 'fresh', 'name': name, 'var': var, 'setup': setup,
                  'step': step, 'k': list(k_range)})

    # lists
    steps('list.append', 'l', 'l = []', ('l.append(i)', (0, 100)))
    for k in (1, 3, 7):
        steps('list.extend[0]*%d' % k, 'l', 'l = []\nchunk = [0] * %d' % k,
              ('l.extend(chunk)', (0, 100 // k)))
    fresh('list.extend([0]*k) onto []', 'l', 'src = [0] * k',
          'l = []\nl.extend(src)', (0, 41))
    steps('list.insert(0, i)', 'l', 'l = []', ('l.insert(0, i)', (0, 60)))
    steps('list.pop() from [0]*100', 'l', 'l = [0] * 100',
          ('l.pop()', (0, 100)))
    steps('list.pop() from list(range(100))', 'l', 'l = list(range(100))',
          ('l.pop()', (0, 100)))
    steps('list.pop() from appended', 'l', 'l = []',
          ('l.append(i)', (0, 100)), ('l.pop()', (0, 100)))
    steps('del l[0] from [0]*60', 'l', 'l = [0] * 60',
          ('del l[0]', (0, 60)))
    steps('del l[-1] from [0]*60', 'l', 'l = [0] * 60',
          ('del l[-1]', (0, 60)))
    steps('list.remove(i) from [i for i in range(60)]', 'l',
          'l = [j for j in range(60)]', ('l.remove(i)', (0, 60)))
    steps('list.clear then append', 'l', 'l = []',
          ('l.append(i)', (0, 100)), ('l.clear()', (0, 1)),
          ('l.append(i)', (0, 10)))
    steps('l += [1] from [1, 2, 3]', 'l', 'l = [1, 2, 3]',
          ('l += [1]', (0, 6)))
    steps('l += [1] from [a, b, c]', 'l', 'a = 1\nb = 2\nc = 3\nl = [a, b, c]',
          ('l += [1]', (0, 6)))
    steps('l *= 2 from [1, 2, 3]', 'l', 'l = [1, 2, 3]', ('l *= 2', (0, 6)))
    steps('l *= 2 from [a, b, c]', 'l', 'a = 1\nb = 2\nc = 3\nl = [a, b, c]',
          ('l *= 2', (0, 6)))

    # dicts
    steps('dict str keys: insert, delete all, re-insert', 'd', 'd = {}',
          ('d[str(i)] = i', (0, 101)), ('del d[str(i)]', (0, 101)),
          ('d[str(i)] = i', (0, 101)))
    steps('dict int keys: insert, delete all, re-insert', 'd', 'd = {}',
          ('d[i] = i', (0, 101)), ('del d[i]', (0, 101)),
          ('d[i] = i', (0, 101)))
    # 170 keys use up every usable slot of a 256-slot table; after deleting
    # them all, the next insertion has to resize (and may compact/shrink)
    steps('dict str keys: fill to 170, delete all, insert new keys', 'd',
          'd = {}', ('d[str(i)] = i', (0, 170)), ('del d[str(i)]', (0, 170)),
          ('d[str(i)] = i', (1000, 1021)))
    steps('dict.pop(str(i))', 'd', 'd = {str(j): j for j in range(100)}',
          ('d.pop(str(i))', (0, 100)))
    steps('dict.setdefault(str(i), i)', 'd', 'd = {}',
          ('d.setdefault(str(i), i)', (0, 101)))
    fresh('dict.update(str-key dict of k) onto {}', 'd',
          'src = {str(j): j for j in range(k)}', 'd = {}\nd.update(src)',
          (0, 41))
    fresh('dict.update(int-key dict of k) onto {}', 'd',
          'src = {j: j for j in range(k)}', 'd = {}\nd.update(src)', (0, 41))
    steps('dict.clear then insert', 'd', 'd = {str(j): j for j in range(100)}',
          ('d.clear()', (0, 1)), ('d[str(i)] = i', (0, 10)))

    # sets
    steps('set: add 0..200, discard all, re-add', 's', 's = set()',
          ('s.add(i)', (0, 200)), ('s.discard(i)', (0, 200)),
          ('s.add(i)', (0, 200)))
    # 306 keys fill a 512-slot table up to its resize threshold
    steps('set: add 0..305, discard all, add new keys', 's', 's = set()',
          ('s.add(i)', (0, 306)), ('s.discard(i)', (0, 306)),
          ('s.add(i)', (1000, 1021)))
    fresh('set.update(range(k)) onto set()', 's', 'src = range(k)',
          's = set()\ns.update(src)', (0, 61))
    fresh('set.update(set(range(k))) onto set()', 's', 'src = set(range(k))',
          's = set()\ns.update(src)', (0, 61))
    steps('set.clear then add', 's', 's = set(range(100))',
          ('s.clear()', (0, 1)), ('s.add(i)', (0, 10)))

    # bytearrays
    steps('bytearray.append', 'b', 'b = bytearray()',
          ('b.append(i)', (0, 100)))
    fresh('bytearray.extend(b"x" * k) onto bytearray()', 'b',
          "src = b'x' * k", 'b = bytearray()\nb.extend(src)', (0, 61))
    return S


def run_series():
    out = []
    for spec in series_specs():
        spec = dict(spec)
        var = spec['var']
        if spec['kind'] == 'steps':
            ns = fresh_ns()
            exec(compile(spec['setup'], '<series>', 'exec'), ns)
            spec['initial'] = {'size': sys.getsizeof(ns[var]),
                               'len': safe_len(ns[var])}
            phases = []
            for phase in spec['phases']:
                code = compile(phase['step'], '<series>', 'exec')
                sizes, lens = [], []
                for i in range(*phase['i']):
                    ns['i'] = i
                    exec(code, ns)
                    sizes.append(sys.getsizeof(ns[var]))
                    lens.append(safe_len(ns[var]))
                phase = dict(phase)
                phase['sizes'] = sizes
                phase['lens'] = lens
                phases.append(phase)
            spec['phases'] = phases
        else:
            setup = compile(spec['setup'], '<series>', 'exec')
            step = compile(spec['step'], '<series>', 'exec')
            sizes, lens = [], []
            for k in range(*spec['k']):
                ns = fresh_ns()
                ns['k'] = k
                exec(setup, ns)
                exec(step, ns)
                sizes.append(sys.getsizeof(ns[var]))
                lens.append(safe_len(ns[var]))
            spec['sizes'] = sizes
            spec['lens'] = lens
        out.append(spec)
    return out


# ---------------------------------------------------------------------------
# 3. blocks seen by tracemalloc
# ---------------------------------------------------------------------------

BLOCK_CASES = [
    # (setup run before tracing, statement traced)
    ('', 'x = [1000, 2000]'),
    ('', 'x = [i for i in range(10)]'),
    ('', "x = {'a': 1}"),
    ('', 'x = {1: 1}'),
    ('', "x = {'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e': 5, 'f': 6}"),
    ('', 'x = set(range(10))'),
    ('', 'x = (1000, 2000, 3000)'),
    ('', "x = 'abc' * 10"),
    ('', 'x = 2**100'),
    ('', 'x = 1.5 * 3'),
    ('', 'x = bytearray(100)'),
    ('', 'x = list(range(1000))'),
    ('', 'x = [None] * 1000'),
    ('', 'x = {i: i for i in range(100)}'),
    # run-time variants of the statements above that the compiler folds
    # into constants (so that they allocate nothing when executed)
    ('a = 1000\nb = 2000\nc = 3000', 'x = (a, b, c)'),
    ("s = 'abc'", 'x = s * 10'),
    ('a = 2', 'x = a ** 100'),
    ('a = 1.5', 'x = a * 3'),
    # a few more
    ('', 'x = [1000, 2000, 3000]'),
    ('', 'x = {1000, 2000, 3000}'),
    ('', 'x = []'),
    ('', 'x = {}'),
    ('', 'x = set()'),
    ('', 'x = object()'),
    ('', 'x = str(10 ** 30)'),
]


def histogram(sizes):
    """Sorted [[size, count], ...] (keeps multiplicity)."""
    counts = {}
    for s in sizes:
        counts[s] = counts.get(s, 0) + 1
    return [[s, counts[s]] for s in sorted(counts)]


def multiset_minus(a, b):
    rest = list(a)
    for s in b:
        if s in rest:
            rest.remove(s)
    return rest


def measure_blocks(setup_src, stmt_src):
    filename = '<measure>'
    ns = fresh_ns()
    ns['x'] = None      # so that storing x does not grow the globals dict
    if setup_src:
        exec(compile(setup_src, '<setup>', 'exec'), ns)
    code = compile(stmt_src, filename, 'exec')

    def ours(snapshot):
        return [t.size for t in snapshot.traces
                if t.traceback[0].filename == filename]

    gc.collect()        # a full collection also empties the free lists
    gc.disable()
    try:
        tracemalloc.start(1)
        exec(code, ns)
        current, peak = tracemalloc.get_traced_memory()
        with_code = ours(tracemalloc.take_snapshot())
        del code        # frees the code object and what hangs on it
        without_code = ours(tracemalloc.take_snapshot())
        gc.collect()    # frees the blocks kept on free lists
        alive = ours(tracemalloc.take_snapshot())
        tracemalloc.stop()
    finally:
        gc.enable()
    x = ns.get('x')
    return {
        'setup': setup_src,
        'stmt': stmt_src,
        'blocks': histogram(alive),
        'count': len(alive),
        'total': sum(alive),
        'free_list_blocks': histogram(multiset_minus(without_code, alive)),
        'gone_after_del_code': histogram(
            multiset_minus(with_code, without_code)),
        'traced_after_exec': {'current': current, 'peak': peak},
        'x_type': type(x).__name__,
        'x_getsizeof': sys.getsizeof(x),
    }


def run_blocks():
    if tracemalloc.is_tracing():
        tracemalloc.stop()
    return [measure_blocks(setup, stmt) for setup, stmt in BLOCK_CASES]


# ---------------------------------------------------------------------------
# per-version facts
# ---------------------------------------------------------------------------

def structseq_dict(obj):
    skip = {'count', 'index', 'n_fields', 'n_sequence_fields',
            'n_unnamed_fields'}
    out = {}
    for name in dir(obj):
        if name.startswith('_') or name in skip:
            continue
        value = getattr(obj, name)
        if isinstance(value, (bool, int, float, str)) or value is None:
            out[name] = value
    return out


def run_sys():
    return {
        'int_info': structseq_dict(sys.int_info),
        'flags': structseq_dict(sys.flags),
        'has_debugmallocstats': hasattr(sys, '_debugmallocstats'),
        'maxsize': sys.maxsize,
        'byteorder': sys.byteorder,
        'float_repr_style': sys.float_repr_style,
    }


def run_refcounts():
    values = {
        'None': sys.getrefcount(None),
        '0': sys.getrefcount(0),
        '256': sys.getrefcount(256),
        '()': sys.getrefcount(()),
        "''": sys.getrefcount(''),
    }
    immortal = sys.version_info >= (3, 12)
    return {
        # before 3.12 the counts depend on everything the interpreter loaded
        # and ran before (and differ from one run to the next); from 3.12
        # these objects are immortal and report a fixed sentinel
        'varying': not immortal,
        'immortal': immortal,
        'values': values,
    }


def main():
    doc = {
        'schema': SCHEMA,
        'generator': 'scripts/measure-sizes.py',
        'python': {
            'version': sys.version,
            'version_info': list(sys.version_info[:3]),
            'implementation': sys.implementation.name,
        },
        'sys': run_sys(),
        # blocks first: the later sections leave things on free lists and
        # in caches, and the block measurements are the most sensitive to it
        'blocks': run_blocks(),
        'getsizeof': run_getsizeof(),
        'series': run_series(),
        'refcounts': run_refcounts(),
    }
    sys.stdout.write(json.dumps(doc, indent=1, sort_keys=True,
                                ensure_ascii=True))
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
