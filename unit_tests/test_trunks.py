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

"""The tests' trunk teardown, against the fake cloud."""

import fixtures
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.common import trunks
from unit_tests import base

TRUNK_PATH = r'/v2\.0/trunks/[^/]+$'


class TestDeleteTrunk(base.TestCase):

    def setUp(self):
        super().setUp()
        self.trunks_client = self.clients.trunks_client

    def test_subports_are_detached_then_the_trunk_deleted(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        trunks.delete_trunk(self.trunks_client, self.trunk)
        self.assertEqual(
            [('PUT', '/v2.0/trunks/%s/remove_subports' % self.trunk),
             ('DELETE', '/v2.0/trunks/%s' % self.trunk)],
            self.cloud.writes())
        self.assertNotIn(self.trunk, self.cloud.trunks)
        # The ports are the ports' own teardown's.
        for port_id in self.subports + [self.parent]:
            self.assertIn(port_id, self.cloud.ports)

    def test_a_trunk_without_subports_is_only_deleted(self):
        self.stand_up(subports=0)
        self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        trunks.delete_trunk(self.trunks_client, self.trunk)
        self.assertEqual([('DELETE', '/v2.0/trunks/%s' % self.trunk)],
                         self.cloud.writes())

    def test_a_trunk_already_gone_is_fine(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        del self.cloud.trunks[self.trunk]
        self.cloud.requests.clear()
        trunks.delete_trunk(self.trunks_client, self.trunk)
        self.assertEqual([], self.cloud.writes())

    def test_a_trunk_gone_before_its_delete_is_fine(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 404, 'TrunkNotFound')
        trunks.delete_trunk(self.trunks_client, self.trunk)

    def test_subports_are_free_ports_when_the_delete_is_refused(self):
        # The parent still bound: ML2/OVS refuses the trunk's delete.
        self.stand_up()
        self.assertRaises(lib_exc.Conflict, trunks.delete_trunk,
                          self.trunks_client, self.trunk)
        self.assertEqual([], self.cloud.trunks[self.trunk]['sub_ports'])
        for port_id in self.subports:
            self.clients.ports_client.delete_port(port_id)
            self.assertNotIn(port_id, self.cloud.ports)

    def test_a_server_error_on_the_delete_is_tried_again(self):
        # As tempest's own teardown does (test_utils), with no wait here.
        self.useFixture(fixtures.MockPatch(
            'tempest.lib.common.utils.test_utils.time.sleep'))
        self.stand_up()
        self.cloud.delete_server(self.server)
        self.cloud.fail('DELETE', TRUNK_PATH, 500, 'ServerFault')
        trunks.delete_trunk(self.trunks_client, self.trunk)
        self.assertNotIn(self.trunk, self.cloud.trunks)


class TestDetachSubports(base.TestCase):

    def test_one_call_for_all_the_ports(self):
        self.stand_up(subports=3)
        self.cloud.requests.clear()
        trunks.detach_subports(self.clients.trunks_client, self.trunk,
                               self.subports)
        self.assertEqual(
            [('PUT', '/v2.0/trunks/%s/remove_subports' % self.trunk)],
            self.cloud.writes())
        self.assertEqual([], self.cloud.trunks[self.trunk]['sub_ports'])

    def test_no_ports_no_call(self):
        self.stand_up()
        self.cloud.requests.clear()
        trunks.detach_subports(self.clients.trunks_client, self.trunk, [])
        self.assertEqual([], self.cloud.requests)

    def test_errors_are_the_caller_s(self):
        self.stand_up()
        del self.cloud.trunks[self.trunk]
        self.assertRaises(lib_exc.NotFound, trunks.detach_subports,
                          self.clients.trunks_client, self.trunk,
                          self.subports)
