#!/usr/bin/env python3
"""docs/openapi.yaml describes exactly the routes the server answers
(`civicard routes`), so the description cannot drift.

usage: test_openapi.py path/to/civicard path/to/openapi.yaml
Reads the restricted YAML layout of that file (paths at two spaces,
methods at four) without a YAML library."""

import re
import subprocess
import sys


def normalise(path):
    return re.sub(r"\{[^}]+\}", "{}", path)


def documented(yaml_path):
    out, in_paths, current = set(), False, None
    with open(yaml_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("paths:"):
                in_paths = True
                continue
            if not in_paths:
                continue
            if line.strip() and not line.startswith(" "):
                break                      # the next top-level key
            m = re.match(r"^  (/[^:]*):\s*$", line)
            if m:
                current = normalise(m.group(1))
                continue
            m = re.match(r"^    (get|post|put|delete|patch):", line)
            if m and current:
                out.add(f"{m.group(1).upper()} {current}")
    return out


def main():
    binary, yaml_path = sys.argv[1], sys.argv[2]
    served = {f"{m} {normalise(p)}" for m, p in
              (l.split(" ", 1) for l in subprocess.run([binary, "routes"], capture_output=True,
                                                       text=True, check=True).stdout.split("\n") if l)}
    docs = documented(yaml_path)
    missing, extra = sorted(served - docs), sorted(docs - served)
    passed = failed = 0
    for name, items in (("served but not in openapi.yaml", missing), ("in openapi.yaml but not served", extra)):
        if items:
            print(f"FAIL {name}: " + ", ".join(items))
            failed += 1
        else:
            print(f"ok   nothing {name}")
            passed += 1
    if len(served) < 40:
        print(f"FAIL only {len(served)} routes read from `civicard routes`")
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
