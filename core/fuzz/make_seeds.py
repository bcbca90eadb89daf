#!/usr/bin/env python3
"""Writes the hand-made seed corpus of fuzz_convert into corpus/ (next to this
file). Each seed is a small program for the fuzzer's stack machines, named
for what it builds; the op codes mirror _make (kDecoder) and host_built in
fuzz_convert.cpp.

    python3 core/fuzz/make_seeds.py        # rewrites corpus/py-* and corpus/host-*
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- Python-built programs: [0] [strict] ops... --------------------------------------------


class Py:
    def __init__(self, strict=False):
        self.b = bytearray([0, 1 if strict else 0])

    def op(self, code, *args):
        self.b.append(code)
        for a in args:
            if isinstance(a, (bytes, bytearray)):
                self.b += a
            else:
                self.b.append(a & 0xFF)
        return self

    none = lambda self: self.op(0)
    boolean = lambda self, v: self.op(1, int(v))
    small = lambda self, v: self.op(2, v + 128)

    def bigint(self, n):
        raw = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
        return self.op(3, len(raw), raw)

    floating = lambda self, x: self.op(4, struct.pack('<d', x))
    special = lambda self, i: self.op(5, i)  # nan, -nan, inf, -inf, -0.0, 0.0, min, max, nan payload

    def text(self, s):  # code points: ASCII as is, others in 3 bytes
        out = bytearray([len(s)])
        for ch in s:
            c = ord(ch)
            out += bytes([c]) if c < 0x80 else bytes([0x80]) + c.to_bytes(3, 'little')
        return self.op(6, out)

    escaped = lambda self, raw: self.op(7, len(raw), raw)  # decoded with surrogateescape
    data = lambda self, raw: self.op(8, len(raw), raw)
    tuple_ = lambda self, n: self.op(9, n)
    list_ = lambda self, n: self.op(10, n)
    dict_ = lambda self, pairs: self.op(11, pairs)
    memoryview = lambda self, kind: self.op(12, kind)  # of the bytes on top; kind 0..5
    set_ = lambda self, n, frozen: self.op(13, n, int(frozen))
    other = lambda self, kind, *args: self.op(14, kind, *args)
    unpicklable = lambda self, i: self.op(15, i)
    nest_list = lambda self, k: self.op(16, k)
    self_ref = lambda self: self.op(17)
    dup = lambda self: self.op(18)
    handle = lambda self, i, iid=0: self.op(19, iid.to_bytes(8, 'little', signed=True), i)
    big_text = lambda self, k, i: self.op(20, k, i)
    shifted = lambda self, k, minus: self.op(21, k, minus)
    nest_tuple = lambda self, k: self.op(22, k)
    nan_keys = lambda self: self.op(23)
    mixed_keys = lambda self: self.op(24)
    queue_by_id = lambda self, qid: self.op(25, qid.to_bytes(2, 'little'))


PY_SEEDS = {
    'py-scalars': Py().none().boolean(1).small(-5).bigint(2**100 + 7).floating(2.5).text('a\u20ac\U0001F600')
    .data(b'\x00\xff').tuple_(7),
    'py-special-floats': Py().special(0).special(1).special(2).special(3).special(4).special(8).list_(6),
    'py-lone-surrogate': Py().text('ok\udc80'),
    'py-surrogateescape': Py().escaped(b'ab\xff\xfe'),
    'py-nested': Py().small(1).small(2).list_(2).text('k').small(3).dict_(1).tuple_(2),
    'py-dict-order': Py().text('b').small(1).text('a').small(2).floating(0.5).none().dict_(3),
    'py-nan-keys': Py().nan_keys(),
    'py-mixed-keys': Py().mixed_keys(),
    'py-memoryviews': Py().data(b'abcd').memoryview(0).data(b'abcd').memoryview(1).data(b'abcdef').memoryview(2)
    .data(b'abcdefgh').memoryview(3).data(b'xy').memoryview(4).tuple_(5),
    'py-released-memoryview': Py().data(b'gone').memoryview(5),
    'py-memoryview-key': Py().data(b'k').memoryview(0).none().dict_(1),
    'py-set-frozenset': Py().small(1).small(2).set_(2, False).small(3).set_(1, True).tuple_(2),
    'py-set-strict': Py(strict=True).small(1).set_(1, False),
    'py-pickle-kinds': Py().other(0, 3, 4).other(1, 2).op(0x41, 0x42).other(2, 5).other(3, 7)
    .text('s').other(4).small(1).other(5, 1).none().other(6).tuple_(7),
    'py-unpicklable': Py().unpicklable(0),
    'py-generator': Py().unpicklable(1),
    'py-deep-200': Py().none().nest_list(200),
    'py-deep-201': Py().none().nest_list(201),
    'py-deep-tuple-pickled': Py().none().nest_tuple(250).tuple_(1).other(5, 1),
    'py-self-ref': Py().small(1).list_(1).self_ref(),
    'py-self-ref-dict': Py().none().none().dict_(1).self_ref(),
    'py-shared': Py().data(b'x').list_(1).dup().dup().tuple_(3),
    'py-handles': Py().handle(0).handle(1).handle(2, 12345).handle(2, -1).tuple_(4),
    'py-queue-by-id': Py().queue_by_id(1).queue_by_id(60000).tuple_(2),
    'py-big-text': Py().big_text(3, 0).big_text(2, 1).big_text(2, 2).tuple_(3),
    'py-surrogate-run': Py().big_text(2, 3),
    'py-big-int': Py().shifted(40, 1).shifted(8, 0).tuple_(2),
    'py-strict-native': Py(strict=True).small(1).text('x').data(b'y').tuple_(3),
}

# --- host-built programs: [1] [prepare_main] ops... ----------------------------------------------


class Host:
    def __init__(self, prepare_main=False):
        self.b = bytearray([1, 1 if prepare_main else 0])

    def op(self, code, *args):
        self.b.append(code)
        for a in args:
            if isinstance(a, (bytes, bytearray)):
                self.b += a
            else:
                self.b.append(a & 0xFF)
        return self

    none = lambda self: self.op(0)
    boolean = lambda self, v: self.op(1, v + 1)
    int64 = lambda self, v: self.op(2, (v & (2**64 - 1)).to_bytes(8, 'little'))
    int_bytes = lambda self, raw: self.op(3, len(raw), raw)
    float_bits = lambda self, x: self.op(4, 1, struct.pack('<d', x))
    float_special = lambda self, i: self.op(4, 0, i)  # nan, -nan, inf, -inf, -0.0, 0.0, 1.0, min
    text = lambda self, raw: self.op(5, len(raw), raw)  # any bytes: only UTF-8 is accepted
    data = lambda self, raw: self.op(6, len(raw), raw)
    tuple_ = lambda self, n: self.op(7, n)
    list_ = lambda self, n: self.op(8, n)
    dict_ = lambda self, n: self.op(9, n)
    buffer = lambda self, raw: self.op(10, len(raw), raw)
    external = lambda self, raw, readonly: self.op(11, len(raw), raw, int(readonly))
    good_pickle = lambda self, i: self.op(12, 0, i)
    truncated_pickle = lambda self, i, cut: self.op(12, 1, i, cut)
    bad_pickle = lambda self, raw: self.op(12, 2, 0, len(raw), raw)
    interpreter_ours = lambda self: self.op(13, 1)
    interpreter_id = lambda self, i: self.op(13, 0, i)  # 0, -1, INT64_MIN, INT64_MAX, 1
    queue_ours = lambda self: self.op(14, 1)
    queue_id = lambda self, qid: self.op(14, 0, (qid & (2**64 - 1)).to_bytes(8, 'little'))
    nest = lambda self, k, tuple_=True: self.op(15, k - 1, int(tuple_))
    dup = lambda self: self.op(16)
    colliding_keys = lambda self, i: self.op(17, i)  # (1, True), (0.0, -0.0), (nan, -nan), (2.0, 3.0)


HOST_SEEDS = {
    'host-scalars': Host().none().boolean(1).int64(-2**63).float_bits(-1.5).text(b'h\xc3\xa9').data(b'\0\1').tuple_(6),
    'host-int-bytes': Host().int_bytes(b'').int_bytes(b'\xff\xff').int_bytes(b'\x00' * 9 + b'\x80')
    .int_bytes(b'\x01' * 20).list_(4),
    'host-special-floats': Host().float_special(0).float_special(1).float_special(4).float_bits(5e-324).tuple_(4),
    'host-invalid-utf8': Host().text(b'\xed\xa0\x80').text(b'\xc0\xaf').text(b'ok'),
    'host-dict': Host().text(b'k').int64(1).data(b'b').none().dict_(2),
    'host-dict-duplicate-key': Host().text(b'k').int64(1).text(b'k').int64(2).dict_(2),
    'host-dict-unhashable-key': Host().none().list_(1).int64(1).dict_(1),
    'host-colliding-1-true': Host().colliding_keys(0),
    'host-colliding-zeros': Host().colliding_keys(1),
    'host-nan-keys': Host().colliding_keys(2),
    'host-distinct-keys': Host(prepare_main=True).colliding_keys(3),
    'host-buffers': Host().buffer(b'lib').external(b'host', False).external(b'ro', True).tuple_(3),
    'host-buffer-prepare-main': Host(prepare_main=True).external(b'shared', True),
    'host-good-pickles': Host().good_pickle(0).good_pickle(5).good_pickle(9).good_pickle(12).tuple_(4),
    'host-truncated-pickle': Host().truncated_pickle(0, 5),
    'host-bad-pickle': Host().bad_pickle(b'garbage'),
    'host-pickled-key': Host().good_pickle(3).none().dict_(1),
    'host-handles': Host().interpreter_ours().interpreter_id(2).queue_ours().tuple_(3),
    'host-unknown-queue': Host().queue_id(987654321),
    'host-deep-200': Host().none().nest(200),
    'host-deep-201': Host().none().nest(201),
    'host-deep-256': Host().none().nest(255, False).nest(2),
    'host-shared': Host().text(b'x').dup().dup().tuple_(3).dup().list_(2),
}


def main():
    corpus = os.path.join(HERE, 'corpus')
    os.makedirs(corpus, exist_ok=True)
    for name in os.listdir(corpus):
        if name.startswith(('py-', 'host-')):
            os.remove(os.path.join(corpus, name))
    for name, program in {**PY_SEEDS, **HOST_SEEDS}.items():
        with open(os.path.join(corpus, name), 'wb') as f:
            f.write(bytes(program.b))
    print(f'{len(PY_SEEDS) + len(HOST_SEEDS)} seeds in {corpus}')


if __name__ == '__main__':
    main()
