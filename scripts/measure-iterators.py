# Measures sys.getsizeof, GC tracking, type name and basicsize of iterator objects
# (PyHeap Lab fixture test/fixtures/measured/iterators.json), under each pyenv interpreter.
import sys, gc, json
cases = {
 'iter([])': iter([]), 'iter(())': iter(()), 'iter(range(5))': iter(range(5)), 'iter(range(2**70))': iter(range(2**70)),
 "iter('ab')": iter('ab'), "iter('\u20ac')": iter('\u20ac'), "iter(b'ab')": iter(b'ab'), 'iter(bytearray())': iter(bytearray()),
 'iter({1})': iter({1}), 'iter({1: 2})': iter({1: 2}), 'reversed([])': reversed([]),
}
out = {k: [sys.getsizeof(v), gc.is_tracked(v), type(v).__name__, type(v).__basicsize__] for k, v in cases.items()}
print(json.dumps(out, sort_keys=True))
