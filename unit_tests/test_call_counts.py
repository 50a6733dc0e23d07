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

"""What a cleanup costs in API calls, counted against the fake cloud.

The scenario suite proves on a live cloud that each port of a trunk with
many subports is deleted once; what that took is counted here, where no
cloud's timing makes the library try a write again.
"""

from unit_tests import base
from unit_tests import fake_cloud


class TestCallCounts(base.TestCase):

    def cleaned(self, subports):
        """A fresh cloud's deleted server on a trunk, cleaned.

        :returns: (its footprint, the cleanup's report)
        """
        self.cloud = fake_cloud.FakeCloud(driver=self.driver)
        self.clients = fake_cloud.Clients(self.cloud)
        footprint = self.stand_up(subports=subports)
        self.cloud.delete_server(self.server)
        self.cloud.requests.clear()
        report = self.run_cleanup(footprint)
        self.assertTrue(report.clean, str(report))
        # The report counts every call the cloud saw.
        self.assertEqual(len(self.cloud.requests), sum(report.calls.values()))
        return footprint, report

    def test_16_subports_cost_15_more_port_deletes_and_no_other_call(self):
        _, one = self.cleaned(1)
        footprint, many = self.cleaned(16)
        grown = {name: many.calls.get(name, 0) - one.calls.get(name, 0)
                 for name in set(one.calls) | set(many.calls)}
        self.assertEqual({'delete_port': 15},
                         {name: n for name, n in grown.items() if n},
                         (one.calls, many.calls))
        # One delete each: the parent and every subport.
        self.assertEqual(
            sorted(footprint.port_ids),
            sorted(a.id for a in many.actions
                   if a.action == 'delete_ports' and a.outcome == 'done'))
        self.assertEqual(17, many.calls['delete_port'])


class TestCallCountsOVN(TestCallCounts):
    """ML2/OVN releases each subport as the trunk goes: a new revision."""

    driver = 'ovn'
