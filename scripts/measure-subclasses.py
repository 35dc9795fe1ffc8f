# Measures sys.getsizeof of instances and classes with single inheritance and __slots__
# (PyHeap Lab fixture test/fixtures/measured/subclasses.json):
#   for v in 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
#     echo "\"${v%.*}\": $(~/.pyenv/versions/$v/bin/python3 -I scripts/measure-subclasses.py),"; done
import sys, json
class A:
    pass
class B(A):
    pass
class S:
    __slots__ = ('a',)
class T(S):
    __slots__ = ('b', 'c')
class U(S):
    pass
class V(A):
    __slots__ = ('z',)
class W(object):
    __slots__ = ('a', '__weakref__')
class X(W):
    __slots__ = ('__dict__',)
out = {}
for name, cls in [('A', A), ('B', B), ('S', S), ('T', T), ('U', U), ('V', V), ('W', W), ('X', X)]:
    out[name + '()'] = sys.getsizeof(cls())
    out[name] = sys.getsizeof(cls)
print(json.dumps(out, sort_keys=True))
