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

"""The tests' waiters: what they return, log, and say when they time out."""

import logging

import fixtures
from oslotest import base as oslotest_base
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.common import waiters
from unit_tests import base

# Quick: a timeout is a few polls.
# Waits that end in a timeout: quick. Waits that succeed are given
# seconds, so a loaded machine cannot turn them into timeouts.
BOUNDS = {'timeout': 0.05, 'interval': 0.01}
ROOMY = {'timeout': 10, 'interval': 0.01}


class Scripted:
    """Answers each read with the next of ``states``, then the last again."""

    def __init__(self, states):
        self.states = list(states)
        self.reads = 0

    def next(self):
        self.reads += 1
        return self.states[min(self.reads, len(self.states)) - 1]


class FakeTrunksClient:

    def __init__(self, *statuses, sub_ports=('sub-1', 'sub-2')):
        self.script = Scripted(statuses)
        self.sub_ports = [{'port_id': p} for p in sub_ports]

    def show_trunk(self, trunk_id):
        return {'trunk': {'id': trunk_id, 'status': self.script.next(),
                          'port_id': 'parent', 'sub_ports': self.sub_ports}}


class FakePortsClient:

    def __init__(self, **statuses):
        self.statuses = statuses
        self.shown = []

    def show_port(self, port_id):
        self.shown.append(port_id)
        return {'port': {'id': port_id, 'status': self.statuses[port_id]}}


class FakeServersClient:

    def __init__(self, *servers):
        self.script = Scripted(servers)

    def show_server(self, server_id):
        return {'server': dict(self.script.next(), id=server_id)}


class TestWaitForTrunkStatus(oslotest_base.BaseTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.useFixture(fixtures.FakeLogger(
            name=waiters.__name__, level=logging.INFO))

    def test_logs_the_statuses_the_trunk_went_through(self):
        trunks = FakeTrunksClient('DOWN', 'DOWN', 'BUILD', 'ACTIVE')
        waiters.wait_for_trunk_status(trunks, 'trunk-1', 'ACTIVE', **ROOMY)
        self.assertEqual(4, trunks.script.reads)
        self.assertIn('trunk trunk-1 status: DOWN -> BUILD -> ACTIVE',
                      self.log.output)

    def test_waits_for_the_ports_too_when_asked(self):
        trunks = FakeTrunksClient('ACTIVE')
        ports = FakePortsClient(parent='ACTIVE', **{'sub-1': 'ACTIVE',
                                                    'sub-2': 'ACTIVE'})
        waiters.wait_for_trunk_status(trunks, 'trunk-1', 'ACTIVE',
                                      ports_client=ports, **ROOMY)
        self.assertEqual(['parent', 'sub-1', 'sub-2'], ports.shown)

    def test_timeout_names_the_statuses_and_the_option(self):
        trunks = FakeTrunksClient('DOWN', 'BUILD')
        exc = self.assertRaises(
            lib_exc.TimeoutException, waiters.wait_for_trunk_status,
            trunks, 'trunk-1', 'ACTIVE', **BOUNDS)
        self.assertIn('trunk trunk-1 not ACTIVE after 0.05s: it went '
                      'DOWN -> BUILD; set [trunk_cleanup] trunk_wired = '
                      'false if nothing wires ports in this cloud', str(exc))
        # Logged on a timeout too.
        self.assertIn('trunk trunk-1 status: DOWN -> BUILD', self.log.output)

    def test_timeout_names_the_port_not_wired(self):
        trunks = FakeTrunksClient('ACTIVE')
        ports = FakePortsClient(parent='ACTIVE', **{'sub-1': 'DOWN',
                                                    'sub-2': 'ACTIVE'})
        exc = self.assertRaises(
            lib_exc.TimeoutException, waiters.wait_for_trunk_status,
            trunks, 'trunk-1', 'ACTIVE', ports_client=ports, **BOUNDS)
        self.assertIn('trunk trunk-1 and its ports not ACTIVE after 0.05s: '
                      'it went ACTIVE; port sub-1 is DOWN; set '
                      '[trunk_cleanup] trunk_wired = false', str(exc))
        # A poll reads no more ports than the first one not wired.
        self.assertNotIn('sub-2', ports.shown)


class TestWaitForServerFault(oslotest_base.BaseTestCase):

    def test_returns_the_fault_once_nova_records_it(self):
        fault = {'code': 409, 'message': 'Conflict'}
        servers = FakeServersClient({'status': 'ERROR'},
                                    {'status': 'ERROR', 'fault': fault})
        self.assertEqual(fault, waiters.wait_for_server_fault(
            servers, 'server-1', **ROOMY))

    def test_timeout_names_the_server_and_its_status(self):
        servers = FakeServersClient({'status': 'ERROR'})
        exc = self.assertRaises(
            lib_exc.TimeoutException, waiters.wait_for_server_fault,
            servers, 'server-1', **BOUNDS)
        self.assertIn('server server-1 (ERROR) has no fault after 0.05s',
                      str(exc))


class TestWaitForLeftovers(base.TestCase):

    def test_returns_the_leftovers_that_met_the_condition(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        left = waiters.wait_for_leftovers(
            self.clients, fp, lambda lo: not lo.ports[self.parent].device_id,
            'the cloud unbinding the parent port', **ROOMY)
        self.assertEqual('', left.ports[self.parent].device_id)

    def test_timeout_names_what_was_awaited_and_the_last_state(self):
        fp = self.stand_up()
        self.cloud.delete_server(self.server)
        exc = self.assertRaises(
            lib_exc.TimeoutException, waiters.wait_for_leftovers,
            self.clients, fp, lambda lo: not lo.trunks[self.trunk].present,
            'the cloud removing the trunk and subports', **BOUNDS)
        self.assertIn('the cloud removing the trunk and subports: not '
                      'reached in 0.05s; last seen: ', str(exc))
        self.assertIn("'kind': 'trunk', 'id': '%s', 'present': True, "
                      "'status': 'DOWN'" % self.trunk, str(exc))
