#!/usr/bin/env python3
"""docs/openapi.yaml against the server's route table (`scrapersky routes`): every API route is
described once, with the method, path, path parameters, security and required role the server
enforces, and nothing is described that the server does not serve. Exits 1 listing the drift."""
import json
import subprocess
import sys

import yaml

binary, spec_path = sys.argv[1], sys.argv[2]
routes = json.loads(subprocess.run([binary, "routes"], capture_output=True, text=True,
                                   check=True).stdout)
served = {(r["method"], r["path"]): r["auth"] for r in routes
          if r["path"].startswith("/api/") or r["path"] in ("/health", "/ready", "/metrics")}
spec = yaml.safe_load(open(spec_path, encoding="utf-8"))
assert spec["openapi"].startswith("3.1"), "OpenAPI 3.1"
described = {}
problems = []
for path, item in spec["paths"].items():
    for method, op in item.items():
        key = (method.upper(), path)
        described[key] = op
        if key not in served:
            problems.append(f"described but not served: {method.upper()} {path}")
            continue
        auth = served[key]
        open_route = op.get("security") == []
        if open_route != (auth == "open"):
            problems.append(f"{method.upper()} {path}: security says "
                            f"{'open' if open_route else 'bearer'}, the server {auth}")
        if (op.get("x-required-role") == "operator") != (auth == "operator"):
            problems.append(f"{method.upper()} {path}: x-required-role differs from the server's "
                            f"{auth}")
        wanted = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
        declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
        if wanted != declared:
            problems.append(f"{method.upper()} {path}: path parameters {sorted(declared)}, "
                            f"the path has {sorted(wanted)}")
        if not op.get("summary") or not op.get("responses"):
            problems.append(f"{method.upper()} {path}: no summary or no responses")
        if auth != "open" and "401" not in op["responses"]:
            problems.append(f"{method.upper()} {path}: a 401 answer is not described")
for key in sorted(set(served) - set(described)):
    problems.append(f"served but not described: {key[0]} {key[1]}")
for p in problems:
    print(p)
print(f"{len(described)} operations described, {len(served)} served, {len(problems)} problems")
sys.exit(1 if problems else 0)
