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

"""The scenario tests' base: servers on trunks, the cloud's promise, cleanup.

What a test makes, how it waits (:mod:`trunk_cleanup_tempest.common.waiters`,
bounded by ``[trunk_cleanup] cleanup_timeout``), what it asserts the cloud
left, and how it proves the library cleans that to nothing.
"""

from oslo_log import log as logging
from tempest.common import utils
from tempest.common import waiters
from tempest import config
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc
from tempest.scenario import manager

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.common import trunks as tc_trunks
from trunk_cleanup_tempest.common import waiters as tc_waiters
from trunk_cleanup_tempest import config as tc_config

CONF = config.CONF
LOG = logging.getLogger(__name__)


class TrunkCleanupScenarioTest(manager.NetworkScenarioTest):
    """Servers on trunks, deleted, and what the cloud leaves behind.

    The tests inspect and clean only through the cleanup library, with the
    project's own tempest clients (``os_primary`` has the trunks, ports and
    servers clients the library needs).
    """

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        if not utils.is_extension_enabled('trunk', 'network'):
            raise cls.skipException(
                'The Neutron "trunk" extension is not enabled in '
                '[network-feature-enabled] api_extensions')

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.trunks_client = cls.os_primary.trunks_client

    def setUp(self):
        super().setUp()
        self.opts = CONF.trunk_cleanup
        # Every wait, the tests' and the library's, is bounded alike.
        self.bounds = {'timeout': self.opts.cleanup_timeout,
                       'interval': self.opts.cleanup_interval}
        self.counts_before = None

    # -- making things -------------------------------------------------

    def create_network_with_subnet(self):
        """A network to put ports on (its DHCP port, if any, comes now)."""
        network = self.create_network()
        self.create_subnet(network)
        return network

    def create_trunk_with_subports(self, network, count,
                                   segmentation_type=None):
        """A user-made parent port and ``count`` subports on a trunk.

        The subports are on a network of their own with no subnet, as VLAN
        subports carry other networks than the parent's, so many of them
        need no addresses from the parent's small subnet.

        :returns: (trunk, parent port, [subport ports])
        """
        seg_type = segmentation_type or self.opts.segmentation_type
        parent = self.create_port(network['id'])
        subports = []
        if count:
            sub_net = self.create_network()
            subports = [self.create_port(sub_net['id'])
                        for _ in range(count)]
        sub_ports = [self.subport_body(port, seg_type, 100 + i)
                     for i, port in enumerate(subports)]
        trunk = self.trunks_client.create_trunk(
            name=data_utils.rand_name('trunk-cleanup'),
            port_id=parent['id'], sub_ports=sub_ports)['trunk']
        self.addCleanup(tc_trunks.delete_trunk, self.trunks_client,
                        trunk['id'])
        return trunk, parent, subports

    @staticmethod
    def subport_body(port, segmentation_type, segmentation_id):
        body = {'port_id': port['id'],
                'segmentation_type': segmentation_type}
        if segmentation_type == 'vlan':
            body['segmentation_id'] = segmentation_id
        return body

    def boot_on_port(self, port, wait_until='ACTIVE', **kwargs):
        """A server on ``port``; once ACTIVE, its trunk wired, if any.

        Nova calls a server ACTIVE before the backend has wired its ports,
        and the backend changes their status after: a test that compares
        states must start from a settled one.
        """
        server = self.create_server(networks=[{'port': port['id']}],
                                    wait_until=wait_until, **kwargs)
        if wait_until == 'ACTIVE' and self.opts.trunk_wired:
            for trunk in self.trunks_client.list_trunks(
                    port_id=port['id'])['trunks']:
                tc_waiters.wait_for_trunk_status(
                    self.trunks_client, trunk['id'], 'ACTIVE',
                    ports_client=self.ports_client, **self.bounds)
        return server

    def stand_up(self, count=None, segmentation_type=None):
        """A server on a user's trunk, recorded, the project counted first.

        :returns: the server's footprint
        """
        network = self.create_network_with_subnet()
        self.record_counts()
        trunk, parent, subports = self.create_trunk_with_subports(
            network, self.opts.subport_count if count is None else count,
            segmentation_type)
        server = self.boot_on_port(parent)
        footprint = cleanup.record_server(self.os_primary, server['id'],
                                          parent_created_by='user')
        self.assertEqual([trunk['id']], footprint.trunk_ids)
        self.assertEqual(sorted(p['id'] for p in subports),
                         sorted(s.port_id for s in
                                footprint.trunks[0].subports))
        return footprint

    def delete_server_and_wait(self, server_id, retry_on_error=True):
        """Delete the server and wait until it is gone.

        :param retry_on_error: delete once more a server the delete left in
            ERROR; if false, raise ``DeleteErrorException`` instead.
        """
        self.servers_client.delete_server(server_id)
        try:
            waiters.wait_for_server_termination(self.servers_client,
                                                server_id)
        except lib_exc.DeleteErrorException as exc:
            if not retry_on_error:
                raise
            # Nova can abort a build that a delete overtakes ("Failure
            # prepping block device") and leave the server in ERROR: as a
            # user would, delete it again.
            LOG.info('server %s went to ERROR on delete, deleting it '
                     'again: %s', server_id, exc)
            # The first delete may still finish meanwhile.
            test_utils.call_and_ignore_notfound_exc(
                self.servers_client.delete_server, server_id)
            waiters.wait_for_server_termination(self.servers_client,
                                                server_id, ignore_error=True)

    # -- observing -----------------------------------------------------

    def project_counts(self):
        """How many ports and trunks the project has."""
        return (len(self.ports_client.list_ports()['ports']),
                len(self.trunks_client.list_trunks()['trunks']))

    def record_counts(self):
        """Keep the project's counts: the cleanup must bring it back there.

        Taken once the test's network is made (its DHCP port stays until
        the network's teardown), before the ports of the trunk.
        """
        self.counts_before = self.project_counts()

    def assert_promised_state(self, footprint, user_parent=True,
                              linked=True):
        """What ``[trunk_cleanup] expected_after_server_delete`` promises.

        :param linked: the parent port named the server when it was
            deleted. A server that never got its port (it failed, or was
            deleted first) leaves nothing in Neutron that links it to the
            trunk, so a cloud that promises removal may keep that trunk,
            or be removing it still: then it is only asserted that the
            parent is unbound and what is left is cleanable.
        """
        record = footprint.trunks[0]
        sub_ids = [s.port_id for s in record.subports]
        promise = self.opts.expected_after_server_delete
        if promise == tc_config.EXPECT_REMOVED and linked:
            left = tc_waiters.wait_for_leftovers(
                self.os_primary, footprint, lambda lo: not any(
                    lo.trunks[t].present for t in footprint.trunk_ids) and
                not any(lo.ports[p].present for p in sub_ids),
                'the cloud removing the trunk and subports', **self.bounds)
        else:
            left = tc_waiters.wait_for_leftovers(
                self.os_primary, footprint, lambda lo: not lo.ports[
                    record.parent_port_id].device_id,
                'the cloud unbinding the parent port', **self.bounds)
            if promise == tc_config.EXPECT_LEFT:
                trunk = left.trunks[record.trunk_id]
                self.assertTrue(trunk.present, 'the cloud removed the trunk')
                self.assertEqual(sorted(sub_ids), trunk.sub_ports)
                if self.opts.trunk_wired and linked:
                    # Unwired with its server, not left ACTIVE. (ML2/OVN
                    # makes a trunk ACTIVE from the start, so one that was
                    # never bound may stay so.)
                    tc_waiters.wait_for_trunk_status(
                        self.trunks_client, record.trunk_id, 'DOWN',
                        **self.bounds)
        parent = left.ports[record.parent_port_id]
        if user_parent:
            # Nova keeps a port it was given, but unbinds it.
            self.assertTrue(parent.present)
            self.assertEqual('', parent.device_id)
            # Shown to an admin only (None otherwise).
            self.assertIn(parent.binding_host, ('', None))
            self.assertEqual('', parent.device_owner)
        # Whatever is left is for the library to clean, not to refuse.
        self.assertEqual([], cleanup.plan(left).refusals)
        return left

    def footprint_of_trunk(self, trunk_id, server_id):
        """The footprint of a server Nova may never have bound a port for.

        ``record_server`` reads the server's ports; a server that failed or
        was deleted early may have none, so the trunk is recorded instead.
        """
        recorded = cleanup.record_trunk(self.os_primary, trunk_id, 'user')
        return cleanup.Footprint(project_id=recorded.project_id,
                                 trunks=recorded.trunks, server_id=server_id,
                                 own_server=True)

    def delete_and_prove_cleanup(self, footprint, user_parent=True):
        """Delete the server, check the promise, clean, check nothing left.

        The project must be back to ``counts_before`` (see record_counts).

        :returns: (the leftovers the cloud promised, the cleanup report)
        """
        parent = footprint.trunks[0].parent_port_id
        linked = self.ports_client.show_port(parent)['port'][
            'device_id'] == footprint.server_id
        self.delete_server_and_wait(footprint.server_id)
        left = self.assert_promised_state(footprint, user_parent, linked)
        return left, self.clean_and_assert_nothing_left(footprint)

    def run_cleanup(self, footprint, **kwargs):
        return cleanup.cleanup(self.os_primary, footprint, **self.bounds,
                               **kwargs)

    def clean_and_assert_nothing_left(self, footprint):
        """Clean with the library: its default keeps a user's parent port.

        A dry run shows the default (the parent port is kept, as Nova
        keeps it, unless Nova created it); then the test, which made the
        port, asks for it to be deleted too, and nothing is left: the
        project is back to ``counts_before``.
        """
        self.assertIsNotNone(self.counts_before,
                             'record_counts() was not called')
        record = footprint.trunks[0]
        dry = self.run_cleanup(footprint, dry_run=True, delete_parent=False)
        kept = [k['id'] for k in dry.kept]
        parent_left = cleanup.inspect(
            self.os_primary, footprint).ports[record.parent_port_id].present
        if record.parent_created_by != 'compute' and parent_left:
            self.assertEqual([record.parent_port_id], kept, str(dry))
        else:
            self.assertEqual([], kept, str(dry))
        report = self.run_cleanup(footprint, delete_parent=True)
        LOG.info('cleanup of server %s:\n%s', footprint.server_id, report)
        self.assertTrue(report.clean, str(report))
        left = cleanup.inspect(self.os_primary, footprint)
        self.assertEqual([], left.present)
        self.assertEqual(self.counts_before, self.project_counts())
        # A second run has nothing to do.
        self.assertEqual([], self.run_cleanup(footprint,
                                              delete_parent=True).actions)
        return report
