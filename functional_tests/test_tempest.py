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

"""``tempest run`` of the plugin against the local cloud, and proof that
its tests fail when the cleanup they check is broken (the cloud that keeps
its promise, with ``watch``, is in test_watch).
"""

import re

from tempest.lib.common.utils import test_utils

from functional_tests import base
from functional_tests import cloud_side

FIRST_TEST = (r'^trunk_cleanup_tempest\.tests\.scenario\.test_server_delete'
              r'\.ServerDeleteTrunkCleanupTest\.')


class TestTempestRun(base.FunctionalTestCase):

    def test_plugin_suite_passes(self):
        code, out, _ = self.tempest('--concurrency', '2')
        self.assertEqual(0, code, self.failures(out))
        self.assertIn(' - Failed: 0', out)
        self.assertRegex(out, r' - Passed: [1-9]')

    def test_cloud_that_keeps_the_trunk_fails_the_promise(self):
        # The stock cloud keeps the trunk; a tempest.conf that promises it
        # is removed must fail, naming the trunk it still sees.
        code, out, _ = self.tempest(
            '--regex', FIRST_TEST, '--concurrency', '1',
            '--expected-after-server-delete', 'removed',
            '--set', 'trunk_cleanup.cleanup_timeout=5')
        self.assertNotEqual(0, code)
        self.assertIn('the cloud removing the trunk and subports: not '
                      'reached in 5s', out)
        self.assertRegex(out, r"'kind': 'trunk', 'id': '[0-9a-f-]{36}', "
                              r"'present': True, 'status': 'DOWN'")

    def test_cloud_that_leaks_a_subport_is_caught(self):
        cleaner = cloud_side.TrunkCleaner(self.admin, 'trunk-cleanup',
                                          leak_subport=True)
        cleaner.start()
        self.addCleanup(cleaner.stop)
        code, out, _ = self.tempest(
            '--regex', FIRST_TEST, '--concurrency', '1',
            '--expected-after-server-delete', 'removed',
            '--set', 'trunk_cleanup.cleanup_timeout=5')
        self.assertNotEqual(0, code)
        self.assertEqual(1, len(cleaner.leaked), cleaner.errors)
        leaked = cleaner.leaked[0]
        self.assertIn('the cloud removing the trunk and subports', out)
        # The failure names the leaked subport, still present.
        self.assertRegex(out, r"'kind': 'port', 'id': '%s', 'present': "
                              r"True" % re.escape(leaked))
        # Tempest's own teardown deleted it; make sure of it.
        test_utils.call_and_ignore_notfound_exc(
            self.admin.ports_client.delete_port, leaked)
