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

"""The ``[trunk_cleanup]`` options: what the cloud under test promises."""

from oslo_config import cfg

EXPECT_REMOVED = 'removed'
EXPECT_LEFT = 'left'

trunk_cleanup_group = cfg.OptGroup(
    name='trunk_cleanup',
    title='Trunk cleanup test options',
    help='What the cloud under test promises when a server on a trunk is '
         'deleted, and how the trunk cleanup tests wait for it.')

TrunkCleanupGroup = [
    cfg.StrOpt('expected_after_server_delete',
               default=EXPECT_LEFT,
               choices=[
                   (EXPECT_LEFT,
                    'The cloud only unbinds the parent port: the trunk and '
                    'its subports stay for an operator to clean. This is '
                    'what stock Nova and Neutron do.'),
                   (EXPECT_REMOVED,
                    'The cloud removes the trunk and its subports by itself '
                    'when the server is deleted (a cleanup hook or service '
                    'runs).'),
               ],
               help='What the cloud promises to do with the trunk of a '
                    'server that is deleted. The tests assert exactly this '
                    'before they run the cleanup library.'),
    cfg.BoolOpt('trunk_wired',
                default=True,
                help='Whether the network backend wires the trunk of a '
                     'server that boots, so the trunk and its ports reach '
                     'ACTIVE, and the trunk goes DOWN again when the server '
                     'is deleted: true with the ML2/OVS agent and with '
                     'ML2/OVN. Set it to false where nothing wires ports '
                     '(ports bind but stay DOWN). When true the tests wait '
                     'for both transitions and log the trunk\'s status '
                     'sequence.'),
    cfg.IntOpt('cleanup_timeout',
               default=60,
               min=1,
               help='Seconds to wait for the cloud (or the cleanup library) '
                    'to reach the promised state: a server gone, a parent '
                    'port unbound, a trunk without subports, a trunk gone.'),
    cfg.FloatOpt('cleanup_interval',
                 default=1.0,
                 min=0.1,
                 help='Seconds between two polls while waiting, and between '
                      'two tries of a write that Neutron refused with 409.'),
    cfg.IntOpt('subport_count',
               default=2,
               min=1,
               max=4094,
               help='How many subports a trunk gets in the tests that do not '
                    'say otherwise.'),
    cfg.IntOpt('many_subport_count',
               default=16,
               min=1,
               max=4094,
               help='How many subports the scale test puts on one trunk, to '
                    'show that the cleanup deletes each of its ports once '
                    'and leaves nothing.'),
    cfg.StrOpt('segmentation_type',
               default='vlan',
               choices=[('vlan', 'Each subport gets its own VLAN ID.'),
                        ('inherit', 'Subports inherit the segmentation of '
                                    'their network (needs the cloud to '
                                    'support "inherit", see the '
                                    'trunk-details extension).')],
               help='Segmentation type of the subports the tests create.'),
]


def list_opts():
    """Options for oslo-config-generator (the oslo.config.opts entry point).

    :returns: a list of (group, options) pairs
    """
    return [(trunk_cleanup_group, TrunkCleanupGroup)]
