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

from tempest.common import utils
from tempest.lib import decorators

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.tests.scenario import base


class ServerDeleteTrunkCleanupTest(base.TrunkCleanupScenarioTest):
    """Delete a server standing on a trunk; prove what is left is cleaned."""

    @decorators.idempotent_id('4d9b7a0e-2f5c-4a57-9a43-58e0c1c43b10')
    @utils.services('compute', 'network')
    def test_delete_server_on_trunk_with_subports(self):
        network = self.create_network_with_subnet()
        counts_before = self.project_counts()
        trunk, parent, subports = self.create_trunk_with_subports(
            network, self.opts.subport_count)
        server = self.boot_on_port(parent)

        footprint = cleanup.record_server(self.os_primary, server['id'],
                                          parent_created_by='user')
        self.assertEqual([trunk['id']], footprint.trunk_ids)
        record = footprint.trunks[0]
        self.assertEqual(parent['id'], record.parent_port_id)
        self.assertEqual(sorted(p['id'] for p in subports),
                         sorted(s.port_id for s in record.subports))

        self.delete_server_and_wait(server['id'])
        self.assert_promised_state(footprint)
        self.clean_and_assert_nothing_left(footprint, counts_before)
