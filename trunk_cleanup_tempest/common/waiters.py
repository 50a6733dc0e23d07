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

"""Waiters for the tests, in tempest's style (tempest.common.waiters).

Each polls with the clients it is given, every ``interval`` seconds for at
most ``timeout`` seconds, and raises
:class:`tempest.lib.exceptions.TimeoutException` naming what it awaited,
for how long, and the last state it saw.
"""

from oslo_log import log as logging
from tempest.lib.common.utils import test_utils
from tempest.lib import exceptions as lib_exc

from trunk_cleanup_tempest import cleanup

LOG = logging.getLogger(__name__)


def wait_for_trunk_status(trunks_client, trunk_id, status, *, timeout,
                          interval, ports_client=None):
    """Wait until the trunk has ``status``; log the statuses it went through.

    The backend wires a trunk after Nova calls its server ACTIVE, and
    unwires it after the delete: a test that compares states must start
    from a settled one.

    :param ports_client: also wait until the trunk's parent and subports
        are ACTIVE (wired).
    """
    seen = []
    waiting = {}

    def reached():
        waiting.clear()
        trunk = trunks_client.show_trunk(trunk_id)['trunk']
        if not seen or seen[-1] != trunk['status']:
            seen.append(trunk['status'])
        if trunk['status'] != status:
            return False
        if ports_client is None:
            return True
        for port_id in [trunk['port_id']] + [s['port_id']
                                             for s in trunk['sub_ports']]:
            port_status = ports_client.show_port(port_id)['port']['status']
            if port_status != 'ACTIVE':
                waiting[port_id] = port_status
                return False
        return True

    done = test_utils.call_until_true(reached, timeout, interval)
    LOG.info('trunk %s status: %s', trunk_id, ' -> '.join(seen))
    if not done:
        message = 'trunk %s%s not %s after %ss: it went %s' % (
            trunk_id, ' and its ports' if ports_client else '', status,
            timeout, ' -> '.join(seen))
        for port_id, port_status in waiting.items():
            message += '; port %s is %s' % (port_id, port_status)
        raise lib_exc.TimeoutException(
            message + '; set [trunk_cleanup] trunk_wired = false if nothing '
            'wires ports in this cloud')


def wait_for_server_fault(servers_client, server_id, *, timeout, interval):
    """The fault Nova recorded for a server it left in ERROR.

    Nova sets the server's state before it records the fault, so a waiter
    that saw ERROR may have read no fault yet.
    """
    seen = {}

    def recorded():
        seen['server'] = servers_client.show_server(server_id)['server']
        return 'fault' in seen['server']

    if not test_utils.call_until_true(recorded, timeout, interval):
        raise lib_exc.TimeoutException(
            'server %s (%s) has no fault after %ss' % (
                server_id, seen['server'].get('status'), timeout))
    return seen['server']['fault']


def wait_for_leftovers(clients, footprint, condition, what, *, timeout,
                       interval):
    """Poll the library's inspection of ``footprint`` until ``condition``.

    :param clients: what :func:`cleanup.inspect` reads the cloud with
    :param condition: called with each :class:`~cleanup.leftovers.Leftovers`
        read; true ends the wait
    :param what: what is awaited, as the timeout's message names it
    :returns: the leftovers that met ``condition``
    """
    seen = {}

    def check():
        seen['left'] = cleanup.inspect(clients, footprint)
        return condition(seen['left'])

    if not test_utils.call_until_true(check, timeout, interval):
        raise lib_exc.TimeoutException(
            '%s: not reached in %ss; last seen: %s' % (
                what, timeout, seen['left'].to_dict()))
    return seen['left']
