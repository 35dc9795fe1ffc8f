# Measures the bytes of heap blocks on a real CPython (PyHeap Lab fixtures
# test/fixtures/measured/bytes-3.X.json): objects, list item arrays, dict keys objects and
# freed blocks, under PYTHONMALLOC=pymalloc, debug, pymalloc_debug and malloc_debug.
#
# Usage, from the repository root, once per interpreter:
#   for v in 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
#     ~/.pyenv/versions/$v/bin/python3 scripts/measure-bytes.py > test/fixtures/measured/bytes-${v%.*}.json
#   done
# The script runs itself once per mode in a child process with PYTHONMALLOC set (the
# variable is read at start-up; -I would ignore it, so the children run with -s -S and a
# clean PYTHONPATH instead) and prints one JSON document.
#
# Method, per case: `setup` is executed in a fresh namespace with the garbage collector
# disabled, then the blocks of the object `x` are read with ctypes.string_at from their
# first byte (id(x) - GC header - 16 under the debug hooks) to their end: the pool block
# size comes from the pool header's szidx (pymalloc modes), malloc_usable_size for the C
# library's blocks (malloc_debug). `pointers` records what the object's pointer fields must
# hold: the type, items, keys and values (id()), read after the bytes. For freed blocks the
# block is located while alive, `then` frees it (del, or an append whose realloc moves the
# item array), and the bytes are read at once, before anything else allocates.
# `x` is referenced only by the namespace while its bytes are read, so its refcount is 1.
import ctypes
import gc
import json
import os
import subprocess
import sys

MODES = ['pymalloc', 'debug', 'pymalloc_debug', 'malloc_debug']
V = sys.version_info[:2]
GC_HEAD = 32 if V < (3, 8) else 16
POOL_SIZE = 4096 if V < (3, 10) else 16384
# The list length at which len == allocated and the next append moves a >128-byte array.
BIG = 35 if V < (3, 9) else 32

CASES = [
    {'name': 'int, 3 digits, negative', 'setup': 'n = 70\nx = -(1 << n)\n', 'record': ['object']},
    {'name': 'int, one digit, made at run time', 'setup': 'n = 20\nx = n * 500\n', 'record': ['object']},
    {'name': 'float', 'setup': 'n = 20\nx = n / 8\n', 'record': ['object']},
    {'name': 'str, ascii', 'setup': "n = 20\nx = 'ab' * n\n", 'record': ['object']},
    {'name': 'str, UCS-2', 'setup': "n = 3\nx = '\\u20ac' * n\n", 'record': ['object']},
    {'name': 'bytes', 'setup': "n = 5\nx = b'xy' * n\n", 'record': ['object']},
    {'name': 'tuple', 'setup': 'n = 1000\nx = (n, n + 1)\n', 'record': ['object']},
    {'name': 'list with spare slots', 'setup': 'x = []\nfor i in range(5):\n    x.append(i)\n', 'record': ['object', 'list items']},
    {'name': 'dict, int keys', 'setup': 'n = 1000\nx = {1: n, 9: n, 17: n}\n', 'record': ['object', 'dict keys']},
    {'name': 'dict, str keys', 'setup': "n = 1000\nx = {'a': n, 'b': n}\n", 'record': ['object', 'dict keys']},
    # `k` keeps the arena alive in the simulation, whose heap holds nothing else.
    {'name': 'freed int', 'setup': 'n = 70\nk = [n]\nx = -(1 << n)\n', 'record': ['object'], 'free': 'object', 'then': 'del x\n'},
    {'name': 'freed str', 'setup': "n = 70\nk = [n]\nx = 'q' * n\n", 'record': ['object'], 'free': 'object', 'then': 'del x\n'},
    {'name': 'list items moved by realloc, 128 bytes', 'setup': 'x = []\nfor i in range(16):\n    x.append(i)\n',
     'record': ['list items'], 'free': 'list items', 'then': 'x.append(16)\n'},
    {'name': 'list items moved by realloc, over 128 bytes', 'setup': 'x = []\nfor i in range(%d):\n    x.append(i)\n' % BIG,
     'record': ['list items'], 'free': 'list items', 'then': 'x.append(%d)\n' % BIG},
]

libc = ctypes.CDLL(None)
libc.malloc_usable_size.restype = ctypes.c_size_t
libc.malloc_usable_size.argtypes = [ctypes.c_void_p]


def word(addr):
    return ctypes.c_ssize_t.from_address(addr).value


def block_start(mode, x, role):
    """Address of the block's first byte (before the debug hooks' header)."""
    head = 16 if mode != 'pymalloc' else 0
    if role == 'object':
        gc_head = GC_HEAD if isinstance(x, (list, tuple, dict)) else 0
        return id(x) - gc_head - head
    if role == 'list items':
        return word(id(x) + 24) - head
    if role == 'dict keys':
        return word(id(x) + 32) - head
    raise ValueError(role)


def block_size(mode, addr):
    if mode == 'malloc_debug':
        return libc.malloc_usable_size(addr)
    pool = addr & ~(POOL_SIZE - 1)
    szidx = ctypes.c_uint.from_address(pool + 36).value
    return (szidx + 1) * 16


def measure(mode):
    gc.disable()
    out = []
    for case in CASES:
        ns = {}
        exec(case['setup'], ns)
        # Addresses first, then the bytes, with no reference to x but the namespace's.
        where = [(role, block_start(mode, ns['x'], role)) for role in case['record']]
        where = [(role, a, block_size(mode, a)) for role, a in where]
        blocks = [{'role': role, 'address': a, 'size': n, 'hex': ctypes.string_at(a, n).hex()} for role, a, n in where]
        pointers = expected_pointers(ns['x'])
        if 'free' in case:
            a, n = [(a, n) for role, a, n in where if role == case['free']][0]
            exec(case['then'], ns)
            raw = ctypes.string_at(a, n)
            blocks.append({'role': 'freed', 'address': a, 'size': n, 'hex': raw.hex()})
        out.append({'name': case['name'], 'setup': case['setup'], 'then': case.get('then'), 'blocks': blocks, 'pointers': pointers})
        del ns
    return out


def expected_pointers(x):
    """What the pointer fields of x's blocks hold: its type, items, keys and values."""
    pointers = {'type': id(type(x))}
    if isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            pointers['item:%d' % i] = id(v)
    if isinstance(x, dict):
        for i, (k, v) in enumerate(x.items()):
            pointers['key:%d' % i] = id(k)
            pointers['value:%d' % i] = id(v)
    return pointers


def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--mode':
        json.dump(measure(sys.argv[2]), sys.stdout)
        return
    doc = {
        'schema': 1,
        'generator': 'scripts/measure-bytes.py',
        'python': {'version': sys.version, 'version_info': list(sys.version_info[:3])},
        'pool_size': POOL_SIZE,
        'gc_head': GC_HEAD,
        'modes': {},
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
    for mode in MODES:
        env['PYTHONMALLOC'] = mode
        r = subprocess.run([sys.executable, '-s', '-S', os.path.abspath(__file__), '--mode', mode],
                           env=env, stdout=subprocess.PIPE, check=True)
        doc['modes'][mode] = json.loads(r.stdout)
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
