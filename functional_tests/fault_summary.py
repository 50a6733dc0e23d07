# Copyright 2026 trunk_cleanup_tempest developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Print the fault and safety suites' totals.

``faults: K kinds, N runs, L lost, X leaked`` from the lines test_faults
wrote in the cloud's state folder, and ``safety: K scenarios, N runs, L
lost, W wrongly deleted`` from test_safety's.

Usage: python -m functional_tests.fault_summary STATE_DIR
"""

import json
import os
import sys

from functional_tests import test_faults
from functional_tests import test_safety


def totals(path, key, *counts):
    """(distinct ``key`` values, then the sum of each of ``counts``)."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return (len({r[key] for r in rows}),) + tuple(
        sum(r[c] for r in rows) for c in counts)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    failed = False
    path = os.path.join(argv[0], test_faults.RESULTS)
    if os.path.exists(path):
        kinds, runs, lost, leaked = totals(
            path, 'kind', 'runs', 'lost', 'leaked')
        print('faults: %d kinds, %d runs, %d lost, %d leaked'
              % (kinds, runs, lost, leaked))
        failed = failed or lost or leaked
    else:
        print('faults: the fault suite did not run')
    path = os.path.join(argv[0], test_safety.RESULTS)
    if os.path.exists(path):
        scenarios, runs, lost, wrong = totals(path, 'scenario', 'runs',
                                              'lost', 'wrong')
        print('safety: %d scenarios, %d runs, %d lost, %d wrongly deleted'
              % (scenarios, runs, lost, wrong))
        failed = failed or lost or wrong
    else:
        print('safety: the safety suite did not run')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
