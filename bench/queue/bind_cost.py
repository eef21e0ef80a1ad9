#!/usr/bin/env python3
# What binding a batch's parameter costs PostgreSQL, as text against PostgreSQL's binary array
# format: a prepared `SELECT cardinality($1::T[])` with a 500-element uuid[], tid[] or bigint[]
# parameter, called in a loop through libpq (ctypes; psycopg2 sends text only), backend CPU per
# call from /proc (run on the database machine). Each call also pays the statement's own cost,
# the same in both formats.
#   bind_cost.py URL [ELEMENTS] [ROUNDS]
import ctypes, ctypes.util, os, statistics, struct, sys, uuid

url = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
calls = 400

pq = ctypes.CDLL(ctypes.util.find_library("pq"))
for name, res, args in [
    ("PQconnectdb", ctypes.c_void_p, [ctypes.c_char_p]),
    ("PQstatus", ctypes.c_int, [ctypes.c_void_p]),
    ("PQexec", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    ("PQprepare", ctypes.c_void_p,
     [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]),
    ("PQexecPrepared", ctypes.c_void_p,
     [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
      ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.c_int]),
    ("PQresultStatus", ctypes.c_int, [ctypes.c_void_p]),
    ("PQgetvalue", ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]),
    ("PQerrorMessage", ctypes.c_char_p, [ctypes.c_void_p]),
    ("PQclear", None, [ctypes.c_void_p]),
]:
    f = getattr(pq, name); f.restype = res; f.argtypes = args

conn = pq.PQconnectdb(url.encode())
if pq.PQstatus(conn) != 0:
    sys.exit(pq.PQerrorMessage(conn).decode())
r = pq.PQexec(conn, b"SELECT pg_backend_pid()"); pid = int(pq.PQgetvalue(r, 0, 0)); pq.PQclear(r)

def binary_array(oid, elements):  # array_recv's format, as persistence/pg_array.cpp writes it
    out = struct.pack("!iiIii", 1, 0, oid, len(elements), 1)
    return out + b"".join(struct.pack("!i", len(e)) + e for e in elements)

ids = [uuid.uuid4() for _ in range(n)]
tids = [(i // 16, i % 16 + 1) for i in range(n)]
claims = [i * 1000003 for i in range(n)]
params = {  # type: (SQL type, text literal, binary array)
    "uuid[]": ("uuid", "{" + ",".join(f'"{u}"' for u in ids) + "}",
               binary_array(2950, [u.bytes for u in ids])),
    "tid[]": ("tid", "{" + ",".join(f'"({b},{o})"' for b, o in tids) + "}",
              binary_array(27, [struct.pack("!IH", b, o) for b, o in tids])),
    "bigint[]": ("bigint", "{" + ",".join(map(str, claims)) + "}",
                 binary_array(20, [struct.pack("!q", c) for c in claims])),
}

def cpu_ns():
    return sum(int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0])
               for t in os.listdir(f"/proc/{pid}/task"))

def us_per_call(statement, value, binary):
    values = (ctypes.c_char_p * 1)(value)
    lengths = (ctypes.c_int * 1)(len(value))
    formats = (ctypes.c_int * 1)(1 if binary else 0)
    t0 = cpu_ns()
    for _ in range(calls):
        r = pq.PQexecPrepared(conn, statement, 1, values, lengths, formats, 0)
        if pq.PQresultStatus(r) != 2 or int(pq.PQgetvalue(r, 0, 0)) != n:
            sys.exit(pq.PQerrorMessage(conn).decode())
        pq.PQclear(r)
    return (cpu_ns() - t0) / calls / 1000

print(f"backend CPU per call with a {n}-element parameter, medians of {rounds} rounds of {calls} calls")
for name, (sql_type, text, binary) in params.items():
    statement = f"cardinality_{sql_type}".encode()
    pq.PQclear(pq.PQprepare(conn, statement, f"SELECT cardinality($1::{sql_type}[])".encode(), 0, None))
    as_text, as_binary = [], []
    for _ in range(rounds):  # alternating, so that a slow stretch of the machine hits both
        as_text.append(us_per_call(statement, text.encode(), False))
        as_binary.append(us_per_call(statement, binary, True))
    t, b = statistics.median(as_text), statistics.median(as_binary)
    print(f"  {name:9} text {t:7.1f} us   binary {b:7.1f} us   difference per element {(t - b) / n * 1000:5.0f} ns")
