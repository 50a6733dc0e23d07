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

"""The switch under Neutron: Open vSwitch, and OVN on top of it for ML2/OVN.

Private instances of Debian's ``openvswitch-switch`` (and ``ovn-central``,
``ovn-host``) under the state folder, never the system's services. The
bridges use the userspace (``netdev``) datapath, so no kernel module is
needed: its ports are tap devices, which needs root.
"""

import os
import uuid

from trunk_cleanup_localcloud import process
from trunk_cleanup_localcloud import services

OVS_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
OVN_SCHEMAS = {'nb': '/usr/share/ovn/ovn-nb.ovsschema',
               'sb': '/usr/share/ovn/ovn-sb.ovsschema'}


# The switch services' names, whatever the driver.
NAMES = ('ovs', 'ovn')


def vsctl(service, *args):
    """``ovs-vsctl`` on the private Open vSwitch, logged by ``service``."""
    return service.run('ovs-vsctl', '--db=' + service.layout.switch_db,
                       '--timeout=10', *args,
                       env=service.layout.switch_env())


def for_driver(layout):
    """The switch services the driver needs, in start order."""
    return {'fake': [],
            'ovs': [OpenVSwitch(layout)],
            'ovn': [OpenVSwitch(layout), OVN(layout)]}[layout.driver]


class OpenVSwitch(services.Service):
    """ovsdb-server and ovs-vswitchd, talking over the state folder."""

    name = 'ovs'
    process_names = ['ovsdb-server', 'ovs-vswitchd']

    def up(self):
        if os.geteuid() != 0:
            raise process.CloudError(
                self.name, 'up', detail='the Open vSwitch datapath needs '
                'root (its ports are tap devices): run as root, or use '
                '--driver fake')
        lay = self.layout
        folder = lay.path('ovs')
        os.makedirs(folder, exist_ok=True)
        conf = os.path.join(folder, 'conf.db')
        self.run('ovsdb-tool', 'create', conf, OVS_SCHEMA)
        sock = lay.switch_db[len('unix:'):]
        cmd = self.start_process('ovsdb-server', [
            'ovsdb-server', conf, '--remote=punix:' + sock,
            '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
            '--unixctl=' + os.path.join(folder, 'ovsdb-server.ctl')],
            env=lay.switch_env())
        self.wait_for('ovsdb-server', cmd, lambda: os.path.exists(sock))
        vsctl(self, '--no-wait', 'init')
        ctl = os.path.join(folder, 'ovs-vswitchd.ctl')
        cmd = self.start_process('ovs-vswitchd', [
            'ovs-vswitchd', lay.switch_db, '--unixctl=' + ctl],
            env=lay.switch_env())
        self.wait_for('ovs-vswitchd', cmd, lambda: os.path.exists(ctl))
        # A bridge on the userspace datapath proves it works before an
        # agent relies on it.
        bridge = services.INTEGRATION_BRIDGE
        vsctl(self, '--may-exist', 'add-br', bridge, '--', 'set', 'Bridge',
              bridge, 'datapath_type=' + services.DATAPATH_TYPE,
              'fail_mode=secure')


class OVN(services.Service):
    """OVN's northbound and southbound databases, northd and controller.

    The controller runs against the local Open vSwitch and registers this
    host as a chassis under the compute host's name, which ML2/OVN needs
    before it binds a port here.
    """

    name = 'ovn'
    process_names = ['ovn-nb', 'ovn-sb', 'ovn-northd', 'ovn-controller']

    def up(self):
        lay = self.layout
        folder = lay.path('ovn')
        os.makedirs(folder, exist_ok=True)
        env = dict(lay.switch_env(), OVN_RUNDIR=folder, OVN_DBDIR=folder,
                   OVN_LOGDIR=folder)
        for which, schema in sorted(OVN_SCHEMAS.items()):
            data = os.path.join(folder, 'ovn%s_db.db' % which)
            self.run('ovsdb-tool', 'create', data, schema)
            sock = lay.ovn_db(which)[len('unix:'):]
            cmd = self.start_process('ovn-' + which, [
                'ovsdb-server', data, '--remote=punix:' + sock,
                '--unixctl=' + os.path.join(folder, 'ovn%s_db.ctl' % which)],
                env=env)
            self.wait_for('ovn-' + which, cmd,
                          lambda sock=sock: os.path.exists(sock))
        northd_ctl = os.path.join(folder, 'ovn-northd.ctl')
        cmd = self.start_process('ovn-northd', [
            'ovn-northd', '--ovnnb-db=' + lay.ovn_db('nb'),
            '--ovnsb-db=' + lay.ovn_db('sb'), '--unixctl=' + northd_ctl],
            env=env)
        self.wait_for('ovn-northd', cmd, lambda: os.path.exists(northd_ctl))
        vsctl(self, 'set', 'Open_vSwitch', '.',
              'external_ids:system-id=%s' % uuid.uuid5(
                  uuid.NAMESPACE_DNS, lay.compute_host),
              'external_ids:hostname=%s' % lay.compute_host,
              'external_ids:ovn-remote=%s' % lay.ovn_db('sb'),
              'external_ids:ovn-encap-type=geneve',
              'external_ids:ovn-encap-ip=127.0.0.1',
              'external_ids:ovn-bridge=' + services.INTEGRATION_BRIDGE,
              'external_ids:ovn-bridge-datapath-type=' +
              services.DATAPATH_TYPE)
        # Its control socket goes to $OVN_RUNDIR (it has no --unixctl).
        cmd = self.start_process('ovn-controller', [
            'ovn-controller', lay.switch_db], env=env)

        def chassis_registered():
            out = self.run('ovn-sbctl', '--db=' + lay.ovn_db('sb'),
                           '--timeout=5', '--bare', '--columns', 'hostname',
                           'list', 'Chassis', env=env)
            return lay.compute_host in out.split()
        self.wait_for('ovn-controller', cmd, chassis_registered)
