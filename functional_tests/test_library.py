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

"""The library and the operator command on real leftovers."""

import datetime

from tempest.lib import exceptions as lib_exc

from functional_tests import base
from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import evidence
from trunk_cleanup_tempest.common import trunks as tc_trunks
from trunk_cleanup_tempest.watch import service


class TestRealLeftovers(base.FunctionalTestCase):

    def test_stock_cloud_leaks_and_the_library_cleans(self):
        trunk, parent, subs = self.trunk(subports=3)
        server = self.boot(parent['id'])
        footprint = cleanup.record_server(self.demo, server, 'user')
        self.assertEqual([trunk['id']], footprint.trunk_ids)
        self.delete_server(self.demo, server)

        # The leak this project exists for: parent unbound, trunk DOWN,
        # and Neutron still refuses to delete the parent.
        left = cleanup.inspect(self.demo, footprint)
        # The trunk, its parent and three subports.
        self.assertEqual(5, len(left.present))
        self.assertEqual('DOWN', left.trunks[trunk['id']].status)
        self.assertEqual('', left.ports[parent['id']].device_id)
        # Its binding's host shows to an admin only.
        self.assertIsNone(left.ports[parent['id']].binding_host)
        self.assertEqual('', cleanup.inspect(self.admin, footprint).ports[
            parent['id']].binding_host)
        exc = self.assertRaises(lib_exc.Conflict,
                                self.demo.ports_client.delete_port,
                                parent['id'])
        self.assertEqual('PortInUseAsTrunkParent', exc.resp_body['type'])

        # By default the user's parent port is kept, as Nova keeps it.
        report = cleanup.cleanup(self.demo, footprint, dry_run=True)
        self.assertEqual([parent['id']], [k['id'] for k in report.kept])
        report = cleanup.cleanup(self.demo, footprint, interval=0.2,
                                 delete_parent=True)
        self.assertTrue(report.clean, str(report))
        self.assertIn('evidence   server-deleted', str(report))
        # The trunk (its delete detaches the subports), three subports and
        # the parent, each deleted once. (How many calls that took depends
        # on the cloud's timing: a port the agent updates meanwhile is read
        # again and its delete sent again; the unit tests count calls.)
        self.assertEqual(sorted(
            [('delete_trunk', trunk['id'])] +
            [('delete_ports', p['id']) for p in [parent] + subs]), sorted(
                (a.action, a.id) for a in report.actions
                if a.outcome == 'done'))
        self.assertTrue(cleanup.inspect(self.demo, footprint).clean)
        again = cleanup.cleanup(self.demo, footprint, delete_parent=True)
        self.assertEqual([], again.actions)
        self.assertIn('nothing to do', again.summary)

    def test_dry_run_writes_nothing(self):
        trunk, parent, _ = self.trunk()
        server = self.boot(parent['id'])
        footprint = cleanup.record_server(self.demo, server)
        self.delete_server(self.demo, server)
        before = self.snapshot()
        report = cleanup.cleanup(self.demo, footprint, dry_run=True)
        self.assertEqual(before, self.snapshot())
        self.assertEqual({'would-do'}, {a.outcome for a in report.actions})
        # The trunk and two subports would go; the user's parent stays.
        self.assertEqual(3, len(report.left))
        self.assertEqual([parent['id']], [k['id'] for k in report.kept])

    def test_live_server_and_other_project_are_untouched(self):
        _, parent, _ = self.trunk()
        server = self.boot(parent['id'])
        footprint = cleanup.record_server(self.demo, server)
        # The admin's own trunk, in another project, on the same cloud.
        admin_trunk, _, _ = self.trunk(clients=self.admin)
        before = self.snapshot(), self.snapshot(self.admin)
        report = cleanup.cleanup(self.demo, footprint)
        self.assertFalse(report.clean)
        self.assertEqual({'refused'}, {a.outcome for a in report.actions})
        self.assertEqual(before, (self.snapshot(), self.snapshot(self.admin)))
        self.assertIn(admin_trunk['id'], self.snapshot(self.admin)[1])

    def test_a_port_that_only_names_the_server_is_not_its(self):
        # device_id is free text: the admin's port in the admin's project
        # that names the demo server, with a trunk the admin still wants.
        trunk, parent, _ = self.trunk(subports=1)
        server = self.boot(parent['id'])
        _, named, _ = self.trunk(subports=1, clients=self.admin)
        self.admin.ports_client.update_port(named['id'], device_id=server,
                                            device_owner='compute:nova')
        footprint = cleanup.record_server(self.admin, server)
        self.assertEqual([trunk['id']], footprint.trunk_ids)

    def test_a_trunk_made_as_the_delete_began_is_not_the_server_s(self):
        # On a port the server is bound to, in the second its delete began
        # (a driver that trunks bound ports allows it then): it may be for
        # the next server, so only its subports' rule is relaxed.
        trunk, parent, _ = self.trunk(subports=1)
        server = self.boot(parent['id'])
        other = self.port(self.network()['id'])
        late = self.demo.trunks_client.create_trunk(
            port_id=other['id'])['trunk']
        self.addCleanup(tc_trunks.delete_trunk, self.demo.trunks_client,
                        late['id'])
        self.demo.interfaces_client.create_interface(
            server, port_id=other['id'])
        # Before that trunk's own teardown: Neutron keeps a bound one.
        self.addCleanup(self.delete_server, self.demo, server)
        self.wait_for(lambda: self.demo.ports_client.show_port(
            other['id'])['port']['device_id'] == server,
            'port %s attached' % other['id'])
        began = evidence.stamp(late['created_at']) + datetime.timedelta(
            microseconds=500000)
        watcher = service.Watcher(self.admin, journal=None)
        self.addCleanup(watcher.stop)
        watcher.delete_started(server, [], began)
        self.assertEqual([trunk['id']],
                         watcher.pending[server][0].trunk_ids)
