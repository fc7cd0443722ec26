#!/usr/bin/env python3
"""measure.py CMD...: runs CMD, prints 'seconds=S maxrss_kb=K exit=E' on
stderr-free stdout so benchmark scripts can read wall time and peak RSS
(resource.getrusage of the child) without GNU time installed."""
import resource
import subprocess
import sys
import time

t0 = time.monotonic()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
dt = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("seconds=%.3f maxrss_kb=%d exit=%d user=%.3f sys=%.3f"
      % (dt, ru.ru_maxrss, p.returncode, ru.ru_utime, ru.ru_stime))
