#!/usr/bin/env python3
"""Writes the hand-made seed corpus of fuzz_sequence into corpus/ (next to this
file). Each seed is a short script of C ABI calls, named for what it does; the
byte encoding mirrors the Reader calls in fuzz_sequence.cpp (every option
byte the fuzzer reads is written here, so a seed runs exactly as named).
FUZZ_VERBOSE=1 <fuzzer> <seed> prints the calls a seed makes.

    python3 capi/fuzz/make_seeds.py        # rewrites corpus/seq-*
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# operations (first byte % 16)
CREATE, DESTROY, EXEC, CALL, PREPARE, NEW_DATA, GET_DATA = 0, 1, 2, 4, 6, 7, 9
QUEUE_CREATE, QUEUE_IO, QUEUE_ADMIN, LIST_QUERY, MISC = 10, 11, 13, 14, 15

# interpreter ids (pick_interp)
LIVE0, LIVE1, DEAD, MAIN, MINUS1 = (0, 0), (0, 1), (3, 0), (4,), (5,)
SMALL = lambda n: (7, n)
# queue ids (pick_queue_id)
QLIVE0, QLIVE1, QDEAD, QMINUS1 = (0, 0), (0, 1), (3, 0), (4,)
# values (pick_value): index into the pool of values made so far; 255 is NULL
VALUE = lambda i: (i,)
NULL_VALUE = (255,)

# snippets (kSnippets), callables (kCallables), malformed names (kMalformed)
SNIPPETS = ['x = 1', 'def f', 'def boom', 'raise KeyError', '1/0', 'def spin', 'print hello', 'stderr oops',
            'sys.exit', 'def (', 'Qv.put_nowait', 'Qv.get', 'y = v', 'math', 'spin(10**5)', 'del x', 'class C',
            'raise SystemExit', 'import _subinterp', 'print big', 'Qv.close', 'stdout surrogate',
            'KeyboardInterrupt', 'Qv.put(v)', 'w = [v] * 3']
CALLABLES = ['f', 'len', 'math:sqrt', 'json:dumps', 'boom', 'spin', 'repr', 'math:pi', 'os.path:join', 'C']
NAMES = ['v', 'Qv', 'x', '_ok', 'for', 'été', '1bad', 'a b', '', 'a.b']


class Seq:
    def __init__(self):
        self.b = bytearray()

    def raw(self, *parts):
        for p in parts:
            if isinstance(p, (bytes, bytearray)):
                self.b += p
            elif isinstance(p, tuple):
                self.raw(*p)
            else:
                self.b.append(p & 0xFF)
        return self

    # run options (pick_opts): timeout in ms 1..100, then the kind
    @staticmethod
    def opts(kind='ok', flags=0, ms=50):
        t = ms - 1
        return {'null': (t, 0), 'bad_size': (t, 1, 0), 'bad_flag': (t, 2, 5), 'nan': (t, 3),
                'ok': (t, 4, flags)}[kind]

    def create(self, config=None, null_id=False):
        # mode 0: NULL config; else random_config: legacy flag, changes...
        if config is None:
            self.raw(CREATE, 0)
        else:
            legacy, changes = config
            self.raw(CREATE, 1, int(legacy), len(changes))
            for change in changes:
                self.raw(*change)
        return self.raw(0 if null_id else 1, 1)  # null_id byte, err byte

    def destroy(self, who):
        return self.raw(DESTROY, who, 1)

    def exec_(self, who, snippet, opts=None, output_null=False):
        opts = opts or self.opts()
        return self.raw(EXEC, who, opts, 0 if output_null else 1, 4, SNIPPETS.index(snippet), 1)

    def exec_null(self, who):
        return self.raw(EXEC, who, self.opts(), 1, 0, 1)

    def exec_invalid_utf8(self, who, text=b'x = 1', at=0):
        return self.raw(EXEC, who, self.opts(), 1, 1, len(text), text, at, 1)

    def exec_text(self, who, text, comment):
        return self.raw(EXEC, who, self.opts(), 1, 2 if comment else 3, len(text), text, 1)

    def call(self, who, name, args=None, kwargs=None, opts=None, null_result=False, output_null=False):
        opts = opts or self.opts()
        self.raw(CALL, who, opts, 0 if output_null else 1)
        if name is None:
            self.raw(0)
        elif isinstance(name, bytes):  # "zz_" + these bytes
            self.raw(4, len(name), name)
        elif name in CALLABLES:
            self.raw(1, CALLABLES.index(name))
        else:
            self.raw(3, name)  # index into kMalformed
        self.raw(*((1, args) if args is not None else (0,)))
        self.raw(*((0, kwargs) if kwargs is not None else (1,)))
        return self.raw(0 if null_result else 1, 1)

    def prepare_main(self, who, entries=None, value=None):
        """entries: [(name, value)] with names from NAMES or bytes; value: any pool value."""
        self.raw(PREPARE, who)
        if entries is None and value is None:
            self.raw(0)
        elif value is not None:
            self.raw(1, value)
        else:
            self.raw(2, len(entries) - 1)
            for name, v in entries:
                if isinstance(name, bytes):
                    self.raw(0, len(name), name, v)
                else:
                    self.raw(1, NAMES.index(name), v)
        return self.raw(1)

    def new(self, kind, *args, null_out=False):
        kinds = ['none', 'bool', 'int', 'int_bytes', 'float', 'str', 'bytes', 'tuple', 'list', 'dict', 'buffer',
                 'external', 'pickled', 'handle']
        return self.raw(NEW_DATA, 1, 0 if null_out else 1, kinds.index(kind), *args)

    def new_int(self, n):
        return self.new('int', struct.pack('<q', n))

    def new_str(self, raw, null=False):
        return self.new('str', len(raw), raw, *((0 if null else 1,) if raw else ()))

    def new_bytes(self, raw):
        return self.new('bytes', len(raw), raw, *(() if raw else (0,)))

    def new_tuple(self, *items, as_list=False):
        return self.new('tuple', len(items), *items, *((1,) if items else ()), 0 if as_list else 1)

    def new_dict(self, *pairs):
        return self.new('dict', len(pairs), *[x for p in pairs for x in p])

    def new_queue_handle(self, q):
        return self.new('handle', 0, q)

    def new_interp_handle(self, who):
        return self.new('handle', 1, who)

    def get(self, value, getter, *args):
        return self.raw(GET_DATA, value, 1, getter, *args)

    def queue_create(self, maxsize=0, unbound=0, kind='opts'):
        k = {'null': (0,), 'bad_size': (1, 0), 'bad_unbound': (2, 0), 'opts': (3, maxsize, unbound)}[kind]
        return self.raw(QUEUE_CREATE, k, 1, 1)

    def put(self, q, value, timeout=0, nan=False):
        return self.raw(QUEUE_IO, q, 0 if nan else 1, *(() if nan else (timeout,)), 1, 1, value)

    def get_item(self, q, timeout=0, null_item=False):
        return self.raw(QUEUE_IO, q, 1, timeout, 1, 0, 0 if null_item else 1)

    def queue_admin(self, q, what, *args):
        ops = ['close', 'size', 'info', 'retain', 'release', 'destroy', 'list']
        return self.raw(QUEUE_ADMIN, q, 1, ops.index(what), *args)

    def list_and_query(self, capacity, who, query, *args):
        queries = ['is_running', 'get_config', 'interrupt', 'ids', 'runtime']
        return self.raw(LIST_QUERY, capacity, *((1,) if capacity else ()), 1, who, 1, queries.index(query), *args)

    def misc(self, what, *args):
        return self.raw(MISC, ['validate', 'status_name', 'null_api', 'config_init', 'versions'].index(what), *args)


# config changes for create(): (value index, field) with values [0, 1, 0, 1, 0, 1, 2, -1] and fields
# use_main_obmalloc, allow_fork, allow_exec, allow_threads, allow_daemon_threads, check_multi, gil, struct_size
GIL_SHARED = (1, 6, 0, 2)       # gil = upto(4) - 1 = 1
OBMALLOC_ON = (1, 0)
BOOL_2 = (6, 3)                 # allow_threads = 2
DAEMON_ON_THREADS_OFF = ((1, 4), (0, 3))
BAD_STRUCT = (0, 7, 0)          # struct_size 0

SEEDS = {
    'seq-create-exec-destroy': Seq().create().exec_(LIVE0, 'x = 1').exec_(LIVE0, 'del x').destroy(LIVE0)
    .destroy(DEAD).exec_(DEAD, 'x = 1'),
    'seq-legacy': Seq().create((True, [])).exec_(LIVE0, 'import _subinterp').list_and_query(3, LIVE0, 'get_config', 2),
    'seq-config-shared-gil': Seq().create((False, [GIL_SHARED])).list_and_query(0, LIVE0, 'get_config', 2),
    'seq-config-invalid': Seq().create((False, [BOOL_2])).create((True, [OBMALLOC_ON, (6, 6, 1)]))
    .create((False, list(DAEMON_ON_THREADS_OFF))).create((False, [BAD_STRUCT])),
    'seq-create-null-id': Seq().create(null_id=True),
    'seq-destroy-main': Seq().destroy(MAIN).destroy(MINUS1).destroy(SMALL(33)),
    'seq-exec-errors': Seq().create().exec_(LIVE0, 'raise KeyError').exec_(LIVE0, '1/0').exec_(LIVE0, 'sys.exit')
    .exec_(LIVE0, 'def (').exec_(LIVE0, 'raise SystemExit').exec_(LIVE0, 'KeyboardInterrupt'),
    'seq-exec-bad-source': Seq().create().exec_null(LIVE0).exec_invalid_utf8(LIVE0, b'x = 1', 2)
    .exec_text(LIVE0, b'coding: latin-1 \xc3\xa9', True).exec_text(LIVE0, b'x', False),
    'seq-exec-capture': Seq().create().exec_(LIVE0, 'print hello', Seq.opts('ok', 1))
    .exec_(LIVE0, 'stderr oops', Seq.opts('ok', 2)).exec_(LIVE0, 'stdout surrogate', Seq.opts('ok', 3))
    .exec_(LIVE0, 'print big', Seq.opts('ok', 1)),
    'seq-exec-capture-no-output': Seq().create().exec_(LIVE0, 'x = 1', Seq.opts('ok', 1), output_null=True),
    'seq-exec-bad-options': Seq().create().exec_(LIVE0, 'x = 1', Seq.opts('bad_size'))
    .exec_(LIVE0, 'x = 1', Seq.opts('bad_flag')).exec_(LIVE0, 'x = 1', Seq.opts('nan'))
    .exec_(LIVE0, 'x = 1', Seq.opts('null')),
    'seq-exec-main': Seq().exec_(MAIN, 'math').exec_(MAIN, 'class C'),
    'seq-spin-timeout': Seq().create().exec_(LIVE0, 'def spin').exec_(LIVE0, 'spin(10**5)', Seq.opts('ok', 0, 1)),
    'seq-call': Seq().create().exec_(LIVE0, 'def f').new_int(3).new_tuple(VALUE(0))
    .call(LIVE0, 'f', args=VALUE(1)).call(LIVE0, 'len', args=VALUE(1)).call(LIVE0, 'math:sqrt', args=VALUE(1))
    .call(LIVE0, 'boom').call(LIVE0, 'math:pi').call(LIVE0, 'C'),
    'seq-call-kwargs': Seq().create().exec_(LIVE0, 'def f').new_str(b'k').new_int(1).new_dict((VALUE(0), VALUE(1)))
    .call(LIVE0, 'f', kwargs=VALUE(2)).new_dict((VALUE(1), VALUE(0))).call(LIVE0, 'f', kwargs=VALUE(3)),
    'seq-call-bad-names': Seq().create().call(LIVE0, None).call(LIVE0, 0).call(LIVE0, 5).call(LIVE0, 2)
    .call(LIVE0, b'nothing').call(LIVE0, b'm:x').call(LIVE0, b'\xff'),
    'seq-call-bad-args': Seq().create().new_int(1).call(LIVE0, 'len', args=VALUE(0))
    .call(LIVE0, 'len', kwargs=VALUE(0)).call(LIVE0, 'len', null_result=True),
    'seq-call-spin-timeout': Seq().create().exec_(LIVE0, 'def spin').new_int(10**9).new_tuple(VALUE(0))
    .call(LIVE0, 'spin', args=VALUE(1), opts=Seq.opts('ok', 0, 2)),
    'seq-prepare-main': Seq().create().new_int(5).prepare_main(LIVE0, [('v', VALUE(0)), ('x', VALUE(0))])
    .exec_(LIVE0, 'y = v').exec_(LIVE0, 'w = [v] * 3'),
    'seq-prepare-main-bad': Seq().create().new_int(5).prepare_main(LIVE0).prepare_main(LIVE0, value=VALUE(0))
    .prepare_main(LIVE0, [('1bad', VALUE(0))]).prepare_main(LIVE0, [('a b', VALUE(0))])
    .prepare_main(LIVE0, [('', VALUE(0))]).prepare_main(LIVE0, [('été', VALUE(0))])
    .prepare_main(DEAD, [('v', VALUE(0))]),
    'seq-queue-fifo': Seq().queue_create(2, 0).new_int(1).new_int(2).new_int(3).put(QLIVE0, VALUE(0))
    .put(QLIVE0, VALUE(1)).put(QLIVE0, VALUE(2)).queue_admin(QLIVE0, 'size', 1).get_item(QLIVE0)
    .get_item(QLIVE0).get_item(QLIVE0),
    'seq-queue-close': Seq().queue_create().new_int(1).put(QLIVE0, VALUE(0)).queue_admin(QLIVE0, 'close')
    .put(QLIVE0, VALUE(0)).get_item(QLIVE0).get_item(QLIVE0).queue_admin(QLIVE0, 'info', 1),
    'seq-queue-holds': Seq().queue_create().queue_admin(QLIVE0, 'retain').queue_admin(QLIVE0, 'release')
    .queue_admin(QLIVE0, 'release').queue_admin(QLIVE0, 'size', 1).queue_admin(QLIVE0, 'list'),
    'seq-queue-destroy': Seq().queue_create().new_queue_handle(QLIVE0).queue_admin(QLIVE0, 'destroy')
    .put(QLIVE0, VALUE(0)).get_item(QLIVE0).queue_admin(QDEAD, 'close'),
    'seq-queue-bad': Seq().queue_create(kind='null').queue_create(kind='bad_size').queue_create(kind='bad_unbound')
    .new_int(1).put(QLIVE0, VALUE(0), nan=True).put(QLIVE0, NULL_VALUE).get_item(QLIVE0, null_item=True)
    .put(QMINUS1, VALUE(0)),
    'seq-queue-python': Seq().create().queue_create(1, 2).new_queue_handle(QLIVE0).new_int(7)
    .prepare_main(LIVE0, [('Qv', VALUE(0)), ('v', VALUE(1))]).exec_(LIVE0, 'Qv.put_nowait')
    .exec_(LIVE0, 'Qv.get').exec_(LIVE0, 'Qv.put(v)').destroy(LIVE0).get_item(QLIVE0).exec_(DEAD, 'Qv.close'),
    'seq-data-kinds': Seq().new('none').new('bool', 2).new_int(-1).new('int_bytes', 3, b'\x00\x00\x80', 1)
    .new('float', struct.pack('<d', float('nan'))).new_str(b'h\xc3\xa9').new_bytes(b'').new('buffer', 8, 1)
    .new('external', 4, 1).new('pickled', 1, 0).new('pickled', 0, 3, b'bad').new_interp_handle(MAIN)
    .new_tuple(VALUE(0), VALUE(1), as_list=True),
    'seq-data-invalid': Seq().new_str(b'\xed\xa0\x80').new_str(b'ab', null=True).new('none', null_out=True)
    .new('int_bytes', 2, b'\x01\x02', 0).new('buffer', 4, 0).new_tuple(NULL_VALUE).new('list', 2, VALUE(0),
                                                                                       VALUE(0), 0, 1),
    'seq-data-dicts': Seq().new_int(1).new('float', struct.pack('<d', 1.0)).new_dict((VALUE(0), VALUE(1)))
    .new_dict((VALUE(0), VALUE(0)), (VALUE(0), VALUE(1))).new_tuple(VALUE(0), as_list=True)
    .new_dict((VALUE(3), VALUE(0))),
    'seq-data-getters': Seq().new_int(1).new_str(b's').new_tuple(VALUE(0), VALUE(1)).get(VALUE(0), 0)
    .get(VALUE(0), 1).get(VALUE(0), 2, 4).get(VALUE(1), 4, 0).get(VALUE(1), 5, 1).get(VALUE(2), 9)
    .get(VALUE(2), 10, 4).get(VALUE(2), 11, 0, 0).get(VALUE(2), 12, 1, VALUE(0)).get(NULL_VALUE, 3),
    'seq-list-query': Seq().create().list_and_query(2, LIVE0, 'is_running', 1).list_and_query(0, MAIN, 'get_config', 2)
    .list_and_query(1, MINUS1, 'interrupt', 0).list_and_query(5, MAIN, 'ids').list_and_query(1, MAIN, 'runtime'),
    'seq-misc': Seq().misc('validate', 1, 1, (7, 6, 1), 1).misc('status_name', struct.pack('<q', 99))
    .misc('status_name', struct.pack('<q', 18)).misc('null_api').misc('config_init', 3).misc('versions'),
    'seq-two-interpreters': Seq().create().create((False, [GIL_SHARED])).exec_(LIVE1, 'x = 1').destroy(LIVE0)
    .list_and_query(3, LIVE0, 'is_running', 1).exec_(DEAD, 'x = 1'),
}


def main():
    corpus = os.path.join(HERE, 'corpus')
    os.makedirs(corpus, exist_ok=True)
    for name in os.listdir(corpus):
        if name.startswith('seq-'):
            os.remove(os.path.join(corpus, name))
    for name, seq in SEEDS.items():
        with open(os.path.join(corpus, name), 'wb') as f:
            f.write(bytes(seq.b))
    print(f'{len(SEEDS)} seeds in {corpus}')


if __name__ == '__main__':
    main()
