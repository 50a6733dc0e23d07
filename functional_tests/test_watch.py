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

import datetime
import os
import re
import statistics
import time

import fixtures
from oslo_config import cfg
import oslo_messaging
from oslo_utils import fixture as utils_fixture
from tempest.lib.common.utils import test_utils
from tempest.lib.services.compute import quotas_client
import testtools

from functional_tests import base
from trunk_cleanup_localcloud import cloud as cloud_mod
from trunk_cleanup_localcloud import faultproxy
from trunk_cleanup_localcloud import services
from trunk_cleanup_tempest.common import trunks as tc_trunks
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
        tc_trunks.delete_trunk(self.demo.trunks_client, old['id'])
        self.trunk_on(parent['id'])
        before = self.snapshot()

        self.cloud.start_watch()
        self.wait_for(lambda: 'server %s deleted: no trunk on its ports '
                      'that Neutron made before' % server in self.watch_log(),
                      'watch handling the delete of %s' % server)
        self.assertEqual(before, self.snapshot())


class TestWatchDeliveredTwice(base.FunctionalTestCase):
    """A delete's notifications delivered again after it was cleaned."""

    def redeliver(self, server, project, port_ids, sent_at):
        """Nova's start and end of the delete, as sent at ``sent_at``.

        What RabbitMQ hands again after a consumer died before its
        acknowledgement, or a publisher confirmed twice: the same
        message, with its first timestamp.
        """
        # As Nova does at its start (nova/rpc.py).
        oslo_messaging.set_transport_defaults(service.EXCHANGE)
        self.addCleanup(oslo_messaging.set_transport_defaults, 'openstack')
        conf = cfg.ConfigOpts()
        conf([])
        transport = oslo_messaging.get_notification_transport(
            conf, url=self.cloud.layout().transport_url)
        self.addCleanup(transport.cleanup)
        notifier = oslo_messaging.Notifier(
            transport, 'nova-compute:%s' % self.cloud.layout().compute_host,
            driver='messagingv2', topics=[service.TOPIC])
        data = {'uuid': server, 'tenant_id': project, 'ip_addresses': [
            {'nova_object.data': {'port_uuid': p}} for p in port_ids]}
        # The first timestamp (oslo.messaging's clock is timeutils').
        with utils_fixture.TimeFixture(sent_at.replace(tzinfo=None)):
            for event, ports in (('start', data), ('end', dict(
                    data, ip_addresses=[]))):
                notifier.info({}, 'instance.delete.%s' % event,
                              {'nova_object.data': ports})

    def test_a_trunk_built_since_stays(self):
        self.cloud.start_watch()
        self.addCleanup(self.cloud.stop_watch)
        old, parent, subs = self.trunk(subports=1)
        server = self.boot(parent['id'])
        project = self.demo.servers_client.show_server(server)['server'][
            'tenant_id']
        sent_at = datetime.datetime.now(datetime.timezone.utc)
        self.demo.servers_client.delete_server(server)

        def cleaned():
            ports, trunks = self.snapshot()
            return old['id'] not in trunks and subs[0]['id'] not in ports
        self.wait_for(cleaned, 'watch cleaning trunk %s' % old['id'])
        # The user builds anew on the parent port Nova (and watch) kept.
        new = self.trunk_on(parent['id'])
        before = self.snapshot()
        handled = 'server %s deleted: no trunk on its ports' % server
        seen = self.watch_log().count(handled)

        self.redeliver(server, project, [parent['id']], sent_at)
        self.wait_for(lambda: self.watch_log().count(handled) > seen,
                      'watch handling the delete of %s again' % server)
        self.assertEqual(before, self.snapshot())
        self.assertIn('trunk %s left alone: made at' % new['id'],
                      self.watch_log())


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


class TestWatchActiveActive(base.FunctionalTestCase):
    """Two ``watch`` on one pool: each trunk cleaned once, none lost."""

    DELETES = 20
    SECOND = 'watch-2'

    def servers_on_trunks(self, count):
        """``count`` servers on trunks, booted at once; one network each."""
        quotas = self.admin.client(quotas_client.QuotasClient, 'compute')
        project = self.demo.servers_client.auth_provider.session\
            .get_project_id()
        quotas.update_quota_set(project, instances=count + 10,
                                cores=count + 10)
        self.addCleanup(quotas.delete_quota_set, project)
        parents = self.network()
        subports = self.network(subnet=False)
        made = []
        for i in range(count):
            parent = self.port(parents['id'])
            sub = self.port(subports['id'])
            trunk = self.demo.trunks_client.create_trunk(
                port_id=parent['id'], sub_ports=[{
                    'port_id': sub['id'], 'segmentation_type': 'vlan',
                    'segmentation_id': 100 + i}])['trunk']
            self.addCleanup(tc_trunks.delete_trunk, self.demo.trunks_client,
                            trunk['id'])
            server = self.demo.servers_client.create_server(
                name='active-active-%d' % i,
                imageRef=self.cloud.state['image_id'],
                flavorRef=self.cloud.state['flavor_id'],
                networks=[{'port': parent['id']}])['server']
            self.addCleanup(self.delete_server, self.demo, server['id'])
            made.append((trunk, sub, server['id']))
        for trunk, _, server in made:
            self.wait_for(lambda: self.demo.servers_client.show_server(
                server)['server']['status'] == 'ACTIVE',
                'server %s ACTIVE' % server, timeout=180)
            self.wait_for(lambda: self.wired(self.demo, trunk['id']),
                          'trunk %s wired' % trunk['id'])
        return made

    def test_two_watchers_share_a_burst_of_deletes(self):
        names = (cloud_mod.WATCH, self.SECOND)
        for name in names:
            self.cloud.start_watch(name=name)
            self.addCleanup(self.cloud.stop_watch, name=name)
        made = self.servers_on_trunks(self.DELETES)
        seen = {name: len(self.watch_log(name)) for name in names}

        deleted_at = {}
        for trunk, _, server in made:
            self.demo.servers_client.delete_server(server)
            deleted_at[trunk['id']] = time.monotonic()
        # Seconds from each delete to Nova done with it, and to its trunk
        # gone with its subport port (the cleanup's end).
        nova_took, took = {}, {}

        def all_removed():
            servers = {s['id'] for s in self.demo.servers_client
                       .list_servers()['servers']}
            ports, trunks = self.snapshot()
            now = time.monotonic()
            for trunk, sub, server in made:
                since = now - deleted_at[trunk['id']]
                if server not in servers:
                    nova_took.setdefault(trunk['id'], since)
                if trunk['id'] not in trunks and sub['id'] not in ports:
                    took.setdefault(trunk['id'], since)
            return len(took) == len(deleted_at)
        self.assertTrue(test_utils.call_until_true(
            all_removed, 120, 0.25), 'trunks left: %s' % sorted(
                set(deleted_at) - set(took)))

        logs = {name: self.watch_log(name)[seen[name]:] for name in names}
        for trunk, _, _ in made:
            cleans = sum(len(re.findall(
                r'trunk\(s\) %s: clean' % trunk['id'], log))
                for log in logs.values())
            self.assertEqual(1, cleans, 'trunk %s cleaned %d times'
                             % (trunk['id'], cleans))
        for name, log in logs.items():
            # Both took their share of the work.
            self.assertIn(': clean', log, name)
        after_nova = [took[t] - nova_took.get(t, took[t]) for t in took]
        figures = (
            'over %d deletes: delete to trunk gone median %.1fs, worst '
            '%.1fs; Nova done to trunk gone median %.1fs, worst %.1fs' % (
                len(took), statistics.median(took.values()),
                max(took.values()), statistics.median(after_nova),
                max(after_nova)))
        self.addDetail('timing', testtools.content.text_content(figures))
        with open(os.path.join(self.cloud.state_dir, 'watch-timing.txt'),
                  'a') as f:
            f.write(figures + '\n')
        self.assertLess(max(took.values()), 60, figures)


class TestWatchStopsWhileNeutronHangs(base.FunctionalTestCase):
    """SIGTERM while every call of ``watch`` to Neutron hangs."""

    # Seconds each call may take (watch's --timeout).
    CALL_TIMEOUT = 10

    def test_sigterm_stops_it_in_bounded_time_and_loses_nothing(self):
        proxy = self.fault_proxy()
        self.cloud.start_watch('--timeout', str(self.CALL_TIMEOUT),
                               environ=proxy.environ('admin'))
        self.addCleanup(self.cloud.stop_watch)
        trunk, parent, subs = self.trunk(subports=1)
        server = self.boot(parent['id'])
        proxy.program([faultproxy.rule('delay', '/v2.0/', times=0,
                                       seconds=600)])
        self.addCleanup(proxy.program)
        self.demo.servers_client.delete_server(server)
        self.wait_for(lambda: any(e['fault'] == 'held' for e in
                                  proxy.events(clear=False)),
                      'watch calling the hung Neutron')

        started = time.monotonic()
        self.cloud.stop_watch(timeout=120)
        took = time.monotonic() - started
        # One hung call runs out, and nothing new starts.
        self.assertLess(took, 2 * self.CALL_TIMEOUT + 10)
        self.assertIn('trunk-cleanup watch: stopped', self.watch_log())
        ports, trunks = self.snapshot()
        self.assertIn(trunk['id'], trunks)

        # What it had not done waits in the queue or its journal.
        proxy.program()
        self.cloud.start_watch()

        def removed():
            ports, trunks = self.snapshot()
            return (trunk['id'] not in trunks and
                    not any(s['id'] in ports for s in subs))
        self.wait_for(removed, 'watch cleaning after its restart',
                      timeout=60)
