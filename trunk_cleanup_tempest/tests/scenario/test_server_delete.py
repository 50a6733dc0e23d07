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

"""Servers on trunks are deleted; what is left is asserted, then cleaned.

Each class runs in a project of its own (tempest's dynamic credentials), so
the project's port and trunk counts are the test's alone.
"""

from oslo_log import log as logging
from tempest.common import utils
from tempest.common import waiters
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.common import trunks as tc_trunks
from trunk_cleanup_tempest.common import waiters as tc_waiters
from trunk_cleanup_tempest import config as tc_config
from trunk_cleanup_tempest.tests.scenario import base

LOG = logging.getLogger(__name__)


class ServerDeleteTrunkCleanupTest(base.TrunkCleanupScenarioTest):
    """Delete a server standing on a trunk; prove what is left is cleaned."""

    @decorators.idempotent_id('4d9b7a0e-2f5c-4a57-9a43-58e0c1c43b10')
    @utils.services('compute', 'network')
    def test_delete_server_on_trunk_with_subports(self):
        """The cloud keeps its promise; the library leaves nothing behind."""
        self.delete_and_prove_cleanup(self.stand_up())


class SubportsAddedAfterBootTest(base.TrunkCleanupScenarioTest):

    @decorators.idempotent_id('8a0f5c53-6a55-4b43-9a3f-3c2f7a40d2a1')
    @utils.services('compute', 'network')
    def test_delete_server_after_subports_added_to_running_trunk(self):
        """Subports added while the server runs are part of what it leaves."""
        network = self.create_network_with_subnet()
        self.record_counts()
        trunk, parent, _ = self.create_trunk_with_subports(network, 0)
        server = self.boot_on_port(parent)
        added = [self.create_port(network['id'])
                 for _ in range(self.opts.subport_count)]
        self.trunks_client.add_subports_to_trunk(trunk['id'], [
            self.subport_body(port, self.opts.segmentation_type, 200 + i)
            for i, port in enumerate(added)])

        footprint = cleanup.record_server(self.os_primary, server['id'],
                                          parent_created_by='user')
        self.assertEqual(sorted(p['id'] for p in added),
                         sorted(s.port_id for s in
                                footprint.trunks[0].subports))
        self.delete_and_prove_cleanup(footprint)


class InheritSegmentationTest(base.TrunkCleanupScenarioTest):

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not utils.is_extension_enabled('trunk-details', 'network'):
            raise cls.skipException(
                'The Neutron "trunk-details" extension is not enabled: the '
                'inherit segmentation test needs it')

    @decorators.idempotent_id('c2e4b1a7-0c1f-4b7e-8f63-1f9d0b6f9e52')
    @utils.services('compute', 'network')
    def test_delete_server_on_trunk_with_inherit_subports(self):
        """Subports inheriting their segmentation are cleaned the same."""
        network = self.create_network_with_subnet()
        self.record_counts()
        try:
            trunk, parent, _ = self.create_trunk_with_subports(
                network, self.opts.subport_count, 'inherit')
        except lib_exc.BadRequest as exc:
            # Neutron knows only the types its trunk drivers register; the
            # in-tree ML2/OVS and ML2/OVN drivers register "vlan" alone.
            raise self.skipException(
                'This cloud does not support the "inherit" segmentation '
                'type: %s' % cleanup.error_text(exc))
        server = self.boot_on_port(parent)
        footprint = cleanup.record_server(self.os_primary, server['id'],
                                          parent_created_by='user')
        self.assertEqual({'inherit'}, {s.segmentation_type for s in
                                       footprint.trunks[0].subports})
        self.delete_and_prove_cleanup(footprint)


class UnfinishedServerTest(base.TrunkCleanupScenarioTest):
    """Servers that never became ACTIVE still leave nothing uncleanable."""

    @decorators.idempotent_id('5b7c3d2e-94f1-4c0a-b8a5-7e6d4f3c2b19')
    @utils.services('compute', 'network')
    def test_delete_server_in_error_on_trunk(self):
        """A server the scheduler could not place still leaves its trunk."""
        # A root disk no host can hold (and no quota counts): the scheduler
        # finds no valid host and the server goes to ERROR.
        flavor = self.os_admin.flavors_client.create_flavor(
            name=data_utils.rand_name('trunk-cleanup-too-big'),
            ram=64, vcpus=1, disk=10 ** 8)['flavor']
        self.addCleanup(test_utils.call_and_ignore_notfound_exc,
                        self.os_admin.flavors_client.delete_flavor,
                        flavor['id'])
        network = self.create_network_with_subnet()
        self.record_counts()
        trunk, parent, _ = self.create_trunk_with_subports(
            network, self.opts.subport_count)
        server = self.boot_on_port(parent, wait_until=None,
                                   flavor=flavor['id'])
        waiters.wait_for_server_status(self.servers_client, server['id'],
                                       'ERROR', raise_on_error=False)
        footprint = self.footprint_of_trunk(trunk['id'], server['id'])
        self.delete_and_prove_cleanup(footprint)

    @decorators.idempotent_id('e1a0d9c8-3b47-4f5e-a2d6-9c8b7a6f5e43')
    @utils.services('compute', 'network')
    def test_delete_server_before_it_is_active(self):
        """A server deleted while it builds leaves nothing uncleanable."""
        network = self.create_network_with_subnet()
        self.record_counts()
        trunk, parent, _ = self.create_trunk_with_subports(
            network, self.opts.subport_count)
        server = self.boot_on_port(parent, wait_until=None)
        footprint = self.footprint_of_trunk(trunk['id'], server['id'])
        self.delete_and_prove_cleanup(footprint)


class ParentPortOwnerTest(base.TrunkCleanupScenarioTest):
    """Nova deletes the ports it created and only unbinds a user's port."""

    @decorators.idempotent_id('0f3e9a8b-7c6d-4e5f-9a1b-2c3d4e5f6a7b')
    @utils.services('compute', 'network')
    def test_user_created_parent_port_is_kept_and_unbound(self):
        """Nova keeps a port it was given, unbound; the trunk pins it."""
        footprint = self.stand_up()
        self.assertEqual('user', footprint.trunks[0].parent_created_by)
        left, _ = self.delete_and_prove_cleanup(footprint)
        self.assertTrue(left.ports[footprint.trunks[0].parent_port_id]
                        .present, 'Nova deleted a port it did not create')

    @decorators.idempotent_id('9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a')
    @utils.services('compute', 'network')
    def test_compute_created_parent_port(self):
        """A trunk on a port Nova made: what its delete leaves is cleaned."""
        network = self.create_network_with_subnet()
        self.record_counts()
        server = self.create_server(networks=[{'uuid': network['id']}])
        port = self.ports_client.list_ports(
            device_id=server['id'])['ports'][0]
        try:
            trunk = self.trunks_client.create_trunk(
                name=data_utils.rand_name('trunk-cleanup'),
                port_id=port['id'])['trunk']
        except lib_exc.Conflict as exc:
            # ML2/OVS cannot make a trunk of a bound port (ParentPortInUse);
            # ML2/OVN can. Only the cloud knows which it runs.
            raise self.skipException(
                'This cloud cannot make a trunk on the port of a running '
                'server: %s' % cleanup.error_text(exc))
        self.addCleanup(tc_trunks.delete_trunk, self.trunks_client,
                        trunk['id'])
        footprint = cleanup.record_server(self.os_primary, server['id'],
                                          parent_created_by='compute')
        self.assertEqual([trunk['id']], footprint.trunk_ids)
        try:
            self.delete_server_and_wait(server['id'], retry_on_error=False)
        except lib_exc.DeleteErrorException as exc:
            self.delete_blocked_by_trunk(footprint, trunk, port, exc)
            self.assertEqual(self.counts_before, self.project_counts())
            return
        left = self.assert_promised_state(footprint, user_parent=False)
        parent = left.ports[port['id']]
        if parent.present:
            # Nova meant to delete it, but the trunk pinned it
            # (PortInUseAsTrunkParent): the cleanup must finish the job.
            self.assertEqual('', parent.device_id)
        self.clean_and_assert_nothing_left(footprint)

    def delete_blocked_by_trunk(self, footprint, trunk, port, exc):
        """Nova could not delete the port it made: it is a trunk parent.

        Where a trunk can be made on the port of a running server
        (ML2/OVN), Nova's delete of that port fails (PortInUseAsTrunkParent)
        and so does the server's: it goes to ERROR with a Conflict fault.
        Then nothing may be lost: the server keeps its port and trunk, the
        cleanup refuses to touch them, and once the user deletes the trunk
        the server's delete takes its port with it.
        """
        LOG.info('server %s could not be deleted while its port is a trunk '
                 'parent: %s', footprint.server_id, exc)
        fault = tc_waiters.wait_for_server_fault(
            self.servers_client, footprint.server_id, **self.bounds)
        self.assertIn('Conflict', fault.get('message', ''))
        left = cleanup.inspect(self.os_primary, footprint)
        self.assertTrue(left.server_alive)
        self.assertTrue(left.trunks[trunk['id']].present)
        self.assertEqual(footprint.server_id,
                         left.ports[port['id']].device_id)
        report = self.run_cleanup(footprint)
        self.assertEqual({'refused'}, {a.outcome for a in report.actions})
        self.trunks_client.delete_trunk(trunk['id'])
        self.delete_server_and_wait(footprint.server_id)
        left = cleanup.inspect(self.os_primary, footprint)
        self.assertEqual([], left.present)


class ManySubportsTest(base.TrunkCleanupScenarioTest):
    """A trunk with ``many_subport_count`` subports, cleaned the same."""

    @decorators.idempotent_id('33a4dd8b-9716-4731-b3e7-9110027343c0')
    @utils.services('compute', 'network')
    def test_cleanup_of_many_subports_deletes_each_port_once(self):
        """A trunk of many subports is cleaned; each port deleted once.

        What that costs in API calls (one port delete more per subport,
        and no other call) is counted in unit_tests/test_call_counts.py,
        against the fake cloud: on a live cloud, a delete that Neutron
        refuses while it still changes the ports (409, or 412 for a port
        changed since it was read) is tried again, and counted.
        """
        if (self.opts.expected_after_server_delete ==
                tc_config.EXPECT_REMOVED):
            raise self.skipException(
                'The cloud removes the trunk and its subports itself, so '
                'the cleanup has only the parent port left to delete')
        footprint = self.stand_up(count=self.opts.many_subport_count)
        _, report = self.delete_and_prove_cleanup(footprint)
        record = footprint.trunks[0]
        self.assertEqual(
            sorted([record.parent_port_id] +
                   [s.port_id for s in record.subports]),
            sorted(a.id for a in report.actions
                   if a.action == 'delete_ports' and a.outcome == 'done'),
            str(report))


class SharedTrunkTest(base.TrunkCleanupScenarioTest):

    @decorators.idempotent_id('7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918')
    @utils.services('compute', 'network')
    def test_cleanup_of_first_server_spares_the_second(self):
        """Cleaning server A's trunk never touches B on the same port."""
        if (self.opts.expected_after_server_delete ==
                tc_config.EXPECT_REMOVED):
            raise self.skipException(
                'The cloud removes the trunk when the first server is '
                'deleted, so there is no trunk left to share')
        footprint = self.stand_up()
        record = footprint.trunks[0]
        self.delete_server_and_wait(footprint.server_id)
        self.assert_promised_state(footprint)

        second = self.boot_on_port({'id': record.parent_port_id})
        before = cleanup.inspect(self.os_primary, footprint).to_dict()
        report = self.run_cleanup(footprint)
        self.assertFalse(report.clean)
        self.assertNotIn('done', {a.outcome for a in report.actions})
        self.assertIn('bound to live server %s' % second['id'],
                      report.actions[0].detail)
        after = cleanup.inspect(self.os_primary, footprint).to_dict()
        self.assertEqual(before, after)
        self.assertEqual('ACTIVE', self.servers_client.show_server(
            second['id'])['server']['status'])

        self.delete_server_and_wait(second['id'])
        second_footprint = cleanup.Footprint(
            project_id=footprint.project_id, trunks=footprint.trunks,
            server_id=second['id'], own_server=True)
        self.assert_promised_state(second_footprint)
        self.clean_and_assert_nothing_left(footprint)


class LiveServerRefusalTest(base.TrunkCleanupScenarioTest):

    @decorators.idempotent_id('2c1b0a9f-8e7d-4c6b-a5f4-e3d2c1b0a9f8')
    @utils.services('compute', 'network')
    def test_cleanup_refuses_trunk_of_live_server(self):
        """The library refuses, and says why, while the server lives."""
        footprint = self.stand_up()
        counts = self.project_counts()
        before = cleanup.inspect(self.os_primary, footprint).to_dict()
        report = self.run_cleanup(footprint)
        self.assertFalse(report.clean)
        self.assertEqual({'refused'}, {a.outcome for a in report.actions})
        self.assertIn('server %s still exists' % footprint.server_id,
                      report.actions[0].detail)
        # Nothing was written: the same resources in the same state.
        self.assertEqual(before, cleanup.inspect(self.os_primary,
                                                 footprint).to_dict())
        self.assertEqual(counts, self.project_counts())
        self.assertEqual(
            {'delete_port', 'delete_trunk', 'delete_subports_from_trunk',
             'update_trunk'} & set(report.calls), set())
