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
import threading

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


class IdleGroup:
    """A cgroup of the cpu controller with cpu.idle = 1: its tasks run only when no task outside
    it wants the CPU, and a task outside that wakes takes the CPU from them at once. Nice 19
    does not do that: the kernel compares tasks of different sessions (autogroups) or cgroups
    as groups first, and under EEVDF a running group keeps the CPU for its slice. Needs root
    and a kernel with cpu.idle (5.15 or later); `path` is None when it cannot be made."""

    NAME = "portico-bench-idle"

    def __init__(self):
        self.path = None
        for base, v1 in (("/sys/fs/cgroup/cpu", True), ("/sys/fs/cgroup", False)):
            marker = "cpu.idle" if v1 else "cgroup.controllers"  # v2: a cgroup2 mount
            if not os.path.exists(f"{base}/{marker}"):
                continue
            try:
                if not v1:  # cgroup v2: the cpu controller must reach the children
                    with open(f"{base}/cgroup.subtree_control", "w") as f:
                        f.write("+cpu")
                path = f"{base}/{self.NAME}"
                os.makedirs(path, exist_ok=True)
                with open(f"{path}/cpu.idle", "w") as f:
                    f.write("1")
                self.base, self.v1, self.path = base, v1, path
            except OSError:
                continue
            break

    def add(self, pids):
        """Moves `pids` and their child processes (with all their threads) into the group;
        children forked later (PostgreSQL's backends) are born in it."""
        for pid in pids:
            for p in descendants(pid):
                try:
                    with open(f"{self.path}/cgroup.procs", "w") as f:
                        f.write(str(p))
                except OSError:
                    pass

    def add_this_thread(self):
        """The calling thread alone (cgroup v1; under v2 a thread cannot leave its process's
        group, so it is put at SCHED_IDLE instead, which counts within that group)."""
        if self.v1:
            with open(f"{self.path}/tasks", "w") as f:
                f.write(str(threading.get_native_id()))
        else:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    def remove(self):
        """Moves everything back to the parent group and deletes the group."""
        try:
            with open(f"{self.path}/cgroup.procs") as f:
                pids = f.read().split()
            for p in pids:
                try:
                    with open(f"{self.base}/cgroup.procs", "w") as f:
                        f.write(p)
                except OSError:
                    pass
            if self.v1:
                with open(f"{self.path}/tasks") as f:
                    for t in f.read().split():
                        try:
                            with open(f"{self.base}/tasks", "w") as out:
                                out.write(t)
                        except OSError:
                            pass
            os.rmdir(self.path)
        except OSError:
            pass


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
