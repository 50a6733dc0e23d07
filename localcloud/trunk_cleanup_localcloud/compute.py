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

"""nova-compute whose fake virt driver plugs each VIF into Open vSwitch.

Runs inside the services' virtualenv. Nova's fake driver runs no guest and
plugs nothing, so no agent ever sees a port and no trunk gets wired. This
driver does what os-vif and libvirt do for an OVS VIF: the bridge Neutron
names in the binding (a trunk's ``tbr-`` bridge under ML2/OVS, else
``br-int``) and a tap port on it whose ``external_ids`` name the Neutron
port, the MAC and the instance. neutron-openvswitch-agent or ovn-controller
then wires the port and its trunk as for a real guest, and the port is
removed again when the server is destroyed.

Usage: python compute.py --config-file nova.conf, with
``compute_driver = localcloud_switch.SwitchPluggingDriver`` and
``OVS_RUNDIR`` naming the switch's run folder.
"""

# nova-compute's own entry point first: it patches the standard library.
from nova.cmd import compute  # noqa: I100

import subprocess  # noqa: I100
import sys

from nova.virt import fake
from oslo_log import log as logging

LOG = logging.getLogger('localcloud-compute')
DRIVER_MODULE = 'nova.virt.localcloud_switch'
TRUNK_BRIDGE_PREFIX = 'tbr-'
DATAPATH_TYPE = 'netdev'


def vsctl(*args):
    subprocess.run(['ovs-vsctl', '--timeout=10'] + list(args), check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)


def bridge_of(vif):
    return (vif['details'].get('bridge_name') or
            vif['network']['bridge'] or 'br-int')


class SwitchPluggingDriver(fake.FakeDriver):
    """The fake driver, with VIFs that really are on the switch."""

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        for vif in network_info or ():
            self.plug(instance, vif)
        super().spawn(context, instance, image_meta, injected_files,
                      admin_password, allocations, network_info,
                      block_device_info, power_on, accel_info)

    def destroy(self, context, instance, network_info,
                block_device_info=None, destroy_disks=True,
                destroy_secrets=True):
        for vif in network_info or ():
            self.unplug(vif)
        super().destroy(context, instance, network_info,
                        block_device_info, destroy_disks, destroy_secrets)

    @staticmethod
    def plug(instance, vif):
        bridge, dev = bridge_of(vif), vif['devname']
        LOG.info('plugging port %s as %s on %s', vif['id'], dev, bridge)
        vsctl('--may-exist', 'add-br', bridge,
              '--', 'set', 'Bridge', bridge, 'datapath_type=' + DATAPATH_TYPE,
              '--', '--may-exist', 'add-port', bridge, dev,
              '--', 'set', 'Interface', dev, 'type=internal',
              'external_ids:iface-id=%s' % vif['id'],
              'external_ids:iface-status=active',
              'external_ids:attached-mac=%s' % vif['address'],
              'external_ids:vm-uuid=%s' % instance.uuid)

    @staticmethod
    def unplug(vif):
        bridge, dev = bridge_of(vif), vif['devname']
        LOG.info('unplugging port %s (%s) from %s', vif['id'], dev, bridge)
        vsctl('--if-exists', 'del-port', bridge, dev)
        if bridge.startswith(TRUNK_BRIDGE_PREFIX):
            # os-vif deletes a trunk's bridge with its last VIF; the agent
            # unwires the trunk when it goes.
            vsctl('--if-exists', 'del-br', bridge)


if __name__ == '__main__':
    # Nova loads its driver from nova.virt by name.
    sys.modules[DRIVER_MODULE] = sys.modules[__name__]
    sys.exit(compute.main())
