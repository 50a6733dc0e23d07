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

"""How the tests take a trunk down: its subports off, then the trunk.

Detached first, the subports are free ports even when the trunk's delete
is refused (TrunkInUse while its parent is bound, on ML2/OVS), so the
ports' own teardown can still delete them: Neutron refuses to delete a
port that is a subport (PortInUseAsSubPort).
"""

from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc


def detach_subports(trunks_client, trunk_id, port_ids):
    """Take ``port_ids`` off the trunk in one call (none: no call).

    Errors are the caller's: a cloud-side cleaner reports them.
    """
    if port_ids:
        trunks_client.delete_subports_from_trunk(
            trunk_id, [{'port_id': port_id} for port_id in port_ids])


def delete_trunk(trunks_client, trunk_id):
    """A test's teardown of its trunk, whatever is left of it.

    The subports it has now are detached, then the trunk is deleted. A
    trunk already gone (deleted by the test, the cloud or the cleanup under
    test) is fine, and a server error on the delete is tried again, as
    tempest's own teardown does (``call_and_ignore_notfound_exc``).
    """
    try:
        subports = trunks_client.list_subports_of_trunk(trunk_id)[
            'sub_ports']
        detach_subports(trunks_client, trunk_id,
                        [s['port_id'] for s in subports])
    except lib_exc.NotFound:
        return
    test_utils.call_and_ignore_notfound_exc(trunks_client.delete_trunk,
                                            trunk_id)
