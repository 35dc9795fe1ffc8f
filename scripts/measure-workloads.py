# Measures the state the Python workload scenarios leave (PyHeap Lab fixture
# test/fixtures/measured/workloads.json), under each pyenv interpreter:
#
#   ( echo '{'; for v in 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
#       echo "\"${v%.*}\": $(~/.pyenv/versions/$v/bin/python3 -I scripts/measure-workloads.py),"; done
#     echo '"end": null}' ) > test/fixtures/measured/workloads.json
#
# Each program is the one src/core/workloads/python.ts generates for the scenario and count;
# it runs in a fresh namespace, and then we record sys.getsizeof and len of what it leaves.
import sys, json

def list_of_ints(n):
    return 'xs = [i for i in range(%d)]\ndel xs[::2]\n' % n

def dict_grow_shrink(n):
    return 'd = {}\nfor i in range(%d):\n    d[i] = i\nfor i in range(%d, -1, -1):\n    del d[i]\n' % (n, n - 1)

def class_instances(n):
    return ('class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n'
            'objs = [Point(i, i) for i in range(%d)]\n' % n)

out = {}
for n in (1, 2, 9, 10, 17, 100, 1000, 12345, 100000, 1000000):
    ns = {}
    exec(list_of_ints(n), ns)
    out['list-of-ints %d' % n] = {'xs': [sys.getsizeof(ns['xs']), len(ns['xs'])]}
for n in (1, 5, 6, 11, 100, 1000, 12345, 100000):
    ns = {}
    exec(dict_grow_shrink(n), ns)
    out['dict-grow-shrink %d' % n] = {'d': [sys.getsizeof(ns['d']), len(ns['d'])]}
for n in (1, 2, 10, 1000, 100000):
    ns = {}
    exec(class_instances(n), ns)
    objs = ns['objs']
    out['class-instances %d' % n] = {'objs': [sys.getsizeof(objs), len(objs)], 'objs[0]': [sys.getsizeof(objs[0]), len(objs[0].__dict__)],
                                     'objs[-1]': [sys.getsizeof(objs[-1]), len(objs[-1].__dict__)]}
print(json.dumps(out, sort_keys=True))
