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

import os
import time

import fixtures

from functional_tests import base
from trunk_cleanup_tempest.localcloud import faultproxy
from trunk_cleanup_tempest.localcloud import services
from trunk_cleanup_tempest.watch import service


class TestWatch(base.FunctionalTestCase):

    def setUp(self):
        super().setUp()
        self.cloud.start_watch()
        self.addCleanup(self.cloud.stop_watch)

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

    def test_its_queue_is_bounded(self):
        bus = services.RabbitMQ(self.cloud.layout())
        # The policy doc/source/watch.rst gives, as the local cloud sets it.
        self.assertIn(['trunk-cleanup', 'trunk-cleanup'],
                      bus.ctl('list_queues', 'name', 'policy'))
        policy = {row[1]: row for row in bus.ctl('list_policies')}
        self.assertIn('"max-length":100000', policy['trunk-cleanup'][4])
        # What waits beyond the few messages watch holds stays in the
        # queue, where the policy bounds it.
        self.assertIn(['trunk-cleanup', str(service.PREFETCH)], bus.ctl(
            'list_consumers', 'queue_name', 'prefetch_count'))

    def test_scenario_suite_on_a_cloud_that_promises_removal(self):
        code, out, conf = self.tempest('--concurrency', '2')
        self.assertEqual(0, code, self.failures(out))
        self.assertIn(' - Failed: 0', out)
        # With watch running, the local cloud promises removal.
        self.assertIn('expected_after_server_delete = removed', conf)


class TestWatchServiceCredentials(base.FunctionalTestCase):
    """As OpenStack services run: credentials in the config file only."""

    def test_application_credential_from_the_config_file(self):
        made = self.application_credential(self.admin, 'watch')
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'watch.conf')
        with open(path, 'w') as f:
            f.write('[trunk_cleanup_watch]\n'
                    'auth_type = v3applicationcredential\n'
                    'auth_url = %s\n'
                    'application_credential_id = %s\n'
                    'application_credential_secret = %s\n'
                    'region_name = %s\n' % (
                        self.admin_env['OS_AUTH_URL'], made['id'],
                        made['secret'], self.admin_env['OS_REGION_NAME']))
        # No OS_* variable at all: only the file can authenticate it.
        self.cloud.start_watch('--config-file', path, environ={})
        self.addCleanup(self.cloud.stop_watch)

        trunk, parent, subs = self.trunk(subports=2)
        server = self.boot(parent['id'])
        self.demo.servers_client.delete_server(server)

        def removed():
            ports, trunks = self.snapshot()
            return (trunk['id'] not in trunks and
                    not any(s['id'] in ports for s in subs))
        self.wait_for(removed, 'watch removing trunk %s' % trunk['id'],
                      timeout=10)


class TestWatchBacklog(base.FunctionalTestCase):
    """``watch`` down while a server is deleted and its parent reused."""

    def test_a_trunk_built_after_the_delete_stays(self):
        # Its queue exists (it is its pool's), and holds what comes while
        # it is stopped.
        self.cloud.start_watch()
        self.cloud.stop_watch()
        self.addCleanup(self.cloud.stop_watch)
        old, parent, _ = self.trunk(subports=1)
        server = self.boot(parent['id'])
        self.delete_server(self.demo, server)
        # The user builds anew on the parent port Nova kept.
        self.delete_trunk(self.demo, old['id'])
        sub = self.port(self.network(subnet=False)['id'])
        new = self.demo.trunks_client.create_trunk(
            port_id=parent['id'], sub_ports=[{
                'port_id': sub['id'], 'segmentation_type': 'vlan',
                'segmentation_id': 100}])['trunk']
        self.addCleanup(self.delete_trunk, self.demo, new['id'])
        before = self.snapshot()

        self.cloud.start_watch()
        self.wait_for(lambda: 'server %s deleted: no trunk on its ports '
                      'that Neutron made before' % server in self.watch_log(),
                      'watch handling the delete of %s' % server)
        self.assertEqual(before, self.snapshot())


class TestWatchCloudDown(base.FunctionalTestCase):
    """Neutron unreachable from ``watch`` while servers are deleted."""

    # Seconds every call of watch to Neutron is dropped.
    OUTAGE = 60

    def test_nothing_is_lost_while_neutron_is_down(self):
        proxy = self.fault_proxy()
        self.cloud.start_watch(environ=proxy.environ('admin'))
        self.addCleanup(self.cloud.stop_watch)
        seen = len(self.watch_log())
        made = []
        for _ in range(3):
            trunk, parent, subs = self.trunk(subports=1)
            made.append((trunk, subs, self.boot(parent['id'])))
        proxy.program([faultproxy.rule('drop', '/v2.0/', times=0)])
        down = time.monotonic()
        for _, _, server in made:
            self.demo.servers_client.delete_server(server)
        self.wait_for(lambda: 'back to the queue' in self.watch_log()[seen:],
                      'watch putting a notification back on the queue')
        # The outage itself: a span of time, not a condition to poll for.
        time.sleep(max(0, self.OUTAGE - (time.monotonic() - down)))
        ports, trunks = self.snapshot()
        self.assertTrue(all(t['id'] in trunks for t, _, _ in made))
        proxy.program()

        def removed():
            ports, trunks = self.snapshot()
            return not any(t['id'] in trunks or
                           any(s['id'] in ports for s in subs)
                           for t, subs, _ in made)
        self.wait_for(removed, 'watch cleaning up after the outage',
                      timeout=90)
