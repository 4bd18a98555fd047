"""Where and how urgently a benchmark's processes run: pinned to a CPU, and on a machine shared
with other work (compilers of other engineers, CI neighbours) given a scheduling priority
above it, so that what is measured is the program and not its neighbours' time slices.

  normal    as started
  high      nice -20 in a session of its own whose autogroup is at nice -20 too: with
            sched_autogroup_enabled (Debian's default) CPU time is shared between sessions
            first, so a plain `nice -20` would only matter against the benchmark's own
            processes; the share of a -20 group is about 87 times a nice 0 one's
  realtime  SCHED_FIFO 50: runs whenever it is runnable; the kernel's RT throttling
            (sched_rt_runtime_us, 95 % by default) still leaves the others a slice
Every prefix ends in exec, so the process keeps the pid the benchmark started.
"""
import os
import subprocess

PRIORITIES = {
    "normal": [],
    "high": ["setsid", "sh", "-c", 'echo -20 > /proc/self/autogroup && exec nice -n -20 "$@"',
             "sh"],
    "realtime": ["chrt", "-f", "50"],
}
priority = "normal"


def set_priority(name):
    """Chooses the priority of every later `pinned` command; returns the one in effect (the
    asked one when this process may set it, else "normal")."""
    global priority
    probe = PRIORITIES[name] + ["true"]
    if name != "normal":
        ok = subprocess.run(probe, capture_output=True, text=True)
        if ok.returncode != 0 or ok.stderr:
            name = "normal"
    priority = name
    return name


def pinned(cmd, cpu):
    """`cmd` started on `cpu` (None: anywhere) at the chosen priority."""
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    return prefix + PRIORITIES[priority] + list(cmd)


def descendants(pid):
    """`pid` and its child processes, recursively (nginx's worker is its master's child)."""
    pids = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children = open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            continue
        for child in children:
            pids += descendants(int(child))
    return pids


def cpu_seconds(pid):
    """User + system CPU time of `pid` (all its threads) and its children so far."""
    total = 0
    for p in descendants(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def lower_priority(pid, nice=19):
    """Puts `pid`, its child processes and all their threads at `nice`, and their session's
    autogroup too (with sched_autogroup_enabled, CPU time is shared between sessions before
    nice values count, and local-cluster starts each node in a session of its own). Children
    forked later (PostgreSQL's backends) inherit it. Returns how many threads it reached."""
    reached = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:
            pass
    for task in threads_of([pid]):
        try:
            os.setpriority(os.PRIO_PROCESS, task, nice)
            reached += 1
        except OSError:
            pass
    return reached


def threads_of(pids):
    """The thread ids of `pids` and of their child processes."""
    for pid in pids:
        for p in descendants(pid):
            try:
                tasks = os.listdir(f"/proc/{p}/task")
            except OSError:
                continue
            yield from (int(task) for task in tasks)


def pin(pids, cpus):
    """Pins every thread of `pids` and of their child processes to `cpus`. Threads and
    children they start later (PostgreSQL's backends) inherit it."""
    for task in threads_of(pids):
        try:
            os.sched_setaffinity(task, set(cpus))
        except OSError:
            pass


def realtime(pids, on):
    """Every thread of `pids` and of their child processes at SCHED_FIFO 50 (`on`), or back
    to SCHED_OTHER."""
    policy, param = (os.SCHED_FIFO, 50) if on else (os.SCHED_OTHER, 0)
    for task in threads_of(pids):
        try:
            os.sched_setscheduler(task, policy, os.sched_param(param))
        except OSError:
            pass
