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

from oslotest import base

from trunk_cleanup_tempest import cleanup
from unit_tests import fake_cloud


class TestCase(base.BaseTestCase):
    """A fake cloud with a server standing on a trunk."""

    driver = 'ovs'

    def setUp(self):
        super().setUp()
        self.cloud = fake_cloud.FakeCloud(driver=self.driver)
        self.clients = fake_cloud.Clients(self.cloud)

    def stand_up(self, subports=2, **kwargs):
        (self.server, self.trunk, self.parent,
         self.subports) = self.cloud.stand_up(subports, **kwargs)
        return cleanup.record_server(self.clients, self.server)

    def run_cleanup(self, footprint, **kwargs):
        """The library's cleanup, quick, and asked to delete parents too.

        The library keeps a parent port Nova did not create by default;
        most tests here follow every port to its end, so they ask.
        """
        kwargs.setdefault('timeout', 0.3)
        kwargs.setdefault('interval', 0.01)
        kwargs.setdefault('delete_parent', True)
        return cleanup.cleanup(self.clients, footprint, **kwargs)

    def outcomes(self, report):
        return {(a.action, a.id): a.outcome for a in report.actions}
