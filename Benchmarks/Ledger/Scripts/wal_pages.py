"""WAL pages a SQLite commit writes for decision records, batched (as the ledger commits them)
against one row per commit (as the plain-INSERT baseline does): the store's table and indexes
(migrations 5, 7, 8 and 13, copied by hand), `synchronous=FULL`, WAL, records from 64 agent
sessions (each its own task and grant, eight agents, four tools) of about the gateway's size.

    python3 wal_pages.py            # record and trace IDs as the gateway makes them (time first)
    python3 wal_pages.py random     # 128 random bits for both, as before
    python3 wal_pages.py ordered grant   # also keep decision_records_by_grant (before migration 13)
    python3 wal_pages.py ordered - time task   # without these indexes (what each costs)

The page counts are the WAL's growth (4,096-byte pages plus a 24-byte frame header each)."""
import os, random, sqlite3, sys, tempfile, time

SESSIONS, BATCH, WARM, BATCHES, SINGLES = 64, 64, 20_000, 60, 200
mode = sys.argv[1] if len(sys.argv) > 1 else "ordered"
keep_grant = "grant" in sys.argv[2:]
dropped = sys.argv[sys.argv.index("-") + 1:] if "-" in sys.argv else []

DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def time_ordered_id(now):  # TimeOrderedID.make: 48 bits of time, 80 random bits, Crockford base32
    value = (now << 80) | random.getrandbits(80)
    return "".join(DIGITS[(value >> (5 * i)) & 31] for i in reversed(range(26)))
def trace_id(now):  # TimeOrderedID.traceID
    return "%012x%020x" % (now & (2**48 - 1), random.getrandbits(80))
def random_hex():
    return "%032x" % random.getrandbits(128)

path = tempfile.mktemp(suffix=".sqlite")
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
db.execute("PRAGMA wal_autocheckpoint = 0")
db.executescript("""
CREATE TABLE decision_records (id TEXT NOT NULL PRIMARY KEY, time INTEGER NOT NULL, task_id TEXT NOT NULL,
    grant_id TEXT NOT NULL, agent TEXT NOT NULL, tool TEXT, allowed INTEGER NOT NULL, reason TEXT, record TEXT NOT NULL,
    leaf_index INTEGER, leaf_hash BLOB, leaf_mac BLOB, trace_id TEXT);
CREATE INDEX decision_records_by_time ON decision_records (time, id);
CREATE INDEX decision_records_by_task ON decision_records (task_id, time, id);
CREATE UNIQUE INDEX decision_records_by_leaf ON decision_records (leaf_index);
CREATE INDEX decision_records_by_agent ON decision_records (agent, time, id);
CREATE INDEX decision_records_by_tool ON decision_records (tool, time, id);
CREATE INDEX decision_records_by_trace ON decision_records (trace_id, time, id);
CREATE TABLE decision_record_grants (grant_id TEXT NOT NULL, task_id TEXT NOT NULL, PRIMARY KEY (grant_id, task_id));
""")
if keep_grant:
    db.execute("CREATE INDEX decision_records_by_grant ON decision_records (grant_id, time, id)")
for name in dropped:
    db.execute("DROP INDEX decision_records_by_" + name)

now = int(time.time() * 1000)
sessions = [(time_ordered_id(now), time_ordered_id(now), "spiffe://bench.test/agents/a%d" % (i % 8)) for i in range(SESSIONS)]
tools = ["crm.lookup", "files.read", "files.write", "web.fetch"]
count = 0
def row(call):
    global now, count
    now += call % 8 == 0  # about 8 calls a millisecond
    task, grant, agent = sessions[call % SESSIONS]
    count += 1
    return (time_ordered_id(now) if mode == "ordered" else random_hex(), now, task, grant, agent, tools[(call // SESSIONS) % 4],
            1, None, "x" * 800, count, os.urandom(32), os.urandom(32), trace_id(now) if mode == "ordered" else random_hex())
INSERT = ("INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record, leaf_index, leaf_hash,"
          " leaf_mac, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
def commit(rows):
    db.execute("BEGIN")
    for r in rows:
        db.execute(INSERT, r)
    if len(rows) > 1:  # the ledger's append also notes which tasks each grant's records are in
        for grant, task in {(r[3], r[2]) for r in rows}:
            db.execute("INSERT INTO decision_record_grants VALUES (?, ?) ON CONFLICT DO NOTHING", (grant, task))
    db.execute("COMMIT")
def wal_pages(body):
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = os.path.getsize(path + "-wal")
    body()
    return (os.path.getsize(path + "-wal") - before) / 4120

call = 0
for _ in range(WARM // BATCH):
    commit([row(call + k) for k in range(BATCH)])
    call += BATCH
def batches():
    global call
    for _ in range(BATCHES):
        commit([row(call + k) for k in range(BATCH)])
        call += BATCH
def singles():
    global call
    for _ in range(SINGLES):
        commit([row(call)])
        call += 1
batched = wal_pages(batches) / BATCHES
single = wal_pages(singles) / SINGLES
print(f"{mode} IDs, grant index {'kept' if keep_grant else 'dropped'}, without {dropped or 'none'}: "
      f"{batched:.1f} pages per {BATCH}-record commit ({batched / BATCH:.2f} a record), {single:.1f} per one-row commit: "
      f"{single * BATCH / batched:.1f}x fewer bytes a record batched")
db.close()
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
