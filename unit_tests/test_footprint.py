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

import json

from trunk_cleanup_tempest import cleanup
from trunk_cleanup_tempest.cleanup import footprint as fp_mod
from unit_tests import base
from unit_tests import fake_cloud


class TestRecord(base.TestCase):

    def test_record_server_on_trunk(self):
        fp = self.stand_up(subports=3)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual(fake_cloud.PROJECT, fp.project_id)
        self.assertEqual(1, len(fp.trunks))
        record = fp.trunks[0]
        self.assertEqual(self.trunk, record.trunk_id)
        self.assertEqual(self.parent, record.parent_port_id)
        self.assertEqual(self.subports,
                         [s.port_id for s in record.subports])
        self.assertEqual([100, 101, 102],
                         [s.segmentation_id for s in record.subports])
        self.assertEqual({'vlan'},
                         {s.segmentation_type for s in record.subports})
        self.assertEqual([self.parent] + self.subports, fp.port_ids)
        # The parent port existed before the server: the user made it.
        self.assertEqual(fp_mod.CREATED_BY_USER, record.parent_created_by)

    def test_record_costs_three_calls_whatever_the_subports(self):
        self.stand_up(subports=40)
        self.assertEqual(3, len(self.cloud.requests))

    def test_parent_created_after_server_is_unknown(self):
        parent = self.cloud.add_port(created_at='2026-11-24T10:00:01Z')
        self.cloud.add_trunk(parent)
        server = self.cloud.boot(parent)
        fp = cleanup.record_server(self.clients, server)
        self.assertEqual(fp_mod.CREATED_BY_UNKNOWN,
                         fp.trunks[0].parent_created_by)
        fp = cleanup.record_server(self.clients, server, 'compute')
        self.assertEqual(fp_mod.CREATED_BY_COMPUTE,
                         fp.trunks[0].parent_created_by)

    def test_server_without_trunk(self):
        port = self.cloud.add_port()
        server = self.cloud.boot(port)
        fp = cleanup.record_server(self.clients, server)
        self.assertEqual((), fp.trunks)
        self.assertEqual([], fp.port_ids)

    def test_server_without_ports(self):
        server = self.cloud.boot(self.cloud.add_port())
        self.cloud.ports.clear()
        self.assertEqual((), cleanup.record_server(self.clients,
                                                   server).trunks)

    def test_unknown_server(self):
        exc = self.assertRaises(cleanup.NotFound, cleanup.record_server,
                                self.clients, 'gone')
        self.assertIn('server gone not found', str(exc))

    def test_bad_created_by(self):
        self.assertRaises(ValueError, cleanup.record_server, self.clients,
                          'x', 'nobody')

    def test_record_trunk_of_bound_parent(self):
        self.stand_up()
        fp = cleanup.record_trunk(self.clients, self.trunk)
        self.assertEqual(self.server, fp.server_id)
        self.assertEqual(self.subports,
                         [s.port_id for s in fp.trunks[0].subports])

    def test_record_trunk_after_delete_has_no_server(self):
        self.stand_up()
        self.cloud.delete_server(self.server)
        fp = cleanup.record_trunk(self.clients, self.trunk)
        self.assertIsNone(fp.server_id)

    def test_record_trunk_with_parent_gone(self):
        parent = self.cloud.add_port()
        trunk = self.cloud.add_trunk(parent)
        del self.cloud.ports[parent]
        self.assertIsNone(cleanup.record_trunk(self.clients,
                                               trunk).server_id)

    def test_record_unknown_trunk(self):
        self.assertRaises(cleanup.NotFound, cleanup.record_trunk,
                          self.clients, 'nope')

    def test_record_parent_port(self):
        self.stand_up()
        fp = cleanup.record_parent_port(self.clients, self.parent)
        self.assertEqual([self.trunk], fp.trunk_ids)

    def test_record_port_that_is_no_parent(self):
        self.stand_up()
        exc = self.assertRaises(cleanup.NotFound, cleanup.record_parent_port,
                                self.clients, self.subports[0])
        self.assertIn('parent port of no trunk', str(exc))


class TestFootprintFile(base.TestCase):

    def test_json_round_trip(self):
        fp = self.stand_up()
        self.assertEqual(fp, cleanup.Footprint.from_json(fp.to_json()))

    def test_not_json(self):
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_json, '{oops')
        self.assertIn('not JSON', str(exc))

    def test_missing_field(self):
        data = self.stand_up().to_dict()
        del data['trunks'][0]['parent_port_id']
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_json,
                                json.dumps(data))
        self.assertIn('parent_port_id', str(exc))

    def test_wrong_types(self):
        for data in ([], {'project_id': 3}, {'project_id': 'p',
                                             'trunks': [{'trunk_id': ''}]}):
            self.assertRaises(cleanup.InvalidFootprint,
                              cleanup.Footprint.from_dict, data)

    def test_bad_created_by(self):
        data = self.stand_up().to_dict()
        data['trunks'][0]['parent_created_by'] = 'me'
        exc = self.assertRaises(cleanup.InvalidFootprint,
                                cleanup.Footprint.from_dict, data)
        self.assertIn('parent_created_by', str(exc))
