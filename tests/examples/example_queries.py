#!/usr/bin/env python3
"""Lists and checks the queries of examples/grafana-dashboard.json and examples/vmalert-rules.yml.

  example_queries.py list EXAMPLES_DIR
      prints every query, one JSON object a line
  example_queries.py static EXAMPLES_DIR
      checks the dashboard's structure (datasource variable, panel ids, grid positions)
      and that its variables read metrics that backfilled history has too
  example_queries.py check EXAMPLES_DIR VM_URL TIMEOUT_S [MUST_FIRE ...]
      runs every query against VictoriaMetrics and requires data from each: dashboard
      targets and variables, recording rules, and the left side of each alert condition
      (the metrics it compares); alerts named in MUST_FIRE must return data as a whole.
      Queries without data are retried until TIMEOUT_S has passed.
  example_queries.py history EXAMPLES_DIR VM_URL FROM TO SAMPLES UNIT=URL ...
      checks what `iotawatt_exporter backfill` wrote for the range FROM..TO (Unix seconds)
      into VictoriaMetrics that also holds the live exporter's samples: waits until all
      SAMPLES are visible; every dashboard query and recording rule that reads a metric a
      device's history can give must return data at each UTC midnight and midday of the
      range's whole days; the daily energies must equal the units' own totals (UNIT=URL
      names a unit's base URL) and the circuits must add up to no more than the load;
      backfilled and live samples must form one series each, and no energy counter may
      step back, in the history or where the live data continues it.
  example_queries.py scrape-labels EXAMPLES_DIR INSTANCE
      prints, as a TOML inline table, the labels vmagent adds to every series it scrapes
      with examples/vmagent.yml from target INSTANCE: job, instance and the static labels

Template variables become the regex .* (what "All" sends), $__interval, $__rate_interval
and $__range become 1m (1d where the history mode compares a day's energy). No YAML library
is needed: the rules file and the scrape configuration are read line by line.
"""

import json
import math
import re
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

GRAFANA_INTERVALS = ("__rate_interval", "__interval", "__range")
DAY = 86400

# What a device's 1-minute history log can give (power, voltage, energy) and what is
# computed from it (derived series): the metrics whose panels must work over history.
# Device health, poll statistics and iotawatt_up exist only while the exporter runs.
HISTORY_METRICS = {
    "iotawatt_power_watts",
    "iotawatt_voltage_volts",
    "iotawatt_derived_power_watts",
    "iotawatt_energy_joules_total",
    "iotawatt_derived_energy_joules_total",
}
# The series the backfill writes under the same name and labels as the live exporter.
BACKFILLED_SELECTOR = ('{__name__=~"iotawatt_power_watts|iotawatt_voltage_volts|'
                       'iotawatt_derived_power_watts|iotawatt_energy_joules_total|'
                       'iotawatt_derived_energy_joules_total"}')
# A channel's energy of a day in VictoriaMetrics may differ from the unit's own total of
# that day by rounding and by the counters' allowance: the backfill adds up the unit's
# minutes to the nWh less 240 nWh per positive minute (0.35 mWh a day at most), and
# increase() takes the last sample before its window as its base, without extrapolation.
# That stays below 1 mWh per channel, while a minute lost or written twice moves the day by
# that minute's energy: 25 mWh for a load that draws 1.5 W.
ENERGY_TOLERANCE_WH = 1e-3


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


def indent_of(line):
    return len(line) - len(line.lstrip())


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
                                              indent_of(lines[i + 1]) > indent):
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


def substitute(query, interval="1m"):
    expr = query["expr"]
    for name in GRAFANA_INTERVALS:
        expr = expr.replace("${" + name + "}", interval).replace("$" + name, interval)
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


def vm_query(vm_url, expr, at=None):
    """Runs an instant query, now or at Unix time `at`; returns (result, error text)."""
    args = {"query": expr, "nocache": "1"}
    if at is not None:
        args["time"] = str(at)
    url = vm_url + "/api/v1/query?" + urllib.parse.urlencode(args)
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


def utc(at):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def query_named(queries, source):
    for query in queries:
        if query["source"] == source:
            return query
    raise SystemExit(f"the examples have no {source}; update example_queries.py")


def vm_values(vm_url, expr, at, labels):
    """An instant query at `at` as {tuple of the values of `labels`: value}."""
    result, error = vm_query(vm_url, expr, at)
    if error:
        raise SystemExit(f"query at {utc(at)} failed: {error}\n     {expr}")
    return {tuple(series["metric"].get(label, "") for label in labels): float(series["value"][1])
            for series in result}


def wait_for_samples(vm_url, begin, end, samples, timeout):
    """Waits until VictoriaMetrics shows exactly the SAMPLES the backfill wrote for
    [begin, end); live samples carry the host's time, which is later than `end`."""
    expr = f"sum(count_over_time({BACKFILLED_SELECTOR}[{end - begin}s]))"
    deadline = time.monotonic() + timeout
    while True:
        force_flush(vm_url)
        count = sum(vm_values(vm_url, expr, end - 1, ()).values())
        if count == samples:
            print(f"ok   all {samples} backfilled samples visible")
            return
        if count > samples:
            raise SystemExit(f"FAIL VictoriaMetrics holds {count:.0f} samples between {utc(begin)} "
                             f"and {utc(end)}, more than the {samples} the backfill wrote")
        if time.monotonic() >= deadline:
            raise SystemExit(f"FAIL only {count:.0f} of the {samples} backfilled samples visible "
                             f"after {timeout:.0f}s")
        time.sleep(0.5)


class DeviceTotals:
    """The units' own energy per channel (Wh) between two times: the difference of their
    accumulators, which /query answers with group=all."""

    def __init__(self, units):
        self.units = units
        self.cache = {}

    def wh(self, device, channel, begin, end):
        key = (device, channel, begin, end)
        if key not in self.cache:
            if device not in self.units:
                raise SystemExit(f"no URL given for unit {device}")
            url = (f"{self.units[device]}/query?select=[{channel}.wh.d9]"
                   f"&begin={begin}&end={end}&group=all")
            with urllib.request.urlopen(url, timeout=30) as response:
                rows = json.load(response)
            if len(rows) != 1 or rows[0][0] is None:
                raise SystemExit(f"{url}: expected one row with a value, got {rows!r}")
            self.cache[key] = float(rows[0][0])
        return self.cache[key]


def energy_matches(what, got_kwh, want_wh, channels=1):
    """A failure text, or None when the energies agree within ENERGY_TOLERANCE_WH for
    each of the `channels` summed."""
    got_wh = got_kwh * 1000
    if abs(got_wh - want_wh) <= channels * ENERGY_TOLERANCE_WH + 1e-12 * abs(want_wh):
        return None
    return f"{what}: {got_wh:.6f} Wh, the units' own total is {want_wh:.6f} Wh"


def load_references(examples):
    """The channels the derived series `load` of two-unit-installation.toml adds up."""
    config = tomllib.loads((examples / "two-unit-installation.toml").read_text())
    expr = config.get("derived", {}).get("load", "")
    refs = [re.fullmatch(r"\s*(\w+)\.(\w+)\s*", part) for part in expr.split("+")]
    if not expr or not all(refs):
        raise SystemExit(f"derived.load {expr!r} is not a sum of device.channel references")
    return [ref.groups() for ref in refs]


def check_history_data(examples, vm_url, day_ends):
    """Every dashboard query and recording rule that reads a metric a device's history can
    give returns data at each midnight and midday; the others are listed as live only."""
    failures = []
    times = sorted(set(day_ends) | {at - DAY // 2 for at in day_ends})
    for query in all_queries(examples):
        if query["kind"] == "alert":
            continue  # alerts watch the present
        expr = substitute(query)
        metrics = sorted(set(re.findall(r"\biotawatt_\w+", expr)))
        if not set(metrics) & HISTORY_METRICS:
            print(f"live {query['source']}: not in the units' logs: {', '.join(metrics)}")
            continue
        empty = []
        for at in times:
            result, error = vm_query(vm_url, expr, at)
            if error:
                # A query VictoriaMetrics rejects does not get better at another time.
                failures.append(f"{query['source']}: {error}\n     {expr}")
                break
            if not result:
                empty.append(utc(at))
        if error:
            continue
        if empty:
            failures.append(f"{query['source']}: no data over the backfilled history at "
                            f"{', '.join(empty)}\n     {expr}")
        else:
            print(f"ok   {query['source']}: data at all {len(times)} times")
    return failures


def check_day_totals(examples, vm_url, day_ends, totals):
    """The daily energies of the dashboard and the rules, at the end of each whole day,
    against the units' own totals of that day."""
    queries = all_queries(examples)
    per_channel = substitute(query_named(queries, "rule iotawatt:energy_kwh:increase1d"))
    per_circuit = substitute(
        query_named(queries, "dashboard panel 'Energy per circuit per day' A"))
    by_type = substitute(query_named(queries, "rule device_type:iotawatt_energy_kwh:increase1d"))
    load_per_day = [substitute(query_named(
        queries, f"dashboard panel 'Load per day: from solar and from the grid' {ref}"))
        for ref in "AB"]
    load_stats = {title: substitute(query_named(queries, f"dashboard panel '{title}' A"), "1d")
                  for title in ("Energy today", "Energy this month")}
    load_refs = load_references(examples)

    failures = []
    compared = 0

    def compare(what, got_kwh, want_wh, channels=1):
        nonlocal compared
        compared += 1
        failure = energy_matches(what, got_kwh, want_wh, channels)
        if failure:
            failures.append(failure)

    for end in day_ends:
        begin = end - DAY
        day = utc(begin)[:10]
        channels = vm_values(vm_url, per_channel, end, ("device", "channel", "type", "direction"))
        channels = {key[:3]: value for key, value in channels.items() if key[3] == "positive"}
        if not channels:
            failures.append(f"{day}: no channel energy from iotawatt:energy_kwh:increase1d")
        for (device, channel, _), kwh in channels.items():
            compare(f"{day} {device}/{channel} (rule iotawatt:energy_kwh:increase1d)", kwh,
                    totals.wh(device, channel, begin, end))

        circuits = vm_values(vm_url, per_circuit, end, ("device", "channel"))
        if not circuits:
            failures.append(f"{day}: no data from panel 'Energy per circuit per day'")
        for (device, channel), kwh in circuits.items():
            compare(f"{day} {device}/{channel} (panel 'Energy per circuit per day')", kwh,
                    totals.wh(device, channel, begin, end))

        types = vm_values(vm_url, by_type, end, ("device", "type"))
        for (device, kind), kwh in types.items():
            summed = [(d, c) for d, c, t in channels if (d, t) == (device, kind)]
            want = sum(totals.wh(d, c, begin, end) for d, c in summed)
            compare(f"{day} {device} type={kind} (rule device_type:iotawatt_energy_kwh:"
                    "increase1d)", kwh, want, len(summed))
        type_kwh = {kind: sum(kwh for (_, k), kwh in types.items() if k == kind)
                    for kind in ("circuit", "mains")}
        if type_kwh["circuit"] > type_kwh["mains"] + ENERGY_TOLERANCE_WH / 1000:
            failures.append(f"{day}: rule device_type:iotawatt_energy_kwh:increase1d has "
                            f"{type_kwh['circuit']:.6f} kWh of circuits, more than the "
                            f"{type_kwh['mains']:.6f} kWh of the mains: some energy counts twice")

        # Solar used in the house plus grid import is the whole load, in every record.
        load_wh = sum(totals.wh(device, channel, begin, end) for device, channel in load_refs)
        # The mains carry every circuit of both units: circuits that add up to more than
        # the load count some energy twice (a unit's output that sums other channels).
        if circuits and sum(circuits.values()) * 1000 > load_wh + ENERGY_TOLERANCE_WH:
            failures.append(f"{day}: panel 'Energy per circuit per day' adds up to "
                            f"{sum(circuits.values()) * 1000:.3f} Wh, more than the load of "
                            f"{load_wh:.3f} Wh: some energy counts twice")
        parts = [vm_values(vm_url, expr, end, ()).get(()) for expr in load_per_day]
        if None not in parts:
            compare(f"{day} load (panel 'Load per day' A + B)", sum(parts), load_wh)
        for title, expr in load_stats.items():
            kwh = vm_values(vm_url, expr, end, ()).get(())
            if kwh is not None:
                compare(f"{day} load (panel '{title}' A over the day)", kwh, load_wh)
    if not failures:
        print(f"ok   {compared} daily energies equal the units' own totals")
    return failures


def vm_export(vm_url, selector, begin, end):
    """The samples of every series matching `selector` between begin and end (Unix
    seconds): a list of (labels, [(ms, value), ...])."""
    args = {"match[]": selector, "start": str(begin), "end": str(end)}
    url = vm_url + "/api/v1/export?" + urllib.parse.urlencode(args)
    with urllib.request.urlopen(url, timeout=30) as response:
        lines = response.read().decode().splitlines()
    series = []
    for line in lines:
        body = json.loads(line)
        samples = sorted(zip(body["timestamps"], body["values"]))
        series.append((body["metric"], [(ms, v) for ms, v in samples if v is not None]))
    return series


def check_one_series(vm_url, begin, end):
    """Backfilled and live samples share their series: no two series differ only in labels
    other than the exporter's, and no energy counter steps back, in the history or where
    the live data continues it (`end` is where the backfill stopped)."""
    failures = []
    now = time.time()
    twins = vm_values(vm_url, "count by (__name__, device, channel, name, direction) "
                      f"(last_over_time({BACKFILLED_SELECTOR}[30d])) > 1", now,
                      ("__name__", "device", "channel", "name", "direction"))
    for key in sorted(twins):
        failures.append("two series for " + " ".join(part for part in key if part) +
                        ": history and live data differ in a label (extra_labels?)")
    for labels, samples in vm_export(
            vm_url, 'iotawatt_energy_joules_total{direction="positive"}', begin, now):
        for (before_ms, before), (after_ms, after) in zip(samples, samples[1:]):
            # VictoriaMetrics 1.79 may return a value stored in two blocks a unit in the
            # last place apart (seen: 417393922.474109 and 417393922.47410893 for the same
            # scraped text), which resets() counts. 1e-13 of the value is some 450 such
            # units, and still only 1 nWh (3.6e-6 J) on a counter of 10 kWh.
            if before - after > 1e-13 * abs(before):
                where = "backfill" if before_ms <= end * 1000 else "live"
                then = "backfill" if after_ms <= end * 1000 else "live"
                failures.append(
                    f"iotawatt_energy_joules_total of {labels.get('device')}/"
                    f"{labels.get('channel')} steps back by {before - after:.3g} J: "
                    f"{before!r} at {utc(before_ms // 1000)} ({where}), then {after!r} at "
                    f"{utc(after_ms // 1000)} ({then}); increase() in Prometheus counts that "
                    "as a counter reset")
    if not failures:
        print("ok   history and live data form one series each, energy never steps back")
    return failures


def check_history(examples, vm_url, begin, end, samples, units):
    day_ends = list(range(math.ceil(begin / DAY) * DAY + DAY, end // DAY * DAY + 1, DAY))
    if len(day_ends) < 2:
        raise SystemExit(f"history {utc(begin)} to {utc(end)} has fewer than two whole UTC days")
    print(f"history {utc(begin)} to {utc(end)}: days ending {', '.join(map(utc, day_ends))}")
    wait_for_samples(vm_url, begin, end, samples, 30)
    failures = (check_history_data(examples, vm_url, day_ends) +
                check_day_totals(examples, vm_url, day_ends, DeviceTotals(units)) +
                check_one_series(vm_url, begin, end))
    for failure in failures:
        print("FAIL " + failure)
    if failures:
        sys.exit(1)
    print("all history checks passed")


def scrape_labels(examples, instance):
    """job, instance and the static labels that vmagent adds with examples/vmagent.yml."""
    lines = (examples / "vmagent.yml").read_text().splitlines()
    jobs = [m.group(1) for m in (re.match(r"^\s*-\s+job_name:\s*(\S+)\s*$", line)
                                 for line in lines) if m]
    if len(jobs) != 1:
        raise SystemExit(f"vmagent.yml: expected one scrape job, found {jobs}")
    labels = {"job": jobs[0].strip("\"'"), "instance": instance}
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*)labels:\s*$", line)
        if not match:
            continue
        for inner in lines[i + 1:]:
            if not inner.strip() or inner.lstrip().startswith("#"):
                continue
            if len(inner) - len(inner.lstrip()) <= len(match.group(1)):
                break
            pair = re.fullmatch(r"\s*(\w+):\s*(.*?)\s*", inner)
            if not pair:
                raise SystemExit(f"vmagent.yml: cannot read label line {inner!r}")
            labels[pair.group(1)] = pair.group(2).strip("\"'")
    print("{ " + ", ".join(f"{name} = {json.dumps(value)}" for name, value in labels.items()) +
          " }")


def check_static(examples):
    dashboard = json.loads((examples / "grafana-dashboard.json").read_text())
    problems = []
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    datasource = variables.get("datasource", {})
    if datasource.get("type") != "datasource" or datasource.get("query") != "prometheus":
        problems.append("no datasource variable of type prometheus")
    if "device" not in variables:
        problems.append("no device variable")
    # Variables list what the dashboard's time range holds, history included: they must
    # read a metric that a device's history gives too (iotawatt_up, say, exists only while
    # the exporter runs, so over backfilled history alone it would list nothing).
    for name, variable in variables.items():
        if variable.get("type") != "query":
            continue
        query = variable.get("query", {})
        text = query.get("query") if isinstance(query, dict) else query
        metrics = set(re.findall(r"\biotawatt_\w+", text or ""))
        if not metrics or not metrics <= HISTORY_METRICS:
            problems.append(f"variable {name}: {text!r} reads a metric that history lacks")
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
    elif mode == "history":
        units = dict(arg.split("=", 1) for arg in sys.argv[7:])
        check_history(examples, sys.argv[3].rstrip("/"), int(sys.argv[4]), int(sys.argv[5]),
                      int(sys.argv[6]), units)
    elif mode == "scrape-labels":
        scrape_labels(examples, sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
