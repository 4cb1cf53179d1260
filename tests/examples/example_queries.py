#!/usr/bin/env python3
"""Lists and checks the queries of examples/grafana-dashboard.json and examples/vmalert-rules.yml.

  example_queries.py list EXAMPLES_DIR
      prints every query, one JSON object a line
  example_queries.py static EXAMPLES_DIR
      checks the dashboard's structure (datasource variable, panel ids, grid positions)
  example_queries.py check EXAMPLES_DIR VM_URL TIMEOUT_S [MUST_FIRE ...]
      runs every query against VictoriaMetrics and requires data from each: dashboard
      targets and variables, recording rules, and the left side of each alert condition
      (the metrics it compares); alerts named in MUST_FIRE must return data as a whole.
      Queries without data are retried until TIMEOUT_S has passed.

Template variables become the regex .* (what "All" sends), $__interval, $__rate_interval
and $__range become 1m. No YAML library is needed: the rules file is read line by line.
"""

import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

GRAFANA_INTERVALS = ("__rate_interval", "__interval", "__range")


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def dashboard_queries(path):
    dashboard = json.loads(path.read_text())
    variables = [v["name"] for v in dashboard.get("templating", {}).get("list", [])
                 if v.get("type") != "datasource"]
    queries = []
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        text = query["query"] if isinstance(query, dict) else query
        match = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", text)
        if not match:
            raise SystemExit(f"variable {variable['name']}: unsupported query {text!r}")
        selector, label = match.groups()
        queries.append({"source": f"dashboard variable {variable['name']}",
                        "expr": f"count by ({label}) ({selector})", "kind": "variable",
                        "variables": variables})
    for panel in walk_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                queries.append({"source": f"dashboard panel {panel['title']!r} {target['refId']}",
                                "expr": target["expr"], "kind": "panel",
                                "variables": variables})
    return queries


def rule_queries(path):
    """Reads `- record:`/`- alert:` names and their `expr:` (plain or a >-, |, > block)."""
    lines = path.read_text().splitlines()
    queries = []
    name = kind = None
    i = 0
    while i < len(lines):
        line = lines[i]
        match = re.match(r"^\s*-\s+(record|alert):\s*(\S+)\s*$", line)
        if match:
            kind, name = match.groups()
        match = re.match(r"^(\s*)expr:\s*(.*?)\s*$", line)
        if match:
            indent, value = len(match.group(1)), match.group(2)
            if value in (">", ">-", "|", "|-"):
                block = []
                while i + 1 < len(lines) and (not lines[i + 1].strip() or
                                              len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent):
                    i += 1
                    block.append(lines[i].strip())
                value = " ".join(part for part in block if part)
            elif value[:1] in "'\"":
                value = value[1:-1]
            if name is None:
                raise SystemExit(f"{path}:{i + 1}: expr without record or alert")
            queries.append({"source": f"rule {name}", "expr": value, "kind": kind,
                            "name": name, "variables": []})
            name = None
        i += 1
    return queries


def all_queries(examples):
    return (dashboard_queries(examples / "grafana-dashboard.json") +
            rule_queries(examples / "vmalert-rules.yml"))


def substitute(query):
    expr = query["expr"]
    for name in GRAFANA_INTERVALS:
        expr = expr.replace("${" + name + "}", "1m").replace("$" + name, "1m")
    for name in query["variables"]:
        expr = re.sub(r"\$\{" + name + r"(:\w+)?\}|\$" + name + r"\b|\[\[" + name + r"\]\]",
                      ".*", expr)
    if "$" in expr:
        raise SystemExit(f"{query['source']}: unknown variable left in {expr!r}")
    return expr


def left_of_comparison(expr):
    """The expression before its last comparison at the outermost level, or None."""
    depth = 0
    quote = None
    cut = None
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            two = expr[i:i + 2]
            if two in ("==", "!=", ">=", "<="):
                cut = i
                i += 1
            elif c in "<>":
                cut = i
        i += 1
    return expr[:cut].strip() if cut is not None else None


def vm_query(vm_url, expr):
    url = vm_url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr, "nocache": "1"})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:
        return None, f"HTTP {error.code}: {error.read().decode(errors='replace')[:300]}"
    if body.get("status") != "success":
        return None, json.dumps(body)[:300]
    return body["data"]["result"], None


def force_flush(vm_url):
    try:
        urllib.request.urlopen(vm_url + "/internal/force_flush", timeout=5).read()
    except OSError:
        pass


def check(examples, vm_url, timeout, must_fire):
    checks = []
    for query in all_queries(examples):
        expr = substitute(query)
        if query["kind"] == "alert":
            left = left_of_comparison(expr)
            if left is None:
                raise SystemExit(f"{query['source']}: no comparison in {expr!r}")
            checks.append((query["source"] + " (runs)", expr, False))
            checks.append((query["source"] + " (left side)", left, True))
            if query["name"] in must_fire:
                checks.append((query["source"] + " (fires)", expr, True))
        else:
            checks.append((query["source"], expr, True))
    unknown = set(must_fire) - {q.get("name") for q in all_queries(examples)}
    if unknown:
        raise SystemExit(f"no such alert: {sorted(unknown)}")

    deadline = time.monotonic() + timeout
    pending = checks
    while True:
        force_flush(vm_url)
        failed = []
        for source, expr, need_data in pending:
            result, error = vm_query(vm_url, expr)
            if error:
                # A query VictoriaMetrics rejects does not get better by waiting.
                print(f"FAIL {source}: {error}\n     {expr}")
                sys.exit(1)
            if need_data and not result:
                failed.append((source, expr, need_data))
            else:
                print(f"ok   {source}: {len(result)} series")
        if not failed:
            print(f"all {len(checks)} checks passed")
            return
        if time.monotonic() >= deadline:
            for source, expr, _ in failed:
                print(f"FAIL {source}: no data\n     {expr}")
            sys.exit(1)
        pending = failed
        time.sleep(1)


def check_static(examples):
    dashboard = json.loads((examples / "grafana-dashboard.json").read_text())
    problems = []
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    datasource = variables.get("datasource", {})
    if datasource.get("type") != "datasource" or datasource.get("query") != "prometheus":
        problems.append("no datasource variable of type prometheus")
    device = variables.get("device", {})
    device_query = device.get("query", {})
    if isinstance(device_query, dict):
        device_query = device_query.get("query")
    if device_query != "label_values(iotawatt_up, device)":
        problems.append(f"device variable query is {device_query!r}")
    if not 36 <= dashboard.get("schemaVersion", 0) <= 41:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')}")
    ids = set()
    for panel in walk_panels(dashboard["panels"]):
        title = panel.get("title")
        if panel["id"] in ids:
            problems.append(f"panel {title!r}: id {panel['id']} used twice")
        ids.add(panel["id"])
        grid = panel.get("gridPos", {})
        if not all(k in grid for k in "xywh") or grid["x"] + grid["w"] > 24:
            problems.append(f"panel {title!r}: bad gridPos {grid}")
        if panel["type"] == "row":
            continue
        sources = [panel.get("datasource")] + [t.get("datasource") for t in panel["targets"]]
        if any(s != {"type": "prometheus", "uid": "${datasource}"} for s in sources):
            problems.append(f"panel {title!r}: datasource is not ${{datasource}}")
        if not panel.get("description"):
            problems.append(f"panel {title!r}: no description")
    for query in dashboard_queries(examples / "grafana-dashboard.json"):
        if "$__interval" in query["expr"] or "$__rate_interval" in query["expr"]:
            problems.append(f"{query['source']}: depends on the zoom level: {query['expr']}")
    for problem in problems:
        print("FAIL " + problem)
    if problems:
        sys.exit(1)
    print(f"dashboard: {len(ids)} panels, structure ok")


def main():
    mode, examples = sys.argv[1], Path(sys.argv[2])
    if mode == "list":
        for query in all_queries(examples):
            print(json.dumps({"source": query["source"], "expr": substitute(query)}))
    elif mode == "static":
        check_static(examples)
    elif mode == "check":
        check(examples, sys.argv[3].rstrip("/"), float(sys.argv[4]), sys.argv[5:])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
