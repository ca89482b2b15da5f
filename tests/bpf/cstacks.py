#!/usr/bin/env python3
"""Stack figures of one `memsight top --json` report of a C process, for
tests/bpf/t_distro_c.sh (issue 14). Only allocation stacks count (kind other
than "fault": page-fault stacks are always a frame-pointer walk).

  cstacks.py quality REPORT MAPS   one "name value" line per figure (below),
                                   MAPS a copy of /proc/PID/maps taken before
                                   the process exited
  cstacks.py count REPORT F1,F2..  allocations (alloc_count) of the stacks
                                   holding the functions F1, F2, ... as
                                   consecutive frames, innermost first

Figures of `quality`:
  stacks, allocs            allocation stacks and the allocations under them
  unavailable_stacks/allocs stacks without a frame ("[stack unavailable]")
  frames                    frames in all stacks
  frames_outside_exec       frames whose address is in no executable mapping
  stacks_outside_exec       stacks with at least one such frame
  partial_stacks/allocs     stacks (allocations) that reach no root frame:
                            main, the libc start functions, _start, or a
                            thread's start (start_thread, clone3, clone)
  dup_rows                  stacks that print exactly like another one
                            (same kind, same text on every frame line)
  longest_unknown_run       most consecutive frames outside every module
  rows_if_cut               rows left if each stack ended before its first
                            frame outside an executable mapping and rows
                            that print alike were merged (issue 14, 3 and 4)
Lines starting with "#" are examples for a human reader.
"""
import json
import sys

ROOTS = {"main", "__libc_start_call_main", "__libc_start_main", "_start",
	 "start_thread", "clone3", "clone"}


def alloc_stacks(path):
	with open(path) as f:
		report = json.load(f)
	return [s for s in report["stacks"] if s["kind"] != "fault"]


def exec_ranges(path):
	ranges = []
	with open(path) as f:
		for line in f:
			fields = line.split()
			if len(fields) < 2 or "x" not in fields[1]:
				continue
			lo, hi = fields[0].split("-")
			ranges.append((int(lo, 16), int(hi, 16)))
	return ranges


def frame_text(fr):
	"""What the text view prints for a frame (user/export/report.c)."""
	module = (fr.get("module") or "[unknown]").rsplit("/", 1)[-1]
	if fr.get("func") and fr.get("inlined"):
		loc = fr["func"] + " (inlined)"
	elif fr.get("func"):
		loc = "%s+0x%x" % (fr["func"], fr["offset"])
	else:
		loc = fr["addr"]
	return loc + " " + module


def short(s):
	return " < ".join(fr.get("func") or fr["addr"] for fr in s["frames"][:12])


def quality(report, maps):
	stacks = alloc_stacks(report)
	ranges = exec_ranges(maps)
	fig = dict.fromkeys(["stacks", "allocs", "unavailable_stacks", "unavailable_allocs",
			     "frames", "frames_outside_exec", "stacks_outside_exec",
			     "partial_stacks", "partial_allocs", "dup_rows",
			     "longest_unknown_run", "rows_if_cut"], 0)
	seen = {}
	cut_rows = set()
	examples = {}
	for s in stacks:
		frames = s["frames"]
		fig["stacks"] += 1
		fig["allocs"] += s["alloc_count"]
		fig["frames"] += len(frames)
		if not frames:
			fig["unavailable_stacks"] += 1
			fig["unavailable_allocs"] += s["alloc_count"]
		outside = 0
		run = 0
		cut = len(frames)
		for i, fr in enumerate(frames):
			a = int(fr["addr"], 16)
			if not any(lo <= a < hi for lo, hi in ranges):
				outside += 1
				cut = min(cut, i)
			run = 0 if fr.get("module") else run + 1
			fig["longest_unknown_run"] = max(fig["longest_unknown_run"], run)
		fig["frames_outside_exec"] += outside
		if outside:
			fig["stacks_outside_exec"] += 1
			examples.setdefault("outside_exec", short(s))
		if frames and not any(fr.get("func") in ROOTS for fr in frames):
			fig["partial_stacks"] += 1
			fig["partial_allocs"] += s["alloc_count"]
			examples.setdefault("partial", "%d allocs: %s" % (s["alloc_count"], short(s)))
		key = (s["kind"],) + tuple(frame_text(fr) for fr in frames)
		cut_rows.add(key[:1 + cut])
		if key in seen:
			fig["dup_rows"] += 1
			examples.setdefault("dup", "stack ids %d and %d: %s" %
					    (seen[key], s["stack_id"], short(s)))
		else:
			seen[key] = s["stack_id"]
	fig["rows_if_cut"] = len(cut_rows)
	if stacks:
		top = max(stacks, key=lambda s: s["alloc_count"])
		examples["most allocations"] = "%d allocs: %s" % (top["alloc_count"], short(top))
	for k, v in fig.items():
		print(k, v)
	for k, v in examples.items():
		print("# %s: %s" % (k, v))


def count(report, funcs):
	want = funcs.split(",")
	n = 0
	for s in alloc_stacks(report):
		names = [fr.get("func") for fr in s["frames"]]
		if any(names[i:i + len(want)] == want for i in range(len(names))):
			n += s["alloc_count"]
	print(n)


def main(argv):
	if len(argv) == 4 and argv[1] == "quality":
		quality(argv[2], argv[3])
	elif len(argv) == 4 and argv[1] == "count":
		count(argv[2], argv[3])
	else:
		sys.exit(__doc__)


if __name__ == "__main__":
	main(sys.argv)
