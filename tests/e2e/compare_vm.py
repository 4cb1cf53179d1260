"""Compares the gauges of an exporter's /metrics text with the newest samples in VM.

Usage: compare_vm.py METRICS_FILE VM_QUERY_JSON_FILE
Exit 0 when every series of the compared families is in VM with an equal value (labels
compared without the job/instance labels vmagent adds) and VM has no extra series;
otherwise prints the differences and exits 1.
"""

import json
import math
import re
import sys

FAMILIES = (
    "iotawatt_power_watts",
    "iotawatt_voltage_volts",
    "iotawatt_derived_power_watts",
    "iotawatt_up",
)
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)\s*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def Key(name, labels):
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def ReadExposition(path):
    series = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            match = SAMPLE.match(line)
            if not match:
                raise SystemExit(f"{path}: cannot parse line {line!r}")
            name, labels, value = match.groups()
            if name in FAMILIES:
                series[Key(name, dict(LABEL.findall(labels or "")))] = float(value)
    return series


def ReadVm(path):
    with open(path) as f:
        body = json.load(f)
    series = {}
    for item in body["data"]["result"]:
        labels = dict(item["metric"])
        name = labels.pop("__name__")
        labels.pop("job", None)
        labels.pop("instance", None)
        series[Key(name, labels)] = float(item["value"][1])
    return series


def Main():
    exposed = ReadExposition(sys.argv[1])
    stored = ReadVm(sys.argv[2])
    problems = []
    for key, value in sorted(exposed.items()):
        if key not in stored:
            problems.append(f"missing in VM: {key} {value!r}")
        elif not math.isclose(value, stored[key], rel_tol=1e-9, abs_tol=1e-9):
            problems.append(f"differs: {key} exporter={value!r} vm={stored[key]!r}")
    for key in sorted(set(stored) - set(exposed)):
        problems.append(f"only in VM: {key} {stored[key]!r}")
    if not exposed:
        problems.append("the exposition has none of the compared families")
    for problem in problems:
        print(problem)
    print(f"compared {len(exposed)} series, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(Main())
