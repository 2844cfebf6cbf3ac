#!/usr/bin/python3
"""The Autobahn-style cases of test_autobahn.py over wss:// (issue 12).

The same cases, the same "OK" criteria, run against a TLS listener:
wardtest.use_tls() gives every Server a TLS listener and makes every
WS connect to it through Python's ssl (trusting the development CA), so
each frame travels in TLS records (octet-wise cases: one record per byte).
Run one case (or a prefix) as with test_autobahn.py.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wardtest  # noqa: E402
import test_autobahn  # noqa: E402

if __name__ == "__main__":
    wardtest.use_tls()
    test_autobahn.main()
