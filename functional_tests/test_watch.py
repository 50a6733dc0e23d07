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

"""``trunk-cleanup watch`` on the local cloud's bus, as a cloud runs it."""

import time

from functional_tests import base


class TestWatch(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.cloud.start_watch()
        self.addCleanup(self.cloud.stop_watch)

    def watch_log(self):
        with open(self.cloud.layout().processes.log('watch')) as f:
            return f.read()

    def test_trunk_of_deleted_server_is_removed_within_seconds(self):
        trunk, parent, subs = self.trunk(subports=3)
        server = self.boot(parent['id'])
        # Bystanders: a live server on a trunk, another project's trunk.
        live_trunk, live_parent, _ = self.trunk()
        self.boot(live_parent['id'])
        admin_trunk, _, _ = self.trunk(clients=self.admin)
        before = self.snapshot()

        started = time.monotonic()
        self.demo.servers_client.delete_server(server)

        def removed():
            _, trunks = self.snapshot()
            ports, _ = self.snapshot()
            return (trunk['id'] not in trunks and
                    not any(s['id'] in ports for s in subs))
        self.wait_for(removed, 'watch removing trunk %s' % trunk['id'],
                      timeout=10)
        took = time.monotonic() - started
        self.assertLess(took, 10)

        ports, trunks = self.snapshot()
        # Nova keeps the port it was given, unbound, and so does watch.
        self.assertEqual(('', '', None), ports[parent['id']])
        self.assertEqual(before[1][live_trunk['id']],
                         trunks[live_trunk['id']])
        self.assertEqual(before[0][live_parent['id']],
                         ports[live_parent['id']])
        self.assertIn(admin_trunk['id'], self.snapshot(self.admin)[1])
        self.assertIn('server %s deleted: trunk(s) %s: clean'
                      % (server, trunk['id']), self.watch_log())

    def test_scenario_suite_on_a_cloud_that_promises_removal(self):
        code, out, conf = self.tempest('--concurrency', '2')
        self.assertEqual(0, code, self.failures(out))
        self.assertIn(' - Failed: 0', out)
        # With watch running, the local cloud promises removal.
        self.assertIn('expected_after_server_delete = removed', conf)
