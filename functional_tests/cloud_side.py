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

"""A cloud-side trunk cleaner, correct or broken, for the functional tests.

It plays a cloud that promises ``expected_after_server_delete = removed``:
when a trunk's parent port, once bound, is unbound (its server deleted),
it removes the subports, deletes the trunk and the subports, and keeps the
user's parent port. The broken variant leaks one subport, so the tests can
show the scenario suite reports exactly that.
"""

import threading

from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest.common import trunks as tc_trunks


class TrunkCleaner(threading.Thread):

    def __init__(self, admin, name_part, leak_subport=False, interval=0.2):
        super().__init__(daemon=True)
        self.admin = admin
        self.name_part = name_part
        self.leak_subport = leak_subport
        self.interval = interval
        self.stopped = threading.Event()
        self.bound = set()
        self.leaked = []
        self.errors = []

    def stop(self):
        self.stopped.set()
        self.join(10)

    def run(self):
        while not self.stopped.wait(self.interval):
            try:
                self.sweep()
            except lib_exc.RestClientException as exc:
                self.errors.append(str(exc))

    def sweep(self):
        trunks = [t for t in self.admin.trunks_client.list_trunks()['trunks']
                  if self.name_part in t['name']]
        if not trunks:
            return
        ports = {p['id']: p for p in self.admin.ports_client.list_ports(
            id=[t['port_id'] for t in trunks])['ports']}
        for trunk in trunks:
            parent = ports.get(trunk['port_id'])
            if parent is None:
                continue
            if parent['device_id']:
                self.bound.add(trunk['id'])
            elif trunk['id'] in self.bound:
                self.clean(trunk)

    def clean(self, trunk):
        client = self.admin.trunks_client
        subports = [s['port_id'] for s in trunk['sub_ports']]
        tc_trunks.detach_subports(client, trunk['id'], subports)
        client.delete_trunk(trunk['id'])
        self.bound.discard(trunk['id'])
        if self.leak_subport and subports:
            self.leaked.append(subports.pop(0))
        for port_id in subports:
            test_utils.call_and_ignore_notfound_exc(
                self.admin.ports_client.delete_port, port_id)
