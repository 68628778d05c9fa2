#!/usr/bin/env python3
"""Build step: turn migrations/NNNN_name.sql into a C array, so the binary
carries its own schema and works wherever it is installed."""
import os
import re
import sys

out, files = sys.argv[1], sys.argv[2:]
rows = []
for path in sorted(files, key=os.path.basename):
    name = os.path.basename(path)
    m = re.fullmatch(r"(\d{4})_[a-z0-9_]+\.sql", name)
    if not m:
        sys.exit(f"{path}: migration names look like 0001_what.sql")
    with open(path, encoding="utf-8") as f:
        sql = f.read()
    rows.append((int(m.group(1)), name, sql))
for i, (version, name, _) in enumerate(rows, 1):
    if version != i:
        sys.exit(f"{name}: expected migration number {i:04d}")


def c_string(s):
    lines = s.encode("utf-8").decode("utf-8").splitlines(keepends=True)
    esc = []
    for line in lines:
        e = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        esc.append(f'\t"{e}"')
    return "\n".join(esc) if esc else '\t""'


with open(out, "w", encoding="utf-8") as f:
    f.write("/* Generated from migrations/ by scripts/embed-migrations.py. */\n")
    f.write('#include "db.h"\n\n')
    f.write("const struct migration db_migrations[] = {\n")
    for version, name, sql in rows:
        f.write(f'\t{{ {version}, "{name}",\n{c_string(sql)} }},\n')
    f.write("};\n")
    f.write(f"const int db_migration_count = {len(rows)};\n")
