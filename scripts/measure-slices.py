# Measures extended-slice (and plain-slice) deletion and assignment on lists and bytearrays
# under the real interpreter (PyHeap Lab fixture test/fixtures/measured/slices.json):
#
#   ( echo '{'; for v in 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
#       echo "\"${v%.*}\": $(~/.pyenv/versions/$v/bin/python3 -I scripts/measure-slices.py),"; done
#     echo '"end": null}' ) > test/fixtures/measured/slices.json
#
# Each case defines `f(x, v)`, which performs the statement on its arguments, and calls it
# once on throwaway values, so that the call itself allocates nothing when it is measured
# (3.7-3.10 reuse the code object's zombie frame; 3.11+ frames live on the data stack; the
# slice object comes back from the one-slot slice cache).
# Then `r` (from the expression `build`) and `v` (from `value`) are built, the collector runs (a full collection empties the
# free lists), tracemalloc starts, `f(r, v)` runs, and we record:
#   size     sys.getsizeof(r) afterwards
#   len      len(r) afterwards
#   current  bytes tracemalloc counts as allocated after the call: only blocks allocated (or
#            reallocated: a realloc counts its whole new size) since it started; frees of
#            older blocks do not show; objects kept on a free list still count
#   peak     the highest count during the call: temporaries such as the `garbage` array of
#            list_ass_subscript or the `recycle` array of list_ass_slice show here
#   error    the exception raised, as "Type: message", or null
# Sizes are requested sizes (PyObject_Malloc / PyMem_Malloc), as tracemalloc sees them.
import sys, gc, json, tracemalloc

CASES = []

def case(name, build, stmt, value='None'):
    CASES.append((name, build, stmt, value))

# Extended-slice deletion on exact lists of N Nones ([None] * N allocates N slots).
for n in (0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 20, 100, 1000):
    case('del r[::2] of [None]*%d' % n, '[None] * %d' % n, 'del x[::2]')
for stmt in ('del x[1::2]', 'del x[::3]', 'del x[::-2]', 'del x[::-1]', 'del x[5:50:5]', 'del x[50:5:-5]',
             'del x[::100]', 'del x[99::-3]', 'del x[-3::-7]', 'del x[5:5:2]'):
    case('%s of [None]*100' % stmt.replace('x', 'r'), '[None] * 100', stmt)
# An over-allocated list (built by appends), and lists owning their ints.
case('del r[::2] of appended 100', '[None for i in range(100)]', 'del x[::2]')
case('del r[::2] of list(range(1000, 1100))', 'list(range(1000, 1100))', 'del x[::2]')
case('del r[::2] of list(range(1000, 2000))', 'list(range(1000, 2000))', 'del x[::2]')
# Plain slices (list_ass_slice: a recycle array on the heap for more than 8 items).
for stmt in ('del x[10:20]', 'del x[10:18]', 'del x[10:19]', 'del x[:]', 'del x[:50]', 'del x[::1]', 'del x[90:]'):
    case('%s of [None]*100' % stmt.replace('x', 'r'), '[None] * 100', stmt)
case('del r[10:30] of list(range(1000, 1100))', 'list(range(1000, 1100))', 'del x[10:30]')
# Extended-slice assignment of a value `v` made before the measurement.
case('r[::2] = list of 50', '[None] * 100', 'x[::2] = v', '[0] * 50')
case('r[::2] = tuple of 50', '[None] * 100', 'x[::2] = v', '(0,) * 50')
case('r[::2] = range(50)', '[None] * 100', 'x[::2] = v', 'range(50)')
case('r[::2] = range(1000, 1050)', '[None] * 100', 'x[::2] = v', 'range(1000, 1050)')
case('r[::2] = iter(list of 50)', '[None] * 100', 'x[::2] = v', 'iter([0] * 50)')
case('r[::-1] = r', '[None] * 100', 'x[::-1] = x')
case('r[1::2] = r[::2]', '[None] * 100', 'x[1::2] = x[::2]')
case('r[::2] = list of 49', '[None] * 100', 'x[::2] = v', '[0] * 49')
case('r[::2] = [] of []', '[]', 'x[::2] = v', '[]')
case('r[::2] = list of 5 over ints', 'list(range(1000, 1010))', 'x[::2] = v', '[0] * 5')
case('r[::2] = 5 of [None]*10', '[None] * 10', 'x[::2] = v', '5')
# Plain-slice assignment.
case('r[10:20] = list of 10', '[None] * 100', 'x[10:20] = v', '[0] * 10')
case('r[10:20] = list of 5', '[None] * 100', 'x[10:20] = v', '[0] * 5')
case('r[10:20] = list of 30', '[None] * 100', 'x[10:20] = v', '[0] * 30')
case('r[2:5] = range(3)', '[None] * 100', 'x[2:5] = v', 'range(3)')
case('r[:] = list of 3', '[None] * 100', 'x[:] = v', '[0] * 3')
case('r[0:0] = r', '[None] * 10', 'x[0:0] = x')
# bytearray: extended-slice deletion resizes (PyByteArray_Resize); assignment copies a
# value that is not a bytearray into a temporary bytearray first (PyByteArray_FromObject,
# which calls the type with a 1-tuple of arguments).
for n in (1, 2, 10, 16, 100, 1000):
    case('del r[::2] of bytearray(%d)' % n, 'bytearray(%d)' % n, 'del x[::2]')
case('del r[::-1] of bytearray(100)', 'bytearray(100)', 'del x[::-1]')
case('del r[::3] of bytearray(100)', 'bytearray(100)', 'del x[::3]')
case('del r[1::50] of bytearray(100)', 'bytearray(100)', 'del x[1::50]')
case('del r[::2] of bytearray(1000) extended', 'bytearray(b"x" * 1000)', 'del x[::2]')
case('r[::2] = bytes(50) of bytearray(100)', 'bytearray(100)', 'x[::2] = v', 'bytes(50)')
case('r[::2] = bytearray(50) of bytearray(100)', 'bytearray(100)', 'x[::2] = v', 'bytearray(50)')
case('r[::2] = bytes(49) of bytearray(100)', 'bytearray(100)', 'x[::2] = v', 'bytes(49)')
case('r[::-1] = r of bytearray(100)', 'bytearray(100)', 'x[::-1] = x')


def run(name, build, stmt, value):
    ns = {}
    src = 'def f(x, v):\n    %s\n' % stmt
    exec(compile(src, '<measure>', 'exec'), ns)
    f = ns['f']
    try:
        f(eval(build, {}), eval(value, {}))
    except Exception:
        pass
    r = eval(build, {})
    v = eval(value, {})
    gc.collect()
    gc.disable()
    tracemalloc.start()
    err = None
    try:
        f(r, v)
    except Exception as e:
        err = '%s: %s' % (type(e).__name__, e)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.enable()
    out = {'build': build, 'stmt': stmt, 'value': value, 'size': sys.getsizeof(r), 'len': len(r), 'error': err}
    if err is None:
        out['current'] = current
        out['peak'] = peak
    return out


print(json.dumps({name: run(*c) for c in CASES for name in [c[0]]}, sort_keys=True))
