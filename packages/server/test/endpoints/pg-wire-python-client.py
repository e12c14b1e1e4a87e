"""
Drives the Sirius PostgreSQL gateway with the Python clients people use (psycopg2, pandas, SQLAlchemy) and
prints what they saw as one JSON object; pg-wire-clients.test.ts checks it. Run with the port as argument,
in whatever TZ the caller sets (the test uses America/Los_Angeles so that a wrong instant shows).
"""
import io
import json
import sys
from datetime import datetime, timedelta, timezone

import pandas as pd
import psycopg2
import sqlalchemy as sa

port = int(sys.argv[1])
dsn = f"host=127.0.0.1 port={port} user=sirius dbname=sirius"
out = {}

conn = psycopg2.connect(dsn)
out["encoding"] = conn.encoding

# a server-side (named) cursor: DECLARE … then FETCH FORWARD itersize
with conn.cursor(name="named_cursor") as cur:
    cur.itersize = 4
    cur.execute("SELECT msg, level FROM log_entries ORDER BY time")
    out["named_cursor"] = [row[0] for row in cur]
conn.commit()

# times are timestamptz: tz-aware datetimes naming the same instants whatever the local zone
cur = conn.cursor()
cur.execute("SELECT time FROM log_entries ORDER BY time LIMIT 2")
times = [r[0] for r in cur.fetchall()]
out["times_epoch"] = [t.timestamp() for t in times]
out["times_aware"] = all(t.tzinfo is not None for t in times)
out["time_oid"] = cur.description[0].type_code

# a zoned parameter: 17:00:05 in Los Angeles (PDT, UTC-7) is 00:00:05 UTC
los_angeles = timezone(timedelta(hours=-7))
cur.execute("SELECT count(*) FROM log_entries WHERE time >= %s", (datetime(2024, 4, 30, 17, 0, 5, tzinfo=los_angeles),))
out["count_since_param"] = cur.fetchone()[0]

cur.execute("SELECT count(*), max(level), 1 + 1, upper(msg) FROM log_entries GROUP BY msg ORDER BY 4 LIMIT 1")
out["column_names"] = [d.name for d in cur.description]

# COPY … TO STDOUT as CSV with a header
buf = io.StringIO()
cur.copy_expert("COPY (SELECT msg, level FROM log_entries ORDER BY time LIMIT 3) TO STDOUT WITH (FORMAT csv, HEADER)", buf)
out["copy_csv"] = buf.getvalue()

# writes are refused as in a read-only transaction
try:
    cur.execute("INSERT INTO log_entries (msg) VALUES ('x')")
    out["insert"] = "accepted"
except psycopg2.Error as e:
    out["insert"] = e.pgcode
conn.rollback()
conn.close()

# pandas over a psycopg2 connection
conn = psycopg2.connect(dsn)
df = pd.read_sql("SELECT level, count(*) FROM log_entries GROUP BY level ORDER BY level", conn)
out["pandas_columns"] = list(df.columns)
out["pandas_counts"] = [int(x) for x in df["count"]]
df = pd.read_sql("SELECT time, msg FROM log_entries ORDER BY time LIMIT 1", conn)
out["pandas_time_dtype"] = str(df["time"].dtype)
out["pandas_first_time"] = df["time"][0].isoformat()
conn.close()

# SQLAlchemy: an engine, a streamed (server-side cursor) result, pandas on the engine
engine = sa.create_engine(f"postgresql+psycopg2://sirius@127.0.0.1:{port}/sirius")
with engine.connect() as c:
    result = c.execution_options(stream_results=True, max_row_buffer=3).execute(sa.text("SELECT msg FROM log_entries ORDER BY time"))
    out["sqlalchemy_stream"] = [r[0] for r in result]
    out["sqlalchemy_tables"] = sorted(sa.inspect(c).get_table_names())
    df = pd.read_sql(sa.text("SELECT msg FROM log_entries WHERE level = :lvl ORDER BY time"), c, params={"lvl": 1})
    out["sqlalchemy_pandas"] = list(df["msg"])
engine.dispose()

print(json.dumps(out))
