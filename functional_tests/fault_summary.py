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

"""Print the fault suite's total: ``faults: K kinds, N runs, L lost, X
leaked``, from the lines test_faults wrote in the cloud's state folder.

Usage: python -m functional_tests.fault_summary STATE_DIR
"""

import json
import os
import sys

from functional_tests import test_faults


def summary(path):
    """(kinds, runs, lost, leaked), one line per kind in ``path``."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return (len({r['kind'] for r in rows}), sum(r['runs'] for r in rows),
            sum(r['lost'] for r in rows), sum(r['leaked'] for r in rows))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = os.path.join(argv[0], test_faults.RESULTS)
    if not os.path.exists(path):
        print('faults: the fault suite did not run')
        return 0
    kinds, runs, lost, leaked = summary(path)
    print('faults: %d kinds, %d runs, %d lost, %d leaked'
          % (kinds, runs, lost, leaked))
    return 1 if lost or leaked else 0


if __name__ == '__main__':
    sys.exit(main())
